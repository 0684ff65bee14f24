"""Row-level security, the second wall: PostgreSQL's own policies on the tenant tables give a
query, however it was written, only the rows accounts/policy.py allows the scope it runs in.

Every query here is raw SQL that names no organisation, system or person: the wall alone
decides what it sees. Rows are made as the tables' owner (which no policy binds), then read
and written as the application role in a scope (accounts/rowsecurity.py).
"""

# ruff: noqa: S608  (the SQL here is put together from constant table and column names)
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts import policy, rowsecurity
from plans.models import Line, Section
from tests.conftest import ACTORS
from tests.plans.conftest import make_round

pytestmark = pytest.mark.django_db


def tenant_rows(world) -> None:
    """A row in every table with policies, for organisations and systems on both sides of
    every line: A (submitted, with its draft) and B (a draft only) in system One, X
    (submitted) in system Two of the same region, Y (a draft only) in system Three."""
    from payments.models import (
        Agreement,
        AgreementSignature,
        AgreementVersion,
        RecalculationRun,
        Settlement,
        SettlementResponse,
        SystemResult,
        Transfer,
        TransferDecision,
        TransferLine,
    )
    from plans.models import (
        CellChange,
        Comment,
        DraftEdit,
        MonthlyReturn,
        Narrative,
        ReturnValue,
        ReturnVersion,
        Submission,
        Value,
        Version,
        YearTotals,
    )

    plan_round = make_round()
    line = Line.objects.filter(section__template_version=plan_round.template_version).first()
    section = Section.objects.filter(template_version=plan_round.template_version).first()
    admin, now, one = world.people["admin"], timezone.now(), Decimal(1)
    for organisation, submitted in (
        (world.org_a, True), (world.org_b, False), (world.org_x, True), (world.org_y, False),
    ):  # fmt: skip
        status = Submission.Status.SUBMITTED if submitted else Submission.Status.DRAFT
        plan = Submission.objects.create(round=plan_round, organisation=organisation, status=status)
        monthly = MonthlyReturn.objects.create(round=plan_round, organisation=organisation, month=3)
        Comment.objects.create(submission=plan, author=admin, body="A question")
        for number in (0, 1) if submitted else (0,):
            approved = dt.date.today() if number else None
            version = Version.objects.create(
                submission=plan, number=number, board_approval_date=approved
            )
            Value.objects.create(version=version, line=line, month=1, value=one)
            Narrative.objects.create(version=version, section=section, text="Our plan")
            if number:
                YearTotals.objects.create(version=version)
            else:
                edit = DraftEdit.objects.create(version=version, revision=1, at=now, source="grid")
                CellChange.objects.create(edit=edit, version=version, line=line, month=1, after=one)
            returned = ReturnVersion.objects.create(
                monthly_return=monthly, number=number, created_by=admin
            )
            ReturnValue.objects.create(version=returned, line=line, month=1, value=one)
    for system, partners in (
        (world.s1, [world.org_a, world.org_b]), (world.s2, [world.org_x]), (world.s3, [world.org_y]),
    ):  # fmt: skip
        transfer = Transfer.objects.create(
            round=plan_round, system=system, proposed_by=admin, reason="Balance"
        )
        TransferLine.objects.create(transfer=transfer, organisation=partners[0], amount=one)
        TransferDecision.objects.create(transfer=transfer, decided_by=admin, agreed=True)
        agreement = Agreement.objects.create(
            round=plan_round, system=system, name="Pool", created_by=admin
        )
        terms = AgreementVersion.objects.create(agreement=agreement, number=1, created_by=admin)
        terms.partners.set(partners)
        AgreementSignature.objects.create(version=terms, organisation=partners[0], signed_by=admin)
        settlement = Settlement.objects.create(
            agreement=agreement, version=terms, period="Q1", measures={}, created_by=admin
        )
        SettlementResponse.objects.create(
            settlement=settlement, organisation=partners[0], accepted=True, responded_by=admin
        )
        SystemResult.objects.create(
            round=plan_round, system=system, inputs_hash="-", computed_at=now, data={}
        )
        RecalculationRun.objects.create(round=plan_round, system=system, trigger="test")


