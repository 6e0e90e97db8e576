"""The report: pure functions from a results table to figures, tables, claims and a static page."""
