"""What a line means comes from the template (its role, the line it balances with, its staff
group), not from its code: a template that renames its surplus, partner-income,
partner-spend, activity or pay and staff lines is collated and recalculated the same."""

import dataclasses
import datetime as dt
import re

import pytest
import yaml
from django.core.exceptions import ValidationError

from demo.synthetic import board_approver, plan_cells
from payments.inputs import gather
from plans.calculations import row_total
from plans.services import (
    BUILTIN_TEMPLATE,
    draft_save,
    narrative_save,
    submission_start,
    submission_submit,
    template_load,
)
from plans.system_plan import system_plan_get
from plans.template_definition import DefinitionError, normalise
from tests.plans.conftest import make_round

RENAMED = {"F900": "SURPLUS", "F100": "INCSYS", "F510": "SPENDSYS", "A1ELE": "PROVELECT",
           "A2ELE": "COMMELECT", "A1AAE": "PROVAE", "A2AAE": "COMMAE", "F2MEDS": "PAYDOCTORS",
           "WMEDS": "STAFFDOCTORS", "F2NURA": "PAYNURSEAGENCY", "WNURA": "NURSEAGENCY"}  # fmt: skip


def _definition():
    return yaml.safe_load(BUILTIN_TEMPLATE.read_text())


def _line(definition, code):
    return next(
        line for section in definition["sections"] for line in section["lines"]
        if line["code"] == code
    )  # fmt: skip


def test_the_built_in_template_names_its_roles():
    roles = {
        line["code"]: line["role"]
        for section in normalise(_definition())["sections"]
        for line in section["lines"]
        if "role" in line
    }
    assert roles == {"F100": "partner_income", "F510": "partner_spend", "F900": "surplus",
                     "P110": "month_end"}  # fmt: skip


@pytest.mark.parametrize(
    ("code", "role", "problem"),
    [
        ("F110", "profit", "role must be one of"),
        ("P100", "month_end", "a month_end line is in count"),  # a percentage
        ("F110", "partner_income", "a partner_income line has commissioner"),
        ("F110", "surplus", "line F900: only one line can be the surplus line (F110 is)"),
    ],
)
def test_roles_are_checked_when_a_template_is_read(code, role, problem):
    definition = _definition()
    _line(definition, code)["role"] = role
    with pytest.raises(DefinitionError, match=re.escape(problem)):
        normalise(definition)


def test_the_built_in_template_pairs_its_activity_and_groups_its_staff():
    lines = [line for section in normalise(_definition())["sections"] for line in section["lines"]]
    pairs = {line["code"]: line["balances_with"] for line in lines if "balances_with" in line}
    assert pairs == {f"A1{m}": f"A2{m}" for m in ("ELE", "DAY", "NEL", "OPF", "OPU", "AAE")}
    groups: dict[str, list[str]] = {}
    for line in lines:
        if "staff_group" in line:
            groups.setdefault(line["staff_group"], []).append(line["code"])
    assert len(groups) == 6
    assert groups["Medical and dental"] == ["F2MEDS", "F2MEDB", "F2MEDA", "WMEDS", "WMEDB", "WMEDA"]


@pytest.mark.parametrize(
    ("code", "key", "value", "problem"),
    [
        ("F110", "balances_with", "A2ELE", "F110: a line that balances with another is planned"),
        ("A1ELE", "balances_with", "A1DAY", "balances_with names A1DAY, which must be a line in"),
        ("A1ELE", "balances_with", "NOPE", "balances_with names NOPE"),
        ("A1DAY", "balances_with", "A2ELE", "line A1DAY: A2ELE balances with A1ELE"),
        ("P100", "staff_group", "Nursing", "a staff group's lines are pay (£000) or WTE"),
    ],
)
def test_pairs_and_staff_groups_are_checked_when_a_template_is_read(code, key, value, problem):
    definition = _definition()
    _line(definition, code)[key] = value
    with pytest.raises(DefinitionError, match=re.escape(problem)):
        normalise(definition)


