#!/usr/bin/env python3
"""Compares rollcall's detections.csv with face_recognition_ref.py results (issue #7).

    compare.py --rollcall OUT_DIR/detections.csv --reference REF.json [--reference REF2.json ...]
               [--json SUMMARY.json] [--show N]

Standard library only. For each reference, over the reference's analysed sampled frames:
  identity agreement  share of frames whose SET of recognised student ids is the same in both
  face-count agreement share of frames with the same number of faces
  box IoU             for faces paired across the two (greedy, highest IoU first): mean, min
  distance difference |d_rollcall - d_reference| for pairs with IoU > 0.5: mean, max
  box offsets         mean signed difference rollcall - reference of x, y, w, h (pairs IoU > 0.5)
and the disagreeing frames (ids, boxes and distances on both sides), so that one can see why.
A frame that rollcall lists as undecodable, or that the reference did not analyse, is left out
and counted. Exit status 0 whatever the agreement (this reports, it does not judge).
"""

import argparse
import csv
import json
import sys
from collections import defaultdict


def read_rollcall(path):
    """frame -> list of faces from detections.csv (a frame with no face has no row)."""
    frames = defaultdict(list)
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        need = {"frame", "x", "y", "w", "h", "student_id", "distance"}
        missing = need - set(reader.fieldnames or [])
        if missing:
            sys.exit(f"error: {path} lacks columns {sorted(missing)}")
        for row in reader:
            frames[int(row["frame"])].append({
                "x": int(row["x"]), "y": int(row["y"]), "w": int(row["w"]), "h": int(row["h"]),
                "student_id": row["student_id"].strip(),
                "distance": float(row["distance"]),
            })
    return frames


def iou(a, b):
    ax2, ay2, bx2, by2 = a["x"] + a["w"], a["y"] + a["h"], b["x"] + b["w"], b["y"] + b["h"]
    iw = min(ax2, bx2) - max(a["x"], b["x"])
    ih = min(ay2, by2) - max(a["y"], b["y"])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = a["w"] * a["h"] + b["w"] * b["h"] - inter
    return inter / union if union > 0 else 0.0


def pair(faces_a, faces_b):
    """Greedy one-to-one pairing by IoU (> 0), best first: [(i, j, iou)]."""
    cands = sorted(((iou(a, b), i, j) for i, a in enumerate(faces_a) for j, b in enumerate(faces_b)),
                   reverse=True)
    used_a, used_b, pairs = set(), set(), []
    for v, i, j in cands:
        if v <= 0:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        pairs.append((i, j, v))
    return pairs


def box(f):
    return f"({f['x']},{f['y']},{f['w']}x{f['h']})"


def face_str(f):
    return f"{f['student_id'] or '?'}{box(f)} d={f['distance']:.4f}"


def stats(values):
    if not values:
        return {"n": 0, "mean": None, "min": None, "max": None}
    return {"n": len(values), "mean": sum(values) / len(values), "min": min(values), "max": max(values)}


def fmt(v, digits=4):
    return "-" if v is None else f"{v:.{digits}f}"


def compare(rc_frames, ref, undecodable_rc):
    ref_frames = {fr["frame"]: fr["faces"] for fr in ref["frames"]}
    frames = [i for i in ref["sampled_frames"] if i in ref_frames and i not in undecodable_rc]
    skipped = [i for i in ref["sampled_frames"] if i not in frames]
    # a rollcall detection in a frame the reference did not sample means different sampling
    extra = sorted(set(rc_frames) - set(ref["sampled_frames"]))
    same_ids = same_count = 0
    ious, ddiff = [], []
    worst = []  # (iou, frame, rollcall face, reference face)
    offsets = {k: [] for k in ("x", "y", "w", "h")}
    disagree = []
    rc_faces = ref_faces = 0
    for i in frames:
        a, b = rc_frames.get(i, []), ref_frames[i]
        rc_faces += len(a)
        ref_faces += len(b)
        ids_a = {f["student_id"] for f in a if f["student_id"]}
        ids_b = {f["student_id"] for f in b if f["student_id"]}
        pairs = pair(a, b)
        for ia, ib, v in pairs:
            ious.append(v)
            worst.append((v, i, a[ia], b[ib]))
            if v > 0.5:
                ddiff.append(abs(a[ia]["distance"] - b[ib]["distance"]))
                for k in offsets:
                    offsets[k].append(a[ia][k] - b[ib][k])
        ok_ids = ids_a == ids_b
        ok_count = len(a) == len(b)
        same_ids += ok_ids
        same_count += ok_count
        if not ok_ids or not ok_count:
            disagree.append({
                "frame": i,
                "rollcall_ids": sorted(ids_a), "reference_ids": sorted(ids_b),
                "rollcall": a, "reference": b,
                "pairs": [(ia, ib, round(v, 3)) for ia, ib, v in pairs],
            })
    n = len(frames)
    return {
        "reference": ref.get("_path"),
        "dlib": f"{ref.get('dlib_version')} BLAS={ref.get('dlib_use_blas')} AVX={ref.get('dlib_use_avx')}",
        "frames_compared": n,
        "frames_skipped": skipped,
        "rollcall_frames_not_sampled_by_reference": extra,
        "rollcall_faces": rc_faces,
        "reference_faces": ref_faces,
        "identity_agreement": same_ids / n if n else None,
        "identity_agree_frames": same_ids,
        "count_agreement": same_count / n if n else None,
        "count_agree_frames": same_count,
        "iou": stats(ious),
        "pairs_iou_gt_0_5": sum(v > 0.5 for v in ious),
        "exact_boxes": sum(all(d == 0 for d in t) for t in zip(*offsets.values())) if ddiff else 0,
        "distance_abs_diff": stats(ddiff),
        "box_offset_mean_rollcall_minus_reference": {k: (sum(v) / len(v) if v else None) for k, v in offsets.items()},
        "ms_per_frame_reference": ref.get("ms_per_frame"),
        "lowest_iou_pairs": [{"iou": round(v, 4), "frame": i, "rollcall": fa, "reference": fb}
                             for v, i, fa, fb in sorted(worst, key=lambda t: (t[0], t[1]))[:10]],
        "disagreeing_frames": disagree,
    }