_VERSION_OF = "JOIN plans_version v ON v.id = t.version_id "
_PLAN_OF = "JOIN plans_submission s ON s.id = {}.submission_id"
_RETURN_VERSION_OF = "JOIN plans_returnversion v ON v.id = t.version_id "
_RETURN_OF = "JOIN plans_monthlyreturn r ON r.id = {}.monthly_return_id"
_AGREEMENT_OF = "JOIN payments_agreement a ON a.id = {}.agreement_id"

# Every table with policies: (its rows' ids, the organisation or system each belongs to and
# whether it is a draft, read as the owner; which rule of accounts/policy.py decides).
TABLES = {
    "plans_submission": ("SELECT t.id, t.organisation_id, NULL FROM plans_submission t",
                         "organisation"),
    "plans_version": ("SELECT t.id, s.organisation_id, t.number = 0 FROM plans_version t "
                      + _PLAN_OF.format("t"), "version"),
    **{
        table: (f"SELECT t.{key}, s.organisation_id, v.number = 0 FROM {table} t "
                + _VERSION_OF + _PLAN_OF.format("v"), "version")
        for table, key in (("plans_value", "id"), ("plans_narrative", "id"),
                           ("plans_yeartotals", "version_id"), ("plans_draftedit", "id"),
                           ("plans_cellchange", "id"))
    },
    # Third column: whether the plan has no submitted version yet (then, like a draft, its
    # comments are the organisation's own, as the plan's page shows them).
    "plans_comment": ("SELECT t.id, s.organisation_id, NOT EXISTS (SELECT 1 FROM plans_version "
                      "v WHERE v.submission_id = s.id AND v.number > 0) FROM plans_comment t "
                      + _PLAN_OF.format("t"), "comment"),
    "plans_monthlyreturn": ("SELECT t.id, t.organisation_id, NULL FROM plans_monthlyreturn t",
                            "organisation"),
    "plans_returnversion": ("SELECT t.id, r.organisation_id, t.number = 0 "
                            "FROM plans_returnversion t " + _RETURN_OF.format("t"), "version"),
    "plans_returnvalue": ("SELECT t.id, r.organisation_id, v.number = 0 FROM plans_returnvalue t "
                          + _RETURN_VERSION_OF + _RETURN_OF.format("v"), "version"),
    "payments_transfer": ("SELECT id, system_id, NULL FROM payments_transfer", "system"),
    **{
        table: (f"SELECT t.id, p.system_id, NULL FROM {table} t "
                "JOIN payments_transfer p ON p.id = t.transfer_id", "system")
        for table in ("payments_transferline", "payments_transferdecision")
    },
    "payments_agreement": ("SELECT id, system_id, NULL FROM payments_agreement", "system"),
    "payments_agreementversion": ("SELECT t.id, a.system_id, NULL FROM payments_agreementversion t "
                                  + _AGREEMENT_OF.format("t"), "system"),
    **{
        table: (f"SELECT t.id, a.system_id, NULL FROM {table} t "
                f"JOIN payments_agreementversion av ON av.id = t.{column} "
                + _AGREEMENT_OF.format("av"), "system")
        for table, column in (("payments_agreementversion_partners", "agreementversion_id"),
                              ("payments_agreementsignature", "version_id"))
    },
    "payments_settlement": ("SELECT t.id, a.system_id, NULL FROM payments_settlement t "
                            + _AGREEMENT_OF.format("t"), "system"),
    "payments_settlementresponse": ("SELECT t.id, a.system_id, NULL FROM "
                                    "payments_settlementresponse t JOIN payments_settlement st "
                                    "ON st.id = t.settlement_id " + _AGREEMENT_OF.format("st"),
                                    "system"),
    "payments_systemresult": ("SELECT id, system_id, NULL FROM payments_systemresult", "system"),
    "payments_recalculationrun": ("SELECT id, system_id, NULL FROM payments_recalculationrun",
                                  "system"),
}  # fmt: skip


