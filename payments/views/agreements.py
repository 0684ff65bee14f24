"""Risk-share agreement pages: the system's agreements, drafting and changing one (mechanisms
chosen from the catalogue, each with its own parameters), the what-if before anyone signs,
and signing."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import policy
from openbook.refusals import attempt
from payments import selectors
from payments.calculations.mechanisms import FIELDS, KINDS, ParameterProblems, what_if
from payments.forms import AgreementForm, AgreementSignForm, cleaned
from payments.models import AgreementVersion, Settlement
from payments.services import agreements as services
from payments.views.common import agreement_url, figure_rows, round_and_system

HUNDRED = Decimal(100)
THOUSAND = Decimal(1000)


def _gbp(value: Decimal | None) -> Decimal | None:
    """An amount the mechanisms worked in £000, in pounds and pence, as pages show money."""
    return None if value is None else value * THOUSAND


def _exposure(rows, ods_code: str) -> dict[str, Decimal | None]:
    """What this partner pays (−) or receives (+), £, with activity or spend 10% below and
    10% above plan and the outcome measures met: what it signs up to, put plainly."""
    met = {r.variance: r.flows.get(ods_code) for r in rows if r.met}
    return {"below": _gbp(met.get(Decimal("-0.1"))), "above": _gbp(met.get(Decimal("0.1")))}


def _pct(variance: Decimal) -> str:
    """−20% … 0% … +20%, as the what-if's rows and axis say it."""
    return "0%" if variance == 0 else f"{variance * HUNDRED:+.0f}%".replace("-", "−")


@login_required
def agreement_list(request, slug, code):
    plan_round, system = round_and_system(request, slug, code)
    rows = []
    for agreement in selectors.agreements_listed(request.user, plan_round, system):
        versions = list(agreement.versions.all())  # newest first
        rows.append(
            {
                "agreement": agreement,
                "current": versions[0],
                "in_force": next(
                    (v for v in versions if v.status == AgreementVersion.Status.AGREED), None
                ),
                "settlements": list(agreement.settlements.all())[:6],
            }
        )
    return render(
        request,
        "payments/agreement_list.html",
        {
            "round": plan_round,
            "system": system,
            "rows": rows,
            "can_draft": policy.can_draft_agreement(request.user, system),
        },
    )


def form_blocks(mechanisms, organisations) -> list[dict]:
    """What the form shows for each mechanism: its fields with their current values."""
    out = []
    for n, item in enumerate(mechanisms, start=1):
        fields = []
        for key, label, kind_of_field, hint in FIELDS[item["kind"]]:
            value = item["params"].get(key, "")
            per_partner = kind_of_field in ("shares", "amounts", "amounts_optional")
            money = hint.startswith("£")  # typed in pounds and pence
            fields.append(
                {
                    "key": key,
                    "name": f"m{n}-{key}",
                    "label": label,
                    "type": kind_of_field,
                    "money": money,
                    "hint": f"In pounds and pence{hint[1:]}" if money else hint,
                    # What follows a figure on the agreement's page: its unit, beyond "£".
                    "suffix": " per unit"
                    if "per unit" in hint
                    else " units"
                    if hint.startswith("Units")
                    else " people"
                    if hint.startswith("people")
                    else "",
                    "value": "" if per_partner else value,
                    "partners": [(o, (value or {}).get(o.ods_code, "")) for o in organisations]
                    if per_partner
                    else [],
                }
            )
        out.append({"n": n, "kind": item["kind"], "label": KINDS[item["kind"]], "fields": fields})
    return out


