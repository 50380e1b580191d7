#!/usr/bin/env bash
# Tears down what scripts/slurm-up.sh started: cancels jobs, stops slurmd, slurmctld and munged.
set -uo pipefail
dir=${ROLLCALL_SLURM_DIR:-/tmp/rollcall-slurm}
export SLURM_CONF=$dir/slurm.conf
if [ -f "$SLURM_CONF" ] && pgrep -x slurmctld >/dev/null; then
  scancel --user="$(id -un)" 2>/dev/null
  for _ in $(seq 1 20); do
    [ -z "$(squeue -h 2>/dev/null)" ] && break
    sleep 0.5
  done
fi
for daemon in slurmd slurmctld munged; do
  pkill -x "$daemon" 2>/dev/null
done
running() { for d in slurmd slurmctld munged; do pgrep -x "$d" >/dev/null && return 0; done; return 1; }
for _ in $(seq 1 20); do
  running || exit 0
  sleep 0.25
done
for daemon in slurmd slurmctld munged; do
  pkill -9 -x "$daemon" 2>/dev/null
done
# Job steps that outlived their daemons.
pkill -9 -f slurmstepd 2>/dev/null
exit 0
