"""Security tests across every service (helpers: `harness.py`)."""
