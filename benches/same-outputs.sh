#!/bin/bash
# benches/same-outputs.sh OLD_ROLLCALL NEW_ROLLCALL: whether a refactoring changed what rollcall
# writes. Both binaries run the lecture (2 ranks, dynamic), the short hall (2 ranks, block,
# --keep-unknown) and a photo cut into tiles (2 ranks) into the same paths; then attendance.csv,
# detections.csv less its rank column (the dynamic schedule moves units between ranks from run
# to run) and the HDF5 datasets and attributes that are not timings are compared byte for byte.
# (How #40's move was checked; build the old binary from a worktree of the old commit.)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 OLD_ROLLCALL NEW_ROLLCALL" >&2; exit 2; }
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1 OPENBLAS_NUM_THREADS=1
base=out/same-outputs
outputs() { # BIN NAME
  local B=$1 O=$base/run
  rm -rf "$O" && mkdir -p "$O"
  "$B" enroll data/lecture/photos -o "$O/lroster.h5" -q
  "$B" enroll data/hall/photos -o "$O/hroster.h5" -q
  mpirun --oversubscribe -n 2 "$B" attend data/lecture/lecture.avi --roster "$O/lroster.h5" -o "$O/lecture" --schedule dynamic --date 2026-10-05 -q
  mpirun --oversubscribe -n 2 "$B" attend data/hall/hall.mp4 --roster "$O/hroster.h5" -o "$O/hall" --keep-unknown -q
  mpirun --oversubscribe -n 2 "$B" photo data/faces/t1.jpg --roster "$O/lroster.h5" -o "$O/photo" --tile 512 --overlap 128 -q
  for d in lecture hall photo; do
    local f=$O/$d/attendance.h5
    { for x in /attendance /presence_windows /tracks /unknown /unknown_encodings /video/sampled /crops/jpeg /crops/offset /roster/encoding; do
        h5dump -d $x "$f" 2>/dev/null | sed 1d || true; done
      for g in /settings /video /roster; do h5dump -A -g $g "$f" | sed 1d; done; } > "$O/$d/h5.txt"
    cut -d, -f1,2,4- "$O/$d/detections.csv" > "$O/$d/detections-norank.csv"
  done
  rm -rf "${base:?}/$2" && mv "$O" "$base/$2"
}
outputs "$1" old
outputs "$2" new
same=1
for d in lecture hall photo; do
  for f in h5.txt attendance.csv detections-norank.csv; do
    cmp "$base/old/$d/$f" "$base/new/$d/$f" || same=0
  done
done
[ $same = 1 ] && echo "same outputs: lecture, short hall and photo (attendance.csv, detections.csv less ranks, HDF5 data and attributes)"
[ $same = 1 ]
