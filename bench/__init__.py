"""Benchmarks of the dashboard against the article's design, with their shared helpers."""
