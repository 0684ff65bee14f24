"""Plausible made-up plan figures, for the demo, the benchmarks and national-scale tests.

Deterministic: the same organisation always gets the same figures. Partners' figures mostly
agree with each other (a provider's income from a commissioner is close to what the
commissioner plans to spend with it), with a few deliberate mismatches, as in real returns.
"""

from __future__ import annotations

import hashlib
import random
from decimal import Decimal

from accounts.models import Membership, Organisation, Role, User
from accounts.services import membership_create
from demo import realistic
from demo.realistic import income_of
from demo.schemes import as_provided, as_schemes
from plans import selectors
from plans.cells import CellInput
from plans.models import Line, PlanningRound, Section
from plans.tables import RowInput

PAY_SHARE = Decimal("0.62") / 18
NONPAY_SHARE = Decimal("0.30") / 5
SHARE = {"F400": Decimal("0.03"), "F410": Decimal("0.015"), "F110": Decimal("0.04"),
         "F120": Decimal("0.06"), "E1": Decimal("0.006"), "C1": Decimal("0.01")}  # fmt: skip
PARTNER_INCOME = Decimal("0.88")  # of a provider's income, from commissioners in the system
Q = Decimal("0.001")


def _rng(*parts: str) -> random.Random:
    return random.Random(":".join(parts))  # noqa: S311  (made-up figures, not security)


def _mismatch(provider: str, commissioner: str) -> Decimal:
    """Most pairs agree within a whisker; about one in four is out by 3–12%."""
    digest = hashlib.sha256(f"{provider}:{commissioner}".encode()).digest()
    if digest[0] % 4:
        return Decimal(1) + Decimal(digest[1] % 5 - 2) / 1000
    return Decimal(1) + Decimal(3 + digest[2] % 10) / 100 * (1 if digest[3] % 2 else -1)


def _monthly(rng: random.Random, annual: Decimal) -> Decimal:
    return (annual / 12 * Decimal(str(rng.uniform(0.97, 1.03)))).quantize(Q)


def plan_with_tables(
    plan_round: PlanningRound, organisation: Organisation
) -> tuple[list[CellInput], dict[str, list[RowInput]]]:
    """A realistic plan's typed cells (not the round owner's provided figures), and its
    tables' rows (the efficiency and capital schemes that add up to the lines they feed)."""
    typed, tables = as_schemes(
        plan_round, organisation, realistic.plan_cells(plan_round, organisation)
    )
    return as_provided(plan_round, organisation, typed)[0], tables


def provided_for(plan_round: PlanningRound, organisation: Organisation) -> list:
    """What the round's owner provides an organisation in a realistic round (none in others)."""
    if not realistic.is_realistic(plan_round):
        return []
    return as_provided(plan_round, organisation, realistic.plan_cells(plan_round, organisation))[1]


def plan_cells(
    plan_round: PlanningRound, organisation: Organisation, *, complete: bool = True
) -> list[CellInput]:
    """Every input cell of the organisation's template, filled with plausible figures (the
    finer version 2 of the built-in template by demo/realistic.py)."""
    if realistic.is_realistic(plan_round):
        cells, _ = plan_with_tables(plan_round, organisation)
        return cells if complete else cells[: len(cells) // 3]
    rng = _rng(organisation.ods_code, plan_round.slug)
    income = income_of(plan_round, organisation)
    commissioners = selectors.counterparties_for(organisation, "commissioner")
    providers = selectors.counterparties_for(organisation, "provider")
    provider_income = {p.ods_code: income_of(plan_round, p) for p in providers}
    n_commissioners_of = {
        p.ods_code: max(len(selectors.counterparties_for(p, "commissioner")), 1) for p in providers
    }
    spend_with = {  # what this commissioner plans to spend with each provider, £000 a year
        ods: provider_income[ods]
        * PARTNER_INCOME
        / n_commissioners_of[ods]
        * _mismatch(ods, organisation.ods_code)
        for ods in provider_income
    }
    partner_spend = sum(spend_with.values(), Decimal(0))
    annual = {
        "F500": partner_spend * Decimal("1.34"),
        "F520": partner_spend * Decimal("0.30"),
        "F530": partner_spend * Decimal("0.02"),
        "F600": income,
        "F610": income * Decimal("0.995"),
        "K100": income * Decimal("0.08"),
    }
    cells: list[CellInput] = []
    lines = [
        line
        for line in selectors.lines_for(plan_round.template_version_id, organisation.kind)
        if line.section.kind == Section.Kind.GRID and not line.is_derived
    ]

    maxima = {line.code: line.maximum for line in lines}

    def add(code: str, month: int, value: Decimal, counterparty: str | None = None) -> None:
        if maxima[code] is not None:
            value = min(value, maxima[code])
        cells.append(CellInput(line=code, month=month, value=value, counterparty=counterparty))

    for line in lines:
        code = line.code
        for month in range(1, 13):
            if line.role == Line.Role.PARTNER_INCOME:
                for c in commissioners:
                    add(
                        code,
                        month,
                        _monthly(rng, income * PARTNER_INCOME / len(commissioners)),
                        c.ods_code,
                    )
            elif line.role == Line.Role.PARTNER_SPEND:
                for ods, spend in spend_with.items():
                    add(code, month, _monthly(rng, spend), ods)
            elif code.startswith("A1"):
                for c in commissioners:
                    base = income / 40 / len(commissioners)
                    add(
                        code,
                        month,
                        Decimal(int(base * Decimal(str(rng.uniform(0.97, 1.03))))),
                        c.ods_code,
                    )
            elif code.startswith("A2"):
                for ods in provider_income:
                    base = (
                        provider_income[ods]
                        / 40
                        / n_commissioners_of[ods]
                        * _mismatch(ods, organisation.ods_code)
                    )
                    add(
                        code, month, Decimal(int(base * Decimal(str(rng.uniform(0.97, 1.03))))), ods
                    )
            elif line.unit == "percent":
                add(code, month, Decimal(str(round(rng.uniform(70, 95), 1))))
            elif line.unit == "wte":
                # Staff numbers that fit the pay bill: about £55k a year per WTE.
                add(
                    code,
                    month,
                    (income * PAY_SHARE / 55 * Decimal(str(rng.uniform(0.9, 1.1)))).quantize(
                        Decimal("0.1")
                    ),
                )
            elif line.unit == "count":
                add(code, month, Decimal(int(float(income) / 200 * rng.uniform(0.5, 1.0))))
            elif code.startswith("F2"):
                add(code, month, _monthly(rng, income * PAY_SHARE))
            elif code.startswith("F3"):
                add(code, month, _monthly(rng, income * NONPAY_SHARE))
            elif code in annual:
                add(code, month, _monthly(rng, annual[code]))
            else:
                share = next((v for k, v in SHARE.items() if code.startswith(k)), Decimal("0.01"))
                add(code, month, _monthly(rng, income * share))
    if not complete:
        cells = cells[: len(cells) // 3]
    return cells


def board_approver(organisation: Organisation, domain: str = "openbook.invalid") -> User:
    """The organisation's approver: an existing one where there is one, else a finance
    director who cannot sign in, so every made-up plan has someone to have submitted it."""
    membership = (
        Membership.objects.filter(organisation=organisation, role=Role.ORG_APPROVER)
        .select_related("user")
        .first()
    )
    if membership:
        return membership.user
    user = User.objects.create_user(
        f"approver.{organisation.ods_code.lower()}@{domain}",
        None,
        full_name=f"Finance director, {organisation.name}",
    )
    membership_create(actor=None, user=user, role=Role.ORG_APPROVER, organisation=organisation)
    return user
