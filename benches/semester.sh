#!/bin/bash
# make bench-semester: a semester of 1,000 lecture results, with overrides, aggregated by
# `rollcall semester` in under a minute and under 1 GB of memory (#42). The lectures are copies
# (hard links) of one real result of the lecture, each under its own name and date in a
# manifest; the overrides excuse or correct one student in every lecture.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${ROLLCALL:-target/release/rollcall}
LECTURES=${LECTURES:-1000}
OUT=out/bench-semester
rm -rf "$OUT" && mkdir -p "$OUT/runs"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
"$B" enroll data/lecture/photos -o "$OUT/roster.h5" -q
"$B" attend data/lecture/lecture.avi --roster "$OUT/roster.h5" -o "$OUT/one" --every 30 -q
python3 - "$OUT" "$LECTURES" "$PWD/data/lecture/lecture.avi" <<'PY'
import datetime, os, sys
out, n, video = sys.argv[1], int(sys.argv[2]), sys.argv[3]
start = datetime.date(2026, 1, 5)
students = ["ana", "biden", "hanks", "obama"]
with open(f"{out}/semester.yaml", "w") as m, open(f"{out}/overrides.csv", "w") as o:
    m.write("course: bench\nroster: roster.h5\noutput: runs\noverrides: overrides.csv\nlectures:\n")
    o.write("student_id,lecture,status,reason,by\n")
    for i in range(n):
        name = f"l{i:04d}"
        os.makedirs(f"{out}/runs/{name}")
        os.link(f"{out}/one/attendance.h5", f"{out}/runs/{name}/attendance.h5")
        m.write(f"  - {{video: {video}, name: {name}, date: {start + datetime.timedelta(days=i)}, title: Lecture {i + 1}}}\n")
        status = "Excused" if i % 2 else "Present"
        o.write(f"{students[i % 4]},{name},{status},bench override {i},bench\n")
PY
python3 - "$B" "$OUT/semester.yaml" "$LECTURES" <<'PY'
import resource, subprocess, sys, time
binary, manifest, n = sys.argv[1], sys.argv[2], sys.argv[3]
started = time.monotonic()
done = subprocess.run([binary, "semester", "--manifest", manifest, "--force"], capture_output=True, text=True)
seconds = time.monotonic() - started
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(done.stdout, end="")
if done.returncode != 0:
    sys.exit(f"rollcall semester failed: {done.stderr}")
print(f"bench-semester: {n} lectures with {n} overrides in {seconds:.1f} s, peak memory {peak_mb:.0f} MB "
      f"(targets: under 60 s and 1024 MB)")
sys.exit(0 if seconds < 60 and peak_mb < 1024 else "bench-semester: over target")
PY
