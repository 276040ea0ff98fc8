# shellcheck shell=bash
# Sourced by the test scripts: installs Debian packages a fresh machine lacks,
# as root or through sudo, so the test command needs nothing installed by hand.
#   install_debian_packages "why they are needed" PACKAGE...
# Expects a `die` function from the sourcing script.

install_debian_packages() {
  local why=$1
  shift
  local sudo=()
  if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null || die "$why; we are neither root nor have sudo: install Debian's $*"
    sudo=(sudo)
  fi
  echo "[test] $why: installing Debian's $*" >&2
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
