"""Moving a live round to a new template version: three drafts migrated, submitted versions
kept on theirs, the organisation told what changed, collation across the two versions."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from demo.synthetic import board_approver, plan_cells
from openbook.audit import AuditEvent
from plans import selectors
from plans.cells import CellInput
from plans.models import (
    DraftMigration,
    Line,
    Narrative,
    PlanningRound,
    TableRow,
    TemplateRevision,
    Value,
    Version,
)
from plans.services import (
    BUILTIN_TEMPLATES,
    CURRENT_TEMPLATE,
    draft_save,
    narrative_save,
    round_revise,
    submission_start,
    submission_submit,
    template_load,
)
from plans.system_plan import system_plan_get
from tests.plans.conftest import make_round

V2 = BUILTIN_TEMPLATES[1]


@pytest.fixture
def three_drafts(world):
    """A round on version 2: the acute trust's draft (every figure, a narrative), the
    community trust's plan submitted, and the ICB's draft with its allocations typed."""
    v2, _ = template_load(path=V2)
    plan_round = make_round(template_version=v2)
    acute = submission_start(actor=world.people["member"], plan_round=plan_round,
                             organisation=world.org_a)  # fmt: skip
    draft_save(actor=world.people["member"], submission=acute,
               cells=plan_cells(plan_round, world.org_a))  # fmt: skip
    narrative_save(actor=world.people["member"], submission=acute, section_code="summary",
                   text="Our plan")  # fmt: skip
    community_approver = board_approver(world.org_b)
    community = submission_start(actor=community_approver, plan_round=plan_round,
                                 organisation=world.org_b)  # fmt: skip
    draft_save(actor=community_approver, submission=community,
               cells=plan_cells(plan_round, world.org_b))  # fmt: skip
    narrative_save(actor=community_approver, submission=community, section_code="summary",
                   text="Plan")  # fmt: skip
    submission_submit(actor=community_approver, submission=community,
                      board_approval_date=dt.date.today(), confirmed=True)  # fmt: skip
    icb_approver = board_approver(world.commissioner)
    icb = submission_start(actor=icb_approver, plan_round=plan_round,
                           organisation=world.commissioner)  # fmt: skip
    draft_save(actor=icb_approver, submission=icb,
               cells=[c for c in plan_cells(plan_round, world.commissioner)
                      if c.line.startswith(("ALL", "CSP"))])  # fmt: skip
    return plan_round, acute, community, icb


def _draft_lines(submission):
    draft = Version.objects.get(submission=submission, number=0)
    return set(Value.objects.filter(version=draft).values_list("line__section__template_version",
                                                                 flat=True))  # fmt: skip


@pytest.mark.django_db
def test_a_revision_migrates_every_draft_and_keeps_submitted_versions(world, three_drafts, client):
    plan_round, acute, community, icb = three_drafts
    v3, _ = template_load(path=CURRENT_TEMPLATE)
    before = selectors.version_cells(acute.versions.get(number=0))
    submitted_before = selectors.version_cells(community.versions.get(number=1))
    with pytest.raises(PermissionDenied):
        round_revise(actor=world.people["member"], plan_round=plan_round, to_version=v3,
                     reason="Schemes")  # fmt: skip
    with pytest.raises(ValidationError):
        round_revise(actor=world.people["admin"], plan_round=plan_round, to_version=v3,
                     reason=" ")  # fmt: skip
    # Through the administrator's page, whose requests cannot read the drafts themselves.
    client.force_login(world.people["admin"])
    form = client.get("/rounds/2026-27/revise/")
    assert form.status_code == 200 and "Revise the template now" in form.content.decode()
    done = client.post("/rounds/2026-27/revise/", {
        "to_version": v3.pk,
        "reason": "Version 3 lists efficiency and capital schemes one by one.",
    }, follow=True)  # fmt: skip
    revision = TemplateRevision.objects.get()
    assert done.status_code == 200 and "Working drafts moved" in done.content.decode()
    plan_round.refresh_from_db()
    assert plan_round.template_version == v3
    # Every draft is on version 3's lines now; the submitted version keeps version 2's.
    for submission in (acute, community, icb):
        assert _draft_lines(submission) <= {v3.pk}
    assert selectors.version_cells(community.versions.get(number=1)) == submitted_before
    # The acute draft: its typed efficiency and capital are now the schemes' to give, so they
    # are taken out and listed; everything else carried over as it was.
    migration = DraftMigration.objects.get(revision=revision, submission=acute)
    dropped = {d["line"] for d in migration.dropped}
    assert dropped == {"EFRP", "EFRN", "EFNP", "EFNN", "CAPEST", "CAPMED", "CAPIT", "CAPLEA",
                       "CAPOTH"}  # fmt: skip
    after = selectors.version_cells(acute.versions.get(number=0))
    assert after == {k: v for k, v in before.items() if k[0] not in dropped}
    assert migration.carried == len(after)
    assert Narrative.objects.filter(version__submission=acute, version__number=0,
                                    section__template_version=v3).count() == 1  # fmt: skip
    # The ICB's typed allocations are now NHS England's to provide: taken out, and listed.
    icb_migration = DraftMigration.objects.get(revision=revision, submission=icb)
    assert {"ALLCORE", "ALLPC", "ALLSPEC"} <= {d["line"] for d in icb_migration.dropped}
    assert AuditEvent.objects.filter(action="draft.migrated").count() == 3
    assert AuditEvent.objects.filter(action="round.template_revised").count() == 1


@pytest.mark.django_db
def test_new_required_lines_and_dropped_tables_are_listed(world, three_drafts, tmp_path):
    plan_round, acute, _community, _icb = three_drafts
    v3, _ = template_load(path=CURRENT_TEMPLATE)
    round_revise(actor=world.people["admin"], plan_round=plan_round, to_version=v3,
                 reason="Schemes")  # fmt: skip
    from plans.services import table_save

    table_save(actor=world.people["member"], submission=acute, section_code="capital_schemes",
               rows=[_capital()],
               started=None)  # fmt: skip
    # Version 4: last year's one-off items now required, the capital schemes gone.
    for path in (V2, CURRENT_TEMPLATE):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "operational-plan-v4.yaml").write_text(
        "based_on: operational-plan-v3.yaml\nversion: 4\ndrop: [capital_schemes]\n"
        "sections:\n  - code: bridge\n    line_changes:\n      LYNR: {required: true}\n"
    )
    v4, _ = template_load(path=tmp_path / "operational-plan-v4.yaml")
    revision = round_revise(actor=world.people["admin"], plan_round=PlanningRound.objects.get(),
                            to_version=v4, reason="One-off items are needed")  # fmt: skip
    migration = DraftMigration.objects.get(revision=revision, submission=acute)
    assert {"line": "LYNR", "label": "Non-recurrent items in last year's outturn",
            "section": "bridge"} in migration.new_required  # fmt: skip
    assert any(d["line"] == "table: Capital schemes" for d in migration.dropped)
    assert not TableRow.objects.filter(version__submission=acute, version__number=0).exists()
    # The fed capital lines are version 3's no longer: nothing feeds them, nothing typed.
    assert not Line.objects.filter(section__template_version=v4).exclude(fed_by="").filter(
        fed_by="capital_schemes").exists()  # fmt: skip


def _capital():
    from plans.tables import RowInput

    return RowInput({"name": "CT scanner", "asset_type": "Medical equipment",
                     "funding": "Operational capital"}, {6: "900"})  # fmt: skip


@pytest.mark.django_db
def test_collation_across_a_revision_compares_by_line(world, three_drafts, client):
    plan_round, acute, community, _icb = three_drafts
    system = world.org_a.system
    surplus_before = system_plan_get(
        world.people["lead"], plan_round, system
    ).surplus_by_organisation
    client.force_login(world.people["member"])
    old_workbook = io.BytesIO(client.get("/rounds/2026-27/ZA1/download.xlsx").content)
    old_workbook.name = "plan.xlsx"
    v3, _ = template_load(path=CURRENT_TEMPLATE)
    round_revise(actor=world.people["admin"], plan_round=plan_round, to_version=v3,
                 reason="Schemes")  # fmt: skip
    plan_round.refresh_from_db()
    # The community trust's plan, submitted on version 2, still counts, line by line.
    plan = system_plan_get(world.people["lead"], plan_round, system)
    assert plan.surplus_by_organisation == surplus_before
    assert surplus_before["ZA2"] != Decimal(0)
    # The organisation reads what happened on its plan page; a partner reads only the why.
    client.force_login(world.people["member"])
    page = client.get("/rounds/2026-27/ZA1/").content.decode()
    assert "The template changed on" in page and "EFRP" in page
    client.force_login(world.people["partner"])
    partner = client.get("/rounds/2026-27/ZA1/").content.decode()
    assert "The template changed on" in partner and "EFRP" not in partner
    # A workbook downloaded before the revision is refused, saying which version to use; one
    # downloaded now round-trips.
    client.force_login(world.people["member"])
    refused = client.post("/rounds/2026-27/ZA1/upload/", {"file": old_workbook})
    assert "This workbook uses template version 2; the round uses version 3" in (
        refused.content.decode())  # fmt: skip
    fresh = io.BytesIO(client.get("/rounds/2026-27/ZA1/download.xlsx").content)
    fresh.name = "plan.xlsx"
    assert client.post("/rounds/2026-27/ZA1/upload/", {"file": fresh}).status_code == 302
    # A figure typed on version 3 after the revision saves as any other.
    draft_save(actor=world.people["member"], submission=acute,
               cells=[CellInput("BRINF", 1, "-10")])  # fmt: skip
