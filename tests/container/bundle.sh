#!/usr/bin/env bash
# `make bundle-test`: the bundle on a system it was not built on. A debootstrapped Debian 13
# (glibc 2.41, OpenMPI 5) with nothing but its own OpenMPI unpacks the tarball in a folder of
# its own and takes attendance of the built-in lecture on 2 ranks with its own mpirun; the
# attendance must be the lecture's ground truth.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/rootfs.sh

tarball=$(ls -t out/rollcall-*-linux-x86_64.tar.gz 2>/dev/null | sed -n 1p)
[ -n "$tarball" ] || { echo "no bundle in out/: run make bundle first" >&2; exit 1; }
root=$PWD/out/bundle/trixie
bootstrap trixie "$root" openmpi-bin

# A fresh place to unpack, under a path unlike the one the bundle was built in.
site=$root/opt/site/apps
rm -rf "$site" "$root/lecture" "$root/attend"
mkdir -p "$site" "$root/lecture" "$root/attend"
tar -C "$site" -xzf "$tarball"
cp -r data/lecture/photos data/lecture/lecture.avi "$root/lecture/"
name=$(basename "$tarball" -linux-x86_64.tar.gz)

echo "in Debian 13 ($(chroot "$root" ldd --version | sed -n 1p); $(chroot "$root" mpirun --version | sed -n 1p)):"
run_lecture() {
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/bin:/bin OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    OMPI_MCA_mpi_yield_when_idle=1 OPENBLAS_NUM_THREADS=1 sh -xc "
      cd /attend &&
      /opt/site/apps/$name/rollcall --version &&
      /opt/site/apps/$name/rollcall enroll /lecture/photos -o roster.h5 -q &&
      mpirun --oversubscribe -n 2 /opt/site/apps/$name/rollcall attend /lecture/lecture.avi --roster roster.h5 -o out \
        --schedule dynamic -q &&
      cat out/attendance.csv"
}
with_mounts "$root" run_lecture
diff -u data/lecture/expected_attendance.csv "$root/attend/out/attendance.csv"
ranks=$(.venv/bin/python -c "import h5py, sys; print(len(h5py.File(sys.argv[1])['ranks']))" "$root/attend/out/attendance.h5")
[ "$ranks" = 2 ] || { echo "expected 2 ranks in /ranks, found $ranks" >&2; exit 1; }
echo "bundle test passed: $name in Debian 13 with its OpenMPI took the lecture's attendance on 2 ranks"
