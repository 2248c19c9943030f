#!/usr/bin/env bash
# A new user's first run, measured: an empty Debian 12 root (debootstrap --variant=minbase, made
# once and kept as a tarball), a fresh clone of this repository inside it, then COMMAND run there
# under `time` (e.g. scripts/demo, or scripts/test). Needs root, debootstrap and the network (Debian's
# mirror; npm's registry for scripts/test). BENCHMARKS.md, "A first run from an empty Debian 12".
#   bench/first_run.sh "scripts/demo"  [ROOT_TARBALL (default /tmp/deb12-root.tar)] [WORKDIR (default /tmp/deb12-test)]
set -euo pipefail
cmd=${1:?usage: bench/first_run.sh COMMAND [ROOT_TARBALL] [WORKDIR]}
tarball=${2:-/tmp/deb12-root.tar}
root=${3:-/tmp/deb12-test}
repo=$(cd "$(dirname "$0")/.." && pwd)

if [[ ! -f $tarball ]]; then
  echo "making the empty Debian 12 root ($tarball)"
  rm -rf "$root" && mkdir -p "$root"
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian
  tar cf "$tarball" -C "$root" .
fi
for m in proc sys dev; do umount -lR "$root/$m" 2>/dev/null || true; done
rm -rf "$root" && mkdir -p "$root" && tar xf "$tarball" -C "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# Where the network is reached through a proxy with its own certificate authority, the root needs
# the host's bundle, as it needs resolv.conf (Node.js reads it from NODE_EXTRA_CA_CERTS).
mkdir -p "$root/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/host-network-ca.crt"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
trap 'for m in proc sys dev; do umount -lR "$root/$m" 2>/dev/null || true; done' EXIT
git clone -q "$repo" "$root/root/dimple"
chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb \
  NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-network-ca.crt bash -c "cd /root/dimple && nproc && time ($cmd)"
