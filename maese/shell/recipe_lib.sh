# Shell helpers shared by the recipes' run.sh (sourced, not run). A run.sh sets, before sourcing:
#   caller   the folder it was called from (relative paths on its command line are taken from there)
#   python   the interpreter (the maese commands beside it are used, else those on PATH)
# and the default of each option; `parse_options` then reads `--name value` into the variable `name`
# (and a flag `--name` into name=1).

die() { echo "run.sh: $*" >&2; exit 2; }
abspath() { case "$1" in /*) echo "$1" ;; *) echo "${caller}/$1" ;; esac; }

# parse_options "NAME ..." "PATH_NAME ..." "FLAG_NAME ..." ARGS...: each --NAME value into $NAME (a PATH_NAME's
# value made absolute), each --FLAG_NAME (no value) sets $FLAG_NAME to 1; what follows `--` lands in the array `extra`.
# The lists are separated by spaces or newlines.
parse_options() {
  local names=" ${1//[[:space:]]/ } " paths=" ${2//[[:space:]]/ } " flags=" ${3//[[:space:]]/ } " name value; shift 3
  extra=()
  while [ $# -gt 0 ]; do
    [ "$1" = -- ] && { shift; extra=("$@"); return; }
    name=${1#--}
    if [[ "$1" == --* && "$flags" == *" $name "* ]]; then printf -v "$name" 1; shift; continue; fi
    [[ "$1" == --* && ( "$names" == *" $name "* || "$paths" == *" $name "* ) ]] \
      || die "unknown option $1 (see the header of $0)"
    [ $# -ge 2 ] || die "option $1 needs a value (see the header of $0)"
    value=$2
    [[ "$paths" == *" $name "* ]] && value=$(abspath "$2")
    printf -v "$name" '%s' "$value"
    shift 2
  done
}

check_size() {
  case "$1" in tiny|small|paper) ;; *) die "--size: unknown value '$1'; use tiny, small or paper" ;; esac
}
# check_metrics SIZE: $metrics (the --metrics value, else $METRICS) checked; empty: all five for paper, no dnsmos for
# tiny and small (on 2 CPUs it takes longer than the rest of the scoring).
check_metrics() {
  metrics=${metrics:-${METRICS:-}}
  if [ -z "$metrics" ]; then metrics="pesq stoi estoi si_sdr dnsmos"; [ "$1" = paper ] || metrics="pesq stoi estoi si_sdr"; fi
  local m
  for m in $metrics; do
    case "$m" in pesq|stoi|estoi|si_sdr|dnsmos) ;; *) die "--metrics: unknown metric '$m'; use pesq stoi estoi si_sdr dnsmos" ;; esac
  done
}
# scored_with_metrics DIR: DIR/results.md exists and was scored with $metrics
scored_with_metrics() { grep -qsF -- "- metrics: ${metrics// /, } at " "$1/results.md"; }
run_stage() { [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }

# download_corpus ARGS...: stage 0, the recipe's `$python download.py --download_folder $download_folder ARGS` (shown as
# it runs, and kept in <download_folder>/download.log); the --data_folder it prints last becomes $data_folder, unless
# --data_folder was given.
download_corpus() {
  [ -n "$download_folder" ] || die "stage 0 downloads the corpus: give --download_folder DIR (README.md: the space)"
  mkdir -p "$download_folder"
  PYTHONUNBUFFERED=1 "$python" download.py --download_folder "$download_folder" "$@" \
    | tee "${download_folder}/download.log" \
    || die "stage 0 stopped (why: above, and in ${download_folder}/download.log); re-running resumes it"
  data_folder=${data_folder:-$(sed -n 's/^--data_folder //p' "${download_folder}/download.log" | tail -n 1)}
}
log() { echo "[$(date +%H:%M:%S)] stage $1: $2"; }
# record_run RESULTS JOBS THREADS COMMAND...: add this run (the command as typed, commit, versions, machine, jobs at
# a time and each job's threads, empty: unset) to RESULTS/run.json (python -m maese.runinfo: a re-run of the same
# command at the same commit adds nothing), for the tables' headers; finish_run adds its time once it is done.
run_record=()
record_run() {
  local results=$1 jobs=$2 threads=$3; shift 3
  mkdir -p "$results"
  run_record=(--out "${results}/run.json" --call "$$.$(date +%s%N)" --cwd "$caller" --jobs "$jobs" \
    ${threads:+--threads "$threads"} -- "$@")
  "$python" -m maese.runinfo "${run_record[@]}"
}
# finish_run FIRST LAST: print the time since SECONDS=0 and, where record_run added an entry for this call (not for a
# re-run or a resumed run), add it there as the time of stages FIRST-LAST.
finish_run() {
  log "-" "done in $((SECONDS / 60)) min $((SECONDS % 60)) s"
  [ ${#run_record[@]} -eq 0 ] || "$python" -m maese.runinfo --time "$SECONDS" --stages "$1-$2" "${run_record[@]}"
}
tool() {  # tool NAME: the maese command beside $python, else the one on PATH
  local bin; bin=$(dirname "$python"); if [ -x "$bin/$1" ]; then echo "$bin/$1"; else echo "$1"; fi
}

# train_once <out folder> ARGS...: `$python train.py ARGS --output_folder <out>`, unless <out>/.done says it finished.
train_once() {
  local out=$1; shift
  if [ -f "${out}/.done" ]; then echo "  ${out} is done (${out}/.done); skipped"; return; fi
  "$python" train.py "$@" --output_folder "$out"
  touch "${out}/.done"
}

# score_once <out folder> <model folder>... -- maese-score ARGS...: scores into <out> with --metrics $metrics,
# unless its results.md is newer than every model folder's .done, was scored with $metrics and holds the CSV of each
# of its --baselines (else: scored again, --overwrite).
score_once() {
  local out=$1 overwrite=() fresh=1 key= arg missing=(); shift
  while [ "$1" != -- ]; do [ "${out}/results.md" -nt "$1/.done" ] || fresh=0; shift; done; shift
  for arg in "$@"; do  # a baseline added since (a results folder scored before it existed) has no CSV
    case "$arg" in
      --*) key=$arg ;;
      *) [ "$key" != --baselines ] || [ -f "${out}/${arg}.csv" ] || missing+=("$arg") ;;
    esac
  done
  if [ -f "${out}/results.md" ]; then
    if [ $fresh = 0 ]; then echo "  ${out}/results.md is older than its models; scored again"
    elif [ ${#missing[@]} -gt 0 ]; then echo "  ${out} has no scores of ${missing[*]} (new baselines); scored again"
    elif ! scored_with_metrics "$out"; then echo "  ${out}/results.md was scored with other metrics; scored again"
    else echo "  ${out}/results.md exists; skipped"; return; fi
    overwrite=(--overwrite)
  fi
  "$(tool maese-score)" --out "$out" --metrics $metrics "${overwrite[@]}" "$@"
}

# train_stages <results> ARGS...: stage 1 fine-tunes (hparams/finetune.yaml, the encoder of $pretrained_folder)
# into <results>/finetune, stage 2 trains the same model from scratch (hparams/scratch.yaml) into <results>/scratch;
# ARGS go to both.
train_stages() {
  local results=$1; shift
  if run_stage 1; then
    log 1 "fine-tune from ${pretrained_folder}"
    train_once "${results}/finetune" hparams/finetune.yaml "$@" --pretrained_folder "$pretrained_folder"
  fi
  if run_stage 2; then log 2 "scratch baseline"; train_once "${results}/scratch" hparams/scratch.yaml "$@"; fi
}
