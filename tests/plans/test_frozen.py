"""A frozen template version's lines are read once per process, and read again the moment the
stored version is not what was read (help text refreshed, or the database rebuilt)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.inputs import _surplus_coefficients
from plans import frozen
from plans.models import Line
from plans.system_plan import template_lines

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty():
    frozen.forget()
    yield
    frozen.forget()


def test_a_version_is_read_once_then_shared(plan_round):
    first = template_lines(plan_round)
    with CaptureQueriesContext(connection) as queries:
        again = template_lines(plan_round)
    assert again is first
    assert len(queries) == 1  # only what the version is now, not its lines
    assert "plans_line" not in queries[0]["sql"]
    assert _surplus_coefficients(plan_round) is _surplus_coefficients(plan_round)


def test_a_changed_definition_is_read_again(plan_round):
    first = template_lines(plan_round)
    version = plan_round.template_version
    line = Line.objects.filter(section__template_version=version).first()
    line.label = "Relabelled in place"
    line.save(update_fields=["label"])
    # What a help refresh does: the stored definition changes with the lines.
    version.definition = version.definition | {"touched": True}
    version.save(update_fields=["definition"])
    again = template_lines(plan_round)
    assert again is not first
    assert again.labels[line.code] == "Relabelled in place"


def test_shared_lines_are_the_templates_in_order(plan_round):
    shared = template_lines(plan_round)
    stored = list(
        Line.objects.filter(section__template_version=plan_round.template_version)
        .order_by("section__position", "position")
        .values_list("code", flat=True)
    )
    assert [line.code for line in shared.lines] == stored
