"""Sentences for the synthetic talkers: a small English grammar and short phrases in other languages.

``SentenceGenerator(seed).sentence()`` gives one sentence; the same seed gives the same
sentences. English comes from a grammar over built-in word lists (statements, questions,
lists, numbers, sentences with clauses; 4 to 25 words). The other languages (``LANGUAGES``)
draw from short phrase lists, so that non-English voices speak their own language.
"""

import random

MIN_WORDS, MAX_WORDS = 4, 25

# English word lists by part of speech; nouns and verbs are regular (plural/3rd person by rule).
NOUNS = """
apple bag ball basket bell bench bicycle bird blanket boat book bottle box bridge brush
bucket button cake camera candle car card carpet chair cloud coat computer cup curtain
desk dog door dream drum egg engine farm feather fence field flag flower forest fork
garden gate gift glass guitar hammer hat hill horse house island jacket kettle key kitchen
ladder lake lamp letter lemon map market mirror mountain napkin needle nest newspaper
orange oven packet paper parcel pencil piano picture pillow plate pocket pond radio
river road rock roof rope sandwich school ship shirt shoe shop signal sister song
spoon stamp station stone street student table teacher ticket tower towel train tree
truck tunnel umbrella valley village wall wagon watch window wheel whistle word
""".split()
MASS_NOUNS = "bread butter cheese coffee flour honey milk rice salt sand soap soup sugar tea water wood".split()
ADJECTIVES = """
ancient bitter blue bright broken brown busy calm careful cheap clean clever cold
crowded curious damp dark dusty early easy empty enormous famous fast flat fresh
friendly frozen gentle golden green grey heavy hidden hollow huge hungry late lazy
light little lonely long loud lucky modern narrow new noisy old orange painted pale
patient polite proud purple quiet rapid red rough round rusty shiny short silent
simple small smooth soft strange strong sweet tall thin tiny warm wet white wide wild
wooden yellow young
""".split()
# (base, past) pairs.
VERBS = [tuple(pair.split(":")) for pair in """
borrow:borrowed bring:brought build:built buy:bought carry:carried catch:caught
check:checked clean:cleaned close:closed collect:collected cover:covered cut:cut
deliver:delivered draw:drew drop:dropped fill:filled find:found fix:fixed follow:followed
hide:hid hold:held keep:kept lift:lifted lose:lost mend:mended move:moved open:opened
paint:painted pick:picked place:placed pull:pulled push:pushed read:read repair:repaired
sell:sold send:sent share:shared show:showed sort:sorted steal:stole take:took
throw:threw touch:touched visit:visited wash:washed watch:watched wrap:wrapped
""".split()]
INTRANSITIVE = [tuple(pair.split(":")) for pair in """
arrive:arrived dance:danced disappear:disappeared laugh:laughed listen:listened
rest:rested return:returned shout:shouted sing:sang sleep:slept smile:smiled
stop:stopped swim:swam wait:waited walk:walked whisper:whispered work:worked
""".split()]
ADVERBS = """
again carefully clearly early easily gently happily loudly politely quickly quietly
slowly soon suddenly together twice
""".split()
FREQUENCY_ADVERBS = "always never often rarely sometimes usually".split()
NAMES = """
Alice Amir Anna Ben Carlos Chloe Daniel David Elena Emma Farah George Grace Hannah
Isaac James Julia Kenji Laura Leo Maria Mark Nina Oliver Omar Paul Priya Rosa Sam
Sofia Thomas Victor Yusuf Zoe
""".split()
PLACES = """
Berlin Boston Cairo Chicago Denver Dublin Glasgow Lagos Lima Lisbon London Madrid
Manchester Melbourne Montreal Nairobi Oslo Paris Seattle Sydney Toronto Vienna
""".split()
PREPOSITIONS = "above behind beside below in inside near on under".split()
TIMES = """
today|yesterday|last night|this morning|on Monday|on Friday|in the evening|after lunch|
before dinner|at noon|next week|in the summer|every winter|at the weekend
""".replace("\n", "").split("|")
CONNECTIVES = ["and", "but", "so", "while", "because"]
SUBORDINATORS = ["when", "because", "although", "after", "before", "if", "while", "since"]
NUMBER_WORDS = """
two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty
""".split()
ORDINALS = "first second third fourth fifth sixth seventh tenth last".split()

