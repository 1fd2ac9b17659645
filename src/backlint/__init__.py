"""backlint: a linter for Python backend services."""

__version__ = "0.1.0"
