#!/usr/bin/env bash
# The tables of docs/SCALING.md, remade on this machine: three measured runs of the demo lecture
# (1 rank at 1 frame/s and at every frame, for the per-frame costs; 2 ranks under the dynamic
# queue, for the master's cost per message), then `rollcall simulate` for each question.
# Run by `make scaling-tables` (about 2 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
B=target/release/rollcall
out=${OUT:-out/scaling-tables}
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=1

$B enroll data/lecture/photos -o "$out/roster.h5" --force -q
echo "## measured: 1 rank, then 2 ranks (dynamic)"
$B attend data/lecture/lecture.avi --roster "$out/roster.h5" -o "$out/one" --force -q
$B attend data/lecture/lecture.avi --roster "$out/roster.h5" -o "$out/every-frame" --force -q --every 1
mpirun --oversubscribe -n 2 $B attend data/lecture/lecture.avi --roster "$out/roster.h5" -o "$out/two" \
  --force -q --schedule dynamic --chunk 1
# rank 0's time per message in the 2-rank run, as `rollcall simulate` reads it off the run
master_us=$($B simulate "$out/two/attendance.h5" -o "$out/sim" --ranks 1 | sed -n 's/.*master \([0-9]*\) us\/message.*/\1/p')
echo "master cost measured: ${master_us} us per message"
# sim RUN ARGS...: RUN is one (1 frame/s) or every-frame.
sim() {
  local run=$1; shift
  echo; echo "\$ rollcall simulate $run/attendance.h5 $*"
  $B simulate "$out/$run/attendance.h5" -o "$out/sim" "$@" | sed '$d'
}

echo; echo "## 1. chunk vs master load at 1024 ranks (90 minutes of 10 frame/s video, every frame: 54000)"
for chunk in 4 16 64 256; do
  sim every-frame --minutes 90 --ranks 1024 --schedule dynamic --chunk "$chunk" --master-us "$master_us"
done
for chunk in 4 16 64; do
  sim every-frame --minutes 90 --ranks 1024 --schedule dynamic --chunk "$chunk" --master-us 20
done

echo; echo "## 2. static vs dynamic: equal ranks, one rank 2x slower (90-minute lecture)"
sim one --minutes 90 --ranks 16,64,256 --schedule block,dynamic --master-us "$master_us"
sim one --minutes 90 --ranks 16,64,256 --schedule block,dynamic --master-us "$master_us" --slow 1:2
echo; echo "## 2b. a saturated master: chunk 1, 200 us a message, Ethernet latency"
sim one --minutes 90 --ranks 64,256,1024 --schedule block,dynamic --chunk 1 --master-us 200 --latency-us 50

echo; echo "## 3. one 90-minute lecture on 1..1024 ranks (for a semester's array tasks x ranks)"
sim one --minutes 90 --schedule block,dynamic --master-us "$master_us"
