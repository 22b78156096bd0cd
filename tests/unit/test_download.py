"""maese.download against a local HTTP server: a full fetch, a killed download resumed, dropped connections, wrong
checksums, a missing file, a full disk, not enough space, and a second run that does nothing."""

import base64
import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from argparse import Namespace

import numpy as np
import pytest
from download_fixtures import md5, server, tar_bz2, zip_of  # noqa: F401

from maese import download
from maese.download import Archive, DownloadError, fetch

RNG = np.random.default_rng(0)
WAV = RNG.bytes(200_000)  # incompressible: an archive is about as large as its members
NOISE = RNG.bytes(120_000)


@pytest.fixture(autouse=True)
def no_wait(monkeypatch):
    monkeypatch.setattr(download, "RETRY_WAIT", 0)


def publish(server, name, data, with_md5=True, **fields):
    """Serve ``data`` as ``name``; its Archive (with its MD5 unless ``with_md5`` is False)."""
    server.files[name] = data
    return Archive(name, server.url(name), md5(data) if with_md5 else None, **fields)


@pytest.fixture
def corpus(server):
    """Two archives: a zip with a published MD5, a .tar.bz2 without (checked against its size)."""
    speech = publish(server, "speech.zip", zip_of({"speech/a.wav": WAV}), unpack_to="corpus")
    noise = publish(server, "parts/noise.tar.bz2", tar_bz2({"noise/n.wav": NOISE}), with_md5=False, unpack_to="corpus")
    return [speech, noise]


def test_fetch_downloads_checks_and_unpacks_every_archive(server, corpus, tmp_path, capsys):
    fetch(corpus, tmp_path, jobs=2)
    assert (tmp_path / "corpus" / "speech" / "a.wav").read_bytes() == WAV
    assert (tmp_path / "corpus" / "noise" / "n.wav").read_bytes() == NOISE
    for archive in corpus:
        assert (tmp_path / "archives" / archive.name).read_bytes() == server.files[archive.name]
        done = json.loads((tmp_path / "archives" / f"{archive.name}.done").read_text())
        assert done["sha256"] == hashlib.sha256(server.files[archive.name]).hexdigest()
    assert sorted(p.name for p in (tmp_path / "corpus").iterdir()) == ["noise", "speech"]  # no temporary folder left
    ledger = json.loads((tmp_path / "archives" / "checksums.json").read_text())
    assert set(ledger) == {"speech.zip", "parts/noise.tar.bz2"}
    out = capsys.readouterr().out
    assert "2 of 2 archives to fetch" in out and "free" in out  # the space, printed before the downloads
    assert not list(tmp_path.rglob("*.part"))


def test_a_second_run_does_nothing(server, corpus, tmp_path, capsys):
    fetch(corpus, tmp_path)
    asked = len(server.requests)
    fetch(corpus, tmp_path)
    assert len(server.requests) == asked  # not even a HEAD
    assert "nothing to do" in capsys.readouterr().out