# Short phrases in other Latin-script languages, keyed by ISO 639-1 code.
PHRASES = {
    "es": [
        "Buenos días.", "¿Cómo estás hoy?", "Me gusta mucho el café con leche.",
        "El tren sale a las ocho de la mañana.", "Mi hermana vive en una casa grande.",
        "¿Dónde está la estación?", "Hace mucho calor en verano.", "Vamos a la playa mañana.",
        "El perro duerme debajo de la mesa.", "Necesito comprar pan y fruta.",
        "La ciudad es muy bonita por la noche.", "Gracias por tu ayuda.",
    ],
    "fr": [
        "Bonjour à tous.", "Comment allez-vous ?", "Il fait beau aujourd'hui.",
        "Le train part à huit heures.", "Ma sœur habite dans une petite maison.",
        "Où est la gare, s'il vous plaît ?", "Nous allons au marché demain matin.",
        "Le chat dort sur le canapé.", "J'aime lire des livres le soir.",
        "Il faut acheter du pain et du fromage.", "La rivière traverse toute la ville.",
        "Merci beaucoup pour votre aide.",
    ],
    "de": [
        "Guten Morgen.", "Wie geht es dir heute?", "Das Wetter ist heute sehr schön.",
        "Der Zug fährt um acht Uhr ab.", "Meine Schwester wohnt in einem kleinen Haus.",
        "Wo ist der Bahnhof, bitte?", "Wir gehen morgen auf den Markt.",
        "Die Katze schläft auf dem Sofa.", "Ich lese gern am Abend ein Buch.",
        "Wir brauchen noch Brot und Käse.", "Der Fluss fließt durch die ganze Stadt.",
        "Vielen Dank für deine Hilfe.",
    ],
    "it": [
        "Buongiorno a tutti.", "Come stai oggi?", "Oggi fa molto caldo.",
        "Il treno parte alle otto.", "Mia sorella abita in una casa piccola.",
        "Dov'è la stazione, per favore?", "Domani andiamo al mercato.",
        "Il gatto dorme sul divano.", "La sera mi piace leggere un libro.",
        "Dobbiamo comprare il pane e il formaggio.", "Il fiume attraversa tutta la città.",
        "Grazie mille per il tuo aiuto.",
    ],
    "pt": [
        "Bom dia a todos.", "Como você está hoje?", "Hoje está muito calor.",
        "O comboio parte às oito horas.", "A minha irmã mora numa casa pequena.",
        "Onde fica a estação, por favor?", "Amanhã vamos ao mercado.",
        "O gato dorme no sofá.", "À noite gosto de ler um livro.",
        "Precisamos de comprar pão e queijo.", "O rio atravessa toda a cidade.",
        "Muito obrigado pela sua ajuda.",
    ],
    "nl": [
        "Goedemorgen.", "Hoe gaat het vandaag met je?", "Het is vandaag mooi weer.",
        "De trein vertrekt om acht uur.", "Mijn zus woont in een klein huis.",
        "Waar is het station, alstublieft?", "Morgen gaan we naar de markt.",
        "De kat slaapt op de bank.", "Ik lees 's avonds graag een boek.",
        "We moeten nog brood en kaas kopen.", "De rivier stroomt door de hele stad.",
        "Hartelijk bedankt voor je hulp.",
    ],
    "pl": [
        "Dzień dobry.", "Jak się masz?", "Dzisiaj jest bardzo ciepło.",
        "Pociąg odjeżdża o ósmej.", "Moja siostra mieszka w małym domu.",
        "Gdzie jest dworzec?", "Jutro idziemy na targ.", "Kot śpi na kanapie.",
        "Wieczorem lubię czytać książki.", "Musimy kupić chleb i ser.",
        "Rzeka płynie przez całe miasto.", "Dziękuję bardzo za pomoc.",
    ],
    "sv": [
        "God morgon.", "Hur mår du i dag?", "Det är fint väder i dag.",
        "Tåget går klockan åtta.", "Min syster bor i ett litet hus.",
        "Var ligger stationen?", "I morgon går vi till torget.", "Katten sover på soffan.",
        "Jag läser gärna en bok på kvällen.", "Vi måste köpa bröd och ost.",
        "Floden rinner genom hela staden.", "Tack så mycket för hjälpen.",
    ],
    "da": [
        "God morgen.", "Hvordan har du det i dag?", "Det er dejligt vejr i dag.",
        "Toget kører klokken otte.", "Min søster bor i et lille hus.",
        "Hvor ligger stationen?", "I morgen går vi på markedet.", "Katten sover på sofaen.",
        "Jeg læser gerne en bog om aftenen.", "Vi skal købe brød og ost.",
        "Floden løber gennem hele byen.", "Mange tak for hjælpen.",
    ],
    "ro": [
        "Bună dimineața.", "Ce mai faci astăzi?", "Astăzi este foarte cald.",
        "Trenul pleacă la ora opt.", "Sora mea locuiește într-o casă mică.",
        "Unde este gara, vă rog?", "Mâine mergem la piață.", "Pisica doarme pe canapea.",
        "Seara îmi place să citesc o carte.", "Trebuie să cumpărăm pâine și brânză.",
        "Râul trece prin tot orașul.", "Mulțumesc mult pentru ajutor.",
    ],
    "cs": [
        "Dobré ráno.", "Jak se dnes máš?", "Dnes je velmi teplo.",
        "Vlak odjíždí v osm hodin.", "Moje sestra bydlí v malém domě.",
        "Kde je nádraží, prosím?", "Zítra půjdeme na trh.", "Kočka spí na gauči.",
        "Večer rád čtu knihu.", "Musíme koupit chleba a sýr.",
        "Řeka teče celým městem.", "Děkuji mnohokrát za pomoc.",
    ],
    "id": [
        "Selamat pagi.", "Apa kabar hari ini?", "Hari ini cuacanya sangat panas.",
        "Kereta berangkat jam delapan.", "Kakak saya tinggal di rumah kecil.",
        "Di mana stasiunnya?", "Besok kami pergi ke pasar.", "Kucing itu tidur di sofa.",
        "Saya suka membaca buku pada malam hari.", "Kita harus membeli roti dan keju.",
        "Sungai itu mengalir melalui kota.", "Terima kasih banyak atas bantuannya.",
    ],
}
LANGUAGES = ("en",) + tuple(PHRASES)


