"""Risk-share agreements: drafted by the system lead, signed by every partner's approver,
versioned on any change after a signature. Each write is one transaction, checks the policy
and is audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import policy
from accounts.models import Organisation, System
from notifications import occasions
from openbook import numbers
from openbook.audit import audit_record
from openbook.errors import Conflict, ProblemList
from payments.calculations.mechanisms import (
    FIELDS,
    KINDS,
    Mechanism,
    ParameterProblems,
    as_stored,
    build,
    what_if,
)
from payments.models import Agreement, AgreementSignature, AgreementVersion
from webhooks import services as webhooks
from webhooks.models import Event

if TYPE_CHECKING:
    from accounts.models import User
    from plans.models import PlanningRound

MAX_MECHANISMS = 12
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Terms:
    """An agreement's terms, checked: its partners and its mechanisms, built."""

    name: str
    partners: list[Organisation]
    mechanisms: list[dict[str, Any]]
    built: list[Mechanism]
    phasing: list[str]


EVEN_PHASING = ["25", "25", "25", "25"]


def _check_phasing(phasing: Sequence[object], problem) -> list[str]:
    """Four quarters' shares of the year in %, each 0–100 to two places, adding up to 100."""
    if len(phasing) != 4:
        problem("Quarterly phasing", "Give a share for each of the four quarters.")
        return []
    shares: list[Decimal] = []
    for q, raw in enumerate(phasing, start=1):
        try:
            parsed = numbers.parse(str(raw).strip().removesuffix("%"))
            share = Decimal("NaN") if parsed is None else parsed
        except numbers.NotAFigure:
            share = Decimal("NaN")
        if not share.is_finite() or not 0 <= share <= 100 or share != share.quantize(CENT):
            problem(f"Q{q} share", "Enter a percentage from 0 to 100, to two decimal places.", raw)
            return []
        shares.append(share)
    total = sum(shares, Decimal(0))
    if total != 100:
        problem(
            "Quarterly phasing",
            f"The quarters add up to {total.normalize():f}%; they must add up to 100%.",
        )
        return []
    return [f"{s.normalize():f}" for s in shares]


def check_terms(
    system: System,
    name: str,
    partner_codes: Sequence[str],
    mechanisms: Sequence[dict],
    phasing: Sequence[object] | None = None,
) -> Terms:
    """Every problem with the terms at once, as a ProblemList; the checked terms otherwise."""
    problems: list[dict[str, str]] = []

    def problem(where: str, why: str, value: object = "") -> None:
        problems.append({"cell": where, "value": str(value)[:80], "problem": why})

    name = (name or "").strip()
    if not name:
        problem("Name", "Give the agreement a name.")
    codes = list(dict.fromkeys(c.strip() for c in partner_codes if c and c.strip()))
    found = {o.ods_code: o for o in Organisation.objects.filter(system=system, ods_code__in=codes)}
    for code in codes:
        if code not in found:
            problem("Partners", f"{code} is not a partner in {system.name}.", code)
    if len(codes) < 2:
        problem("Partners", "An agreement needs at least two partners.")
    if not mechanisms:
        problem("Mechanisms", "Add at least one mechanism.")
    if len(mechanisms) > MAX_MECHANISMS:
        problem("Mechanisms", f"At most {MAX_MECHANISMS} mechanisms in one agreement.")
    built: list[Mechanism] = []
    clean: list[dict[str, Any]] = []
    for n, item in enumerate(mechanisms[:MAX_MECHANISMS], start=1):
        kind = str((item or {}).get("kind", ""))
        params = (item or {}).get("params") or {}
        where = f"Mechanism {n} ({KINDS.get(kind, kind or 'none')})"
        if not isinstance(params, dict):
            problem(where, "The parameters must be a set of named values.")
            continue
        known = {key for key, *_ in FIELDS.get(kind, [])}
        unknown = sorted(str(k)[:40] for k in params if k not in known) if known else []
        if unknown:
            problem(where, f"{', '.join(unknown)}: not a parameter of this mechanism (it takes "
                    f"{', '.join(sorted(known))}).")  # fmt: skip
            continue
        try:
            built.append(build(kind, params, [c for c in codes if c in found]))
        except ParameterProblems as exc:
            for why in exc.problems:
                problem(where, why)
            continue
        # Money at one scale, and marked as pounds and pence (terms stored before were £000).
        clean.append({"kind": kind, "params": as_stored(kind, params), "money": "gbp"})
    quarters = _check_phasing(EVEN_PHASING if phasing is None else phasing, problem)
    if problems:
        raise ProblemList(f"{len(problems)} problem(s) with the agreement; nothing was saved.",
                          problems)  # fmt: skip
    return Terms(name[:160], [found[c] for c in codes], clean, built, quarters)


def current(agreement: Agreement) -> AgreementVersion:
    return agreement.versions.order_by("-number").first()  # type: ignore[return-value]


def in_force(agreement: Agreement) -> AgreementVersion | None:
    return (
        agreement.versions.filter(status=AgreementVersion.Status.AGREED).order_by("-number").first()
    )


def built_mechanisms(version: AgreementVersion) -> list[Mechanism]:
    codes = [o.ods_code for o in version.partners.all()]
    return [build(m["kind"], m["params"], codes) for m in version.mechanisms]


def version_what_if(version: AgreementVersion):
    return what_if(built_mechanisms(version))


def _terms_json(version: AgreementVersion) -> dict:
    return {
        "partners": sorted(o.ods_code for o in version.partners.all()),
        "money": "pounds and pence",  # terms recorded before were £000
        "mechanisms": version.mechanisms,
        "phasing": version.phasing or EVEN_PHASING,
    }


