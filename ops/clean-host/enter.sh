#!/usr/bin/env bash
# Runs a command inside the booted clean host (its namespaces and root), as root, from /root.
exec nsenter -t "$(cat /run/solar-clean-host/pid)" -m -u -i -p -r -w \
  env -i HOME=/root TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin bash -lc "cd /root; $*"
