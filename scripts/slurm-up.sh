#!/usr/bin/env bash
# Stands up a real single-node Slurm cluster (munge + slurmctld + slurmd) on localhost, for
# tests and for trying slurm/ without a cluster. Needs root (it runs the daemons) and Debian's
# slurm-wlm and munge packages (installed here if missing).
#
#   scripts/slurm-up.sh            # prints `export SLURM_CONF=...`: eval it, or source the file
#   scripts/slurm-down.sh          # stops everything it started
#
# State, config and logs live in $ROLLCALL_SLURM_DIR (default /tmp/rollcall-slurm); the node
# declares $ROLLCALL_SLURM_CPUS CPUs (default 4, more than this machine may have, so that
# 2-task jobs run side by side: SlurmdParameters=config_overrides lets a node claim them).
set -euo pipefail
dir=${ROLLCALL_SLURM_DIR:-/tmp/rollcall-slurm}
cpus=${ROLLCALL_SLURM_CPUS:-4}

for p in slurm-wlm munge; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
    break
  fi
done

"$(dirname "$0")/slurm-down.sh" >/dev/null 2>&1 || true
mkdir -p "$dir"/{state,spool,log}
conf=$dir/slurm.conf
cat > "$conf" <<CONF
ClusterName=rollcall-local
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=pmix
ReturnToService=2
SlurmdParameters=config_overrides
# Impossible requests fail at submission instead of pending forever.
EnforcePartLimits=ALL
# An afterok job whose dependency failed is cancelled, not left pending.
DependencyParameters=kill_invalid_depend
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SchedulerParameters=sched_interval=1
# A requeued job may start again cred_expire seconds after its requeue (default 120 s):
# short here, so a time-limit requeue resumes at once instead of idling two minutes.
AuthInfo=cred_expire=15
MessageTimeout=30
NodeName=localhost CPUs=$cpus RealMemory=4000 State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF

mkdir -p /run/munge && chown munge:munge /run/munge
if ! pgrep -x munged >/dev/null; then
  su munge -s /bin/sh -c "munged"
fi
slurmctld -f "$conf" -c
slurmd -f "$conf" -N localhost -c
export SLURM_CONF=$conf
for _ in $(seq 1 30); do
  if sinfo -h -o %T 2>/dev/null | grep -qE "^idle"; then
    echo "export SLURM_CONF=$conf"
    exit 0
  fi
  sleep 0.5
done
echo "slurm-up: the node did not become idle; see $dir/log/" >&2
sinfo >&2 || true
exit 1
