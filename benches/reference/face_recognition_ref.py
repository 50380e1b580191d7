#!/usr/bin/env python3
"""The Python reference of the side-by-side benchmark (issue #7): what a careful user of
`face_recognition` writes to take attendance from a lecture video, timed honestly.

    face_recognition_ref.py VIDEO --photos DIR --every K [--scale S] [--tolerance 0.6] --out RESULT.json

Run it with the python of a venv made by benches/reference/setup.sh, on one core:

    OPENBLAS_NUM_THREADS=1 taskset -c 0 .bench/dlib-openblas/bin/python \\
        benches/reference/face_recognition_ref.py data/lecture/lecture.avi \\
        --photos data/lecture/photos --every 2 --out /tmp/ref/openblas.json

Enrolment: every DIR/<student_id>.jpg|jpeg|png gives one encoding (exactly one face per photo).
Video: frames 0, K, 2K, ... < the frame count (rollcall's `--every K` sampling); frames in
between are skipped with cap.grab() (no decode of the picture), sampled ones decoded with
cap.retrieve(). Each sampled frame: BGR -> RGB, resized by S with INTER_AREA when S != 1 (as
rollcall does), face_locations (HOG, one upsampling), face_encodings (5-point landmarks, one
jitter), nearest enrolled encoding by face_distance, a match when distance <= tolerance. Boxes
are mapped back to original pixels by dividing by S (rounded) as rollcall's detections.csv has
them: x = left, y = top, w = right - left, h = bottom - top.

Timing: the models load (at `import face_recognition`) and the photos are enrolled before the
clock starts; ms_per_frame is the wall time of the whole frame loop (grab/decode, convert,
detect, encode, match) divided by the sampled frames. Detect and encode are also timed on
their own. Nothing here starts a thread: the caller pins the process (taskset) and sets
OPENBLAS_NUM_THREADS=1.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import dlib
import numpy as np

import face_recognition  # loads the dlib models

PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png")


def dist_version(name):
    """The installed distribution's version (face_recognition 1.3.0 calls itself 1.2.3)."""
    from importlib import metadata
    try:
        return f"{name} {metadata.version(name)}"
    except metadata.PackageNotFoundError:
        return None


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("video")
    p.add_argument("--photos", required=True, help="folder of <student_id>.jpg|jpeg|png")
    p.add_argument("--every", type=int, required=True, help="analyse frames 0, K, 2K, ...")
    p.add_argument("--scale", type=float, default=1.0, help="resize frames by S before detection")
    p.add_argument("--tolerance", type=float, default=0.6, help="largest distance that matches")
    p.add_argument("--model", choices=["hog", "cnn"], default="hog", help="face_locations' detector")
    p.add_argument("--upsample", type=int, default=1, help="face_locations' number_of_times_to_upsample")
    p.add_argument("--out", required=True, help="result JSON")
    p.add_argument("--limit", type=int, default=0, help="stop after this many sampled frames (testing)")
    args = p.parse_args()
    if args.every < 1:
        p.error("--every must be >= 1")
    if args.scale <= 0:
        p.error("--scale must be > 0")
    return args


def enrol(photos: Path):
    """One encoding per DIR/<student_id>.<ext>; every photo must hold exactly one face."""
    ids, encodings, problems = [], [], []
    files = sorted(f for f in photos.iterdir() if f.is_file() and f.suffix.lower() in PHOTO_EXTENSIONS)
    if not files:
        sys.exit(f"error: no .jpg/.jpeg/.png photos in {photos}")
    for f in files:
        image = face_recognition.load_image_file(str(f))
        found = face_recognition.face_encodings(image)
        if len(found) != 1:
            problems.append(f"{f}: {len(found)} faces (need exactly one)")
            continue
        ids.append(f.stem)
        encodings.append(found[0])
    if problems:
        sys.exit("error: unusable photo(s):\n  " + "\n  ".join(problems))
    return ids, np.array(encodings)


def build_flags():
    stamp = Path(sys.prefix) / "dlib-build-flags"
    return stamp.read_text().strip() if stamp.exists() else None


