# shellcheck shell=bash
# Shared by the registry-free image builds (images/base/build, images/haproxy/build):
# sourced, not run. Everything here logs to stderr; stdout is kept for the image reference.

KINDLING_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KINDLING_CACHE=${KINDLING_CACHE_DIR:-$KINDLING_REPO/.cache}
KINDLING_SUITE=bookworm

log() { echo "$*" >&2; }
die() {
  echo "ERROR: $*" >&2
  exit 1
}

# Prints a short hash of the given files and directories (paths relative to the repository):
# the content, name and executable bit of every file below them.
inputs_hash() {
  (
    cd "$KINDLING_REPO" || exit 1
    find "$@" -type f ! -name '*.md' ! -name '*.swp' ! -name '*~' -print0 | LC_ALL=C sort -z |
      while IFS= read -r -d '' f; do
        printf '%s %s %s\n' "$(sha256sum <"$f" | cut -c1-64)" "$([[ -x "$f" ]] && echo x || echo -)" "$f"
      done | sha256sum | cut -c1-12
  )
}

require_root() {
  [[ "$(id -u)" == 0 ]] || die "$1 must run as root (debootstrap and chroot need it); try: sudo $1"
}

require_docker() {
  command -v docker >/dev/null || die "the docker command is not installed"
  docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
    die "cannot reach the Docker engine${DOCKER_HOST:+ at $DOCKER_HOST}: is the Docker daemon running?"
}

image_exists() {
  docker image inspect "$1" >/dev/null 2>&1
}

# Reads a package list file: one name per line, '#' comments and blank lines ignored.
read_packages() {
  sed -e 's/#.*//' -e 's/[[:space:]]//g' "$1" | grep -v '^$'
}

# make_rootfs DIR PACKAGE... : a Debian minbase root file system with the packages and the
# current security and point-release updates, downloads cached below $KINDLING_CACHE.
make_rootfs() {
  local root=$1
  shift
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
  mkdir -p "$KINDLING_CACHE/debootstrap" "$KINDLING_CACHE/apt-archives/partial"
  local include
  include=$(
    IFS=,
    echo "$*"
  )
  log "debootstrap $KINDLING_SUITE with: $include"
  debootstrap --variant=minbase --include="$include" --cache-dir="$KINDLING_CACHE/debootstrap" \
    "$KINDLING_SUITE" "$root" >&2 || die "debootstrap failed (see above)"

  # the same sources a debian:bookworm-slim image has, so that both builds get updates
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: http://deb.debian.org/debian
Suites: $KINDLING_SUITE $KINDLING_SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $KINDLING_SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  # no service may start inside the chroot
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  mount --bind "$KINDLING_CACHE/apt-archives" "$root/var/cache/apt/archives"
  log "applying $KINDLING_SUITE-updates and $KINDLING_SUITE-security"
  local ok=1
  if chroot "$root" apt-get -q update >&2 &&
    DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -q -y upgrade >&2; then
    ok=0
  fi
  umount "$root/var/cache/apt/archives"
  rm -f "$root/usr/sbin/policy-rc.d"
  ((ok == 0)) || die "apt-get upgrade in the new root file system failed (see above)"
}

# Clears what debootstrap copied from the build host.
scrub_rootfs() {
  local root=$1
  : >"$root/etc/resolv.conf"
  : >"$root/etc/hostname"
  rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin "$root/var/log/"*.log \
    "$root/var/log/apt/"* "$root/var/cache/ldconfig/aux-cache"
}

# import_rootfs DIR IMAGE INSTRUCTION... : makes IMAGE (one layer) from the directory, with the
# given Dockerfile metadata instructions (ENV, STOPSIGNAL, ENTRYPOINT, ...). `docker import
# --change` refuses STOPSIGNAL, so the metadata comes from a one-line-per-instruction build on
# top of the imported file system (no new layer, no registry).
import_rootfs() {
  local root=$1 image=$2
  shift 2
  local raw=$image-rootfs
  log "importing $image"
  tar -C "$root" --numeric-owner --xattrs --xattrs-include='security.capability' -c . |
    docker import - "$raw" >&2
  { echo "FROM $raw"; printf '%s\n' "$@"; } |
    DOCKER_BUILDKIT=0 docker build --quiet --tag "$image" - >&2
  docker image rm "$raw" >/dev/null
}
