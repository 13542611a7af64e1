#!/usr/bin/env bash
# A clean Debian 12 root for following docs/production.md with systemd as PID 1 (in its own PID,
# mount, UTS and IPC namespaces): debootstrap, then the repository cloned into /opt/solar.
set -euo pipefail
root=/srv/solar-clean
apt-get install -y -qq debootstrap >/dev/null
[ -x "$root/lib/systemd/systemd" ] || debootstrap --include=systemd-sysv,dbus,ca-certificates,curl bookworm "$root" http://deb.debian.org/debian
cp /etc/resolv.conf "$root/etc/resolv.conf"
cat > "$root/etc/apt/sources.list" <<SRC
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SRC
echo solar-clean > "$root/etc/hostname"
echo "prepared $root"
