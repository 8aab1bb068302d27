"""Helpers for bench/run.py."""
