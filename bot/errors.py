"""Errors that end the program with a clear message rather than a traceback."""

from __future__ import annotations


class ConfigError(Exception):
    """The configuration is missing or invalid; the message names the variable."""
