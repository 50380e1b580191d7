#!/usr/bin/env bash
# The Python reference for the side-by-side benchmark (issue #7): two virtualenvs with the
# `face_recognition` package that rollcall is measured against.
#
#   .bench/dlib-bin        dlib from the prebuilt PyPI wheel `dlib-bin` (no BLAS: the ResNet's
#                          matrix products use dlib's own C++ loops)
#   .bench/dlib-openblas   dlib compiled here from its PyPI sdist against Debian's OpenBLAS, with
#                          the CPU's SIMD (see "SIMD" below); 9-15 min on 2 cores here, niced
#
# Idempotent: when both venvs import and report the expected flags it only checks (a few s).
# Usage: benches/reference/setup.sh            (from anywhere)
#        DLIB_VERSION=20.0.1 benches/reference/setup.sh   (another dlib; remove .bench/ first)
#
# dlib version: 19.24.6 by default in both venvs, the 19.24 series that rollcall links (Debian
# 12's libdlib 19.24), so that a difference between rollcall and the reference is rollcall's
# own doing and not a dlib release's.
#
# SIMD (measured on this machine, dlib 19.24.6's frontal face detector on a 1282x721 frame, one
# core, Debian's g++ 12 -O3; benches/reference/README.md has the table): dlib's cmake turns on
# USE_AVX_INSTRUCTIONS (-mavx) by itself for Python builds when the host runs AVX, and with
# -mavx alone the HOG detector is ~1.7x SLOWER than with no flag at all (~135 ms against
# ~80 ms): dlib's 8-lane integer SIMD (simd8i, used by the HOG gradients) has 256-bit code
# only under AVX2 and is done as two 128-bit halves under AVX1 (simd8i.h). With -mavx2 added
# it is ~72 ms. So: USE_AVX_INSTRUCTIONS=ON (dlib's default, checked) plus
# CXXFLAGS=-mavx2 when the CPU has AVX2. Not -mfma / -march=native: FMA contraction changes
# floating-point rounding against every other build (the point here is to compare results;
# -mavx2 adds integer instructions and keeps every float operation as it was), and the extra
# ~7 % is not worth it. The ResNet encoder's convolutions go to OpenBLAS's sgemm, which picks
# its kernel for the running CPU at run time whatever dlib was compiled with. Release build
# (-O3 -DNDEBUG, dlib's default). The module is then for this CPU: rebuild on another machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bench=$root/.bench
py=/usr/bin/python3                      # Debian's python, matching python3-dev's headers
dlib_version=${DLIB_VERSION:-19.24.6}
# the same Python packages in both venvs; face_recognition's own deps are listed by hand because
# `pip install face-recognition` would pull the `dlib` sdist and compile it
common=(numpy pillow opencv-python-headless face-recognition-models "setuptools<81")
# setuptools<81: face_recognition_models finds its model files with pkg_resources

# extra compiler flags for the OpenBLAS build, see "SIMD" above
cxxflags=""
grep -qw avx2 /proc/cpuinfo && cxxflags="-mavx2"

# --- Debian packages (only when missing) -------------------------------------------------------
packages=(libopenblas-dev cmake python3-venv python3-dev build-essential)
source "$root/scripts/debian-packages.sh"
install_missing_packages "${packages[@]}"

# --- the check that makes this idempotent -----------------------------------------------------
# prints the flags and exits non-zero when the venv is not what it should be
check() { # venv want_blas
  "$bench/$1/bin/python" - "$2" "$dlib_version" <<'EOF' 2>/dev/null
import sys
import cv2, numpy, PIL, dlib, face_recognition_models, face_recognition
want_blas = sys.argv[1] == "1"
blas = bool(dlib.DLIB_USE_BLAS)
avx = bool(getattr(dlib, "USE_AVX_INSTRUCTIONS", False))
print(f"dlib {dlib.__version__} DLIB_USE_BLAS={blas} USE_AVX_INSTRUCTIONS={avx} "
      f"opencv {cv2.__version__} numpy {numpy.__version__}")
ok = dlib.__version__.startswith(sys.argv[2].split(".post")[0]) and (blas and avx if want_blas else True)
sys.exit(0 if ok else 1)
EOF
}

mkvenv() { # venv
  [ -x "$bench/$1/bin/python" ] || "$py" -m venv "$bench/$1"
  "$bench/$1/bin/pip" install -q --upgrade pip
  "$bench/$1/bin/pip" install -q "${common[@]}"
  "$bench/$1/bin/pip" install -q --no-deps face-recognition
}

mkdir -p "$bench"

# --- .bench/dlib-bin ---------------------------------------------------------------------------
if flags=$(check dlib-bin 0); then
  echo "dlib-bin: ready ($flags)"
