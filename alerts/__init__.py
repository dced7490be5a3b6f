"""Alerts: resident and sensor rules, one alert lifecycle with SLA timers, and delivery to integrators."""