@transaction.atomic
def agreement_create(
    *,
    actor: User,
    plan_round: PlanningRound,
    system: System,
    name: str,
    partners: Sequence[str],
    mechanisms: Sequence[dict],
    phasing: Sequence[object] | None = None,
) -> Agreement:
    """Draft an agreement (quarters phased evenly unless a phasing is given)."""
    if not policy.can_draft_agreement(actor, system):
        raise PermissionDenied("Only the system lead drafts risk-share agreements.")
    terms = check_terms(system, name, partners, mechanisms, phasing)
    agreement = Agreement.objects.create(round=plan_round, system=system, name=terms.name,
                                         created_by=actor)  # fmt: skip
    version = AgreementVersion.objects.create(
        agreement=agreement,
        number=1,
        mechanisms=terms.mechanisms,
        phasing=terms.phasing,
        created_by=actor,
    )
    version.partners.set(terms.partners)
    audit_record(action="agreement.drafted", actor=actor, system=system, obj=agreement,
                 after=_terms_json(version) | {"name": agreement.name, "version": 1})  # fmt: skip
    occasions.agreement_to_sign(actor, version)
    return agreement


@transaction.atomic
def agreement_edit(
    *,
    actor: User,
    agreement: Agreement,
    name: str,
    partners: Sequence[str],
    mechanisms: Sequence[dict],
    expected_version: int,
    phasing: Sequence[object] | None = None,
) -> AgreementVersion:
    """Change the terms: a new version that every partner signs (an agreed version stays in
    force until the new one is agreed). The phasing stays as it was unless one is given."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if not policy.can_draft_agreement(actor, agreement.system):
        raise PermissionDenied("Only the system lead changes risk-share agreements.")
    latest = current(agreement)
    if latest.number != expected_version:
        raise Conflict(
            f"The agreement is now at version {latest.number}, not the version "
            f"{expected_version} you were changing. Nothing was saved: reload it and look again."
        )
    if phasing is None:
        phasing = latest.phasing or None
    terms = check_terms(agreement.system, name, partners, mechanisms, phasing)
    before = _terms_json(latest)
    # Every change is a new version, so "version N" always names the terms someone read and
    # signed; a draft it replaces is superseded, an agreed one stays in force until then.
    if latest.status == AgreementVersion.Status.DRAFT:
        latest.status = AgreementVersion.Status.SUPERSEDED
        latest.save(update_fields=["status"])
    version = AgreementVersion.objects.create(
        agreement=agreement,
        number=latest.number + 1,
        mechanisms=terms.mechanisms,
        phasing=terms.phasing,
        created_by=actor,
    )
    version.partners.set(terms.partners)
    agreement.name = terms.name
    agreement.save(update_fields=["name"])
    audit_record(
        action="agreement.changed",
        actor=actor,
        system=agreement.system,
        obj=agreement,
        before=before,
        after=_terms_json(version) | {"version": version.number},
        reason="a new version: every partner signs again",
    )
    occasions.agreement_to_sign(actor, version)
    return version


@transaction.atomic
def agreement_sign(
    *, actor: User, agreement: Agreement, organisation: Organisation, version_number: int
) -> AgreementVersion:
    """A partner's approver signs the version they read. When every partner has signed, it is
    agreed, and any earlier agreed version is superseded."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    latest = current(agreement)
    if not policy.can_sign_agreement(actor, organisation):
        raise PermissionDenied(f"Only {organisation.name}'s approvers sign for it.")
    if not latest.partners.filter(pk=organisation.pk).exists():
        raise PermissionDenied(f"{organisation.name} is not a partner in this agreement.")
    policy.require_second_factor(actor, "sign the agreement")
    if latest.number != version_number:
        raise Conflict(
            f"The agreement changed to version {latest.number} after you read version "
            f"{version_number}. Nothing was signed: read the new terms first."
        )
    if latest.status != AgreementVersion.Status.DRAFT:
        raise ValidationError("This version is already agreed.")
    if latest.signatures.filter(organisation=organisation).exists():
        raise ValidationError(f"{organisation.name} has already signed this version.")
    AgreementSignature.objects.create(version=latest, organisation=organisation, signed_by=actor)
    audit_record(action="agreement.signed", actor=actor, organisation=organisation,
                 system=agreement.system, obj=agreement,
                 payload={"version": latest.number, "terms": _terms_json(latest)})  # fmt: skip
    waiting = latest.partners.exclude(
        pk__in=latest.signatures.values_list("organisation_id", flat=True)
    )
    if not waiting.exists():
        agreement.versions.filter(status=AgreementVersion.Status.AGREED).update(
            status=AgreementVersion.Status.SUPERSEDED
        )
        latest.status = AgreementVersion.Status.AGREED
        latest.agreed_at = timezone.now()
        latest.save(update_fields=["status", "agreed_at"])
        audit_record(action="agreement.agreed", actor=actor, system=agreement.system,
                     obj=agreement, payload={"version": latest.number,
                                             "terms": _terms_json(latest)})  # fmt: skip
        r, s = agreement.round, agreement.system
        webhooks.emit(
            Event.AGREEMENT_AGREED,
            s,
            {"round": r.slug, "agreement": agreement.pk, "name": agreement.name,
             "version": latest.number, "agreed_at": latest.agreed_at,
             "partners": sorted(latest.partners.values_list("ods_code", flat=True))},
            links={"page": reverse("agreement_detail", args=[r.slug, s.code, agreement.pk]),
                   "api": reverse("api_agreement_detail", args=[r.slug, s.code, agreement.pk])},
        )  # fmt: skip
    return latest