def print_report(s, show):
    print(f"== {s['reference']}  (dlib {s['dlib']})")
    n = s["frames_compared"]
    print(f"   frames compared {n}   faces rollcall {s['rollcall_faces']}  reference {s['reference_faces']}"
          + (f"   skipped {len(s['frames_skipped'])}" if s["frames_skipped"] else ""))
    if s["rollcall_frames_not_sampled_by_reference"]:
        print(f"   WARNING: rollcall has detections in {len(s['rollcall_frames_not_sampled_by_reference'])} "
              f"frames the reference did not sample (different --every?): "
              f"{s['rollcall_frames_not_sampled_by_reference'][:10]}")
    if not n:
        return
    print(f"   identity agreement {100 * s['identity_agreement']:.2f} %  ({s['identity_agree_frames']}/{n} frames, same set of known ids)")
    print(f"   face-count agreement {100 * s['count_agreement']:.2f} %  ({s['count_agree_frames']}/{n})")
    i = s["iou"]
    print(f"   box IoU of paired faces: n={i['n']} mean {fmt(i['mean'])} min {fmt(i['min'])}"
          f"   identical boxes {s['exact_boxes']}/{s['pairs_iou_gt_0_5']}")
    o = s["box_offset_mean_rollcall_minus_reference"]
    print("   mean box offset rollcall - reference: " + " ".join(f"{k} {fmt(v, 2)}" for k, v in o.items()))
    d = s["distance_abs_diff"]
    print(f"   |d_rollcall - d_ref| (IoU > 0.5): n={d['n']} mean {fmt(d['mean'])} max {fmt(d['max'])}")
    if s["ms_per_frame_reference"] is not None:
        print(f"   reference ms/frame {s['ms_per_frame_reference']}")
    low = [w for w in s["lowest_iou_pairs"] if w["iou"] < 0.9][:5]
    if low:
        print("   lowest-IoU pairs:")
        for w in low:
            print(f"     frame {w['frame']} IoU {w['iou']:.3f}: rollcall {face_str(w['rollcall'])}"
                  f"  reference {face_str(w['reference'])}")
    dis = s["disagreeing_frames"]
    if dis:
        print(f"   {len(dis)} disagreeing frame(s)" + (f", first {show}:" if len(dis) > show else ":"))
        for x in dis[:show]:
            print(f"     frame {x['frame']}: rollcall {x['rollcall_ids']} vs reference {x['reference_ids']}")
            print("       rollcall : " + ("; ".join(face_str(f) for f in x["rollcall"]) or "no face"))
            print("       reference: " + ("; ".join(face_str(f) for f in x["reference"]) or "no face"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rollcall", required=True, help="rollcall's OUT_DIR/detections.csv")
    p.add_argument("--reference", required=True, action="append", help="face_recognition_ref.py JSON (repeatable)")
    p.add_argument("--undecodable", default="", help="comma-separated frames rollcall could not decode (left out)")
    p.add_argument("--json", help="write the summary here")
    p.add_argument("--show", type=int, default=20, help="disagreeing frames to print per reference")
    args = p.parse_args()

    rc = read_rollcall(args.rollcall)
    undecodable = {int(x) for x in args.undecodable.split(",") if x.strip()}
    summaries = []
    for path in args.reference:
        with open(path) as f:
            ref = json.load(f)
        ref["_path"] = path
        s = compare(rc, ref, undecodable)
        print_report(s, args.show)
        summaries.append(s)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rollcall": args.rollcall, "references": summaries}, f, indent=1)


if __name__ == "__main__":
    main()