def plural(noun):
    """Plural of a regular English noun."""
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def third_person(verb):
    """Third person singular present of a regular English verb."""
    if verb.endswith(("s", "x", "ch", "sh", "o")):
        return verb + "es"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def article(word):
    """``a`` or ``an`` for ``word``."""
    return "an" if word[0] in "aeiou" else "a"


class SentenceGenerator:
    """Deterministic random sentences in one language.

    Arguments
    ---------
    seed : int
    language : str
        ``"en"`` (grammar) or a key of ``PHRASES`` (phrase lists).
    """

    def __init__(self, seed, language="en"):
        if language not in LANGUAGES:
            raise ValueError(f"no sentences for language {language!r}; known: {LANGUAGES}")
        self.language = language
        self.rng = random.Random(seed)

    def sentences(self, n):
        """``n`` sentences (list of str)."""
        return [self.sentence() for _ in range(n)]

    def sentence(self):
        """One sentence: English of 4-25 words, or 1-3 phrases of the language."""
        if self.language != "en":
            return " ".join(self.rng.sample(PHRASES[self.language], self.rng.randint(1, 3)))
        while True:
            words = self.rng.choice(self._TEMPLATES)(self)
            if MIN_WORDS <= len(words.split()) <= MAX_WORDS:
                return words[0].upper() + words[1:]

    # Phrase builders.
    def _pick(self, words):
        return self.rng.choice(words)

    def _maybe(self, p, text):
        return text if self.rng.random() < p else ""

    def _noun_phrase(self, plural_ok=True):
        adjectives = " ".join(self.rng.sample(ADJECTIVES, self.rng.choice([0, 0, 1, 1, 2])))
        noun = self._pick(NOUNS)
        if plural_ok and self.rng.random() < 0.3:
            det = self._pick(["the", "some", "many", "these", "those", "two", "three", "a few"])
            return _join(det, adjectives, plural(noun))
        det = self._pick(["the", "the", "a", "this", "that", "my", "our", "every"])
        if det == "a":
            det = article(adjectives or noun)
        return _join(det, adjectives, noun)

    def _subject(self):
        return self._pick([self._noun_phrase(plural_ok=False), self._pick(NAMES), "she", "he", "the teacher"])

    def _object(self):
        return self._noun_phrase() if self.rng.random() < 0.85 else "some " + self._pick(MASS_NOUNS)

    def _place(self):
        if self.rng.random() < 0.25:
            return "in " + self._pick(PLACES)
        return _join(self._pick(PREPOSITIONS), self._noun_phrase())

    def _clause(self):
        if self.rng.random() < 0.3:
            verb = self._pick(INTRANSITIVE)[1]
            adverb = self._maybe(0.4, self._pick(ADVERBS))
            return _join(self._subject(), verb, adverb, self._maybe(0.4, self._place()))
        verb = self._pick(VERBS)[1]
        return _join(self._subject(), verb, self._object(), self._maybe(0.4, self._place()))

    def _number(self):
        if self.rng.random() < 0.5:
            return self._pick(NUMBER_WORDS)
        return str(self.rng.randint(2, 999))

    # Sentence templates.
    def _statement(self):
        return _join(self._clause(), self._maybe(0.4, self._pick(TIMES))) + "."

    def _habit(self):
        verb = third_person(self._pick(VERBS)[0])
        frequency = self._pick(FREQUENCY_ADVERBS)
        return _join(self._pick(NAMES), frequency, verb, self._object(), self._maybe(0.5, self._place())) + "."

    def _yes_no_question(self):
        aux = self._pick(["did", "will", "can", "should", "could"])
        verb = self._pick(VERBS)[0]
        return _join(aux, self._subject(), verb, self._object(), self._maybe(0.5, self._place())) + "?"

    def _wh_question(self):
        wh = self._pick(["where", "when", "why", "how"])
        verb = self._pick(VERBS)[0]
        return _join(wh, "did", self._subject(), verb, self._object(), self._maybe(0.3, self._pick(TIMES))) + "?"

    def _list(self):
        items = [self._object() for _ in range(self.rng.randint(2, 4))]
        listed = ", ".join(items[:-1]) + ("," if len(items) > 2 else "") + " and " + items[-1]
        verb = self._pick(["bought", "packed", "needs", "forgot", "found", "ordered"])
        return _join(self._subject(), verb, listed) + "."

    def _count(self):
        kind = self.rng.randrange(4)
        if kind == 0:
            return _join("there are", self._number(), plural(self._pick(NOUNS)), self._place()) + "."
        if kind == 1:
            noun = plural(self._pick(NOUNS))
            return _join(self._pick(NAMES), "counted", self._number(), noun, self._pick(TIMES)) + "."
        if kind == 2:
            return _join("the", self._pick(ORDINALS), self._pick(NOUNS), "costs", self._number(), "dollars") + "."
        return _join("the", self._pick(NOUNS), "was made in", str(self.rng.randint(1900, 2030))) + "."

    def _subordinate(self):
        return _join(self._pick(SUBORDINATORS), self._clause()) + ", " + self._clause() + "."

    def _compound(self):
        return self._clause() + ", " + _join(self._pick(CONNECTIVES), self._clause()) + "."

    def _reported(self):
        verb = self._pick(["said", "thought", "told us", "explained", "remembered"])
        return _join(self._pick(NAMES), verb, "that", self._clause()) + "."

    def _imperative(self):
        verb = self._pick(VERBS)[0]
        adverb = self._maybe(0.3, self._pick(ADVERBS))
        return _join(self._maybe(0.4, "please"), verb, self._object(), self._place(), adverb) + "."

    _TEMPLATES = (_statement, _habit, _yes_no_question, _wh_question, _list, _count,
                  _subordinate, _compound, _reported, _imperative)


def _join(*parts):
    """Space-join the non-empty ``parts``."""
    return " ".join(p for p in parts if p)
