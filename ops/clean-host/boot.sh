#!/usr/bin/env bash
# Boots the clean root's systemd as PID 1 in new PID, mount, UTS and IPC namespaces (the host's
# network). Writes the host PID of that systemd to /run/solar-clean-host/pid.
# Stop (poweroff): kill -s RTMIN+4 "$(cat /run/solar-clean-host/pid)"
set -euo pipefail
root=/srv/solar-clean
state=/run/solar-clean-host; mkdir -p "$state"
unshare --pid --fork --mount --uts --ipc --propagation private bash -c "
  set -e
  mount --bind $root $root
  mount -t proc proc $root/proc
  mount -t sysfs -o ro sysfs $root/sys
  mount -t cgroup2 none $root/sys/fs/cgroup
  mount --rbind /dev $root/dev
  hostname solar-clean
  exec env -i container=other TERM=dumb PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot $root /lib/systemd/systemd --system
" >"$state/boot.log" 2>&1 &
launcher=$!
for _ in $(seq 50); do
  child=$(cat /proc/$launcher/task/*/children 2>/dev/null | tr -d ' ' || true)
  [ -n "$child" ] && break
  sleep 0.2
done
echo "$child" > "$state/pid"
echo "launcher $launcher, systemd (host pid) $child"
