"""Learnt routines and the ``no_activity`` alert: a silence improbable for this resident at this hour."""
