#!/bin/sh
# Runs the node's Asterisk from the instance the prepare step rendered into /srv/hotline
# (HOTLINE_INSTANCE, e.g. shenyang-pbx1); `health` asks the running one over its control socket.
set -eu
: "${HOTLINE_INSTANCE:?set HOTLINE_INSTANCE to the instance the prepare step rendered}"
conf="/srv/hotline/$HOTLINE_INSTANCE/etc/asterisk.conf"
if [ "${1:-}" = health ]; then
    exec asterisk -C "$conf" -rx "core show uptime seconds" >/dev/null
fi
if [ ! -r "$conf" ]; then
    echo "hotline-asterisk: no $conf (has the prepare step run for this instance?)" >&2
    exit 1
fi
# Files Asterisk writes (queue_log, recordings) stay readable and prunable by group hotline.
umask 0002
exec asterisk -C "$conf" -f -n