@login_required
@require_http_methods(["GET", "POST"])
def agreement_form(request, slug, code, pk=None):
    """Draft (pk None) or change an agreement. "Add" and "remove" redraw the form without
    saving; "Save" checks everything and saves all or nothing."""
    plan_round, system = round_and_system(request, slug, code)
    agreement = selectors.agreement_get(request.user, plan_round, system, pk) if pk else None
    if not policy.can_draft_agreement(request.user, system):
        raise PermissionDenied("Only the system lead drafts and changes risk-share agreements.")
    organisations = list(system.organisations.order_by("name"))
    latest = services.current(agreement) if agreement else None
    problems: list[dict] = []
    error = ""
    if request.method == "GET":
        name = agreement.name if agreement else ""
        partners = [o.ods_code for o in latest.partners.all()] if latest else []
        mechanisms = list(latest.mechanisms) if latest else []
        phasing = list(latest.phasing or services.EVEN_PHASING) if latest else services.EVEN_PHASING
        expected = latest.number if latest else 0
    else:
        form = AgreementForm(
            request.POST,
            organisations=organisations,
            latest_phasing=list(latest.phasing or services.EVEN_PHASING) if latest else None,
        )
        typed = form.typed()
        name, partners, mechanisms = typed["name"], typed["partners"], typed["mechanisms"]
        phasing, expected = typed["phasing"], typed["version"]
        if kind := form.adding():
            mechanisms.append({"kind": kind, "params": {}})
        elif form.saving():
            with attempt() as call:
                data = cleaned(form)
                if agreement is None:
                    agreement = services.agreement_create(
                        actor=request.user, plan_round=plan_round, system=system,
                        name=data["name"], partners=data["partners"],
                        mechanisms=data["mechanisms"], phasing=data["phasing"],
                    )  # fmt: skip
                    messages.success(request, "Agreement drafted. Check the what-if, then ask "
                                     "the partners' approvers to sign.")  # fmt: skip
                else:
                    version = services.agreement_edit(
                        actor=request.user, agreement=agreement, name=data["name"],
                        partners=data["partners"], mechanisms=data["mechanisms"],
                        expected_version=data["version"], phasing=data["phasing"],
                    )  # fmt: skip
                    messages.success(
                        request, f"Saved as version {version.number}: every partner signs it."
                    )
            if call.ok:
                return redirect(agreement_url(agreement))
            error, problems = call.refusal.message, call.refusal.problems
    return render(
        request,
        "payments/agreement_form.html",
        {
            "round": plan_round,
            "system": system,
            "agreement": agreement,
            "name": name,
            "partners": partners,
            "organisations": organisations,
            "blocks": form_blocks(mechanisms, organisations),
            "phasing": phasing or services.EVEN_PHASING,
            "count": len(mechanisms),
            "kinds": KINDS.items(),
            "version": expected,
            "error": error,
            "problems": problems,
        },
        status=422 if error else 200,
    )


@login_required
def agreement_detail(request, slug, code, pk):
    plan_round, system = round_and_system(request, slug, code)
    agreement = selectors.agreement_get(request.user, plan_round, system, pk)
    return detail_page(request, plan_round, system, agreement)


