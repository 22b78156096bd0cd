"""Fetch a corpus as its publishers distribute it: parallel, resumable downloads, checked, then unpacked atomically.

A recipe's ``download.py`` lists its :class:`Archive` s and calls :func:`fetch`, which for each archive

1. downloads it into ``<folder>/archives/<name>`` through ``<name>.part``: a killed run leaves the part, and the
   next one asks the server for the rest only (an HTTP range request); a dropped connection is resumed the same way;
2. checks it against the publisher's MD5 (listed, or stated by the server as ``Content-MD5`` / ``x-goog-hash``) or
   else the size the server reports, and against the SHA-256 recorded at its first download
   (``<folder>/archives/checksums.json``); a file that fails is moved aside to ``<name>.bad``, never unpacked;
3. unpacks it into a temporary folder beside its destination, renamed when complete, whose entries are then moved
   into place (renames: a killed run never leaves a half-unpacked archive in the corpus), and writes ``<name>.done``.

Up to ``jobs`` archives are fetched at once, each with a progress bar under an overall one (on a terminal). Before
any download the space needed is printed and checked against the free space; a second run finds every ``.done``
and does nothing. HTTP goes through ``requests``; speechbrain's ``download_file`` neither resumes nor checks.
"""

import base64
import errno
import hashlib
import json
import os
import queue
import shutil
import tarfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import requests
import urllib3
from tqdm import tqdm

CHUNK = 1 << 16  # bytes per write: a killed download keeps all but the last one
TIMEOUT = (30, 60)  # connect, read (s): a stalled server is resumed like a dropped connection
RETRIES = 5  # attempts in a row without a new byte before an archive fails
RETRY_WAIT = 2.0  # seconds before such an attempt, doubled each time
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz")


class DownloadError(RuntimeError):
    """A download, check or unpacking that failed; the message names the file or URL and the fix."""


@dataclass(frozen=True)
class Archive:
    """One file of a corpus, as published.

    Arguments
    ---------
    name : str
        Its path under ``<folder>/archives/``; the suffix says how to unpack it (.zip, or .tar with .gz, .bz2, .xz).
    url : str
    md5 : str, optional
        The publisher's checksum, where one is published.
    unpack_to : str
        The folder under ``<folder>`` it is unpacked into (its members keep their paths).
    unpacked_bytes : int, optional
        The publisher's figure for its unpacked size (the space estimate; default: the archive's size).
    subset : str
        The recipe's name for the part of the corpus it belongs to.
    """

    name: str
    url: str
    md5: str | None = None
    unpack_to: str = "."
    unpacked_bytes: int | None = None
    subset: str = ""


@dataclass(frozen=True)
class Remote:
    """What the server states about an archive (None where it states nothing)."""

    size: int | None
    md5: str | None


