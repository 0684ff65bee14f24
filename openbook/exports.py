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


CSV_TYPE = "text/csv; charset=utf-8"


def csv_content(text: str | bytes) -> bytes:
    """CSV as UTF-8 with a byte-order mark: Excel then reads "£" and "–" as written (without
    it, it guesses a Windows code page and shows "Â£")."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return data if data.startswith(b"\xef\xbb\xbf") else b"\xef\xbb\xbf" + data
