#!/usr/bin/env bash
# `make slurm-test`: the semester flow of slurm/ on a real single-node Slurm cluster.
#   1. jobs/demo-semester.yaml (three lectures, two MPI tasks each, then the report job that
#      depends on the array) must produce the ground-truth semester table;
#   2. a manifest with a broken lecture must fail that array task, get the report job
#      cancelled, and make submit-semester.sh --wait fail with a clear message, not hang.
# The cluster is stood up first and torn down at the end, whatever happens in between.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
export ROLLCALL=$repo/target/release/rollcall
export OMPI_MCA_mpi_yield_when_idle=1 OPENBLAS_NUM_THREADS=1   # 2 tasks per job on 2 cores
work=$(mktemp -d /tmp/rollcall-slurm-test.XXXXXX)
trap 'scripts/slurm-down.sh; rm -rf "$work"' EXIT
eval "$(scripts/slurm-up.sh)"

passed=0 failed=0
pass() { echo "slurm-test: ok: $1"; passed=$((passed + 1)); }
fail() { echo "slurm-test: FAILED: $1" >&2; failed=$((failed + 1)); }

"$ROLLCALL" enroll data/lecture/photos -o out/demo/roster.h5 --force >/dev/null
rm -rf out/demo-semester

# 1. The demo semester, submitted from a scratch folder so the job logs land there.
if (cd "$work" && timeout 900 "$repo/slurm/submit-semester.sh" --wait "$repo/jobs/demo-semester.yaml" 2); then
  if diff -u tests/slurm/expected_semester.csv out/demo-semester/semester.csv && [ -s out/demo-semester/semester.xlsx ]; then
    pass "demo semester: 3 lectures x 2 tasks, semester.csv is the ground truth"
  else
    fail "demo semester: semester.csv differs from tests/slurm/expected_semester.csv"
  fi
