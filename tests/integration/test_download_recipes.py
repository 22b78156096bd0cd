"""Stage 0 of each recipe (``run.sh --stage 0 --stop_stage 0``) against a local HTTP server serving miniature archives
shaped as the publishers' (each recipe's own list of archives, pointed at 127.0.0.1 with ``--archives``): the folder
it prints is accepted by the recipe's preparation, holds the files packed, and a second run does nothing."""

import hashlib
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from conftest import REPO, load_recipe_module, run_recipe

sys.path.insert(0, str(REPO / "tests" / "unit"))
from download_fixtures import md5, server, tar_bz2, tree_members, zip_of  # noqa: E402, F401
from test_dns_real_layout import build_release  # noqa: E402
from test_voicebank import make_voicebank  # noqa: E402
from test_whamr import make_whamr  # noqa: E402

from maese.download import archives_json  # noqa: E402

vb, wp, dns = (load_recipe_module(recipe, "prepare") for recipe in ("Voicebank", "WHAMR", "DNS"))
dns_layout = load_recipe_module("DNS", "dns_layout")


def catalogue(recipe):
    """The archives of ``recipes/<recipe>/download.py`` (imported beside its own prepare.py)."""
    others = sys.modules.get("prepare")
    sys.modules["prepare"] = load_recipe_module(recipe, "prepare")
    try:
        return load_recipe_module(recipe, "download").ARCHIVES
    finally:
        if others is None:
            del sys.modules["prepare"]
        else:
            sys.modules["prepare"] = others


def serve(server, archives, members_of, folder):
    """Serve the archive of each of ``archives`` whose members ``members_of(archive)`` gives (None: not served);
    write their list, pointed at ``server``, as ``folder/archives.json``; returns its path."""
    listed = []
    for archive in archives:
        members = members_of(archive)
        if members is None:
            continue
        data = zip_of(members) if archive.name.endswith(".zip") else tar_bz2(members)
        server.files[archive.name] = data
        listed.append(replace(archive, url=server.url(archive.name), md5=md5(data) if archive.md5 else None,
                              unpacked_bytes=None))  # miniatures: not the publisher's sizes
    path = folder / "archives.json"
    path.write_text(archives_json(listed))
    return path


def stage_0(recipe, *options):
    """``recipes/<recipe>/run.sh --stage 0 --stop_stage 0 OPTIONS``: (its output, the --data_folder it printed)."""
    proc = run_recipe(["run.sh", "--stage", 0, "--stop_stage", 0, *options], cwd=REPO / "recipes" / recipe,
                      launcher=["bash"])
    printed = [line.split(" ", 1)[1] for line in proc.stdout.splitlines() if line.startswith("--data_folder ")]
    return proc.stdout, Path(printed[-1])


def files(folder):
    """{relative path: sha1} of the files under ``folder`` (links followed)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest() for p in folder.rglob("*")
            if p.is_file()}


def test_voicebank_stage_0_leaves_the_corpus_stage_1_prepares(server, tmp_path):
    source = make_voicebank(tmp_path / "source")
    stem = lambda archive: archive.name.removesuffix(".zip")  # noqa: E731 (each zip holds its folder)
    listed = serve(server, catalogue("Voicebank"), lambda a: tree_members(source / stem(a), f"{stem(a)}/")
                   if (source / stem(a)).is_dir() else None, tmp_path)
    download = tmp_path / "download"
    out, data_folder = stage_0("Voicebank", "--download_folder", download, "--archives", listed, "--jobs", 2)
    assert data_folder == download / "VoiceBank" and files(data_folder) == files(source)
    assert "checked (MD5 as published)" in out
    vb.prepare_voicebank(tmp_path / "prep", str(data_folder), str(tmp_path / "cache"))  # what stage 1 runs first
    asked = len(server.requests)
    out, again = stage_0("Voicebank", "--download_folder", download, "--archives", listed)
    assert "nothing to do" in out and again == data_folder and len(server.requests) == asked


FAKE_SCRIPT = '''"""Stands in for the WHAMR! generation: checks its inputs, copies template/ to --output-dir."""
import argparse, pathlib, shutil
parser = argparse.ArgumentParser()
for name in ("--wsj0-root", "--wham-noise-root", "--output-dir"):
    parser.add_argument(name, required=True)
args = parser.parse_args()
assert (pathlib.Path(args.wsj0_root) / "wsj0").is_dir() and (pathlib.Path(args.wham_noise_root) / "tt").is_dir()
shutil.copytree("template", args.output_dir)
'''


def test_whamr_stage_0_needs_wsj0_then_generates_what_stage_1_prepares(server, tmp_path):
    template = make_whamr(tmp_path / "template")
    noise = {f"wham_noise/{split}/0{i}.wav": bytes(100 + i) for split in ("tr", "cv", "tt") for i in range(2)}
    scripts = {"whamr_scripts/create_wham_from_scratch.py": FAKE_SCRIPT.encode(),
               **tree_members(template, "whamr_scripts/template/")}
    listed = serve(server, catalogue("WHAMR"), lambda a: noise if a.name == "wham_noise.zip" else scripts, tmp_path)
    download = tmp_path / "download"
    proc = subprocess.run(["bash", "run.sh", "--stage", "0", "--stop_stage", "0", "--download_folder", download,
                           "--archives", listed], cwd=REPO / "recipes" / "WHAMR", capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert proc.returncode != 0 and "WSJ0 corpus (LDC93S6A)" in proc.stderr and "--wsj0_folder DIR" in proc.stderr
    assert (download / "wham_noise" / "tt" / "00.wav").exists()  # the downloads are done
    assert (download / "archives" / "whamr_scripts.tar.gz.done").exists()
    (tmp_path / "wsj" / "wsj0").mkdir(parents=True)
    out, data_folder = stage_0("WHAMR", "--download_folder", download, "--archives", listed,
                               "--wsj0_folder", tmp_path / "wsj")
    assert data_folder == download / "whamr" and files(data_folder) == files(template)
    assert not (download / "whamr.partial").exists()
    wp.prepare_whamr(tmp_path / "prep", str(data_folder), str(tmp_path / "cache"))


def test_dns_stage_0_leaves_a_release_stage_2_prepares(server, tmp_path):
    release = build_release(tmp_path / "source", fullband=False)
    parts = {"read_speech": "clean/read_speech", "noise": "noise", "rirs": "impulse_responses"}
    members = {subset: tree_members(release / part, f"datasets/{part}/") for subset, part in parts.items()}
    listed = serve(server, catalogue("DNS"), lambda a: members.get(a.subset), tmp_path)
    download = tmp_path / "download"
    out, data_folder = stage_0("DNS", "--download_folder", download, "--archives", listed)
    assert data_folder == download / "DNS-Challenge" / "datasets"
    assert files(data_folder) == {k: v for k, v in files(release).items()
                                  if k.startswith(("clean/read_speech/", "noise/", "impulse_responses/"))}
    assert 0 < out.index("kB to download") < out.index("checked (")  # the space, printed before the downloads
    dns.prepare_dns(tmp_path / "prep", str(data_folder), min_duration=1.0)  # what stage 2 runs first
    assert (tmp_path / "prep" / "pretrain_train.json").exists()


def test_dns_fullband_is_laid_out_as_the_release(server, tmp_path):
    """The download script's header shows the speech folders beside clean_fullband/, and the impulse responses are in
    datasets/: both are put into the layout prepare.py reads."""
    release = build_release(tmp_path / "source", fullband=True)
    members = {"fullband_read_speech": tree_members(release / "clean_fullband" / "read_speech",
                                                    "datasets_fullband/read_speech/"),
               "fullband_noise": tree_members(release / "noise_fullband", "datasets_fullband/noise_fullband/"),
               "fullband_rirs": tree_members(release / "impulse_responses", "datasets/impulse_responses/")}
    firsts = [next(a for a in catalogue("DNS") if a.subset == subset) for subset in members]
    listed = serve(server, firsts, lambda a: members[a.subset], tmp_path)
    download = tmp_path / "download"
    out, data_folder = stage_0("DNS", "--download_folder", download, "--archives", listed, "--dns_subset", "fullband")
    assert data_folder == download / "DNS-Challenge" / "datasets_fullband"
    assert (data_folder / "impulse_responses").is_symlink() and not (data_folder / "read_speech").exists()
    parts = dns_layout.check_dns_layout(data_folder)
    assert files(parts["clean"] / "read_speech") == files(release / "clean_fullband" / "read_speech")
    assert files(parts["impulse_responses"]) == files(release / "impulse_responses")


def test_stage_0_without_a_download_folder_stops_before_any_work():
    for recipe in ("DNS", "Voicebank", "WHAMR"):
        proc = subprocess.run(["bash", "run.sh", "--stage", "0"], cwd=REPO / "recipes" / recipe, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 2 and "give --download_folder DIR" in proc.stderr, recipe
