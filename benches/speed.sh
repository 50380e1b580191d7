#!/usr/bin/env bash
# `make bench`: rollcall side by side with the Python face_recognition pipeline it replaces,
# then its scaling, then the criterion micro-benchmarks. Prints the tables; writes out/bench/
# speed.csv (the side-by-side table), scaling.csv + scaling.xlsx (speedup and efficiency charts).
#
# Three recordings, each at the same settings for everyone (one core each (taskset),
# OPENBLAS_NUM_THREADS=1, HOG with one upsampling, tolerance 0.6):
#   lecture  data/lecture: 5 faces of ~100 px a frame at 640x360, every EVERY-th frame, scaled by
#            SCALE (encoding-heavy)
#   short-hall  data/hall: 720p H.264, faces 26-80 px, every HALL_EVERY-th frame (detection-heavy:
#            HOG runs on the frame doubled to 2560x1440)
#   long-hall   two minutes of make bench-accuracy's 1080p hall of 45 people, at 1 fps
# rollcall runs at its defaults (YuNet on ONNX Runtime), both builds of its HOG detector
# (--detector hog --isa auto, the best the CPU has, and --isa baseline) and YuNet on the same frames, with the time per stage
# (decode, detect, encode, match) of each pipeline, encoding every face as face_recognition does
# (--reencode-every 1); then YuNet with #27's switches one at a time: OpenCV's reader (every
# frame decoded) against libav's (only what the samples need), every face encoded against faces
# followed in their seats (a face surely matched is encoded one frame in four), and keyframe
# sampling. The core-s/min column is what each costs per minute of recording at these sampling
# rates (ms a frame x sampled frames a minute), the figure a semester is planned with.
#   VIDEO=... PHOTOS=... EVERY=2 SCALE=1.0 HALL_EVERY=25 make bench
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
# Only what this script writes: the long hall that `make bench-accuracy` composed in $out/hall
# (~30 min to compose) and its scores stay.
rm -rf "$out"/{lecture,short-hall,long-hall,long-hall-excerpt.mp4,rollcall-cnn,scaling} "$out"/{speed.csv,scaling.*,*-cnn.json}
mkdir -p "$out/scaling"
attend() { # attend OUT_DIR [flags...]: the lecture as its side-by-side rows ran it
  local dir=$1; shift
  "$@" --roster "$out/lecture/roster.h5" -o "$dir" --every "$every" --scale "$scale" --reencode-every 1 -q
}

# rollcall's rows of each recording, NAME:FLAGS: the whole job at its defaults (YuNet on ONNX
# Runtime, faces followed in their seats), both HOG builds, then YuNet with #27's three
# switches one at a time, from the job before them (OpenCV's reader decoding every frame, every
# face encoded) to all three. Rows that do not follow faces encode every face, as
# face_recognition does. speed_summary.py reads the order from NAME/runs.txt.
rollcall_runs=(
  "defaults:"
  "auto:--detector hog --isa auto --reencode-every 1"
  "baseline:--detector hog --isa baseline --reencode-every 1"
  "yunet-before:--detector yunet --reader opencv --reencode-every 1"
  "yunet:--detector yunet --reencode-every 1"
  "yunet-opencv-followed:--detector yunet --reader opencv"
  "yunet-followed:--detector yunet"
  "yunet-keyframes:--detector yunet --sample keyframes"
)

# side_by_side NAME VIDEO PHOTOS EVERY SCALE: in $out/NAME, rollcall's runs and both references
# on one core, and how far their identities agree.
side_by_side() {
  local dir=$out/$1 video=$2 photos=$3 k=$4 s=$5 run
  echo "== $1: one core each: rollcall (both HOG builds, yunet and #27's switches), face_recognition + dlib-bin, + dlib built with OpenBLAS"
  mkdir -p "$dir"
  $B enroll "$photos" -o "$dir/roster.h5" -q
  : > "$dir/runs.txt"
  for run in "${rollcall_runs[@]}"; do
    # shellcheck disable=SC2086 # the flags are a list
    taskset -c 0 $B attend "$video" --roster "$dir/roster.h5" -o "$dir/rollcall-${run%%:*}" --every "$k" --scale "$s" \
      ${run#*:} -q
    echo "${run%%:*}" >> "$dir/runs.txt"
  done
  for ref in dlib-bin dlib-openblas; do
    taskset -c 0 ".bench/$ref/bin/python" benches/reference/face_recognition_ref.py "$video" --photos "$photos" \
      --every "$k" --scale "$s" --tolerance 0.6 --out "$dir/$ref.json"
  done
  python3 benches/reference/compare.py --rollcall "$dir/rollcall-auto/detections.csv" \
    --reference "$dir/dlib-bin.json" --reference "$dir/dlib-openblas.json" --json "$dir/agreement.json" --show 5
}
side_by_side lecture "$video" "$photos" "$every" "$scale"
side_by_side short-hall data/hall/hall.mp4 data/hall/photos "${HALL_EVERY:-25}" 1.0
# The long hall of make bench-accuracy (composed here if it is not yet), two minutes of it from
# 4:00, when the hall has filled (1080p, ~40 faces a frame), at 1 fps: face_recognition on all
# ten minutes would take over an hour a build. LONG_HALL=0 leaves it out.
if [ "${LONG_HALL:-1}" != 0 ]; then
  bin=$B
  source benches/long-hall.sh
  # stream copy: the hall has a keyframe every 2 s, so the excerpt starts exactly at 4:00
  ffmpeg -hide_banner -loglevel error -y -ss 240 -i "$hall/hall.mp4" -t 120 -c copy "$out/long-hall-excerpt.mp4"
  side_by_side long-hall "$out/long-hall-excerpt.mp4" "$hall/photos" 25 1.0
fi

echo "== the CNN detector (face_recognition's model=\"cnn\", one upsampling), one core each, every ${cnn_every}th frame"
taskset -c 0 $B attend "$video" --roster "$out/lecture/roster.h5" -o "$out/rollcall-cnn" --every "$cnn_every" --scale "$scale" \
  --detector cnn --upsample 1 --reencode-every 1 -q
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
$B scaling "$out/lecture/rollcall-auto/attendance.h5" "$out"/scaling/{block,dynamic}-*/attendance.h5 -o "$out/scaling.xlsx" >/dev/null

.venv/bin/python benches/speed_summary.py "$out"

echo "== micro-benchmarks (criterion)"
cargo bench --locked --bench micro -- --warm-up-time 1 --measurement-time 3 2>&1 | grep -E "^[a-z].*(/|time:)|time:"
