"""The README.md that a corpus build writes: contents, counts, durations and the out-of-domain split."""

from maese.simulation.layout import STAGES

LAYOUT = """\
```
corpus.json          what built it (size, seed, maese version, config) and the summary below
.done                completion marker (the same identity); a build finding it does nothing
clean/               clean_fileid_{i}.wav   training speech (training voices)    clean.json
noise/               noise_fileid_{i}.wav   training noise (training families)  noise.json
impulse_responses/   rir_fileid_{i}.wav     training rooms                       impulse_responses.json
valid_set/           in-domain validation pairs
  denoise/           noisy/fileid_{i}.wav + clean/fileid_{i}.wav                  pairs.json
  dereverb/          reverb/fileid_{i}.wav + clean/fileid_{i}.wav + rir/fileid_{i}.wav  pairs.json
test_set/indomain/   denoise/, dereverb/ as in valid_set/ (training voices, families, room domain)
test_set/ood/        denoise/, dereverb/ with out-of-domain voices, noise families and rooms only
```"""

NOTES = """\
All audio is mono, 16 kHz, 16-bit PCM, peak at most 0.99. Manifests are SpeechBrain JSON
(`{{id: {{"wav": ..., "duration": s, ...}}}}`) whose paths start with `{{data_root}}` (the corpus
folder): `speechbrain.dataio.dataio.load_data_json(path, replacements={{"data_root": DIR}})` or
`maese.simulation.layout.load_corpus_manifest(DIR, "clean/clean.json")` resolve them.

- Speech: eSpeak NG voices (`voice` = language+variant; rate, pitch, pitch range, word gap,
  pauses and RMS level `level_db` in each entry); {clean_sentences} sentences per clean/ file, one per pair.
- Noise: procedural families at -25 dBFS RMS; `babble`-like families mix talkers of the same
  split's voices only (`talker_voices`).
- Rooms: pyroomacoustics shoebox rooms with a level-matched Gaussian late tail
  (`maese.simulation.rooms`); each RIR has its direct-path peak at 1 and starts at the emission.
  The entry gives the geometry (`dims`, `source`, `mic`, `distance`), `rt60_target`,
  `rt60_measured` (T30) and `drr_db`.
- Denoise pairs: a new sentence plus a new noise draw (never one of the files in noise/) at an SNR
  drawn from {snr_db[0]:g} to {snr_db[1]:g} dB, exact (`snr`); if the mix would pass the peak, noisy and clean are scaled
  by one gain (`gain`), which keeps the SNR.
- Dereverb pairs: `reverb` is the dry speech (followed by {tail} s of silence, which keeps the
  reverberant tail) convolved with the pair's RIR (`rir/`, a new room never in
  impulse_responses/) and advanced by the RIR's direct-path peak, so `clean` (the padded dry
  speech) is time-aligned with it; same length, one joint gain. Each entry also holds the room's
  fields (as in impulse_responses.json: `dims`, ..., `rt60_measured`, `drr_db`).
- Validation and in-domain test pairs use training voices, noise families and the training room
  distribution with new draws; none of their files appear in clean/, noise/ or impulse_responses/."""


def _duration(hours):
    seconds = hours * 3600
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.1f} min" if hours < 1 else f"{hours:.2f} h"


def _stage_table(summary):
    rows = ["| folder | split | files | audio |", "| --- | --- | ---: | ---: |"]
    for stage in STAGES:
        s = summary["stages"][stage.folder]
        rows.append(f"| `{stage.folder}/` | {s['domain']} | {s['files']} | {_duration(s['hours'])} |")
    return "\n".join(rows)


def _room_kind(kind):
    dims = " x ".join(f"{lo:g}-{hi:g}" for lo, hi in zip(kind["dims_low"], kind["dims_high"]))
    rt60, distance = kind["rt60_range"], kind["distance_range"]
    return (f"{kind['name']}s of {dims} m, RT60 {rt60[0]:g}-{rt60[1]:g} s, "
            f"source-mic distance {distance[0]:g}-{distance[1]:g} m")


def _split_section(summary):
    lines = []
    for domain, title in (("train", "Training and in-domain"), ("ood", "Out-of-domain (test_set/ood/ only)")):
        split = summary["splits"][domain]
        lines += [f"### {title}", "",
                  f"- voices: {len(split['voices'])}, every pair of these eSpeak variants (timbres) and languages",
                  f"  - variants: {', '.join(split['variants'])}",
                  f"  - languages: {', '.join(split['languages'])}",
                  f"- noise families: {', '.join(split['noise_families'])}",
                  "- rooms: " + "; ".join(_room_kind(kind) for kind in split["rooms"]), ""]
    return "\n".join(lines)


def render_readme(identity, summary):
    """README.md text of a corpus with this identity (size, seed, config) and summary."""
    config = identity["config"]
    return "\n".join([
        f"# maese embedded corpus: size `{identity['size']}`, seed {identity['seed']}", "",
        f"Synthetic speech, noise and rooms in the DNS Challenge layout, built by maese "
        f"{identity['maese_version']} (`python -m maese.simulation.corpus --out DIR --size {identity['size']} "
        f"--seed {identity['seed']}`). The same command with the same seed rebuilds it byte for byte.", "",
        "## Layout", "", LAYOUT, "",
        "## Contents", "", _stage_table(summary), "",
        "## The out-of-domain split", "",
        "Voices, noise families and rooms are split once: `test_set/ood/` uses only the held-out ones; "
        "everything else (clean/, noise/, impulse_responses/, valid_set/, test_set/indomain/, and the "
        "babble talkers) uses only the training ones. A voice is an eSpeak language with a variant "
        "(the timbre); whole variants are held out, in every language, so no out-of-domain voice "
        "shares its timbre with a training voice (the full lists are in corpus.json). Rooms are "
        "split by the distribution they are drawn from: out-of-domain rooms are booths or halls "
        "with every side length and the RT60 range outside the training rooms'.", "",
        _split_section(summary),
        "## Notes", "",
        NOTES.format(clean_sentences=config["clean_sentences"], snr_db=config["snr_db"],
                     tail=config["reverb_tail_s"]), "",
    ])
