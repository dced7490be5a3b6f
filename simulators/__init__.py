"""Simulated devices, cameras and residents with ground truth, for tests, demos and benches (not production)."""