def test_a_killed_download_resumes_to_an_identical_archive(server, tmp_path):
    data = zip_of({"big/a.wav": RNG.bytes(400_000)})
    archive = publish(server, "big.zip", data)
    server.faults["big.zip"] = {"chunk": 8192, "delay": 0.04}  # about 2 s for the whole file
    code = (f"from maese.download import Archive, fetch; "
            f"fetch([Archive({archive.name!r}, {archive.url!r}, {archive.md5!r})], {str(tmp_path)!r}, jobs=1)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    part = tmp_path / "archives" / "big.zip.part"
    deadline = time.time() + 30
    while download.size_of(part) < len(data) // 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = download.size_of(part)
    assert 0 < kept < len(data), "the download was not killed halfway"
    server.faults.clear()
    fetch([archive], tmp_path)
    assert server.gets("big.zip")[-1] == f"bytes={kept}-"  # only the rest was asked for
    assert (tmp_path / "archives" / "big.zip").read_bytes() == data
    assert (tmp_path / "big" / "a.wav").exists() and not part.exists()


def test_a_dropped_connection_is_resumed_where_it_stopped(server, tmp_path):
    data = zip_of({"a.wav": RNG.bytes(100_000)})
    archive = publish(server, "a.zip", data)
    server.faults["a.zip"] = {"drop_after": 30_000, "chunk": 10_000}
    fetch([archive], tmp_path)
    assert server.gets("a.zip")[:4] == [None, "bytes=30000-", "bytes=60000-", "bytes=90000-"]
    assert (tmp_path / "archives" / "a.zip").read_bytes() == data


def test_a_connection_that_keeps_dropping_fails_and_keeps_the_part(server, tmp_path):
    archive = publish(server, "a.zip", zip_of({"a.wav": WAV}))
    server.faults["a.zip"] = {"drop_after": 0}
    with pytest.raises(DownloadError) as err:
        fetch([archive], tmp_path)
    message = str(err.value)
    assert archive.url in message and "Re-run the same command" in message
    assert len(server.gets("a.zip")) == download.RETRIES
    assert not (tmp_path / "a.wav").exists() and not (tmp_path / "archives" / "a.zip.done").exists()


def test_a_wrong_checksum_keeps_the_file_aside_and_unpacks_nothing(server, corpus, tmp_path):
    bad = Archive(corpus[0].name, corpus[0].url, "0" * 32, unpack_to="corpus")
    with pytest.raises(DownloadError) as err:
        fetch([bad, corpus[1]], tmp_path)
    message = str(err.value)
    kept = tmp_path / "archives" / "speech.zip.bad"
    assert "speech.zip" in message and "the publisher's MD5 is " + "0" * 32 in message and str(kept) in message
    assert kept.read_bytes() == server.files["speech.zip"]
    assert not (tmp_path / "archives" / "speech.zip").exists() and not (tmp_path / "corpus" / "speech").exists()
    assert not (tmp_path / "archives" / "speech.zip.done").exists()
    assert (tmp_path / "corpus" / "noise" / "n.wav").exists()  # the other archive is done


def test_the_md5_the_server_states_is_checked(server, tmp_path):
    archive = publish(server, "a.zip", zip_of({"a.wav": WAV}), with_md5=False)
    server.faults["a.zip"] = {"md5": base64.b64encode(hashlib.md5(b"another file").digest()).decode()}
    with pytest.raises(DownloadError, match="the MD5 the server states"):
        fetch([archive], tmp_path)
    assert not (tmp_path / "a.wav").exists()


def test_the_checksum_recorded_at_the_first_download_is_compared_later(server, tmp_path):
    first = zip_of({"a.wav": WAV})
    archive = publish(server, "a.zip", first, with_md5=False)
    fetch([archive], tmp_path)
    for name in ("a.zip", "a.zip.done"):  # fetched again later: a new disk, a cleaned folder
        (tmp_path / "archives" / name).unlink()
    server.files["a.zip"] = first[:-100] + bytes(100)  # same size, other bytes
    with pytest.raises(DownloadError, match="the SHA-256 recorded at its first download"):
        fetch([archive], tmp_path)


def test_a_file_the_server_does_not_serve_fails_before_any_download(server, corpus, tmp_path):
    missing = Archive("gone.zip", server.url("gone.zip"))
    with pytest.raises(DownloadError) as err:
        fetch(corpus + [missing], tmp_path)
    assert missing.url in str(err.value) and "HTTP 404" in str(err.value) and "nothing was downloaded" in str(err.value)
    assert not [r for r in server.requests if r[0] == "GET"]
    assert not list((tmp_path / "archives").iterdir())


def test_an_unreachable_server_is_named(tmp_path):
    archive = Archive("a.zip", "http://127.0.0.1:9/a.zip")  # the discard port: nothing listens there
    with pytest.raises(DownloadError, match=r"http://127.0.0.1:9/a.zip: cannot reach the server"):
        fetch([archive], tmp_path)


def test_archives_deleted_once_unpacked_are_not_fetched_again(server, corpus, tmp_path, capsys):
    fetch(corpus, tmp_path, delete_archives=True)
    assert not (tmp_path / "archives" / "speech.zip").exists() and (tmp_path / "corpus" / "speech" / "a.wav").exists()
    asked = len(server.requests)
    fetch(corpus, tmp_path, delete_archives=True)
    assert len(server.requests) == asked and "nothing to do" in capsys.readouterr().out


def test_a_full_disk_while_downloading_keeps_the_part_to_resume(server, tmp_path, monkeypatch):
    data = zip_of({"a.wav": RNG.bytes(100_000)})
    archive = publish(server, "a.zip", data)
    server.faults["a.zip"] = {"chunk": 10_000}

    class Quota:
        """A file that takes 40 kB, then fails as a full disk does: the write that overflows stores what fits (how
        much of the download arrives per read depends on the machine's load, so a quota on whole writes could keep
        nothing)."""

        def __init__(self, f):
            self.f = f

        def write(self, chunk):
            room = 40_000 - self.f.tell()
            if len(chunk) > room:
                self.f.write(chunk[:room])
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(chunk)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(download, "open", lambda *a, **k: Quota(open(*a, **k)), raising=False)
    with pytest.raises(DownloadError, match="the disk is full") as err:
        fetch([archive], tmp_path)
    part = tmp_path / "archives" / "a.zip.part"
    kept = download.size_of(part)
    assert str(part) in str(err.value) and kept == 40_000
    monkeypatch.undo()
    fetch([archive], tmp_path)
    assert server.gets("a.zip")[-1] == f"bytes={kept}-"
    assert (tmp_path / "archives" / "a.zip").read_bytes() == data


def test_a_full_disk_while_unpacking_unpacks_nothing(server, corpus, tmp_path, monkeypatch):
    def fill_then_fail(path, into):
        (into / "speech").mkdir()
        (into / "speech" / "half.wav").write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(download, "_extract", fill_then_fail)
    with pytest.raises(DownloadError, match="nothing of it was unpacked"):
        fetch(corpus[:1], tmp_path)
    assert list((tmp_path / "corpus").iterdir()) == []  # not even its temporary folder
    monkeypatch.undo()
    gets = len(server.gets("speech.zip"))
    fetch(corpus[:1], tmp_path)
    assert len(server.gets("speech.zip")) == gets  # the archive was kept: unpacked without downloading it again
    assert (tmp_path / "corpus" / "speech" / "a.wav").read_bytes() == WAV


def test_a_half_extracted_folder_of_a_killed_run_never_reaches_the_corpus(server, corpus, tmp_path):
    leftover = tmp_path / "corpus" / ".extracting-speech.zip"
    leftover.mkdir(parents=True)
    (leftover / "truncated.wav").write_bytes(b"trunc")
    fetch(corpus[:1], tmp_path)
    assert sorted(p.name for p in (tmp_path / "corpus").iterdir()) == ["speech"]
    assert not list(tmp_path.rglob("truncated.wav"))


def test_not_enough_free_space_stops_before_any_download(server, corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(download.shutil, "disk_usage", lambda path: Namespace(free=500))
    with pytest.raises(DownloadError, match="not enough free space") as err:
        fetch(corpus, tmp_path)
    assert "642.3 kB needed, 500 B free" in str(err.value)
    assert not [r for r in server.requests if r[0] == "GET"]


def test_subsets_pick_archives_and_an_unknown_one_is_named(tmp_path):
    catalogue = [Archive(f"{name}.zip", "u", subset=name) for name in "abc"]
    args = Namespace(archives=None, subsets=["ab", "c"])
    assert [a.name for a in download.archives_from(args, catalogue, {"ab": {"a", "b"}})] == ["a.zip", "b.zip", "c.zip"]
    args.subsets = ["a"]
    assert [a.name for a in download.archives_from(args, catalogue)] == ["a.zip"]
    args.subsets = ["a", "z"]
    with pytest.raises(DownloadError, match="unknown z; choose among a, b, c"):
        download.archives_from(args, catalogue)
    listed = tmp_path / "list.json"
    listed.write_text(download.archives_json(catalogue[:1]))
    assert download.archives_from(Namespace(archives=str(listed), subsets=["a"]), []) == catalogue[:1]
    listed.write_text('[{"name": "a.zip", "link": "u"}]')
    with pytest.raises(DownloadError, match="not a JSON list of archives"):
        download.archives_from(Namespace(archives=str(listed)), [])
