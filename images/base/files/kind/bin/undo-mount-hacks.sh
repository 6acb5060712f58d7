#!/bin/bash
# The entrypoint hides cgroup v1's "misc" controller from systemd by mounting a filtered copy
# over /proc/cgroups; once systemd is up, containerd and the kubelet get the real file back.
set -o errexit -o nounset -o pipefail

if findmnt --noheadings /proc/cgroups >/dev/null 2>&1; then
  echo "INFO: restoring /proc/cgroups" >&2
  umount /proc/cgroups
fi
