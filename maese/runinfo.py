"""The record of a recipe run (``run.json`` in its results folder): what a results table's header needs.

run.sh calls, before its first stage (recipe_lib.sh's record_run):
    python -m maese.runinfo --out RESULTS/run.json --cwd "$caller" --jobs N --threads T -- "$0" ARGS...
with ``--call ID`` (an identifier of this run.sh call) and, once its last stage is done (finish_run), the same with
``--time SECONDS --stages FIRST-LAST``: the run's wall time, added under "time" ({stages, seconds, ended}) to the
entry that call added. A call that added no entry (a re-run, or a killed run resumed) records no time: its time is
not that of the whole run.

Each call adds an entry (UTC date, the command as typed and the folder it was typed in, git commit and whether the
checkout had uncommitted changes, Python/PyTorch/SpeechBrain/maese versions, CPU model and count, GPUs, jobs and
threads), unless an entry with the same fields but the date is there already: a re-run of the same command at the
same commit leaves the file as it is, a resumed run at another commit or with other options is added.
:func:`describe` turns the entries into the lines of a table's header.
"""

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
from pathlib import Path

import maese
from maese.dataio import write_json

REPOSITORY = Path(maese.__file__).resolve().parents[1]
ENV_LOG = "env.log"  # SpeechBrain's record of a training folder (Python version, packages, git revision)