def test_a_version_loaded_before_it_named_its_pairs_and_groups_is_the_same_version():
    from plans.template_definition import checksum

    # Version 1's checksum as every database that loaded it holds it, before its file named
    # roles, pairs or staff groups: naming them made no new version.
    loaded = "71c8204716aacdb9a2c21a25469b5f392a57f5d9499711365d3cdb392d5dce7f"
    assert checksum(normalise(_definition())) == loaded


def test_a_template_names_its_surplus_line():
    definition = _definition()
    del _line(definition, "F900")["role"]
    with pytest.raises(DefinitionError, match="the template names no surplus line"):
        normalise(definition)


def test_a_loaded_version_keeps_its_roles(tmp_path, db):
    template_load()
    changed = _definition()
    del _line(changed, "P110")["role"]
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(changed, allow_unicode=True))
    with pytest.raises(ValidationError, match="other roles, pairs or staff groups for P110"):
        template_load(path=path)


def test_a_month_end_count_is_its_march_position_whatever_its_section():
    months = {m: m for m in range(1, 13)}
    assert row_total("count", months, "month_end") == 12
    assert row_total("count", months) == 78


def _renamed_round(tmp_path):
    text = BUILTIN_TEMPLATE.read_text()
    for old, new in RENAMED.items():
        text = text.replace(old, new)
    definition = yaml.safe_load(text)
    definition["code"] = "operational-plan-renamed"
    path = tmp_path / "renamed.yaml"
    path.write_text(yaml.safe_dump(definition, allow_unicode=True))
    version, _ = template_load(path=path)
    return make_round(slug="renamed", name="Renamed lines", template_version=version)


def _submit(plan_round, organisation, cells):
    approver = board_approver(organisation)
    submission = submission_start(actor=approver, plan_round=plan_round, organisation=organisation)
    draft_save(actor=approver, submission=submission, cells=cells)
    narrative_save(actor=approver, submission=submission, section_code="summary", text="Plan")
    submission_submit(actor=approver, submission=submission,
                      board_approval_date=dt.date.today(), confirmed=True)  # fmt: skip


@pytest.mark.django_db
def test_a_template_that_renames_its_role_lines_collates_and_recalculates_the_same(world, tmp_path):
    original = make_round()
    renamed = _renamed_round(tmp_path)
    for organisation in (world.org_a, world.commissioner):
        cells = plan_cells(original, organisation)
        _submit(original, organisation, cells)
        _submit(renamed, organisation, [
            dataclasses.replace(cell, line=RENAMED.get(cell.line, cell.line)) for cell in cells
        ])  # fmt: skip
    lead = world.people["lead"]
    before, after = (system_plan_get(lead, r, world.s1) for r in (original, renamed))

    # The recalculation's planned surplus for each partner.
    planned = gather(original, world.s1)["planned"]
    assert set(planned) == {"ZA1", "ZA3"} and all(planned.values())
    assert gather(renamed, world.s1)["planned"] == planned
    # The system plan: surplus by partner, the consolidation's eliminations, the agreement
    # of balances between the provider's income and the commissioner's spending.
    assert after.surplus_by_organisation == before.surplus_by_organisation
    assert before.surplus_by_organisation["ZA1"] == planned["ZA1"]
    assert any(before.consolidated.eliminated.values())
    assert after.consolidated == before.consolidated
    assert before.income_balances
    assert [(b.provider, b.commissioner, b.difference) for b in after.income_balances] == [
        (b.provider, b.commissioner, b.difference) for b in before.income_balances
    ]
    # Activity agreed between the pairs the template names, and pay per WTE by its groups.
    assert len({b.measure for b in before.activity_balances}) == 6

    def activity(plan):
        return [(b.provider, b.commissioner, b.difference) for b in plan.activity_balances]

    assert activity(after) == activity(before)
    assert after.pay_checks == before.pay_checks and len(before.pay_checks) == 6
