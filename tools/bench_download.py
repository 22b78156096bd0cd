"""Speed of maese.download's phases on this machine, the network left out: downloading from a server on 127.0.0.1,
checking (MD5 + SHA-256), unpacking a .tar.bz2 and a .zip of 16-bit audio. Prints a table (MB/s of archive).

    python tools/bench_download.py [--mb 200]

At 100 Mbit/s (12.5 MB/s) a download is bound by the network when every phase here runs faster than that.
"""

import argparse
import functools
import io
import tarfile
import tempfile
import threading
import time
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from scipy.signal import lfilter

from maese import download


def audio_bytes(mb, seed=0):
    """``mb`` MB of low-passed noise as 16-bit samples (it compresses about as speech recordings do)."""
    noise = np.random.default_rng(seed).standard_normal(int(mb * 1e6) // 2)
    return (lfilter([1.0], [1.0, -0.95], noise) * 800).clip(-32768, 32767).astype("<i2").tobytes()


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def timed(function, *args):
    """Seconds ``function(*args)`` takes."""
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=200, help="audio per archive (MB)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        served, work = Path(tmp) / "served", Path(tmp) / "work"
        served.mkdir()
        data = audio_bytes(args.mb)
        with tarfile.open(served / "audio.tar.bz2", "w:bz2") as tar:
            info = tarfile.TarInfo("audio/a.raw")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        with zipfile.ZipFile(served / "audio.zip", "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("audio/a.raw", data)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(served)))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        print("| archive | MB | download MB/s | check MB/s | unpack MB/s (of archive) |")
        print("| --- | --- | --- | --- | --- |")
        for name in ("audio.tar.bz2", "audio.zip"):
            archive = download.Archive(name, f"http://127.0.0.1:{httpd.server_address[1]}/{name}")
            remote = download.probe(archive)
            path = work / "archives" / name
            bars = download.Progress(download.tqdm(disable=True), download.tqdm(disable=True))
            seconds = [timed(download.download, archive, path, remote, bars),
                       timed(download.verify, archive, path, remote, download.Ledger(work / "ledger.json")),
                       timed(download.unpack, path, work / "unpacked", name)]
            mb = remote.size / 1e6
            print(f"| {name} | {mb:.0f} | " + " | ".join(f"{mb / s:.0f}" for s in seconds) + " |")
        httpd.shutdown()


if __name__ == "__main__":
    main()
