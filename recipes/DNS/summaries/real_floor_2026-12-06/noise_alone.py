"""Feed each real-set noise alone (at -30 dBFS RMS) to models; per-band suppression (dB)."""
import sys, glob, os, numpy as np, torch, soundfile as sf
from maese.inference import Enhancer
bands = [0, 125, 250, 500, 1000, 2000, 4000, 8000]
def band_db(x):
    S = np.abs(np.fft.rfft(x.reshape(-1, 512) * np.hanning(512), axis=1)) ** 2
    f = np.fft.rfftfreq(512, 1 / 16000); return np.array([S[:, (f >= lo) & (f < hi)].sum() for lo, hi in zip(bands[:-1], bands[1:])])
noise_dir = sys.argv[1]
models = {n: Enhancer.from_experiment(p, chunk_seconds=None) for n, p in (a.split('=') for a in sys.argv[2:])}
for nf in sorted(glob.glob(os.path.join(noise_dir, 'noise*.wav'))):
    x, sr = sf.read(nf, dtype='float32'); x = x if x.ndim == 1 else x[:, 0]
    x = x[: 16000 * 6]; x = x / np.sqrt(np.mean(x ** 2)) * 10 ** (-30 / 20); n = len(x) // 512 * 512
    ref = band_db(x[:n])
    for name, enh in models.items():
        with torch.no_grad(): y = enh.enhance(torch.from_numpy(x)[None], sr)[0].numpy()
        print(f"{os.path.basename(nf):11s} {name:16s}", " ".join(f"{v:6.1f}" for v in 10 * np.log10(band_db(y[:n]) / ref)))
