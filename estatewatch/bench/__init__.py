"""Benchmarks and evaluations: they drive the simulators against the real code, so they live outside the
service packages (which never import simulators).
"""
