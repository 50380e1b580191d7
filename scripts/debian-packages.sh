# Sourced by scripts/setup.sh, scripts/rootfs.sh and benches/reference/setup.sh.

# install_missing_packages PACKAGE... : installs those of the Debian packages that are not
# installed yet (with sudo when not root), quietly; nothing when all are there.
install_missing_packages() {
  local missing=() p sudo=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
