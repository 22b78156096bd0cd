"""A self-contained HTML page to look at and listen to enhanced clips, with their metrics.

Per clip (files paired by relative path across the noisy, enhanced and, optionally, clean folders):
the spectrograms side by side (one PNG), an audio player per file (16-bit PCM wav) and the metrics,
read from a maese-score CSV or computed against the clean files. Images and audio are embedded as
base64 data URIs, so the page is one file. Files that are not in every folder are listed, and a clip
that cannot be read shows its error. When all images and audio have loaded, a script sets
``<body data-loaded="K/N">`` (K of the N media elements loaded; the page's self-check).
"""

import base64
import html
import io
import math
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from maese.audio import AudioError, load_audio, read_info, resample
from maese.dataio import list_audio_files, write_text
from maese.features import STFT
from maese.plots import plot_spectrograms
from maese.scoring import HEADERS, read_scores, score_pair

REPORT_METRICS = ("pesq", "stoi", "estoi", "si_sdr")
N_FFT, HOP = 512, 128
DB_RANGE = 80.0  # dB below the clip's loudest bin shown in the spectrograms
STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 1000px; }
img { max-width: 100%; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { border: 1px solid #ccc; padding: .2em .6em; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.players { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; }
.error { color: #b00; }
"""
SELF_CHECK = """
const waits = [...document.images].map(img => img.decode().then(() => img.naturalWidth > 0, () => false));
for (const audio of document.querySelectorAll("audio")) {
  waits.push(new Promise(done => {
    audio.addEventListener("loadedmetadata", () => done(audio.duration > 0));
    audio.addEventListener("error", () => done(false));
    if (audio.error) done(false);
    else if (audio.readyState >= 1) done(audio.duration > 0);
  }));
}
Promise.all(waits).then(ok => { document.body.dataset.loaded = ok.filter(Boolean).length + "/" + ok.length; });
"""


def clip_names(folders):
    """Pair files by relative path across ``folders`` (dict label -> folder).

    Returns
    -------
    (sorted names in every folder, dict name -> labels of the folders lacking it, for the other names)
    """
    names = {label: {p.relative_to(f).as_posix() for p in list_audio_files(f)} for label, f in folders.items()}
    common = set.intersection(*names.values())
    absent = {n: [label for label in names if n not in names[label]] for n in set.union(*names.values()) - common}
    return sorted(common), dict(sorted(absent.items()))


def data_uri(mime, data):
    """``data:`` URI of bytes ``data``."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def wav_bytes(wav, sample_rate):
    """A mono waveform ``[time]`` as 16-bit PCM wav bytes (clipped to [-1, 1])."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(wav.numpy(), -1.0, 1.0), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def spectrogram_png(signals, sample_rate, title):
    """PNG bytes: dB spectrograms of ``signals`` (dict label -> ``[time]`` at ``sample_rate``) side by side."""
    stft = STFT(sample_rate, N_FFT, HOP, N_FFT)
    panels = {label: 20 * torch.log10(stft(wav).abs().clamp_min(1e-8)) for label, wav in signals.items()}
    floor = max(float(p.max()) for p in panels.values()) - DB_RANGE
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spectrograms.png"
        plot_spectrograms(path, {k: p.clamp_min(floor) for k, p in panels.items()}, HOP / sample_rate, title)
        return path.read_bytes()


def _number(value):
    return "-" if math.isnan(value) else f"{value:.2f}"


def _metrics_table(systems):
    """HTML table: one row per system (dict name -> score row), one column per metric, then errors."""
    keys = [k for k in HEADERS if any(k in row for row in systems.values())]
    head = "".join(f"<th>{html.escape(HEADERS[k])}</th>" for k in keys)
    lines = [f"<table><tr><th>system</th>{head}<th>error</th></tr>"]
    for name, row in systems.items():
        cells = "".join(f"<td>{_number(row.get(k, math.nan))}</td>" for k in keys)
        lines.append(f"<tr><td>{html.escape(name)}</td>{cells}<td>{html.escape(row.get('error', ''))}</td></tr>")
    return "\n".join(lines + ["</table>"])


def _clip_section(name, paths, systems):
    """HTML of one clip: its rate warning, spectrograms, audio players and metrics (or why it cannot be shown)."""
    parts = [f"<section><h2>{html.escape(name)}</h2>"]
    try:
        rates = {label: read_info(path).samplerate for label, path in paths.items()}
        signals = {label: load_audio(path, None) for label, path in paths.items()}
    except AudioError as err:
        return "\n".join(parts + [f'<p class="error">{html.escape(str(err))}</p>', "</section>"])
    rate = rates["noisy"]
    if len(set(rates.values())) > 1:
        listed = ", ".join(f"{label} {r} Hz" for label, r in rates.items())
        parts.append(f'<p class="error">Sample rates differ ({listed}): an enhancer must keep its input\'s rate; '
                     f"resample the files to {rate} Hz (or re-run the enhancement). "
                     f"Spectrograms shown at {rate} Hz.</p>")
    resampled = {label: resample(wav, rates[label], rate) for label, wav in signals.items()}
    png = spectrogram_png(resampled, rate, name)
    parts.append(f'<img alt="spectrograms of {html.escape(name)}" src="{data_uri("image/png", png)}">')
    parts.append('<div class="players">')
    for label, wav in signals.items():
        src = data_uri("audio/wav", wav_bytes(wav, rates[label]))
        player = f'<audio controls preload="auto" src="{src}"></audio>'
        parts.append(f"<figure><figcaption>{label}</figcaption>{player}</figure>")
    parts.append("</div>")
    if systems:
        parts.append(_metrics_table(systems))
    return "\n".join(parts + ["</section>"])


def _clip_metrics(name, paths, scores, metrics, sample_rate):
    """dict system -> score row of one clip: from ``scores`` (CSV rows) if given, else computed against clean."""
    if scores is not None:
        return {"enhanced": scores.get(name, {"error": "not in the scores CSV"})}
    if "clean" not in paths:
        return {}
    return {label: score_pair(paths["clean"], paths[label], metrics, sample_rate) for label in ("noisy", "enhanced")}


def _absent_list(absent):
    """HTML list of the files that are not in every folder."""
    items = [f"<li>{html.escape(n)}: not in {', '.join(labels)}</li>" for n, labels in absent.items()]
    return f"<h2>Files not in every folder ({len(absent)}, not shown)</h2>\n<ul>\n" + "\n".join(items) + "\n</ul>"


def write_report(path, noisy_dir, enhanced_dir, clean_dir=None, scores_csv=None, metrics=REPORT_METRICS,
                 max_clips=20, sample_rate=16000, title="maese report", overwrite=False):
    """Write the HTML page of the first ``max_clips`` clips (sorted by name) to ``path``.

    Arguments
    ---------
    noisy_dir, enhanced_dir, clean_dir : folders of files named alike (``clean_dir`` optional).
    scores_csv : a maese-score CSV of the enhanced files; without it, ``metrics`` are computed at
        ``sample_rate`` against ``clean_dir`` (no metrics when neither is given).

    Returns
    -------
    str: a one-line summary (clips shown, clips in all folders, files not in every folder).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; refusing to overwrite it (pass --overwrite).")
    folders = {"noisy": Path(noisy_dir), "enhanced": Path(enhanced_dir)}
    if clean_dir is not None:
        folders["clean"] = Path(clean_dir)
    names, absent = clip_names(folders)
    scores = None if scores_csv is None else read_scores(scores_csv)
    source = f"scores from {scores_csv}" if scores is not None else (
        f"metrics computed against the clean files at {sample_rate} Hz" if clean_dir is not None
        else "no metrics: pass --clean or --scores")
    summary = f"{min(len(names), max_clips)} of {len(names)} clips shown; {len(absent)} files not in every folder"
    body = [f"<h1>{html.escape(title)}</h1>", "<ul>",
            *(f"<li>{label}: <code>{html.escape(str(folder))}</code></li>" for label, folder in folders.items()),
            f"<li>{html.escape(summary)}; {html.escape(source)}</li>", "</ul>"]
    if absent:
        body.append(_absent_list(absent))
    for name in names[:max_clips]:
        paths = {label: folder / name for label, folder in folders.items()}
        body.append(_clip_section(name, paths, _clip_metrics(name, paths, scores, metrics, sample_rate)))
    page = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head>", "<body>", *body, f"<script>{SELF_CHECK}</script>", "</body></html>",
    ]
    write_text(path, "\n".join(page) + "\n")
    return summary