else
  echo "dlib-bin: creating .bench/dlib-bin"
  mkvenv dlib-bin
  "$bench/dlib-bin/bin/pip" install -q "dlib-bin==$dlib_version"
  flags=$(check dlib-bin 0) || { echo "dlib-bin: the venv does not import face_recognition/dlib" >&2; exit 1; }
  echo "dlib-bin: ready ($flags)"
fi

# --- .bench/dlib-openblas ----------------------------------------------------------------------
venv=$bench/dlib-openblas
log=$bench/dlib-openblas-build.log
stamp=$venv/dlib-build-flags            # what the installed dlib was compiled with
want_stamp="dlib $dlib_version USE_AVX_INSTRUCTIONS=ON CXXFLAGS=$cxxflags"
if flags=$(check dlib-openblas 1) && [ "$(cat "$stamp" 2>/dev/null)" = "$want_stamp" ]; then
  echo "dlib-openblas: ready ($flags; $want_stamp)"
else
  echo "dlib-openblas: creating .bench/dlib-openblas; compiling $want_stamp (log: $log)"
  mkvenv dlib-openblas
  # build tools from PyPI inside the venv; --no-build-isolation so the build uses exactly these
  # (cmake<4: dlib 19.24's bundled pybind11 predates cmake 4's policy removals)
  "$venv/bin/pip" install -q wheel packaging "cmake<4"
  rm -f "$stamp"
  start=$(date +%s)
  # BLAS and LAPACK: dlib's cmake turns them on when it finds a library (find_blas.cmake
  # looks for libopenblas by name); dlib 19.24's setup.py passes no -D options from the
  # environment, so nothing is forced here and the result is checked below instead.
  # CXXFLAGS: cmake starts CMAKE_CXX_FLAGS from it; dlib adds -mavx (USE_AVX_INSTRUCTIONS).
  # nice 19 and 2 jobs (setup.py reads CMAKE_BUILD_PARALLEL_LEVEL for make -j): never starve
  # other builds on this machine. PATH: the venv's cmake (PyPI) first.
  if ! env PATH="$venv/bin:$PATH" CMAKE_BUILD_PARALLEL_LEVEL=2 CXXFLAGS="$cxxflags" \
       nice -n 19 "$venv/bin/pip" install -v --no-build-isolation --no-binary dlib --no-cache-dir --force-reinstall \
       "dlib==$dlib_version" >"$log" 2>&1; then
    tail -40 "$log" >&2; echo "dlib-openblas: the dlib build failed (log: $log)" >&2; exit 1
  fi
  echo "dlib-openblas: dlib compiled in $(( $(date +%s) - start )) s" | tee -a "$log"
  grep -q "Enabling AVX instructions" "$log" || { echo "dlib-openblas: FAILED: cmake did not enable AVX (see $log)" >&2; exit 1; }
  grep -E "Found OpenBLAS|Found BLAS|Found Intel MKL|BLAS and LAPACK via pkg-config" "$log" | head -3 || true
  if ! flags=$(check dlib-openblas 1); then
    "$venv/bin/python" -c 'import dlib; print("dlib.DLIB_USE_BLAS =", dlib.DLIB_USE_BLAS, " USE_AVX_INSTRUCTIONS =", getattr(dlib, "USE_AVX_INSTRUCTIONS", None))' >&2 || true
    echo "dlib-openblas: FAILED: dlib was built without BLAS or without AVX (see $log)" >&2
    exit 1
  fi
  so=$("$venv/bin/python" -c 'import _dlib_pybind11; print(_dlib_pybind11.__file__)')
  # the module must really link OpenBLAS (Debian's libblas.so.3 alternative could be the
  # reference BLAS)
  ldd "$so" | grep -E "blas|lapack" | tee -a "$log"
  if ! ldd "$so" | grep -q openblas; then
    echo "dlib-openblas: FAILED: $so does not resolve to OpenBLAS" >&2; exit 1
  fi
  # -mavx2 must have reached the compiler: 256-bit integer instructions exist only in AVX2
  if [ -n "$cxxflags" ]; then
    n=$(objdump -d --no-show-raw-insn "$so" | grep -cE 'vp(add|sub|mull|cmpgt|cmpeq)[a-z]* .*%ymm' || true)
    echo "dlib-openblas: $n AVX2 integer instructions in $(basename "$so")" | tee -a "$log"
    [ "$n" -gt 0 ] || { echo "dlib-openblas: FAILED: CXXFLAGS=$cxxflags did not reach the compiler" >&2; exit 1; }
  fi
  echo "$want_stamp" >"$stamp"
  echo "dlib-openblas: ready ($flags; $want_stamp)"
fi
