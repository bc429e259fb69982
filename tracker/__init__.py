"""Change Tracker: a cultural-change programme tracker for public-sector transformation."""

__version__ = "0.1.0"
