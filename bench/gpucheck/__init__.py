"""Sections of bench/gpu_check.py (one module per kind of measurement)."""
