"""Kimera: an autonomous, contradiction-aware trading system."""

__version__ = "0.1.0"
