#!/usr/bin/env bash
# Submits a whole semester: one job array task per lecture of the manifest, each on TASKS MPI
# tasks, and the semester report, which runs only when every lecture succeeded (afterok).
#
#   slurm/submit-semester.sh jobs/demo-semester.yaml [TASKS]      # submit and return
#   slurm/submit-semester.sh --wait jobs/demo-semester.yaml [TASKS]  # ... and wait for the report
#
# TASKS defaults to 2. Set ROLLCALL if `rollcall` is not on your PATH. Run it from the folder
# the job logs should go to; the manifest's paths are relative to the manifest itself.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wait=no
if [ "${1:-}" = --wait ]; then wait=yes; shift; fi
manifest=${1:?usage: submit-semester.sh [--wait] MANIFEST.yaml [TASKS]}
tasks=${2:-2}
ROLLCALL=${ROLLCALL:-rollcall}

# Checks every video and roster before anything is queued.
"$ROLLCALL" lectures "$manifest"
n=$("$ROLLCALL" lectures --count "$manifest")

array=$(sbatch --parsable --ntasks="$tasks" --array="0-$((n - 1))" "$here/semester-lecture.sbatch" "$manifest")
array=${array%%;*}
report=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes "$here/semester-report.sbatch" "$manifest")
report=${report%%;*}
echo "submitted lectures as array job $array ($n tasks of $tasks MPI tasks) and the semester report as job $report"
[ "$wait" = yes ] || exit 0

# Poll scontrol ourselves: `sbatch --wait` backs off to 32 s between polls.
state_of() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n 1 | cut -d= -f2; }
while true; do
  state=$(state_of "$report")
  case "$state" in
    COMPLETED)
      echo "semester report done (job $report)"
      exit 0 ;;
    CANCELLED|FAILED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|"")
      echo "semester report job $report ended ${state:-and vanished} without a workbook." >&2
      failed=$(scontrol show job "$array" 2>/dev/null | awk '/JobId=/{id=$1} /JobState=/{print id, $1}' | grep -v COMPLETED || true)
      if [ -n "$failed" ]; then
        echo "lecture tasks that did not complete (their logs: rollcall-semester-${array}_<task>.out):" >&2
        echo "$failed" | sed 's/^/  /' >&2
      fi
      exit 1 ;;
  esac
  sleep 1
done
