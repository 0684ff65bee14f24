"""Reading an uploaded CSV file's text, for every upload that takes one (plans, returns,
control totals): whatever its line endings, and with a clear refusal, naming the row, for
text the csv module cannot read, rather than a server error."""

from __future__ import annotations

import csv
import io

FIELD_LIMIT = csv.field_size_limit()  # 131,072 characters: far beyond any figure or label


class CsvUnreadable(ValueError):
    """The text is not CSV that can be read, and where and why, in words for the person."""


class CsvTooLong(CsvUnreadable):
    """More rows than the file can have; reading stopped there."""

    def __init__(self, limit: int):
        super().__init__(f"The file has more than {limit:,} rows.")
        self.limit = limit


def csv_rows(text: str, max_rows: int | None = None) -> list[list[str]]:
    """Every row of the CSV text, or CsvTooLong as soon as there are more than `max_rows`
    (blank lines count: reading a file stops at its size, not at its end). Line endings may
    be CR LF, LF or a bare CR (older Mac spreadsheets save those); a quoted field keeps its
    line breaks, as LF."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if max_rows is not None and len(rows) > max_rows:
                raise CsvTooLong(max_rows)
    except csv.Error as exc:
        where = f"Row {reader.line_num}"
        if "field larger than field limit" in str(exc):
            raise CsvUnreadable(
                f"{where} has a field longer than {FIELD_LIMIT:,} characters, which no figure "
                "or label is: check the file is the one you meant to upload."
            ) from None
        raise CsvUnreadable(f"{where} cannot be read as CSV: {exc}.") from None
    return rows
