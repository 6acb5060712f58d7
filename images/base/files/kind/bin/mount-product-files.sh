#!/bin/bash
# OCI createContainer hook (see /etc/containerd/cri-base.json): shows each pod the node's own
# DMI product name and UUID instead of the host's, so that nodes look like distinct machines.
# The hook runs in the container's mount namespace before pivot_root: the node's /kind is
# still visible and the container's root file system is reached through its bundle path.
set -o errexit -o nounset -o pipefail

bundle=$(jq -r .bundle)
rootfs=$(jq -r .root.path "$bundle/config.json")
[[ "$rootfs" == /* ]] || rootfs="$bundle/$rootfs"

bind_over() {
  local src=$1 dst=$rootfs$2
  if [[ -f "$src" && -e "$dst" ]]; then
    mount -o ro,bind "$src" "$dst"
  fi
}

bind_over /kind/product_name /sys/class/dmi/id/product_name
bind_over /kind/product_uuid /sys/class/dmi/id/product_uuid
bind_over /kind/product_uuid /sys/devices/virtual/dmi/id/product_uuid
