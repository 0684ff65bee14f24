"""Reading a people file: a CSV with a heading row naming the columns e-mail, name, code and
role, in any order and in the spellings people type (case and punctuation aside), as
spreadsheets save it (UTF-8 with or without Excel's byte-order mark, or Windows text; any
line endings). What each row says is checked in accounts/people_import.py.

The code column says where the role is held: an organisation's ODS code for an
organisation's roles, a system's code for a system's, a region's code for a region's."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from accounts.models import ORGANISATION_ROLES, REGION_ROLES, SYSTEM_ROLES, Role
from openbook.csvtext import CsvTooLong, CsvUnreadable, csv_rows

MAX_BYTES = 1024 * 1024  # a thousand people's rows are about 80 kB

EMAIL, NAME, CODE, ROLE = "email", "name", "code", "role"
COLUMNS = (EMAIL, NAME, CODE, ROLE)
TEMPLATE_HEADING = ("email", "name", "organisation code", "role")


def words(text: str) -> str:
    """Lower-case letters and digits, one space between words: "E-mail_Address " → "e mail
    address"."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _squashed(text: str) -> str:
    return words(text).replace(" ", "")


# Headings, without spaces or punctuation: "E-mail address", "Full name", "ODS code", …
HEADINGS = {
    **dict.fromkeys(("email", "emailaddress", "mail", "emails"), EMAIL),
    **dict.fromkeys(("name", "fullname", "names", "personname"), NAME),
    **dict.fromkeys(
        (
            "organisationcode",
            "organizationcode",
            "orgcode",
            "odscode",
            "code",
            "organisation",
            "organization",
            "place",
            "placecode",
            "organisationorsystemcode",
        ),
        CODE,
    ),  # fmt: skip
    **dict.fromkeys(("role", "roles"), ROLE),
}

ROLE_WORDS: dict[str, tuple[Role, ...]] = {}
for _role in Role:
    ROLE_WORDS[words(_role.value)] = (_role,)
    ROLE_WORDS[words(_role.label)] = (_role,)
ROLE_WORDS |= {
    "organization viewer": (Role.ORG_VIEWER,),
    "organisation preparer": (Role.ORG_PREPARER,),
    "organization preparer": (Role.ORG_PREPARER,),
    "organisation approver": (Role.ORG_APPROVER,),
    "organization approver": (Role.ORG_APPROVER,),
    "lead": (Role.SYSTEM_LEAD,),
    "region reviewer": (Role.REGION_REVIEWER,),
    "reviewer": (Role.REGION_REVIEWER,),
    # Either kind of viewer: the code says which.
    "viewer": (Role.ORG_VIEWER, Role.SYSTEM_VIEWER),
}
ROLE_NAMES = ", ".join(r.label for r in Role)
KIND_ROLES = {"organisation": ORGANISATION_ROLES, "system": SYSTEM_ROLES, "region": REGION_ROLES}


def kind_of(role: Role) -> str:
    return next(kind for kind, roles in KIND_ROLES.items() if role in roles)


@dataclass(frozen=True)
class Line:
    """One row of the file as written (cells stripped), with the heading of each column."""

    row: int  # as the spreadsheet numbers it: the heading is row 1
    email: str
    name: str
    code: str
    role: str


@dataclass(frozen=True)
class Sheet:
    lines: list[Line]
    headings: dict[str, str]  # column → its heading as the file writes it
    ignored: list[str]  # headings of columns not read
    problems: list[dict]  # rows with more cells than the heading has


def file_text(data: bytes) -> str:
    """The file's text: UTF-8 (Excel's "CSV UTF-8" starts with a byte-order mark, dropped
    here), else Windows text (Excel's plain "CSV" on Windows)."""
    if len(data) > MAX_BYTES:
        raise ValidationError(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB, so it was not read; a "
            "people file is a row a person. Split it into smaller files."
        )
    if b"\x00" in data:
        raise ValidationError("The file is not a CSV text file (save it from the spreadsheet "
                              "as CSV).")  # fmt: skip
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_sheet(text: str, *, max_rows: int) -> Sheet:
    """The rows of a people file, each with its four cells. Refuses (ValidationError) a file
    that cannot be read, has too many rows, or whose heading lacks a column."""
    try:
        rows = csv_rows(text.lstrip("\ufeff"), max_rows=1 + max_rows)
    except CsvTooLong:
        raise ValidationError(
            f"The file has more than {max_rows:,} people in it (one a row after the heading); "
            "split it into smaller files."
        ) from None
    except CsvUnreadable as exc:
        raise ValidationError(str(exc)) from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ValidationError(
            "The first row must name the columns: email, name, organisation code, role."
        )
    position: dict[str, int] = {}
    headings: dict[str, str] = {}
    ignored = []
    for index, heading in enumerate(rows[0]):
        column = HEADINGS.get(_squashed(heading))
        if column is None:
            if heading.strip():
                ignored.append(heading.strip())
            continue
        if column in position:
            raise ValidationError(
                f"The heading has two {column} columns (“{headings[column]}” and "
                f"“{heading.strip()}”); keep one."
            )
        position[column] = index
        headings[column] = heading.strip()
    missing = [c for c in COLUMNS if c not in position]
    if missing:
        found = ", ".join(f"“{h.strip()}”" for h in rows[0] if h.strip())
        raise ValidationError(
            f"The first row must name the columns email, name, organisation code and role; "
            f"it has no {' or '.join(missing)} column (it has {found})."
        )
    lines, problems = [], []
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if any(cell.strip() for cell in row[width:]):
            problems.append({"row": number, "column": "", "cell": f"Row {number}",
                             "value": ",".join(row[width:]),
                             "problem": f"has more cells than the heading's {width}"})  # fmt: skip
            continue
        cells = {c: (row[i].strip() if i < len(row) else "") for c, i in position.items()}
        lines.append(Line(number, **cells))
    return Sheet(lines, headings, ignored, problems)


def template_csv() -> str:
    """The example file the page offers: the heading and one row of each kind of place."""
    return "\r\n".join([
        ",".join(TEMPLATE_HEADING),
        "jane.smith@nhs.net,Jane Smith,RX1,Preparer",
        "sam.jones@nhs.net,Sam Jones,RX1,Approver",
        "alex.brown@nhs.net,Alex Brown,qe1,System lead",
        "chris.green@nhs.net,Chris Green,y61,Regional reviewer",
        "",
    ])  # fmt: skip
