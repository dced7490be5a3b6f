"""The ingest component: MQTT in, validated rows out, acknowledged only after they are committed."""