def _git(*args):
    """Output of ``git ARGS`` in the repository of this package, or None outside a git checkout."""
    try:
        proc = subprocess.run(["git", "-C", str(REPOSITORY), *args], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def _version(package):
    """The installed version of ``package``, or None."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpu_model(cpuinfo="/proc/cpuinfo"):
    """The CPU's model name (Linux' ``/proc/cpuinfo``), else :func:`platform.processor`, else None."""
    try:
        for line in Path(cpuinfo).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def gpus():
    """Names of the NVIDIA GPUs that ``nvidia-smi`` lists (empty without one)."""
    try:
        proc = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                              text=True, check=False)
    except OSError:
        return []
    return [line.strip() for line in proc.stdout.splitlines() if line.strip()] if proc.returncode == 0 else []


def collect(argv, cwd, jobs, threads):
    """One entry of run.json: this machine, checkout and environment, and the command ``argv`` typed in ``cwd``.

    ``threads``: OMP_NUM_THREADS of each job (None: unset, PyTorch's default of one thread per CPU).
    """
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "argv": list(argv), "cwd": str(Path(cwd).resolve()),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(status) if status is not None else None,
        "python": platform.python_version(), "torch": _version("torch"), "speechbrain": _version("speechbrain"),
        "maese": maese.__version__, "cpu": cpu_model(), "cpus": os.cpu_count(), "gpus": gpus(),
        "jobs": jobs, "threads": threads,
    }


def read_entries(path):
    """The entries of a run.json (empty if there is none)."""
    path = Path(path)
    return json.loads(path.read_text())["entries"] if path.is_file() else []


UNCOMPARED = ("date", "call", "time")  # fields in which a re-run of the same command at the same commit may differ


def record(path, entry):
    """Add ``entry`` to the run.json at ``path`` unless one differing only in ``UNCOMPARED`` is there; True if added."""
    entries = read_entries(path)
    same = [{k: v for k, v in e.items() if k not in UNCOMPARED} for e in entries]
    if {k: v for k, v in entry.items() if k not in UNCOMPARED} in same:
        return False
    write_json(path, {"entries": [*entries, entry]})
    return True


def add_time(path, call, stages, seconds):
    """Add the wall time of a completed run (``stages`` such as "1-7", ``seconds``) to the entry of the run.json at
    ``path`` that the run.sh call ``call`` added; True if there is one (a re-run's call added none)."""
    entries = read_entries(path)
    mine = [e for e in entries if e.get("call") == call]
    if not mine:
        return False
    ended = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mine[-1]["time"] = {"stages": stages, "seconds": int(seconds), "ended": ended}
    write_json(path, {"entries": entries})
    return True


def duration_text(seconds):
    """``seconds`` as "N min S s" (or "H h M min S s")."""
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min {seconds} s" if hours else f"{minutes} min {seconds} s"


def _time(entry):
    t = entry.get("time")
    return f"stages {t['stages']} in {duration_text(t['seconds'])} (ended {t['ended']})" if t else ""


def command_text(entry):
    """The command of an entry as one shell line: ``cd DIR && ARGV`` (DIR relative to the repository if inside)."""
    cwd = Path(entry["cwd"])
    where = cwd.relative_to(REPOSITORY).as_posix() if cwd.is_relative_to(REPOSITORY) else str(cwd)
    command = shlex.join(entry["argv"])
    return command if where == "." else f"cd {where} && {command}"


def _machine(entry):
    gpu = ", ".join(entry["gpus"]) if entry["gpus"] else "no GPU"
    return f"{entry['cpus']} CPUs ({entry['cpu'] or 'model not known'}); {gpu}"


def _threads(entry):
    each = f"OMP_NUM_THREADS={entry['threads']}" if entry["threads"] else "OMP_NUM_THREADS unset (one thread per CPU)"
    return f"--jobs {entry['jobs']}, each job {each}"


def _commit(entry):
    changes = " with uncommitted changes" if entry["uncommitted_changes"] else ""
    return f"{entry['commit']}{changes}" if entry["commit"] else "not a git checkout"


DESCRIBE = {
    "date": lambda e: e["date"], "commit": _commit, "command": command_text,
    "versions": lambda e: f"Python {e['python']}, PyTorch {e['torch']}, SpeechBrain {e['speechbrain']}, "
                          f"maese {e['maese']}",
    "machine": _machine, "threads": _threads, "time": _time,
}


def describe(entries):
    """Header fields (see ``DESCRIBE``) -> text; a field that differs between entries lists each value, in order."""
    fields = {}
    for key, text in DESCRIBE.items():
        values = [value for value in dict.fromkeys(text(e) for e in entries) if value]
        if values:
            fields[key] = values[0] if len(values) == 1 else "; ".join(values)
    return fields


def training_records(results):
    """{field: text} from the SpeechBrain ``env.log`` of each training folder of ``results`` (folders that predate
    run.json): ``versions`` (the Python versions found) and ``trainings`` (each git revision with the folders trained
    at it)."""
    commits, pythons = {}, []
    for log in sorted(Path(results).glob(f"*/{ENV_LOG}")):
        lines = log.read_text().splitlines()
        for i, line in enumerate(lines[:-1]):
            if line.startswith("Git revision"):
                commits.setdefault(lines[i + 1].strip(), []).append(log.parent.name)
            if line.startswith("Python version"):
                pythons.append(lines[i + 1].split()[0])
    fields = {}
    if pythons:
        fields["versions"] = "Python " + ", ".join(dict.fromkeys(pythons))
    if commits:
        fields["trainings"] = "; ".join(f"{commit}: {', '.join(folders)}" for commit, folders in commits.items())
    return fields


def main(argv=None):
    """Entry point: record this machine and the command after ``--`` in ``--out`` (with --time: the run's time)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="the run.json to add to")
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="the folder the command was typed in")
    parser.add_argument("--jobs", type=int, required=True, help="jobs run at a time")
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS of each job (omit: unset)")
    parser.add_argument("--call", help="an identifier of this run.sh call, kept in the entry it adds")
    parser.add_argument("--time", type=float, help="the wall time in seconds of the completed call --call: add it to "
                        "the entry that call added")
    parser.add_argument("--stages", default="", help="with --time: the stages it ran, e.g. 1-7")
    parser.add_argument("command", nargs="+", help="the command as typed, after --")
    args = parser.parse_args(argv)
    if args.time is not None:
        if not args.call:
            parser.error("--time needs the --call of the run.sh call it times")
        add_time(args.out, args.call, args.stages, args.time)
    else:
        record(args.out, {**collect(args.command, args.cwd, args.jobs, args.threads),
                          **({"call": args.call} if args.call else {})})


if __name__ == "__main__":
    main()
