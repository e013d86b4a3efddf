"""Loaders: recorded captures and vendor files into normalised events, with clear errors for bad lines."""

from kimera.data.errors import LoadStats, MalformedInputError

__all__ = ["LoadStats", "MalformedInputError"]
