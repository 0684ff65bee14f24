"""Reading the NHS Organisation Data Service (ODS) data files. Pure: no Django, no clock.

The files NHS England publishes for download (digital.nhs.uk › Organisation Data Service › Data
downloads, also as one package on TRUD) are headerless CSVs in ODS's standard 27-column layout,
described in the ODS Standards Repository document:

     1 Organisation Code          10 Postcode              18 Contact Telephone Number
     2 Name                       11 Open Date (YYYYMMDD)  22 Amended Record Indicator
     3 National Grouping          12 Close Date            24 GOR Code
     4 High Level Health Geography   14 Organisation Sub-Type Code
     5–9 Address Lines 1–5        (the other columns are empty)

What the grouping columns hold depends on the file (and has since July 2022, when ICBs took
over the STPs' Q codes and CCG codes became sub-ICB locations):

- `etr.csv`, NHS trusts: National Grouping is the NHS England region (Y60), High Level Health
  Geography the ICB (QHL).
- `eccg.csv`, sub-ICB locations (the former CCGs, 15M): the same, region then ICB.
- the ICB list (Q codes, published among the health authorities): National Grouping is the
  region. Its file name has changed between publications, so any name with "icb" in it is
  read as ICBs, and `--kind-of icbs` says so for any other.

Only columns 1–4, 11 and 12 are read; a row needs at least those twelve columns.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import PurePath


class Layout(StrEnum):
    TRUSTS = "trusts"
    ICBS = "icbs"
    SUB_ICB = "sub-icb"


# As accounts.models.ods_code_validator (which this module may not import): what Openbook keeps.
ODS_CODE = re.compile(r"^[A-Z0-9]{3,5}$")
ICB_CODE = re.compile(r"^Q[A-Z0-9]{2}$")
MIN_COLUMNS = 12

# NHS England's seven regions since April 2020, by their National Grouping code. A Region is
# found by this code (lower-cased, its slug) or by this name before one is made.
REGIONS = {
    "Y56": "London",
    "Y58": "South West",
    "Y59": "South East",
    "Y60": "Midlands",
    "Y61": "East of England",
    "Y62": "North West",
    "Y63": "North East and Yorkshire",
}

# The Organisation.Kind values this module hands out (it may not import the model).
ACUTE, COMMUNITY, MENTAL_HEALTH, AMBULANCE, COMMISSIONER = (
    "acute",
    "community",
    "mental_health",
    "ambulance",
    "commissioner",
)
KINDS = {
    ACUTE,
    COMMUNITY,
    MENTAL_HEALTH,
    AMBULANCE,
    COMMISSIONER,
    "local_authority",
    "pcn",
    "voluntary",
}


@dataclass(frozen=True)
class Problem:
    """A row that cannot be read, or does not fit: where it is and why."""

    source: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source} line {self.line}: {self.reason}"


@dataclass(frozen=True)
class OdsRow:
    """One organisation as a file gives it, its name tidied (ODS publishes capitals)."""

    layout: Layout
    source: str
    line: int
    code: str
    name: str
    region: str  # National Grouping: the NHS England region
    icb: str  # the ICB the organisation belongs to; an ICB's own code for an ICB
    opened: date | None
    closed: date | None

    def is_closed(self, today: date) -> bool:
        return self.closed is not None and self.closed <= today

    @property
    def where(self) -> str:
        return f"{self.source} line {self.line}"


def layout_for(filename: str) -> Layout | None:
    """The layout a published file's name tells (etr.csv, eccg.zip, …), or None."""
    stem = PurePath(filename).name.lower().split(".")[0]
    if stem.startswith("etr"):
        return Layout.TRUSTS
    if stem.startswith("eccg") and "site" not in stem:
        return Layout.SUB_ICB
    if "icb" in stem and "sub" not in stem:
        return Layout.ICBS
    return None


def _date(value: str, column: str) -> tuple[date | None, str]:
    value = value.strip()
    if not value:
        return None, ""
    if not re.fullmatch(r"\d{8}", value):
        return None, f"{column} {value!r} is not a date as YYYYMMDD"
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:])), ""
    except ValueError:
        return None, f"{column} {value!r} is not a date"