def _rows(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _ids(table: str) -> set[int]:
    key = "version_id" if table == "plans_yeartotals" else "id"
    return {row[0] for row in _rows(f"SELECT {key} FROM {table}")}  # noqa: S608 (our names)


def _allowed(user, rule: str, place: int, draft: bool | None) -> bool:
    """What accounts/policy.py says (administrators included: every system, no one's drafts
    but their own organisations')."""
    from accounts.models import Organisation, System

    if rule == "system":
        return policy.can_view_system(user, System.objects.get(pk=place))
    organisation = Organisation.objects.get(pk=place)
    if rule == "version" and draft:
        return policy.can_view_drafts(user, organisation)
    if rule == "version":
        return policy.can_view_submitted(user, organisation)
    if rule == "comment" and draft:
        return policy.can_view_drafts(user, organisation)
    return policy.can_read_comments(user, organisation)  # sees the organisation's plans


@pytest.mark.parametrize("actor", ACTORS)
def test_every_tenant_table_shows_each_person_what_the_policy_allows(world, actor):
    tenant_rows(world)
    user = world.people.get(actor, AnonymousUser())
    expected = {
        table: {pk for pk, place, draft in _rows(sql) if _allowed(user, rule, place, draft)}
        for table, (sql, rule) in TABLES.items()
    }
    with rowsecurity.acting_for(user):
        seen = {table: _ids(table) for table in TABLES}
    assert seen == expected
    assert any(expected.values()) == (actor != "anonymous")


def test_a_raw_query_that_forgets_the_selector_still_gets_only_the_own_organisations_drafts(
    world,
):
    tenant_rows(world)
    drafts = """
        SELECT o.ods_code, count(val.id) FROM plans_version v
        JOIN plans_submission s ON s.id = v.submission_id
        JOIN accounts_organisation o ON o.id = s.organisation_id
        LEFT JOIN plans_value val ON val.version_id = v.id
        WHERE v.number = 0 GROUP BY o.ods_code ORDER BY o.ods_code
    """
    assert [ods for ods, _ in _rows(drafts)] == ["ZA1", "ZA2", "ZX1", "ZY1"]  # as the owner
    with rowsecurity.acting_for(world.people["member"]):
        assert _rows(drafts) == [("ZA1", 1)]  # not B's, a partner in the same system
    with rowsecurity.acting_for(world.people["partner"]):
        assert _rows(drafts) == [("ZA2", 1)]
    with rowsecurity.acting_for(world.people["lead"]):
        assert _rows(drafts) == []  # the system lead sees submitted plans, no drafts


def test_no_scope_sees_no_tenant_rows_and_the_platform_scope_sees_them_all(world):
    tenant_rows(world)
    everything = {table: _ids(table) for table in TABLES}
    assert all(everything.values())
    with rowsecurity.scoped(rowsecurity.NO_ONE):
        assert {table: _ids(table) for table in TABLES} == dict.fromkeys(TABLES, set())
        # The bare role, no scope set at all: nothing either.
        _rows("SELECT set_config('openbook.scope', '', true), set_config('openbook.user_id', "
              "'', true)")  # fmt: skip
        assert not any(_ids(table) for table in TABLES)
    with rowsecurity.platform():
        assert {table: _ids(table) for table in TABLES} == everything


def _refused(sql: str, params: list) -> None:
    with (
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def _draft_of(ods_code: str) -> int:
    return _rows("SELECT v.id FROM plans_version v JOIN plans_submission s ON s.id = "
                 "v.submission_id JOIN accounts_organisation o ON o.id = s.organisation_id "
                 "WHERE o.ods_code = %s AND v.number = 0", [ods_code])[0][0]  # fmt: skip


def test_figures_are_written_only_by_their_organisations_preparers_and_approvers(world):
    tenant_rows(world)
    a_draft = _draft_of("ZA1")
    line = _rows("SELECT line_id FROM plans_value LIMIT 1")[0][0]
    insert = "INSERT INTO plans_value (version_id, line_id, month, value) VALUES (%s, %s, 2, 5)"
    update = "UPDATE plans_value SET value = 99 WHERE version_id = %s"
    with rowsecurity.acting_for(world.people["outsider"]):  # another system's preparer
        _refused(insert, [a_draft, line])
        assert _rows(update + " RETURNING id", [a_draft]) == []  # sees nothing to change
    with rowsecurity.acting_for(world.people["partner"]):  # a partner sees A's submitted plan
        submitted = _rows("SELECT id FROM plans_version WHERE number = 1")[0][0]
        assert _rows(update + " RETURNING id", [submitted]) == []  # nothing it may change
    with rowsecurity.acting_for(world.people["viewer"]):  # A's own viewer reads its draft
        assert _rows(update + " RETURNING id", [a_draft]) == []
    with rowsecurity.acting_for(world.people["member"]):
        assert len(_rows(update + " RETURNING id", [a_draft])) == 1
        # Nor may a figure be moved into a version they see but may not change, nor a
        # submitted version's figure be taken into their draft.
        submitted = _rows("SELECT v.id FROM plans_version v JOIN plans_submission s ON "
                          "s.id = v.submission_id JOIN accounts_organisation o ON "
                          "o.id = s.organisation_id WHERE v.number = 1 AND o.ods_code = 'ZA1'"
                          )[0][0]  # fmt: skip
        _refused("UPDATE plans_value SET version_id = %s, month = 7 WHERE version_id = %s",
                 [submitted, a_draft])  # fmt: skip
        assert _rows("UPDATE plans_value SET version_id = %s WHERE version_id = %s RETURNING id",
                     [a_draft, submitted]) == []  # fmt: skip
    assert _rows("SELECT value FROM plans_value WHERE version_id = %s", [a_draft]) == [
        (Decimal("99.000"),)
    ]
    assert not _rows("SELECT 1 FROM plans_value WHERE value = 5 OR value = 99 AND version_id "
                     "<> %s", [a_draft])  # fmt: skip


def test_only_approvers_make_submitted_versions_and_comments_are_written_as_oneself(world):
    tenant_rows(world)
    plan = _rows("SELECT s.id FROM plans_submission s JOIN accounts_organisation o ON "
                 "o.id = s.organisation_id WHERE o.ods_code = 'ZA1'")[0][0]  # fmt: skip
    version = ("INSERT INTO plans_version (submission_id, number, created_at, created_by_id, "
               "revision, late, late_reason, board_approval_date) SELECT %s, 7, now(), %s, 0, "
               "false, '', current_date "
               "FROM plans_version WHERE submission_id = %s AND number = 0")  # fmt: skip
    member, approver = world.people["member"], world.people["approver"]
    with rowsecurity.acting_for(member):  # a preparer cannot publish figures to partners
        _refused(version, [plan, member.pk, plan])
    with rowsecurity.acting_for(approver), connection.cursor() as cursor:
        cursor.execute(version + " RETURNING id", [plan, approver.pk, plan])
        assert cursor.fetchone()
    comment = ("INSERT INTO plans_comment (submission_id, author_id, body, kind, created_at) "
               "VALUES (%s, %s, 'x', 'comment', now())")  # fmt: skip
    with rowsecurity.acting_for(member):
        _refused(comment, [plan, world.people["lead"].pk])  # not as someone else


def test_an_administrator_sees_every_system_but_no_ones_drafts(world):
    tenant_rows(world)
    with rowsecurity.acting_for(world.people["admin"]):
        assert _rows("SELECT count(*) FROM plans_version WHERE number = 0") == [(0,)]
        assert (
            _rows(
                "SELECT count(DISTINCT s.organisation_id) FROM plans_version v JOIN "
                "plans_submission s ON s.id = v.submission_id WHERE v.number > 0"
            )[0][0]
            > 1
        )


def test_a_system_lead_changes_its_partners_plans_status_and_nothing_in_another_system(world):
    tenant_rows(world)
    a_plan = _rows("SELECT id FROM plans_submission WHERE organisation_id = %s", [world.org_a.pk])
    set_status = (
        "UPDATE plans_submission SET status = 'accepted' WHERE organisation_id = "
        "(SELECT id FROM accounts_organisation WHERE ods_code = %s) RETURNING id"
    )
    with rowsecurity.acting_for(world.people["lead"]):
        assert _rows(set_status, ["ZA1"]) == a_plan
        assert _rows(set_status, ["ZX1"]) == []  # system Two's: not even seen
    with rowsecurity.acting_for(world.people["reviewer"]):  # sees both, decides neither
        _refused(set_status, ["ZX1"])
    with rowsecurity.acting_for(world.people["other_lead"]):
        _refused(
            "INSERT INTO plans_comment (submission_id, author_id, kind, body, created_at) "
            "VALUES (%s, %s, 'comment', 'Hello', now())",
            [a_plan[0][0], world.people["other_lead"].pk],
        )


def test_money_rows_are_written_within_ones_own_systems_and_results_only_by_the_platform(world):
    tenant_rows(world)
    plan_round = _rows("SELECT id FROM plans_planninground")[0][0]
    propose = (
        "INSERT INTO payments_transfer (round_id, system_id, proposed_by_id, reason, status, "
        "created_at) VALUES (%s, %s, %s, 'More', 'proposed', now()) RETURNING id"
    )
    outsider = world.people["outsider"]
    with rowsecurity.acting_for(outsider):
        _refused(propose, [plan_round, world.s1.pk, outsider.pk])
        assert len(_rows(propose, [plan_round, world.s2.pk, outsider.pk])) == 1
        assert _rows("UPDATE payments_agreement SET name = 'Mine' RETURNING system_id") == [
            (world.s2.pk,)
        ]
    with rowsecurity.acting_for(world.people["lead"]):
        _refused("UPDATE payments_systemresult SET inputs_hash = 'forged'", [])
    with rowsecurity.platform():
        assert len(_rows("UPDATE payments_systemresult SET inputs_hash = 'x' RETURNING id")) == 3


def test_signatures_and_settlement_answers_are_only_by_the_organisations_approvers(world):
    tenant_rows(world)
    version = _rows("SELECT id FROM payments_agreementversion LIMIT 1")[0][0]
    settlement = _rows("SELECT id FROM payments_settlement LIMIT 1")[0][0]
    sign = ("INSERT INTO payments_agreementsignature (version_id, organisation_id, signed_by_id, "
            "signed_at) VALUES (%s, %s, %s, now())")  # fmt: skip
    answer = ("INSERT INTO payments_settlementresponse (settlement_id, organisation_id, "
              "accepted, responded_by_id, responded_at, reason) VALUES (%s, %s, true, %s, now(), "
              "'')")  # fmt: skip
    viewer = world.people["system_viewer"]  # sees the system, signs for no one
    with rowsecurity.acting_for(viewer):
        _refused(sign, [version, world.org_b.pk, viewer.pk])
        _refused(answer, [settlement, world.org_b.pk, viewer.pk])


def test_a_file_left_with_the_worker_is_seen_only_by_its_uploader(world):
    from plans.models import Upload

    plan_round = make_round()
    upload = Upload.objects.create(
        target=Upload.Target.PLAN, actor=world.people["member"], round=plan_round,
        organisation=world.org_a, name="plan.xlsx", data=b"private draft", size=13,
    )  # fmt: skip
    mine = "SELECT id FROM plans_upload"
    with rowsecurity.acting_for(world.people["member"]):
        assert _rows(mine) == [(upload.pk,)]
    for other in ("approver", "partner", "lead", "admin"):  # same organisation's approver too
        with rowsecurity.acting_for(world.people[other]):
            assert _rows(mine) == [], other
    with rowsecurity.platform():  # the worker finds it, then reads it as the uploader
        assert _rows(mine) == [(upload.pk,)]