def main():
    args = parse_args()
    ids, known = enrol(Path(args.photos))

    cap = cv2.VideoCapture(args.video)
    if not cap.isOpened():
        sys.exit(f"error: video {args.video} cannot be opened")
    frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    fps = cap.get(cv2.CAP_PROP_FPS)
    width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
    height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    sampled = list(range(0, frame_count, args.every))
    if args.limit:
        sampled = sampled[: args.limit]
    last = sampled[-1] if sampled else -1

    frames = []          # per analysed frame: {"frame": i, "faces": [...]}
    undecodable = []     # sampled frames that could not be read
    decode_s = detect_s = encode_s = match_s = 0.0
    n_faces = 0

    start = time.perf_counter()
    index = 0
    while index <= last:
        sample = index % args.every == 0
        t0 = time.perf_counter()
        ok = cap.grab()
        frame = None
        if ok and sample:
            ok, frame = cap.retrieve()
        if not ok:
            if sample:
                undecodable.append(index)
            # a frame that cannot be read is left out (rollcall does the same and lists it)
            index += 1
            decode_s += time.perf_counter() - t0
            continue
        if not sample:
            decode_s += time.perf_counter() - t0
            index += 1
            continue
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        if args.scale != 1.0:
            rgb = cv2.resize(rgb, None, fx=args.scale, fy=args.scale, interpolation=cv2.INTER_AREA)
        t1 = time.perf_counter()
        locations = face_recognition.face_locations(rgb, number_of_times_to_upsample=args.upsample, model=args.model)
        t2 = time.perf_counter()
        encodings = face_recognition.face_encodings(rgb, locations)  # num_jitters=1, model="small"
        t3 = time.perf_counter()
        faces = []
        for (top, right, bottom, left), enc in zip(locations, encodings):
            d = face_recognition.face_distance(known, enc)
            best = int(np.argmin(d))
            dist = float(d[best])
            s = args.scale
            faces.append({
                "x": int(round(left / s)),
                "y": int(round(top / s)),
                "w": int(round((right - left) / s)),
                "h": int(round((bottom - top) / s)),
                "student_id": ids[best] if dist <= args.tolerance else "",
                "nearest": ids[best],
                "distance": round(dist, 6),
            })
        faces.sort(key=lambda f: (f["x"], f["y"]))
        t4 = time.perf_counter()
        decode_s += t1 - t0
        detect_s += t2 - t1
        encode_s += t3 - t2
        match_s += t4 - t3
        n_faces += len(faces)
        frames.append({"frame": index, "faces": faces})
        index += 1
    wall = time.perf_counter() - start
    cap.release()

    analysed = len(frames)
    per = lambda s: round(1000.0 * s / analysed, 3) if analysed else None
    result = {
        "tool": "face_recognition",
        "face_recognition_version": dist_version("face-recognition"),
        "dlib_distribution": dist_version("dlib") or dist_version("dlib-bin"),
        "dlib_version": dlib.__version__,
        "dlib_use_blas": bool(dlib.DLIB_USE_BLAS),
        "dlib_use_lapack": bool(getattr(dlib, "DLIB_USE_LAPACK", False)),
        "dlib_use_avx": getattr(dlib, "USE_AVX_INSTRUCTIONS", None),
        "dlib_module": dlib.__file__,
        # written by setup.sh next to the venv's dlib it compiled (absent for the dlib-bin wheel)
        "dlib_build_flags": build_flags(),
        "opencv_version": cv2.__version__,
        "opencv_threads": cv2.getNumThreads(),
        "numpy_version": np.__version__,
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "host": platform.node(),
        "cpu_affinity": sorted(os.sched_getaffinity(0)),
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "settings": {
            "video": os.path.abspath(args.video),
            "photos": os.path.abspath(args.photos),
            "every": args.every,
            "scale": args.scale,
            "tolerance": args.tolerance,
            "upsample": args.upsample,
            "model": args.model,
            "landmarks": "small (5-point)",
            "num_jitters": 1,
        },
        "video": {"frame_count": frame_count, "fps": fps, "width": width, "height": height},
        "enrolled": ids,
        "sampled_frames": sampled,
        "analysed_frames": analysed,
        "undecodable_frames": undecodable,
        "faces": n_faces,
        "wall_s": round(wall, 4),
        "ms_per_frame": per(wall),
        "decode_ms_per_frame": per(decode_s),
        "detect_ms_per_frame": per(detect_s),
        "encode_ms_per_frame": per(encode_s),
        "match_ms_per_frame": per(match_s),
        "encode_ms_per_face": round(1000.0 * encode_s / n_faces, 3) if n_faces else None,
        "frames": frames,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"{args.out}: {analysed} frames, {n_faces} faces, {result['ms_per_frame']} ms/frame "
          f"(detect {result['detect_ms_per_frame']}, encode {result['encode_ms_per_frame']}), "
          f"dlib {dlib.__version__} BLAS={result['dlib_use_blas']} AVX={result['dlib_use_avx']}")


if __name__ == "__main__":
    main()
