"""Benchmarks: the figures of DESIGN.md's "Numbers we hold ourselves to", measured side by
side on SQLite and PostgreSQL in one run (``make bench``). Never asserted, only printed."""
