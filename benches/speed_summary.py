"""The side-by-side table of `make bench` (benches/speed.sh) from the files it left in OUT.

Prints ms/frame of rollcall and both face_recognition references on one core, with the HOG
detector and with the CNN, the ratios and the identity agreement, then the 2-rank and 2-thread efficiency and the frames decoded per
frame a single reader needs; writes OUT/speed.csv.
"""
import csv
import json
import sys
from pathlib import Path

import h5py


def run(path):
    """A rollcall run: wall time, sampled frames, per-rank timings, makespan."""
    with h5py.File(path / "attendance.h5") as f:
        ranks = f["ranks"][:]
        units = f["units"][:]
        return {
            "frames": int(ranks["frames"].sum()),
            "busy": float(ranks["busy_s"].sum()),
            "makespan": float(units["end_s"].max()),
            "decoded": int(ranks["decoded_frames"].sum()),
            "ranks": len(ranks),
        }


def main(out):
    out = Path(out)
    one = run(out / "rollcall-1")
    rows = []
    # The HOG rows, then the CNN rows (face_recognition's model="cnn"): each detector against
    # the same detector in both reference builds.
    for detector, suffix in (("hog", ""), ("cnn", "-cnn")):
        mine = run(out / ("rollcall-1" if detector == "hog" else "rollcall-cnn"))
        agreement = {Path(r["reference"]).stem: r
                     for r in json.load(open(out / f"agreement{suffix}.json"))["references"]}
        rollcall_ms = 1000 * mine["busy"] / mine["frames"]
        rows.append((f"rollcall {detector} (1 rank, 1 core)", rollcall_ms, 1.0, None))
        for name in ("dlib-bin", "dlib-openblas"):
            ref = json.load(open(out / f"{name}{suffix}.json"))
            rows.append((f"face_recognition {detector} + {name}", ref["ms_per_frame"],
                         rollcall_ms / ref["ms_per_frame"], agreement[f"{name}{suffix}"]["identity_agreement"]))

    print(f"\n{'pipeline':<36} {'ms/frame':>9} {'rollcall / it':>14} {'identity agreement':>19}")
    for name, ms, ratio, agree in rows:
        print(f"{name:<36} {ms:>9.1f} {ratio:>14.2f} {'' if agree is None else f'{100 * agree:.1f} %':>19}")

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
        rows.append((name, 1000 * r["makespan"] / r["frames"], speedup, speedup / workers))

    with open(out / "speed.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["run", "ms_per_frame", "ratio_or_speedup", "agreement_or_efficiency"])
        for name, ms, ratio, extra in rows:
            w.writerow([name, f"{ms:.2f}", f"{ratio:.3f}", "" if extra is None else f"{extra:.4f}"])
    print(f"\n{out / 'speed.csv'}, {out / 'scaling.csv'}, {out / 'scaling.xlsx'}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/bench")