def human(n):
    """``n`` bytes, readable (``1.5 GB``)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000


# Every request's headers: a name, and the bytes as stored (sizes and ranges as served, no transfer compression).
# Each request opens its own connection: a download is a handful of large archives, nothing to gain from a pool.
HEADERS = {"User-Agent": "maese-download (python-requests)", "Accept-Encoding": "identity"}


def server_md5(headers):
    """The MD5 a server states for the whole file (``Content-MD5``, or ``md5=`` in ``x-goog-hash``), hex; or None."""
    values = [headers.get("Content-MD5", "")]
    values += [p.strip()[4:] for p in headers.get("x-goog-hash", "").split(",") if p.strip().startswith("md5=")]
    for value in filter(None, values):
        try:
            return base64.b64decode(value, validate=True).hex()
        except ValueError:
            continue
    return None


def probe(archive):
    """The :class:`Remote` of ``archive``: a HEAD request (a GET's headers where HEAD is refused), redirects
    followed."""
    try:
        response = requests.head(archive.url, headers=HEADERS, allow_redirects=True, timeout=TIMEOUT)
        if response.status_code in (403, 405, 501):
            response = requests.get(archive.url, headers=HEADERS, stream=True, timeout=TIMEOUT)
            response.close()
    except requests.RequestException as err:
        raise DownloadError(f"{archive.url}: cannot reach the server ({err}). Check the network and re-run.") from None
    if response.status_code >= 400:
        raise DownloadError(
            f"{archive.url} ({archive.name}): HTTP {response.status_code} {response.reason}. The publisher may have "
            "moved it: check the URL (the recipe's download.py, or the --archives list) and re-run."
        )
    length = response.headers.get("Content-Length", "")
    return Remote(int(length) if length.isdigit() else None, server_md5(response.headers))


def size_of(path):
    """Bytes in ``path`` (0 if it does not exist)."""
    return path.stat().st_size if path.exists() else 0


def _get_rest(url, part, remote, progress):
    """One GET of ``url`` from the end of ``part`` on, appended to it (the whole file if the server ignores the
    range)."""
    have = size_of(part)
    headers = {**HEADERS, "Range": f"bytes={have}-"} if have else HEADERS
    with requests.get(url, headers=headers, stream=True, timeout=TIMEOUT) as response:
        if response.status_code == 416 and remote.size is None:
            return  # nothing after byte `have`: complete
        if response.status_code >= 500:
            response.raise_for_status()  # retried
        if response.status_code >= 400:
            raise DownloadError(f"{url}: HTTP {response.status_code} {response.reason} while downloading. "
                                "Re-run later.")
        if have and response.status_code == 206:
            if not response.headers.get("Content-Range", "").startswith(f"bytes {have}-"):
                raise DownloadError(f"{url}: asked for bytes {have}- and got {response.headers.get('Content-Range')}.")
        else:
            have = 0
            progress.restart()
        with open(part, "ab" if have else "wb") as out:
            while chunk := response.raw.read1(CHUNK):  # what has arrived: a dropped connection loses nothing
                if _stop.is_set():
                    raise DownloadError(f"{url}: interrupted; {size_of(part)} bytes kept in {part} to resume.")
                out.write(chunk)
                progress.update(len(chunk))


def download(archive, path, remote, progress):
    """``archive`` into ``path`` through ``<path>.part``, resumed with range requests after a kill or a dropped
    connection (up to :data:`RETRIES` attempts in a row that bring no new byte)."""
    part = path.with_name(path.name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    idle, wait = 0, RETRY_WAIT
    while True:
        before = size_of(part)
        if remote.size is not None and before > remote.size:
            part.unlink()  # not a part of this file
            continue
        if remote.size is not None and before == remote.size:
            break
        try:
            _get_rest(archive.url, part, remote, progress)
            if remote.size is None or size_of(part) == remote.size:
                break
            problem = f"the server closed the connection at byte {size_of(part)} of {remote.size}"
        except (requests.RequestException, urllib3.exceptions.HTTPError) as err:
            problem = f"the connection broke at byte {size_of(part)} ({type(err).__name__})"
        except OSError as err:
            if err.errno in DISK_FULL:
                raise DownloadError(
                    f"the disk is full: {part} holds {size_of(part)} of {remote.size or '?'} bytes of {archive.url} "
                    f"(kept, to resume). Free space in {part.parent} or give another --download_folder, then re-run."
                ) from None
            raise
        idle, wait = (0, RETRY_WAIT) if size_of(part) > before else (idle + 1, wait)
        if idle >= RETRIES:
            raise DownloadError(
                f"{archive.url}: {problem}, {RETRIES} times without progress; {size_of(part)} bytes kept in {part}. "
                "Re-run the same command later to resume."
            )
        tqdm.write(f"  {archive.name}: {problem}; resuming")
        if idle:
            time.sleep(wait)
            wait *= 2
    os.replace(part, path)


class Ledger:
    """``checksums.json``: the size and checksums of each archive at its first download (thread-safe)."""

    def __init__(self, path):
        self.path, self.lock = Path(path), threading.Lock()
        self.entries = json.loads(self.path.read_text()) if self.path.exists() else {}

    def get(self, name):
        with self.lock:
            return self.entries.get(name, {})

    def record(self, name, entry):
        """Keep ``entry`` for ``name`` unless one is recorded already (written atomically)."""
        with self.lock:
            if name in self.entries:
                return
            self.entries[name] = entry
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps(self.entries, indent=1, sort_keys=True))
            os.replace(tmp, self.path)


def verify(archive, path, remote, ledger):
    """Check ``path`` (see the module docstring); return its size and checksums. A file that fails is moved to
    ``<name>.bad`` and raises."""
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            md5.update(block)
            sha256.update(block)
    got = {"bytes": size_of(path), "md5": md5.hexdigest(), "sha256": sha256.hexdigest()}
    expected = [("md5", archive.md5, "the publisher's MD5"), ("md5", remote.md5, "the MD5 the server states"),
                ("bytes", remote.size, "the size the server reports"),
                ("sha256", ledger.get(archive.name).get("sha256"), f"the SHA-256 recorded at its first download "
                                                                   f"({ledger.path})")]
    wrong = [f"{key} {got[key]}, where {source} is {value}" for key, value, source in expected
             if value is not None and str(got[key]) != str(value).lower()]
    if wrong:
        bad = path.with_name(path.name + ".bad")
        os.replace(path, bad)
        raise DownloadError(
            f"{archive.name} from {archive.url} is not the published file: {'; '.join(wrong)}. It is kept aside as "
            f"{bad} and nothing of it was unpacked. Re-run to download it again; if it fails again, the file or its "
            "checksum has changed at the publisher (or on the way: a proxy, a mirror)."
        )
    return got


def _extract(path, into):
    """Every member of archive ``path`` into folder ``into``."""
    name = path.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            archive.extractall(into)  # zipfile drops absolute and ../ parts of member names
    elif name.endswith(TAR_SUFFIXES):
        with tarfile.open(path) as archive:
            archive.extractall(into, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    else:
        raise DownloadError(f"{path}: cannot unpack it (not {', '.join(('.zip',) + TAR_SUFFIXES)}).")


_merge_lock = threading.Lock()  # archives unpacked side by side share folders (DNS: datasets/)


def merge_into(src, dst):
    """Move every entry of folder ``src`` into ``dst`` by renames (folders in both are merged, files replaced); ``src``
    is left empty."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in list(src.iterdir()):
        target = dst / entry.name
        if target.is_dir() and not target.is_symlink() and not entry.is_dir():
            shutil.rmtree(target)
        elif target.is_symlink() or (target.exists() and entry.is_dir() and not target.is_dir()):
            target.unlink()
        if entry.is_dir() and target.is_dir():
            merge_into(entry, target)
            entry.rmdir()
        else:
            os.replace(entry, target)


def unpack(path, dest, label):
    """Unpack archive ``path`` into folder ``dest``: extracted into ``dest/.extracting-<label>``, renamed to
    ``.extracted-<label>`` when complete, whose entries are then moved into ``dest`` (a killed run resumes there)."""
    extracting, extracted = dest / f".extracting-{label}", dest / f".extracted-{label}"
    if not extracted.exists():
        shutil.rmtree(extracting, ignore_errors=True)
        extracting.mkdir(parents=True)
        try:
            _extract(path, extracting)
        except BaseException as err:
            shutil.rmtree(extracting, ignore_errors=True)  # nothing of it reaches the corpus
            if isinstance(err, OSError) and err.errno in DISK_FULL:
                raise DownloadError(
                    f"the disk is full while unpacking {path} into {dest}: nothing of it was unpacked (its temporary "
                    "folder is removed). Free space there (or use --delete_archives) and re-run."
                ) from None
            if isinstance(err, (tarfile.TarError, zipfile.BadZipFile, EOFError)):
                raise DownloadError(f"{path} cannot be unpacked ({err}); nothing was unpacked. Delete it and "
                                    "re-run.") from None
            raise
        os.rename(extracting, extracted)
    with _merge_lock:
        merge_into(extracted, dest)
    extracted.rmdir()


class Progress:
    """Bytes of one archive, counted on its bar and on the overall one."""

    def __init__(self, bar, overall):
        self.bar, self.overall, self.counted = bar, overall, 0

    def update(self, n):
        self.bar.update(n)
        self.overall.update(n)
        self.counted += n

    def restart(self):
        """The server sends the whole file again."""
        self.overall.update(-self.counted)
        self.counted = 0
        self.bar.reset()


_stop = threading.Event()  # set on Ctrl-C: every download stops at its next chunk


def _fetch_one(archive, remote, folder, ledger, overall, slots, delete_archives):
    """Download (unless already there), check and unpack ``archive``; write its ``.done``."""
    store = folder / "archives"
    path = store / archive.name
    if not path.exists():
        position = slots.get()
        try:
            with tqdm(total=remote.size, initial=size_of(path.with_name(path.name + ".part")), unit="B",
                      unit_scale=True, desc=archive.name, position=position, leave=False, disable=None) as bar:
                download(archive, path, remote, Progress(bar, overall))
        finally:
            slots.put(position)
    checked = verify(archive, path, remote, ledger)
    ledger.record(archive.name, {"url": archive.url, **checked})
    dest = folder / archive.unpack_to
    unpack(path, dest, archive.name.replace("/", "_"))
    done = store / f"{archive.name}.done"
    done.write_text(json.dumps({"url": archive.url, **checked, "unpacked_into": str(dest)}, indent=1))
    if delete_archives:
        path.unlink()
    how = ("MD5 as published" if archive.md5 else "MD5 as the server states" if remote.md5 else
           "size as the server reports" if remote.size is not None else "no size or checksum published")
    tqdm.write(f"  {archive.name}: {human(checked['bytes'])}, checked ({how}), unpacked into {dest}")


def space_needed(todo, remotes, store, jobs, delete_archives):
    """(bytes left to download, bytes to unpack, bytes needed on disk) for the archives of ``todo``."""
    left, unpacked, sizes = 0, 0, []
    for archive in todo:
        size = remotes[archive].size or 0
        path = store / archive.name
        left += 0 if path.exists() else max(size - size_of(path.with_name(path.name + ".part")), 0)
        unpacked += archive.unpacked_bytes or size
        sizes.append(0 if path.exists() else size)
    # deleted once unpacked, at most `jobs` archives are on disk at a time
    return left, unpacked, unpacked + (sum(sorted(sizes)[-jobs:]) if delete_archives else left)


def fetch(archives, folder, jobs=4, delete_archives=False):
    """Download, check and unpack ``archives`` into ``folder`` (see the module docstring).

    Arguments
    ---------
    archives : list of Archive
    folder : str or Path
    jobs : int
        Archives fetched at once.
    delete_archives : bool
        Remove each archive once it is unpacked (its ``.done`` file remembers it).

    Raises
    ------
    DownloadError: an archive the server does not serve (before any download), not enough free space (before any
    download), or, after all the others are done, each archive that failed.
    """
    folder, store = Path(folder), Path(folder) / "archives"
    _stop.clear()
    todo = [a for a in archives if not (store / f"{a.name}.done").exists()]
    if not todo:
        print(f"All {len(archives)} archives are downloaded, checked and unpacked in {folder} (their .done files in "
              f"{store}); nothing to do.")
        return
    store.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(jobs) as pool:
        probes = {a: pool.submit(probe, a) for a in todo}
    failed = [str(f.exception()) for f in probes.values() if f.exception()]
    if failed:
        raise DownloadError(f"{len(failed)} of {len(todo)} archives are not served; nothing was downloaded:\n  "
                            + "\n  ".join(failed))
    remotes = {a: f.result() for a, f in probes.items()}
    left, unpacked, needed = space_needed(todo, remotes, store, jobs, delete_archives)
    free = shutil.disk_usage(store).free
    unknown = [a.name for a in todo if remotes[a].size is None]
    print(f"{len(todo)} of {len(archives)} archives to fetch into {folder}: {human(left)} to download, about "
          f"{human(unpacked)} unpacked{' (archives removed once unpacked)' if delete_archives else ''}: "
          f"{human(needed)} needed, {human(free)} free."
          + (f" Sizes not reported: {', '.join(unknown)}." if unknown else ""))
    if needed > free:
        raise DownloadError(
            f"not enough free space in {folder}: {human(needed)} needed, {human(free)} free; nothing was downloaded. "
            "Free space, give another --download_folder, fetch fewer subsets, or add --delete_archives."
        )
    ledger = Ledger(store / "checksums.json")
    slots = queue.Queue()
    for position in range(1, jobs + 1):
        slots.put(position)
    failed = []
    with tqdm(total=left, unit="B", unit_scale=True, desc="all archives", position=0, disable=None) as overall, \
            ThreadPoolExecutor(jobs) as pool:
        jobs_of = [pool.submit(_fetch_one, a, remotes[a], folder, ledger, overall, slots, delete_archives)
                   for a in todo]
        try:
            for job in as_completed(jobs_of):
                if isinstance(job.exception(), DownloadError):
                    failed.append(str(job.exception()))
                else:
                    job.result()
        except BaseException:
            _stop.set()  # Ctrl-C or a bug: the other downloads stop at their next chunk, parts kept
            raise
    if failed:
        raise DownloadError(f"{len(failed)} of {len(todo)} archives failed (the others are done):\n  "
                            + "\n  ".join(failed))
    print(f"All {len(archives)} archives are downloaded, checked and unpacked in {folder}.")


# ---- the command line of a recipe's download.py ------------------------------------------------------------------

def add_arguments(parser, subsets=None, default_subsets=None):
    """The options every recipe's ``download.py`` shares; ``--subsets`` where the recipe has ``subsets`` (names)."""
    parser.add_argument("--download_folder", required=True, help="where the archives go (archives/) and are unpacked")
    parser.add_argument("--jobs", type=int, default=4, help="archives fetched at once (default 4)")
    parser.add_argument("--archives", help="a JSON list of archives ({name, url, md5, unpack_to, unpacked_bytes, "
                                           "subset}) used instead of the recipe's: a mirror, or a test server")
    parser.add_argument("--delete_archives", action="store_true",
                        help="remove each archive once unpacked (its .done file remembers it)")
    if subsets:
        parser.add_argument("--subsets", nargs="+", default=list(default_subsets), metavar="NAME",
                            help=f"parts of the corpus, of {', '.join(subsets)} (default: {' '.join(default_subsets)})")


def archives_from(args, catalogue, groups=None):
    """The archives to fetch: ``catalogue`` (or the ``--archives`` list) restricted to ``args.subsets``, where each
    name is a subset or a key of ``groups`` (a name -> subsets)."""
    archives = catalogue
    if args.archives:
        known = {f.name for f in fields(Archive)}
        try:
            entries = json.loads(Path(args.archives).read_text())
            archives = [Archive(**entry) for entry in entries]
        except (OSError, ValueError, TypeError) as err:
            raise DownloadError(f"--archives {args.archives}: not a JSON list of archives with the keys "
                                f"{sorted(known)} ({err}).") from None
    chosen = getattr(args, "subsets", None)
    if chosen is None:
        return archives
    groups = groups or {}
    wanted = set().union(*(groups.get(name, {name}) for name in chosen))
    unknown = [name for name in chosen if name not in groups and name not in {a.subset for a in archives}]
    if unknown:
        names = sorted(set(groups) | {a.subset for a in archives})
        raise DownloadError(f"--subsets: unknown {', '.join(unknown)}; choose among {', '.join(names)}.")
    return [a for a in archives if a.subset in wanted]


def archives_json(archives):
    """``archives`` as the JSON that ``--archives`` reads."""
    return json.dumps([asdict(a) for a in archives], indent=1)


def run(args, catalogue, layout, groups=None, errors=()):
    """The archives of ``args`` (see :func:`archives_from`) fetched into ``--download_folder``, then
    ``layout(download folder) -> data folder``; prints the ``--data_folder`` to use (its last line).

    A :class:`DownloadError`, or one of ``errors`` (what the layout raises), exits with its message.
    """
    folder = Path(args.download_folder).resolve()
    if args.jobs < 1:
        raise SystemExit(f"download.py: --jobs {args.jobs}: give 1 or more.")
    try:
        fetch(archives_from(args, catalogue, groups), folder, args.jobs, args.delete_archives)
        data_folder = layout(folder)
    except KeyboardInterrupt:
        raise SystemExit("download.py: interrupted; re-run the same command to resume.") from None
    except (DownloadError, *errors) as err:
        raise SystemExit(f"download.py: {err}") from None
    print(f"The corpus is ready; give run.sh this data folder:\n--data_folder {data_folder}")
    return data_folder
