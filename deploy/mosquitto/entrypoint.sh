#!/bin/sh
# Run Mosquitto on the accounts EstateWatch writes, and reload it whenever they change.
#
# EstateWatch (`estatewatch devices ...`, the admin API, the broker-accounts one-shot) writes passwd and acl into
# the shared broker-auth volume, mounted here read-only at $SRC. This script copies them to a folder only the
# broker's user can read, starts the broker, and every few seconds compares the files' checksum: on a change it
# copies them again and sends SIGHUP, so new, rotated and revoked accounts take effect without a restart (and
# without giving any EstateWatch container the Docker socket). No secret is in this repository or the image.
set -eu
SRC=${BROKER_AUTH_SRC:-/estatewatch/broker-auth}
DST=/mosquitto/data/auth
POLL_S=${BROKER_AUTH_POLL_S:-2}

install -d -o mosquitto -g mosquitto -m 0700 "$DST"

copy() {
    for f in passwd acl; do
        if [ -f "$SRC/$f" ]; then cp "$SRC/$f" "$DST/.$f.new"; else : > "$DST/.$f.new"; fi
        chown mosquitto:mosquitto "$DST/.$f.new"
        chmod 0600 "$DST/.$f.new"
        mv "$DST/.$f.new" "$DST/$f"
    done
}

state() { cat "$SRC/passwd" "$SRC/acl" 2>/dev/null | cksum; }

copy  # until EstateWatch wrote accounts the files are empty and the broker refuses everyone
chown -R mosquitto:mosquitto /mosquitto/data
/usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf &
broker=$!
trap 'kill -TERM "$broker" 2>/dev/null || true' TERM INT
last=$(state)
while kill -0 "$broker" 2>/dev/null; do
    sleep "$POLL_S" &
    wait $! || true
    now=$(state)
    if [ "$now" != "$last" ]; then
        copy
        kill -HUP "$broker"
        last=$now
        echo "entrypoint: broker accounts changed, broker reloaded"
    fi
done
wait "$broker"
