"""The side-by-side tables of `make bench` (benches/speed.sh) from the files it left in OUT.

Prints, for the lecture (encoding-heavy), the short hall (detection-heavy) and two minutes of the long
hall, ms/frame of rollcall's two HOG builds, of rollcall with yunet on the same frames with #27's
switches one at a time (OpenCV's or libav's reader, every face encoded or faces followed, keyframe
sampling; the runs listed in NAME/runs.txt), and
both face_recognition references on one core, the ratios, the core-seconds per minute of recording at
these sampling rates and the identity agreement, and each pipeline's time per stage; then the CNN rows (lecture), the 2-rank and
2-thread efficiency and the frames decoded per frame a single reader needs; writes
OUT/speed.csv.
"""
import csv
import json
import sys
from pathlib import Path

import h5py


STAGES = ("decode", "detect", "encode", "match")


def run(path):
    """A rollcall run: wall time, sampled frames, per-rank timings, makespan, stage seconds."""
    with h5py.File(path / "attendance.h5") as f:
        ranks = f["ranks"][:]
        units = f["units"][:]
        video = f["video"].attrs
        return {
            "samples_per_minute": 60 * float(video["fps"]) / int(video["stride_frames"]),
            "frames": int(ranks["frames"].sum()),
            "busy": float(ranks["busy_s"].sum()),
            "makespan": float(units["end_s"].max()),
            "decoded": int(ranks["decoded_frames"].sum()),
            "ranks": len(ranks),
            "stages": {s: float(ranks[f"{s}_s"].sum()) for s in STAGES},
            "isa": f["software"].attrs["isa_in_use"].split(":")[0],
            "detector": f["settings"].attrs["detector"],
            "followed": f["settings"].attrs.get("reencode_every", "1") != "1",
            "reader": f["settings"].attrs.get("reader", "opencv"),
            "keyframes": f["settings"].attrs.get("sample", "frames") == "keyframes",
        }


def side_by_side(out, name, detector, mine, suffix, rows, stages):
    """Rows of one recording and detector: rollcall's runs (the first is the one compared),
    then both references, with rollcall's ratio to each and the identity agreement."""
    agreement = {Path(r["reference"]).stem: r
                 for r in json.load(open(out / f"agreement{suffix}.json"))["references"]}
    rollcall_ms = 1000 * mine[0]["busy"] / mine[0]["frames"]
    per_minute = mine[0]["samples_per_minute"] / 1000  # ms a frame -> core-seconds a minute
    for r in mine:
        ms = 1000 * r["busy"] / r["frames"]
        label = f"{name}: rollcall {r['detector']}" + (f", {r['isa']} build" if r["detector"] == "hog" else "")
        label += f", {r['reader']}" if r["detector"] != "hog" else ""
        label += ", faces followed" if r["followed"] else ""
        label += ", keyframes" if r["keyframes"] else ""
        rows.append((label, ms, rollcall_ms / ms, ms * per_minute, None))
        stages.append((label, [1000 * r["stages"][s] / r["frames"] for s in STAGES]))
    for ref_name in ("dlib-bin", "dlib-openblas"):
        ref = json.load(open(out / f"{ref_name}{suffix}.json"))
        label = f"{name}: face_recognition {detector} + {ref_name}"
        rows.append((label, ref["ms_per_frame"], rollcall_ms / ref["ms_per_frame"], ref["ms_per_frame"] * per_minute,
                     agreement[f"{ref_name}{suffix}"]["identity_agreement"]))
        stages.append((label, [ref[f"{s}_ms_per_frame"] for s in STAGES]))


def main(out):
    out = Path(out)
    rows, stages = [], []
    for name in ("lecture", "short-hall", "long-hall"):
        if not (out / name / "runs.txt").exists():  # the long hall is left out with LONG_HALL=0
            continue
        builds = (out / name / "runs.txt").read_text().split()
        mine = [run(out / name / f"rollcall-{build}") for build in builds]
        side_by_side(out / name, name, "hog", mine, "", rows, stages)
    # The CNN (face_recognition's model="cnn") on the lecture against the same detector in
    # both reference builds.
    side_by_side(out, "lecture", "cnn", [run(out / "rollcall-cnn")], "-cnn", rows, stages)
    one = run(out / "lecture" / "rollcall-auto")

    print(f"\n{'pipeline (one core)':<60} {'ms/frame':>9} {'rollcall / it':>14} {'core-s/min':>11} "
          f"{'identity agreement':>19}")
    for name, ms, ratio, cost, agree in rows:
        print(f"{name:<60} {ms:>9.1f} {ratio:>14.2f} {cost:>11.1f} {'' if agree is None else f'{100 * agree:.1f} %':>19}")
    print(f"\n{'ms per frame, by stage':<60}" + "".join(f"{s:>9}" for s in STAGES))
    for name, values in stages:
        print(f"{name:<60}" + "".join(f"{v:>9.1f}" for v in values))

    print(f"\n{'parallel run':<24} {'makespan s':>10} {'speedup':>8} {'efficiency':>10} {'decoded/needed':>15}")
    parallel = [("1 rank", one, 1)] + [
        (label, run(out / "scaling" / folder), 2)
        for label, folder in (("block, 2 ranks", "block-2"), ("dynamic, 2 ranks", "dynamic-2"),
                              ("1 rank x 2 threads", "threads-2"))
    ]
    for name, r, workers in parallel:
        speedup = one["makespan"] / r["makespan"]
        # needed: what one reader walking the video in order decodes for the same frames
        print(f"{name:<24} {r['makespan']:>10.2f} {speedup:>8.2f} {100 * speedup / workers:>9.0f}% "
              f"{r['decoded'] / one['decoded']:>15.3f}")
        rows.append((name, 1000 * r["makespan"] / r["frames"], speedup, None, speedup / workers))

    with open(out / "speed.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["run", "ms_per_frame", "ratio_or_speedup", "core_s_per_lecture_minute", "agreement_or_efficiency"])
        for name, ms, ratio, cost, extra in rows:
            w.writerow([name, f"{ms:.2f}", f"{ratio:.3f}", "" if cost is None else f"{cost:.2f}",
                        "" if extra is None else f"{extra:.4f}"])
    print(f"\n{out / 'speed.csv'}, {out / 'scaling.csv'}, {out / 'scaling.xlsx'}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/bench")
