#!/bin/bash
# Runs before every kubelet start on cgroup v2: the kubelet's cgroupRoot (/kubelet) and its
# slice need every controller the node has, enabled from the root down.
set -o errexit -o nounset -o pipefail

root=/sys/fs/cgroup
if [[ ! -f "$root/cgroup.controllers" ]]; then
  echo "ERROR: $root is not a cgroup v2 hierarchy" >&2
  exit 1
fi
# A cgroup with processes of its own cannot hand controllers to children; systemd normally
# moved everything into init.scope and system.slice long before the kubelet starts.
if [[ -s "$root/cgroup.procs" ]]; then
  echo "ERROR: processes are still in the root cgroup, refusing to enable controllers" >&2
  exit 1
fi

enable_all() {
  local dir=$1 c controllers
  read -ra controllers <"$dir/cgroup.controllers"
  for c in "${controllers[@]}"; do
    echo "+$c" >"$dir/cgroup.subtree_control"
  done
}

enable_all "$root"
for child in kubelet kubelet.slice; do
  mkdir -p "$root/$child"
  enable_all "$root/$child"
done
