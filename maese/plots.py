"""Figures written during training: spectrogram panels side by side."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_spectrograms(path, panels, hop_seconds, title=None):
    """Save spectrogram-like panels (time on x, frequency bin on y) in one row of a PNG.

    Arguments
    ---------
    path : str or Path
    panels : dict name -> array-like ``[frames, freq]``
    hop_seconds : float
        Frame hop, to label the time axis in seconds.
    title : str or None
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2), squeeze=False)
    for ax, (name, spec) in zip(axes[0], panels.items()):
        spec = spec.detach().cpu().float().numpy() if hasattr(spec, "detach") else spec
        frames = spec.shape[0]
        ax.imshow(spec.T, origin="lower", aspect="auto", interpolation="nearest",
                  extent=(0, frames * hop_seconds, 0, spec.shape[1]))
        ax.set_title(name)
        ax.set_xlabel("time (s)")
    axes[0][0].set_ylabel("frequency bin")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
