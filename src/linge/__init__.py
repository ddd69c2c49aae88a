"""Linge (岭格): grid governance for a county-level city."""

__version__ = "0.1.0"
