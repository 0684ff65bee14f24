"""Helpers every export the platform produces uses."""

from __future__ import annotations

# A spreadsheet treats a cell starting with one of these as a formula (or a command, via DDE).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Make text safe to put in a spreadsheet cell: a leading formula character gets an
    apostrophe in front, so the text is shown, never run. Numbers pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
