#!/usr/bin/env bash
# kindling's one test command (see README): on a fresh Debian machine with Docker it installs
# what the tests need, checks formatting and lints, builds the test images, runs every test
# (unit, CLI, real TLS peers, end-to-end), and checks that no cluster container is left behind.
set -euo pipefail
cd "$(dirname "$0")"
step() { printf '\n==> %s\n' "$*" >&2; }
started=$(date +%s)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

step "Debian packages"
# debootstrap: registry-free image builds; etcd/openssl: real TLS peers; docker-registry: real pulls.
packages=(debootstrap etcd-server etcd-client openssl docker-registry jq curl ca-certificates procps)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
command -v docker >/dev/null || { echo "ERROR: the docker CLI is required (and a running Docker engine)" >&2; exit 1; }
docker version --format 'Docker engine {{.Server.Version}} (API {{.Server.APIVersion}})' >&2

step "Client tools from Debian sid (kubectl, kind)"
tools=$(tests/tools/fetch-sid-tools | tail -n1)

step "Formatting and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings

step "Test images (registry-free: debootstrap + docker import)"
# debootstrap and chroot need root; later calls from the tests find the images up to date.
as_root images/base/build | tail -n1
as_root tests/standin/build | tail -n1
as_root images/haproxy/build | tail -n1
as_root images/registry/build | tail -n1

step "Tests"
export KINDLING_E2E=require KINDLING_REQUIRE_PEERS=1
export KINDLING_TEST_KUBECTL="$tools/kubectl" KINDLING_TEST_KIND="$tools/kind"
cargo test --locked -- --test-threads="${KINDLING_TEST_THREADS:-4}"

step "Nothing left behind"
left=$(docker ps -a --filter label=io.x-k8s.kind.cluster --format '{{.Names}}')
left_networks=$(docker network ls --filter 'name=^kt-' --format '{{.Name}}')
# registries, caches and their volumes the tests make are named after their kt-… clusters
# (kt-…-registry, kindling-mirror-kt-…); the name filter matches substrings
left_containers=$(docker ps -a --filter name=kt- --format '{{.Names}}')
left_volumes=$(docker volume ls --filter name=kt- -q)
if [ -n "$left" ] || [ -n "$left_networks" ] || [ -n "$left_containers" ] || [ -n "$left_volumes" ]; then
  echo "ERROR: left behind by the tests:" >&2
  echo "$left $left_networks $left_containers $left_volumes" >&2
  exit 1
fi
echo "all tests passed in $(( $(date +%s) - started ))s" >&2