else
  fail "demo semester: the jobs did not complete"; cat "$work"/*.out >&2 || true
fi

# 2. One lecture is not a video: its task fails, the report is cancelled, --wait says so.
echo "this is not a video" > "$work/broken.mp4"
cat > "$work/broken.yaml" <<YAML
course: BROKEN
roster: $repo/out/demo/roster.h5
config: $repo/configs/demo-semester.yaml
output: $work/broken-results
lectures:
  - {video: $repo/data/lecture/lecture.avi, name: good}
  - {video: $work/broken.mp4, name: broken}
YAML
if (cd "$work" && timeout 600 "$repo/slurm/submit-semester.sh" --wait "$work/broken.yaml" 2 2> "$work/broken.err"); then
  fail "broken semester: submit-semester.sh --wait succeeded"
elif grep -q "ended CANCELLED without a workbook" "$work/broken.err" && grep -q "rollcall-semester-" "$work/broken.err" \
    && grep -q "cannot be opened: not a video file" "$work"/rollcall-semester-*_1.out && [ ! -e "$work/broken-results/semester.xlsx" ]; then
  pass "broken semester: the failing task cancelled the report and --wait said so"
else
  fail "broken semester: unexpected failure"; cat "$work/broken.err" "$work"/*.out >&2 || true
fi

# 3. The single-lecture and scaling scripts, as a user submits them from the repository.
wait_for() { # job id -> final state. Only an end is final: a job at its time limit passes
  # through SIGNALING (and REQUEUED, REQUEUE_HOLD) on its way to being requeued.
  local state
  while true; do
    state=$(scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n 1 | cut -d= -f2)
    case "$state" in
      COMPLETED|CANCELLED|FAILED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE) echo "$state"; return ;;
      *) sleep 1 ;;
    esac
  done
}
lecture=$(OUT="$work/results" sbatch --parsable --ntasks=2 --output="$work/lecture-%j.out" slurm/lecture.sbatch configs/lecture.yaml)
state=$(timeout 300 bash -c "$(declare -f wait_for); wait_for $lecture")
if [ "$state" = COMPLETED ] && diff -q data/lecture/expected_attendance.csv "$work/results/lecture-$lecture/attendance.csv" >/dev/null; then
  pass "lecture.sbatch: 2 tasks, ground-truth attendance in results/lecture-<job id>/"
else
  fail "lecture.sbatch ended $state"; cat "$work"/lecture-*.out >&2 || true
fi
scaling=$(OUT="$work/results" REPEAT=2 sbatch --parsable --ntasks=2 --output="$work/scaling-%j.out" slurm/scaling.sbatch configs/lecture.yaml)
state=$(timeout 600 bash -c "$(declare -f wait_for); wait_for $scaling")
table=$work/results/scaling-$scaling/scaling.csv
if [ "$state" = COMPLETED ] && [ "$(grep -cE '^(block|dynamic),[12],1,2,' "$table")" = 4 ] && [ -s "${table%.csv}.xlsx" ] \
  && [ -s "${table%.csv}.md" ] && [ -s "${table%.csv}.json" ]; then
  pass "scaling.sbatch: 1 and 2 tasks x block and dynamic, 2 repetitions each, table, chart, json and md written"
else
  fail "scaling.sbatch ended $state"; cat "$work"/scaling-*.out "$table" >&2 || true
fi

# 4. A lecture longer than its time limit (Slurm's minimum, one minute; the benchmark knob makes
#    rank 0 10x slower: ~75 s of work) requeues itself at each limit's SIGTERM and resumes until
#    done, with the uninterrupted run's attendance. One 20x slower (~150 s) cannot finish in the
#    two runs MAX_REQUEUES=1 allows, and stops at the cap. Both on one task, side by side; a
#    frame takes at most 5 s, well inside the SIGTERM's lead on the limit. The durations are
#    HOG's (YuNet, the default, takes a third of the time: the lecture would fit the limit).
slow_config() { # FILE FACTOR
  cat > "$1" <<YAML
video: $repo/data/lecture/lecture.avi
roster: $repo/out/demo/roster.h5
every: 10
chunk: 1
detector: hog
bench:
  slow_ranks: {"0": $2}
YAML
}
slow_config "$work/long.yaml" 10
slow_config "$work/never.yaml" 20
# --signal: rollcall's SIGTERM 20 s before the limit (Slurm may send it up to a minute early).
requeue_opts=(--parsable --ntasks=1 --time=1 --signal=TERM@20)
long=$(OUT="$work/results" MAX_REQUEUES=10 sbatch "${requeue_opts[@]}" --output="$work/long-%j.out" slurm/lecture.sbatch "$work/long.yaml")
never=$(OUT="$work/results" MAX_REQUEUES=1 sbatch "${requeue_opts[@]}" --output="$work/never-%j.out" slurm/lecture.sbatch "$work/never.yaml")
state=$(timeout 900 bash -c "$(declare -f wait_for); wait_for $long")
requeues=$(grep -c "requeueing (requeue" "$work/long-$long.out" || true)
if [ "$state" = COMPLETED ] && [ "$requeues" -ge 1 ] \
  && diff -q data/lecture/expected_attendance.csv "$work/results/lecture-$long/attendance.csv" >/dev/null; then
  pass "lecture.sbatch past its time limit: requeued $requeues time(s), resumed, ground-truth attendance"
else
  fail "lecture.sbatch past its time limit ended $state after $requeues requeue(s)"; cat "$work/long-$long.out" >&2 || true
fi
state=$(timeout 600 bash -c "$(declare -f wait_for); wait_for $never")
if [ "$state" = FAILED ] && grep -q "requeueing (requeue 1 of at most 1)" "$work/never-$never.out" \
  && grep -q "time limit reached again after 1 requeues (MAX_REQUEUES): giving up" "$work/never-$never.out" \
  && [ -e "$work/results/lecture-$never/attendance.journal" ]; then
  pass "lecture.sbatch that can never fit: stopped after MAX_REQUEUES=1 requeue, said so, progress kept"
else
  fail "lecture.sbatch that can never fit ended $state"; cat "$work/never-$never.out" >&2 || true
fi

echo "slurm-test: $passed passed, $failed failed"
[ "$failed" = 0 ]
