"""pytest-benchmark cases: ``pytest bench/ --benchmark-only``."""
