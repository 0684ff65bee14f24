"""Reading the ODS files (accounts/ods.py): pure, no database."""

from datetime import date

import pytest

from accounts import ods
from accounts.ods import Layout

TODAY = date(2025, 6, 1)


def line(code="RZ1", name="A NHS TRUST", ng="Y60", hlhg="QZA", opened="20000401", closed=""):
    fields = [code, name, ng, hlhg, "", "", "", "", "", "ZZ1 1ZZ", opened, closed] + [""] * 15
    return ",".join(f'"{f}"' for f in fields) + "\r\n"


def test_a_row_is_read_from_the_standard_columns():
    rows, problems = ods.read_rows(
        line(name="ST GEORGE'S UNIVERSITY HOSPITALS NHS FOUNDATION TRUST", closed="20300331"),
        layout=Layout.TRUSTS,
        source="etr.csv",
        today=TODAY,
    )
    assert problems == []
    (row,) = rows
    assert (row.code, row.region, row.icb, row.line) == ("RZ1", "Y60", "QZA", 1)
    assert row.name == "St George's University Hospitals NHS Foundation Trust"
    assert row.opened == date(2000, 4, 1) and row.closed == date(2030, 3, 31)
    assert not row.is_closed(TODAY)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('"RZ1","X"\r\n', "2 columns"),
        (line(code="rz-1"), "is not an ODS code"),
        (line(code="RZ123X"), "is not an ODS code"),
        (line(name=""), "has no name"),
        (line(opened="2000-04-01"), "Open Date '2000-04-01' is not a date as YYYYMMDD"),
        (line(closed="20230230"), "Close Date '20230230' is not a date"),
        (line(hlhg=""), "is not an ICB code"),
        (line(hlhg="Y60"), "is not an ICB code"),
    ],
)
def test_a_bad_trust_row_is_named_with_its_line(text, reason):
    rows, problems = ods.read_rows(
        line() + text, layout=Layout.TRUSTS, source="etr.csv", today=TODAY
    )
    assert len(rows) == 1
    (problem,) = problems
    assert problem.line == 2 and reason in problem.reason
    assert str(problem).startswith("etr.csv line 2: ")


def test_an_icb_needs_a_q_code_and_a_region():
    text = line(code="QZA", ng="Y60") + line(code="RZ1") + line(code="QZB", ng="Y99")
    rows, problems = ods.read_rows(text, layout=Layout.ICBS, source="eicb.csv", today=TODAY)
    assert [r.code for r in rows] == ["QZA"] and rows[0].icb == "QZA"
    assert [(p.line, p.reason.split(":")[0]) for p in problems] == [
        (2, "RZ1 is not an ICB code (Q and two capitals or digits)"),
        (3, "QZB"),
    ]


def test_a_closed_row_is_not_held_to_todays_groupings():
    # A CCG closed in 2020 under a region code since retired.
    rows, problems = ods.read_rows(
        line(code="05X", ng="Y55", hlhg="Q77", closed="20200331"),
        layout=Layout.SUB_ICB,
        source="eccg.csv",
        today=TODAY,
    )
    assert problems == [] and rows[0].is_closed(TODAY)


@pytest.mark.parametrize(
    ("filename", "layout"),
    [
        ("etr.csv", Layout.TRUSTS),
        ("/downloads/ETR.zip", Layout.TRUSTS),
        ("eccg.csv", Layout.SUB_ICB),
        ("eccgsite.csv", None),
        ("eicb.csv", Layout.ICBS),
        ("icbs-2025.csv", Layout.ICBS),
        ("epraccur.csv", None),
    ],
)
def test_the_layout_is_told_by_the_published_file_name(filename, layout):
    assert ods.layout_for(filename) is layout


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("East Midlands Ambulance Service NHS Trust", "ambulance"),
        ("Sussex Partnership NHS Foundation Trust", "mental_health"),
        ("Avon and Wiltshire Mental Health Partnership NHS Trust", "mental_health"),
        ("Birmingham Community Healthcare NHS Foundation Trust", "community"),
        ("Somerset NHS Foundation Trust", "acute"),
    ],
)
def test_a_new_trusts_kind_is_guessed_from_its_name(name, kind):
    assert ods.trust_kind(name) == kind


def test_names_systems_and_kind_options():
    assert ods.tidy_name("NHS  STOKE-ON-TRENT ICB - 05W") == "NHS Stoke-on-Trent ICB - 05W"
    assert ods.tidy_name("Already Mixed Case") == "Already Mixed Case"
    assert ods.system_name("NHS Somerset Integrated Care Board") == (
        "Somerset Integrated Care System"
    )
    assert ods.system_code("QSL") == "qsl"
    kinds, problems = ods.parse_kinds(["rz1=mental_health", "RZ2=hospital", "nonsense"])
    assert kinds == {"RZ1": "mental_health"} and len(problems) == 2


def test_national_commissioning_hubs_and_reporting_entities_are_read_past():
    """The published sub-ICB file carries both; neither plans, and neither has a system."""
    text = (line("13Q", "NATIONAL COMMISSIONING HUB 1", "Y99", "Q99")
            + line("99X", "NHS SOMEWHERE SUB-ICB REPORTING ENTITY", "Y60", "QZA")
            + line("15M", "NHS SOMEWHERE ICB - 15M", "Y60", "QZA"))  # fmt: skip
    rows, problems = ods.read_rows(text, layout=Layout.SUB_ICB, source="eccg.csv", today=TODAY)
    assert problems == [] and [r.code for r in rows] == ["15M"]


def test_a_file_with_a_nul_character_is_refused_by_line():
    rows, problems = ods.read_rows(line() + 'RZ2,"A\x00B"\r\n', layout=Layout.TRUSTS,
                                   source="etr.csv", today=TODAY)  # fmt: skip
    assert rows == [] and problems[0].line == 2 and "NUL" in problems[0].reason
