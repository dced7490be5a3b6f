#!/bin/sh
# Write the password file from the environment (no secrets in the repository), then run the broker.
set -eu
: "${MQTT_SERVICE_PASSWORD:?set MQTT_SERVICE_PASSWORD}"
: "${MQTT_DEVICE_PASSWORD:?set MQTT_DEVICE_PASSWORD}"
: "${MQTT_INTEGRATOR_PASSWORD:?set MQTT_INTEGRATOR_PASSWORD}"
passwd=/mosquitto/data/passwd
rm -f "$passwd"
touch "$passwd"
chmod 0700 "$passwd"
mosquitto_passwd -b "$passwd" estatewatch "$MQTT_SERVICE_PASSWORD"
mosquitto_passwd -b "$passwd" devices "$MQTT_DEVICE_PASSWORD"
mosquitto_passwd -b "$passwd" integrator "$MQTT_INTEGRATOR_PASSWORD"
chown -R mosquitto:mosquitto /mosquitto/data
exec /usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf
