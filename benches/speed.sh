#!/usr/bin/env bash
# `make bench`: rollcall side by side with the Python face_recognition pipeline it replaces,
# then its scaling, then the criterion micro-benchmarks. Prints the table; writes out/bench/
# speed.csv (the side-by-side table), scaling.csv + scaling.xlsx (speedup and efficiency charts).
#
# Same video and settings for everyone: every EVERY-th frame, frames scaled by SCALE, HOG with
# one upsampling, tolerance 0.6, one core each (taskset), OPENBLAS_NUM_THREADS=1.
#   VIDEO=... PHOTOS=... EVERY=2 SCALE=1.0 make bench
set -euo pipefail
cd "$(dirname "$0")/.."
B=target/release/rollcall
out=${OUT:-out/bench}
video=${VIDEO:-data/lecture/lecture.avi}
photos=${PHOTOS:-data/lecture/photos}
every=${EVERY:-2}
scale=${SCALE:-1.0}
cnn_every=${CNN_EVERY:-10}   # the CNN takes seconds a frame: fewer frames
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

benches/reference/setup.sh
rm -rf "$out" && mkdir -p "$out/scaling"
$B enroll "$photos" -o "$out/roster.h5" -q
attend() { # attend OUT_DIR [flags...]
  local dir=$1; shift
  "$@" --roster "$out/roster.h5" -o "$dir" --every "$every" --scale "$scale" -q
}

echo "== one core each: rollcall, face_recognition + dlib-bin, face_recognition + dlib built with OpenBLAS"
attend "$out/rollcall-1" taskset -c 0 $B attend "$video"
for ref in dlib-bin dlib-openblas; do
  taskset -c 0 ".bench/$ref/bin/python" benches/reference/face_recognition_ref.py "$video" --photos "$photos" \
    --every "$every" --scale "$scale" --tolerance 0.6 --out "$out/$ref.json"
done
python3 benches/reference/compare.py --rollcall "$out/rollcall-1/detections.csv" \
  --reference "$out/dlib-bin.json" --reference "$out/dlib-openblas.json" --json "$out/agreement.json" --show 5

echo "== the CNN detector (face_recognition's model=\"cnn\", one upsampling), one core each, every ${cnn_every}th frame"
taskset -c 0 $B attend "$video" --roster "$out/roster.h5" -o "$out/rollcall-cnn" --every "$cnn_every" --scale "$scale" \
  --detector cnn --upsample 1 -q
for ref in dlib-bin dlib-openblas; do
  taskset -c 0 ".bench/$ref/bin/python" benches/reference/face_recognition_ref.py "$video" --photos "$photos" \
    --every "$cnn_every" --scale "$scale" --tolerance 0.6 --model cnn --upsample 1 --out "$out/$ref-cnn.json"
done
python3 benches/reference/compare.py --rollcall "$out/rollcall-cnn/detections.csv" \
  --reference "$out/dlib-bin-cnn.json" --reference "$out/dlib-openblas-cnn.json" --json "$out/agreement-cnn.json" --show 5

echo "== scaling: 1 and 2 ranks on the 2 cores; 4 and 8 ranks oversubscribed (protocol overhead only)"
for schedule in block dynamic; do
  for ranks in 2 4 8; do
    attend "$out/scaling/$schedule-$ranks" mpirun --oversubscribe -n "$ranks" $B attend "$video" --schedule "$schedule"
  done
done
attend "$out/scaling/threads-2" $B attend "$video" --threads 2
$B scaling "$out/rollcall-1/attendance.h5" "$out"/scaling/{block,dynamic}-*/attendance.h5 -o "$out/scaling.xlsx" >/dev/null

.venv/bin/python benches/speed_summary.py "$out"

echo "== micro-benchmarks (criterion)"
cargo bench --locked --bench micro -- --warm-up-time 1 --measurement-time 3 2>&1 | grep -E "^[a-z].*(/|time:)|time:"