def read_rows(
    text: str, *, layout: Layout, source: str, today: date
) -> tuple[list[OdsRow], list[Problem]]:
    """Every row of one file, and every problem with its rows. A closed organisation is only
    checked for its code and dates: it is reported, never stored, so its old groupings (a
    pre-2020 region, a CCG's long-gone area team) do not matter."""
    rows: list[OdsRow] = []
    problems: list[Problem] = []
    if "\x00" in text:
        return [], [Problem(source, text[: text.index("\x00")].count("\n") + 1,
                            "holds a NUL character: not a text file")]  # fmt: skip
    try:
        records = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        return [], [Problem(source, 0, f"cannot be read as CSV: {exc}")]
    for line, fields in enumerate(records, start=1):
        if not any(field.strip() for field in fields):
            continue

        def bad(reason: str, line: int = line) -> None:
            problems.append(Problem(source, line, reason))

        if len(fields) < MIN_COLUMNS:
            bad(
                f"{len(fields)} columns, where the ODS layout has at least {MIN_COLUMNS} "
                "(is this an ODS data file, without a header row?)"
            )
            continue
        code, raw_name, region, icb = (field.strip().upper() for field in fields[:4])
        # Not places that plan: NHS England's national commissioning hubs (Y99/Q99) and the
        # sub-ICB "reporting entities" the published sub-ICB file also carries.
        if layout is not Layout.ICBS and (
            region == "Y99" or icb == "Q99" or "REPORTING ENTITY" in raw_name
        ):
            continue
        name = tidy_name(fields[1])
        opened, opened_problem = _date(fields[10], "Open Date")
        closed, closed_problem = _date(fields[11], "Close Date")
        if not ODS_CODE.match(code):
            bad(f"Organisation Code {code!r} is not an ODS code (3 to 5 capitals or digits)")
            continue
        for problem in (opened_problem, closed_problem):
            if problem:
                bad(f"{code}: {problem}")
        if not raw_name:
            bad(f"{code} has no name")
        if layout is Layout.ICBS:
            icb = code
        row = OdsRow(layout, source, line, code, name, region, icb, opened, closed)
        if opened_problem or closed_problem or not raw_name:
            continue
        if not row.is_closed(today):
            if layout is Layout.ICBS and not ICB_CODE.match(code):
                bad(f"{code} is not an ICB code (Q and two capitals or digits)")
                continue
            if layout is Layout.ICBS and region not in REGIONS:
                bad(f"{code}: National Grouping {region!r} is not an NHS England region code")
                continue
            if layout is not Layout.ICBS and not ICB_CODE.match(icb):
                bad(
                    f"{code}: High Level Health Geography {icb!r} is not an ICB code, so the "
                    "organisation has no system"
                )
                continue
        rows.append(row)
    return rows, problems


_KEEP_CAPITALS = {"NHS", "ICB", "CCG", "CSU", "UK", "CIC", "II", "III"}
_SMALL_WORDS = {"AND", "OF", "THE", "FOR", "IN", "ON", "UPON", "AT", "BY", "WITH"}


def _tidy_word(word: str, first: bool) -> str:
    if word in _KEEP_CAPITALS or any(ch.isdigit() for ch in word):
        return word  # NHS, and codes in names ("NHS Somerset ICB - 11X")
    if word in _SMALL_WORDS and not first:
        return word.lower()
    return word[:1] + word[1:].lower()  # not str.title(), which writes "King'S"


def tidy_name(raw: str) -> str:
    """ODS names are in capitals; people read "King's College Hospital NHS Foundation Trust".
    A name already in mixed case is kept as published."""
    raw = " ".join(raw.split())
    if raw != raw.upper():
        return raw
    words = []
    for i, word in enumerate(raw.split(" ")):
        parts = word.split("-")
        words.append("-".join(_tidy_word(p, i == 0 and j == 0) for j, p in enumerate(parts)))
    return " ".join(words)


def trust_kind(name: str) -> str:
    """A new trust's kind, guessed from its name, as the ODS files do not say what a trust
    does: ambulance trusts say so; mental health trusts mostly say "mental health" or are
    "partnership" trusts (Sussex Partnership, Leeds and York Partnership); community trusts say
    "community"; everything else is taken to be acute. `--kind CODE=KIND` corrects a guess,
    and a kind set in Openbook is never changed by a later import without one."""
    upper = name.upper()
    if "AMBULANCE" in upper:
        return AMBULANCE
    if any(word in upper for word in ("MENTAL HEALTH", "PARTNERSHIP", "PSYCHIATRIC")):
        return MENTAL_HEALTH
    if "COMMUNITY" in upper:
        return COMMUNITY
    return ACUTE


def system_name(icb_name: str) -> str:
    """The integrated care system an ICB leads: "NHS Somerset Integrated Care Board" →
    "Somerset Integrated Care System"."""
    core = re.sub(r"^NHS\s+", "", icb_name.strip(), flags=re.IGNORECASE)
    core = re.sub(r"\s+(Integrated Care Board|ICB)$", "", core, flags=re.IGNORECASE)
    return f"{core} Integrated Care System"


def system_code(icb_code: str) -> str:
    """A system's code is its ICB's ODS code, lower-cased (qsl): ODS codes are never reused or
    changed, where names are, so a renamed ICB keeps its system."""
    return icb_code.lower()


def parse_kinds(values: list[str]) -> tuple[dict[str, str], list[str]]:
    """`--kind RXX=mental_health` options: the kinds, and what is wrong with any of them."""
    kinds: dict[str, str] = {}
    problems = []
    for value in values:
        code, _, kind = value.partition("=")
        code, kind = code.strip().upper(), kind.strip()
        if not ODS_CODE.match(code) or kind not in KINDS:
            problems.append(
                f"--kind {value!r}: give CODE=KIND, KIND one of {', '.join(sorted(KINDS))}"
            )
        else:
            kinds[code] = kind
    return kinds, problems
