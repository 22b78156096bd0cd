"""recipes/DNS/run.sh --jobs 2: the order its jobs start in, with a stand-in interpreter that records when each job
starts and ends (no training, milliseconds; the order is set by which job waits for which, never by sleeping)."""

import os
import subprocess

from conftest import DNS_RECIPE, STAND_IN_ARGS

SPLITS = ("indomain", "ood")
TASKS = ("denoise", "dereverb")
CLASSICAL = [f"classical/{s}_{t}" for s in SPLITS for t in TASKS]
# the pre-training ends once scratch_denoise has started, scratch_denoise once the pre-training has ended
SIDE_BY_SIDE = "pretrain.yaml=start:scratch_denoise scratch_denoise.yaml=end:pretrain"

FAKE_PYTHON = """#!/usr/bin/env bash
# As train.py or evaluate.py: appends "start OUT" and "end OUT" to $FAKE_EVENTS (OUT: the folder name of its
# --output_folder, or the last two of its --out), in the order they happen; other calls do nothing.
# FAKE_AFTER="PATTERN=KIND:OUT ...": a call whose arguments hold PATTERN ends only once OUT has started (KIND start)
# or ended (end); after 60 s it gives up, recording "gave-up KIND:OUT". FAKE_FAIL=PATTERN: such a call fails once
# ended. As evaluate.py, writes the
# results.md (naming its --metrics) and the CSV of each system that run.sh checks before scoring the models.
case "$1" in train.py|evaluate.py) ;; *) exit 0 ;; esac
""" + STAND_IN_ARGS + """echo "start $out" >> "$FAKE_EVENTS"
for after in ${FAKE_AFTER:-}; do
  [[ "$*" == *"${after%%=*}"* ]] || continue
  deadline=$((SECONDS + 60))
  event=${after#*=}
  until grep -qxF "${event/:/ }" "$FAKE_EVENTS"; do
    if [ "$SECONDS" -ge "$deadline" ]; then echo "gave-up $event" >> "$FAKE_EVENTS"; break; fi
    sleep 0.05
  done
done
if [ "$1" = evaluate.py ]; then
  mkdir -p "$scores"; m="${metrics[*]}"; echo "- metrics: ${m// /, } at 16000 Hz; stand-in" > "$scores/results.md"
  for system in "${systems[@]}"; do touch "$scores/$system.csv"; done
fi
echo "end $out" >> "$FAKE_EVENTS"
if [ -n "${FAKE_FAIL:-}" ] && [[ "$*" == *"$FAKE_FAIL"* ]]; then echo "fake failure of $FAKE_FAIL" >&2; exit 3; fi
exit 0
"""


def run_jobs(tmp_path, *args, **fake_env):
    """``run.sh --size tiny --jobs 2 ARGS`` with the stand-in interpreter -> (completed process, events), the events
    a list of (kind, OUT) in the order they happened."""
    python, events = tmp_path / "python", tmp_path / "events.log"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    events.write_text("")
    env = {**os.environ, "METRICS": "", "FAKE_EVENTS": str(events), **fake_env}
    proc = subprocess.run(["bash", "run.sh", "--python", str(python), "--real_data", "none", "--size", "tiny",
                           "--jobs", "2", *map(str, args)], cwd=DNS_RECIPE, env=env, capture_output=True, text=True,
                          timeout=300)
    return proc, [tuple(line.split(" ", 1)) for line in events.read_text().splitlines()]


def test_fine_tunings_take_the_next_free_slots_once_the_pretraining_ends(tmp_path):
    # the pre-training ends beside scratch_denoise, which ends after it: the other scratch training and the classical
    # scores are still waiting for a slot then. scratch_denoise ends only once the second fine-tuning has started,
    # so that no slot frees beside the one it takes (two jobs started at once would write their starts in any order).
    proc, events = run_jobs(tmp_path, "--results", tmp_path / "r",
                            FAKE_AFTER=f"{SIDE_BY_SIDE} scratch_denoise.yaml=start:finetune_dereverb")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [e for e in events if e[0] not in ("start", "end")] == []  # every wait was met
    at = {event: i for i, event in enumerate(events)}
    ended = at["end", "pretrain"]
    queued = [name for i, (kind, name) in enumerate(events)
              if kind == "start" and i > ended and not name.startswith(("finetune_", "eval/"))]
    assert sorted(queued) == sorted(["scratch_dereverb", *CLASSICAL]), events
    for task in TASKS:  # each fine-tuning starts after the pre-training, before every job still queued then
        assert ended < at["start", f"finetune_{task}"] < min(at["start", name] for name in queued), events
    running = 0
    for kind, name in events:  # never more than two at once
        running += 1 if kind == "start" else -1
        assert running <= 2, (name, events)
    assert sorted(name for kind, name in events if kind == "end" and name.startswith("eval/")) == sorted(
        f"eval/{s}_{t}" for s in SPLITS for t in TASKS)  # and every table scored


def test_a_failed_pretraining_starts_no_fine_tuning_and_stops_the_run_naming_its_log(tmp_path):
    proc, events = run_jobs(tmp_path, "--results", tmp_path / "r", "--stop_stage", "6",
                            FAKE_AFTER=SIDE_BY_SIDE, FAKE_FAIL="pretrain.yaml")
    assert proc.returncode != 0 and f"the end of {tmp_path / 'r' / 'pretrain' / 'run.log'}" in proc.stderr
    assert "fake failure of pretrain.yaml" in proc.stderr and "1 job(s) failed" in proc.stderr
    started = [name for kind, name in events if kind == "start"]
    assert sorted(started) == sorted(["pretrain", "scratch_denoise", "scratch_dereverb", *CLASSICAL]), events
    assert sorted(p.parent.name for p in (tmp_path / "r").glob("*/.done")) == ["scratch_denoise", "scratch_dereverb"]
