#!/usr/bin/env bash
# `make bench-accuracy`: is the attendance right on a lecture hall as cameras film it?
#   1. composes the long hall of benches/hall/scenario.yaml once (1080p, 10 minutes, 45 people in
#      60 seats, H.264; ~20-30 min the first time, reused while its recipe is unchanged);
#   2. runs rollcall on 2 ranks at default settings (YuNet on ONNX Runtime), again with
#      --upsample 2, and with --detector hog (the default before);
#   3. scores both with `rollcall eval` and prints them side by side; out/bench/accuracy.csv
#      holds the same table (metric, one column per run).
# Expect about 20 minutes for the default run and about an hour for --upsample 2 on 2 cores.
# RUNS="defaults" (or any of: defaults upsample-2 hog min-face-20 cnn cnn-tenth yunet every-face
# yunet-every-face frames-rule opencv-every-face opencv yunet-opencv-every-face yunet-opencv
# keyframes yunet-keyframes yunet-keyframes-alone yunet-keyframes-half yunet-chunk-4
# yunet-scale-0.8) runs
# only those. cnn (--detector cnn --min-face 20) takes tens of seconds a 1080p frame: hours on 2
# cores; cnn-tenth is the CNN at its own default (faces from 40 px: one upsampling, 7.5 GB a
# rank on 1080p where --min-face 20's two need 30 GB) on every 10th frame (--fps 0.1), ~20 min.
# REUSE=1 keeps a run whose outputs are there (to tabulate again after adding a run).
# HALL=short runs the same on the short hall of make setup (data/hall: 60 s of 720p, nine
# people; a run takes a minute or less) into out/bench/short-accuracy*.
# Each run's wall and CPU time (user + sys of all ranks) are rows of the table, CPU time also as
# core-seconds per lecture-minute, the figure a semester is planned with; then the frames
# decoded and the faces encoded per sampled frame (/ranks).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${ROLLCALL_BIN:-target/release/rollcall} # ROLLCALL_BIN: score another build
case ${HALL:-long} in
  long) source benches/long-hall.sh
    prefix=out/bench/accuracy scenario=benches/hall/scenario.yaml roster=$hall/roster.h5 ;;
  short) hall=data/hall prefix=out/bench/short-accuracy scenario=data/hall/scenario.yaml
    roster=$prefix/roster.h5
    mkdir -p "$prefix"
    "$bin" enroll "$hall/photos" -o "$roster" --force -q ;;
  *) echo "HALL must be long or short, not $HALL" >&2; exit 2 ;;
esac

