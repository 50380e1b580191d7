#!/usr/bin/env bash
# `make image-test`: the saved image (out/rollcall-oci.tar, loaded afresh, not the local tag
# make image left) takes attendance of the built-in lecture on 2 MPI ranks inside podman, the
# lecture mounted read-only, and its attendance.csv must be the lecture's ground truth.
set -euo pipefail
cd "$(dirname "$0")/../.."
archive=out/rollcall-oci.tar
[ -s "$archive" ] || { echo "no $archive: run make image first" >&2; exit 1; }

version=$(target/release/rollcall --version | awk '{print $2}')
podman rmi -f "rollcall:$version" >/dev/null 2>&1 || true
image=$(podman load -i "$archive" 2>/dev/null | sed -n "s/^Loaded image[^:]*: *//p" | sed -n 1p)
[ -n "$image" ] || { echo "podman load of $archive named no image" >&2; exit 1; }
echo "loaded $image from $archive"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# runc with cgroupfs, and limits no higher than this process's: this sandbox has a hybrid
# cgroup tree that crun refuses and no CAP_SYS_RESOURCE to raise limits. They change nothing
# on an ordinary host.
podman --runtime runc --cgroup-manager cgroupfs run --rm --network none \
  --ulimit nofile="$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096 \
  -e OMPI_ALLOW_RUN_AS_ROOT=1 -e OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
  -v "$PWD/data/lecture:/lecture:ro" -v "$work:/work" "$image" \
  sh -c 'rollcall enroll /lecture/photos -o roster.h5 -q &&
         mpirun --oversubscribe -n 2 rollcall attend /lecture/lecture.avi --roster roster.h5 -o run \
           --schedule dynamic -q'

diff -u data/lecture/expected_attendance.csv "$work/run/attendance.csv"
ranks=$(.venv/bin/python -c "import h5py, sys; print(len(h5py.File(sys.argv[1])['ranks']))" "$work/run/attendance.h5")
[ "$ranks" = 2 ] || { echo "expected 2 ranks in /ranks, found $ranks" >&2; exit 1; }
echo "image test passed: the lecture's attendance on 2 ranks inside $image is the ground truth"
