"""Persistence: connections, migrations and queries behind typed functions; imports nothing of EstateWatch's own."""
