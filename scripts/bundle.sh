#!/usr/bin/env bash
# `make bundle`: a relocatable tarball of rollcall for clusters without containers or root,
# out/rollcall-VERSION-linux-x86_64.tar.gz:
#   rollcall-VERSION/rollcall      the wrapper to run: sets LD_LIBRARY_PATH and ROLLCALL_ORT to
#                                  lib/ and ROLLCALL_MODELS to models/ (unless set), runs bin/rollcall
#   rollcall-VERSION/bin/rollcall  the release build
#   rollcall-VERSION/lib/          every shared library it loads but glibc's and MPI's (the
#                                  site's OpenMPI is used: libmpi.so.40, OpenMPI 3.x to 5.x), and
#                                  ONNX Runtime's libonnxruntime.so
#   rollcall-VERSION/models/       the dlib models and YuNet
# Built inside a debootstrapped Debian 11 (glibc 2.31) so that it runs on any glibc >= 2.31
# (RHEL/Rocky/Alma 9 have 2.34; Rocky 8's 2.28 is too old: use the image there). The machine's
# Rust toolchain and cargo registry are bind-mounted into the chroot; the chroot and its
# target/ are kept in out/bundle/ so a second build is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/rootfs.sh

work=$PWD/out/bundle
root=$work/bullseye
models=data/models
[ -s "$models/dlib_face_recognition_resnet_model_v1.dat" ] || { echo "no models in $models: run make setup first" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "make bundle builds in a chroot and needs root" >&2; exit 1; }
install_missing_packages debootstrap

# What make setup installs to build, as Debian 11 names it.
bootstrap bullseye "$root" "$(paste -sd, - <<'PACKAGES'
build-essential
clang
libclang-dev
pkg-config
git
ca-certificates
libopenmpi-dev
openmpi-bin
libopencv-dev
libavformat-dev
libavcodec-dev
libswscale-dev
libdlib-dev
libopenblas-dev
libhdf5-dev
PACKAGES
)"

# The source read-only, the toolchain and registry as this machine has them, the build's
# output in the chroot's /build (kept between builds).
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
cargo_home=${CARGO_HOME:-$HOME/.cargo}
mkdir -p "$root/src" "$root/rustup" "$root/cargo" "$root/build"
build_in_chroot() {
  mount --bind "$PWD" "$root/src"
  mount -o remount,bind,ro "$root/src"
  mount --bind "$rustup_home" "$root/rustup"
  mount --bind "$cargo_home" "$root/cargo"
  local status=0
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/cargo/bin:/usr/bin:/bin RUSTUP_HOME=/rustup CARGO_HOME=/cargo \
    CARGO_TARGET_DIR=/build/target GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=/src \
    sh -c 'cd /src && cargo build --release --locked' || status=$?
  umount "$root/cargo" "$root/rustup" "$root/src"
  return $status
}
# Pipelines here read their input to the end (sed -n 1p, not head): a reader that stops early
# kills the writer with SIGPIPE, and under pipefail that ends the script, silently.
glibc_built=$(chroot "$root" ldd --version | sed -n 1p | awk '{print $NF}')
echo "building rollcall in Debian 11 (glibc $glibc_built)"
with_mounts "$root" build_in_chroot

bin=/build/target/release/rollcall # in the chroot
version=$(chroot "$root" "$bin" --version | awk '{print $2}')
name=rollcall-$version
stage=$work/$name
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/lib"
install -m 0755 "$root$bin" "$stage/bin/rollcall"

# Libraries: the closure of every library the binary needs directly, but MPI's (only the
# libraries libmpi alone pulls in stay out) and glibc's (the system's own must be used).
glibc='^(libc|libm|libdl|libpthread|librt|libresolv|libutil|libanl|ld-linux-x86-64)\.so'
mpi='^(libmpi|libopen-rte|libopen-pal|libpmix|libprrte|libhwloc|libucp|libucs|libuct|libfabric|libpsm)'
direct=$(chroot "$root" objdump -p "$bin" | awk '/NEEDED/ {print $2}' | grep -v '^libmpi\.so')
for soname in $direct; do
  path=$(chroot "$root" ldconfig -p | awk -v s="$soname" '$1 == s && !found {print $NF; found = 1}')
  [ -n "$path" ] || { echo "$soname: not found in the chroot" >&2; exit 1; }
  echo "$soname => $path"
  chroot "$root" ldd "$path" | awk '/=> \// {print $1, $3}'
done | awk '{print $1, $NF}' | sort -u | while read -r soname path; do
  [[ $soname =~ $glibc || $soname =~ $mpi ]] && continue
  # resolved inside the chroot: Debian's alternatives (libblas, libopenblas) are absolute links
  # that would otherwise lead to this machine's own copies
  cp "$root$(chroot "$root" readlink -f "$path")" "$stage/lib/$soname"
done
copy_models "$stage/models"
copy_engine "$stage/lib"

cat > "$stage/rollcall" <<'WRAPPER'
#!/bin/sh
# rollcall from a relocatable bundle: its libraries and models are found beside this script,
# wherever the bundle was unpacked; MPI and glibc are the system's.
here=$(cd "$(dirname "$0")" && pwd)
LD_LIBRARY_PATH=$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
ROLLCALL_MODELS=${ROLLCALL_MODELS:-$here/models}
ROLLCALL_ORT=${ROLLCALL_ORT:-$here/lib}
export LD_LIBRARY_PATH ROLLCALL_MODELS ROLLCALL_ORT
exec "$here/bin/rollcall" "$@"
WRAPPER
chmod 0755 "$stage/rollcall"
glibc_needed=$(objdump -T "$stage/bin/rollcall" "$stage"/lib/*.so* 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)
if [ "$(printf '%s\n' "$glibc_needed" "GLIBC_$glibc_built" | sort -V | tail -n 1)" != "GLIBC_$glibc_built" ]; then
  echo "the bundle needs $glibc_needed, newer than the glibc $glibc_built it was built with: a library came from outside the chroot" >&2
  exit 1
fi
echo "$name: built on Debian 11 (glibc $glibc_built); needs $glibc_needed and libmpi.so.40 (OpenMPI 3.x-5.x)" > "$stage/BUILD-INFO"

tarball=out/$name-linux-x86_64.tar.gz
tar -C "$work" -czf "$tarball.part" "$name"   # renamed when whole
mv "$tarball.part" "$tarball"
echo "bundle $tarball ($(du -h "$tarball" | cut -f1); $(ls "$stage/lib" | wc -l) libraries; needs $glibc_needed)"