def detail_page(request, plan_round, system, agreement, entry: dict | None = None, status=200,
                 sign_error: dict | None = None):  # fmt: skip
    """The agreement's page; `entry` is a settlement entry sent back with its problems,
    `sign_error` a signature refused ({"organisation": ODS code, "message"})."""
    number = request.GET.get("version")
    versions = list(agreement.versions.prefetch_related("partners", "signatures__organisation",
                                                        "signatures__signed_by"))  # fmt: skip
    version = next((v for v in versions if str(v.number) == number), versions[0])
    partners = sorted(version.partners.all(), key=lambda o: o.name)
    signed = {s.organisation_id: s for s in version.signatures.all()}
    try:
        built = services.built_mechanisms(version)
    except ParameterProblems:
        built = []  # terms saved before a rule tightened; the edit form lists the problems
    rows = what_if(built) if built else []
    blocks = form_blocks(version.mechanisms, partners)
    for block, mechanism in zip(blocks, built, strict=False):
        block["figures"] = figure_rows(mechanism.figures())
    codes = [o.ods_code for o in partners]
    externals = sorted({name for r in rows for name, amount in r.external.items() if amount})
    agreed = services.in_force(agreement)
    try:
        agreed_mechanisms = services.built_mechanisms(agreed) if agreed else []
    except ParameterProblems:
        agreed_mechanisms = []
    can_sign = [
        o for o in partners
        if o.pk not in signed and policy.can_sign_agreement(request.user, o)
        and version.status == "draft" and version == versions[0]
    ]  # fmt: skip
    chart = {
        "labels": [_pct(r.variance) for r in rows if r.met],
        "series": [
            {
                "label": o.ods_code,
                "values": [str(_gbp(r.flows.get(o.ods_code, 0))) for r in rows if r.met],
            }
            for o in partners
        ],
    }
    return render(
        request,
        "payments/agreement_detail.html",
        {
            "round": plan_round,
            "system": system,
            "agreement": agreement,
            "version": version,
            "versions": versions,
            "latest": versions[0],
            "partners": [(o, signed.get(o.pk)) for o in partners],
            "mechanisms": blocks,
            "phasing": version.phasing or services.EVEN_PHASING,
            "met_rows": [
                (
                    _pct(r.variance),
                    [_gbp(r.flows.get(c)) for c in codes]
                    + [_gbp(r.external.get(n)) for n in externals],
                )
                for r in rows
                if r.met
            ],
            "missed_rows": [
                (
                    _pct(r.variance),
                    [_gbp(r.flows.get(c)) for c in codes]
                    + [_gbp(r.external.get(n)) for n in externals],
                )
                for r in rows
                if not r.met
            ],
            "codes": codes,
            # Parties outside the agreement (a pool's result, spend against a budget): with
            # the partners they sum to zero in every row.
            "externals": externals,
            "chart": chart,
            "can_sign": [(o, _exposure(rows, o.ods_code)) for o in can_sign],
            "sign_error": sign_error,
            "can_draft": policy.can_draft_agreement(request.user, system),
            "settlements": agreement.settlements.order_by("-created_at"),
            "in_force": agreed,
            "entry_fields": [
                (
                    n,
                    m.label,
                    m.follows,
                    (entry or {}).get("measures", {}).get(n, ""),
                    _gbp(m.plan_measure) if m.follows == "spend" else m.plan_measure,
                    # Linked to outcomes: its own box, ticked until the lead says otherwise.
                    m.outcome_linked,
                    (entry or {}).get("outcomes", {}).get(n, True),
                )
                for n, m in enumerate(agreed_mechanisms, start=1)
            ],
            "has_outcomes": any(m.outcome_linked for m in agreed_mechanisms),
            "periods": Settlement.PERIODS,
            "entry": entry or {"period": ""},
        },
        status=status,
    )


@login_required
@require_POST
def agreement_sign(request, slug, code, pk):
    plan_round, system = round_and_system(request, slug, code)
    agreement = selectors.agreement_get(request.user, plan_round, system, pk)
    form = AgreementSignForm(request.POST, system=system)
    if not form.is_valid():
        raise Http404("No such partner.")  # the buttons name only the system's partners
    organisation = form.cleaned_data["organisation"]
    if not policy.can_sign_agreement(request.user, organisation):
        raise PermissionDenied(f"Only {organisation.name}'s approvers sign for it.")
    if not form.cleaned_data["confirmed"]:
        # Signing binds the organisation to the what-if above the button: say so, there.
        return detail_page(request, plan_round, system, agreement, status=422, sign_error={
            "organisation": organisation.ods_code,
            "message": f"Confirm you have read the terms and what {organisation.name} pays "
                       "or receives before signing.",
        })  # fmt: skip
    number = form.cleaned_data["version"]
    with attempt(request) as call:
        version = services.agreement_sign(
            actor=request.user, agreement=agreement, organisation=organisation,
            version_number=number,
        )  # fmt: skip
    if call.ok:
        messages.success(
            request,
            f"Signed for {organisation.name}."
            + (" Every partner has signed: the agreement is agreed." if version.status == "agreed"
               else ""),
        )  # fmt: skip
    return redirect(agreement_url(agreement))
