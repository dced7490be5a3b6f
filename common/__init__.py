"""The shared bottom layer: settings models, the clock, the MQTT edge and topic names.

Every role needs these, so they sit below the domain packages and import nothing of EstateWatch's own.
"""