flags_of() {
  case $1 in
    defaults) echo "" ;;
    upsample-2) echo "--upsample 2" ;;
    min-face-20) echo "--min-face 20" ;;
    cnn) echo "--detector cnn --min-face 20" ;;
    cnn-tenth) echo "--detector cnn --fps 0.1" ;;
    yunet) echo "--detector yunet" ;; # the default since ONNX Runtime: the same run as defaults
    hog) echo "--detector hog" ;; # the default before
    every-face) echo "--reencode-every 1" ;; # every face of every frame encoded: before track-aware encoding
    yunet-every-face) echo "--detector yunet --reencode-every 1" ;;
    frames-rule) echo "--rule frames --track-gap 0" ;; # each frame alone: the rule before tracks
    # #27's switches one at a time: OpenCV's reader and every face encoded is the job before it
    opencv-every-face) echo "--reader opencv --reencode-every 1" ;;
    opencv) echo "--reader opencv" ;;
    yunet-opencv-every-face) echo "--detector yunet --reader opencv --reencode-every 1" ;;
    yunet-opencv) echo "--detector yunet --reader opencv" ;;
    keyframes) echo "--sample keyframes" ;;
    yunet-keyframes) echo "--detector yunet --sample keyframes" ;;
    yunet-keyframes-alone) echo "--detector yunet --reader opencv --reencode-every 1 --sample keyframes" ;;
    # half the rate, on the keyframes when they allow (x264's every 2 s here): a frame decoded a sample
    yunet-keyframes-half) echo "--detector yunet --fps 0.5 --sample keyframes" ;;
    # the units of a short recording on the long hall: every face encoded once in 4 sampled frames
    # instead of 16 (units of 4: a unit starts encoded), the default before long recordings had their own
    yunet-chunk-4) echo "--detector yunet --chunk 4 --reencode-every 4" ;;
    yunet-scale-0.8) echo "--detector yunet --scale 0.8" ;; # detection on a smaller frame
    *) echo "unknown run $1 (defaults, upsample-2, hog, min-face-20, cnn, cnn-tenth, yunet, every-face, yunet-every-face, frames-rule, opencv-every-face, opencv, yunet-opencv-every-face, yunet-opencv, keyframes, yunet-keyframes, yunet-keyframes-alone, yunet-keyframes-half, yunet-chunk-4, yunet-scale-0.8)" >&2; exit 2 ;;
  esac
}
read -r -a runs <<< "${RUNS:-defaults upsample-2 hog}"
for name in "${runs[@]}"; do
  extra=$(flags_of "$name") || exit 2
  out=$prefix-$name
  if [ -n "${REUSE:-}" ] && [ -s "$out/eval.csv" ] && [ -s "$out.time" ]; then
    echo "== $name: kept from an earlier run (REUSE)"
    continue
  fi
  echo "== rollcall attend on 2 ranks, $name ${extra:+($extra)}"
  # shellcheck disable=SC2086 # $extra is a list of flags
  /usr/bin/time -f "%e %U %S" -o "$out.time" \
    mpirun --oversubscribe -n 2 "$bin" attend "$hall/hall.mp4" --roster "$roster" -o "$out" --force \
    --schedule dynamic $extra | tail -n 2
  "$bin" eval "$out" --truth "$hall/truth.csv" --csv "$out/eval.csv" > "$out/eval.txt"
done

# One table: metric, then a column per run.
seconds=$(sed -n 's/^seconds: *//p' "$scenario")
.venv/bin/python - "$prefix" "${runs[@]}" "$seconds" <<'PY'
import csv, sys
import h5py
prefix, names = sys.argv[1], sys.argv[2:-1]
tables = [list(csv.reader(open(f"{prefix}-{n}/eval.csv")))[1:] for n in names]
rows = [["metric", *names]] + [[m[0], *(t[i][1] for t in tables)] for i, m in enumerate(tables[0])]
times = [[float(x) for x in open(f"{prefix}-{n}.time").read().split()[-3:]] for n in names]
minutes = float(sys.argv[-1]) / 60
rows.append(["wall time (s, 2 ranks)", *(f"{w:.0f}" for w, _, _ in times)])
rows.append(["CPU time (s, user + sys)", *(f"{u + s:.0f}" for _, u, s in times)])
rows.append(["core-seconds per lecture-minute", *(f"{(u + s) / minutes:.1f}" for _, u, s in times)])
ranks = [h5py.File(f"{prefix}-{n}/attendance.h5")["ranks"][:] for n in names]
rows.append(["frames decoded per sampled frame", *(f"{r['decoded_frames'].sum() / r['frames'].sum():.2f}" for r in ranks)])
rows.append(["faces encoded per sampled frame", *(f"{r['encodings'].sum() / r['frames'].sum():.2f}" for r in ranks)])
rows.append(["encodings saved per sampled frame", *(f"{r['encodings_saved'].sum() / r['frames'].sum():.2f}" for r in ranks)])
with open(f"{prefix}.csv", "w", newline="") as f:
    csv.writer(f).writerows(rows)
width = max(len(r[0]) for r in rows)
for r in rows:
    print(f"{r[0]:<{width}}  " + "  ".join(f"{c:<44}" for c in r[1:]))
PY
echo "per-student tables: $prefix-*/eval.txt; this table: $prefix.csv"
