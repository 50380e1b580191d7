#!/usr/bin/env bash
# `make image`: an OCI image of rollcall for clusters that run containers (Apptainer/Singularity,
# podman), built without any container registry:
#   1. a minimal Debian 12 root filesystem from Debian's mirror (debootstrap) holding the
#      packages that own the libraries the release build loads, plus OpenMPI (mpirun, and PMIx
#      for `srun --mpi=pmix`);
#   2. the release build as /usr/local/bin/rollcall and the face models in
#      /usr/local/share/rollcall/models (ROLLCALL_MODELS points there);
#   3. imported with podman as rollcall:VERSION and saved as out/rollcall-oci.tar (an OCI
#      archive: `apptainer build rollcall.sif oci-archive://out/rollcall-oci.tar`).
# The root filesystem is made again only when its package list changes (a few minutes, ~300 MB
# downloaded); the rest takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/rootfs.sh

bin=target/release/rollcall
work=out/image
rootfs=$work/rootfs
archive=out/rollcall-oci.tar
[ -x "$bin" ] || { echo "no $bin: run make setup first" >&2; exit 1; }
install_missing_packages debootstrap podman runc

version=$("$bin" --version | awk '{print $2}')
tag=rollcall:$version

# The binary was built against this machine's Debian 12 libraries: the image holds the same
# packages (the AVX2 HOG library the binary carries needs only libdlib, already among them).
packages=$(library_packages "$bin" | paste -sd, -)
bootstrap bookworm "$rootfs" "$packages,openmpi-bin"

# The image's own layer: the binary and the models, laid over a copy of the root filesystem
# so the debootstrapped one stays clean for the next build.
layer=$work/layer
rm -rf "$layer"
cp -a "$rootfs" "$layer"
rm -f "$layer/.packages"
install -D -m 0755 "$bin" "$layer/usr/local/bin/rollcall"
mkdir -p "$layer/work"
copy_models "$layer/usr/local/share/rollcall/models"
copy_engine "$layer/usr/local/lib/rollcall"
rm -rf "$layer"/usr/share/{doc,man,info,locale}/*

tar --numeric-owner -C "$layer" -cf "$work/layer.tar" .
rm -rf "$layer"
echo "importing $tag with podman"
podman rmi -f "$tag" >/dev/null 2>&1 || true
podman import --quiet \
  --change "ENV ROLLCALL_MODELS=/usr/local/share/rollcall/models" \
  --change "ENV ROLLCALL_ORT=/usr/local/lib/rollcall" \
  --change "ENV OPENBLAS_NUM_THREADS=1" \
  --change "ENV OMPI_MCA_mpi_yield_when_idle=1" \
  --change "WORKDIR /work" \
  --change 'CMD ["rollcall", "--help"]' \
  --message "rollcall $version (Debian 12, OpenMPI 4.1 with PMIx)" \
  "$work/layer.tar" "$tag" >/dev/null
rm -f "$work/layer.tar"
# written under a temporary name first: an interrupted save leaves no half archive behind
rm -f "$archive" "$archive.part"
podman save --quiet --format oci-archive -o "$archive.part" "$tag"
mv "$archive.part" "$archive"
echo "image $tag saved as $archive ($(du -h "$archive" | cut -f1)); apptainer build rollcall.sif oci-archive://$archive"
