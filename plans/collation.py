"""Pure collation of a system's plans: system totals, intra-system eliminations, the
consolidated I&E, agreement of balances and workforce-against-pay checks.

No Django, no database: aggregated figures in, results out. The database does the adding up
(set-based); what is left here is linear arithmetic on the sums, so working derived lines out
on totals gives the same answer as adding up each organisation's derived lines.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat

from plans.calculations import (
    MONTHS,
    ZERO,
    LineSpec,
    derive,
    derive_rows,
    flatten,
    month_rows,
)

PERCENT = Decimal(100)


@dataclass(frozen=True)
class OrgPlan:
    """One organisation's submitted figures, aggregated over the year.

    annual: line code → the year's value, counterparty rows added together.
    by_counterparty: (line code, counterparty ODS code) → the year's value.
    """

    ods_code: str
    name: str
    kind: str
    annual: Mapping[str, Decimal]
    by_counterparty: Mapping[tuple[str, str], Decimal] = field(default_factory=dict)

    def year(self, code: str) -> Decimal:
        return self.annual.get(code, ZERO)


def with_derived_year(
    annual: Mapping[str, Decimal], specs: Sequence[LineSpec]
) -> dict[str, Decimal]:
    """A year's input lines and every derived line worked out on them."""
    derived = derive(specs, {(code, None, 1): value for code, value in annual.items()})
    return {**annual, **{code: value for (code, month), value in derived.items() if month == 1}}


def system_totals(
    monthly: Mapping[tuple[str, int], Decimal],
    specs: Sequence[LineSpec],
    flat: Mapping[str, Mapping[str, int]] | None = None,
) -> dict[tuple[str, int], Decimal]:
    """The system's input lines by month (already summed across its organisations) with the
    derived lines worked out on those sums."""
    rows: dict[str, list[Decimal | None]] = {}
    for (code, month), value in monthly.items():
        if month in MONTHS:
            rows.setdefault(code, [None] * len(MONTHS))[month - 1] = value
    return as_totals(system_rows(rows, flat if flat is not None else flatten(specs)))


Row = Sequence[Decimal | None]  # a line's twelve months; None where nobody planned that month


def _full(row: Row) -> bool:
    return all(map(operator.is_not, row, repeat(None)))


def system_rows(rows: Mapping[str, Row], flat: Mapping[str, Mapping[str, int]]) -> dict[str, Row]:
    """Each input line's twelve months (summed across the system's organisations) and every
    derived line's, worked out on those sums."""
    filled = {
        code: row if _full(row) else [ZERO if v is None else v for v in row]
        for code, row in rows.items()
    }
    return {**rows, **derive_rows(flat, filled)}  # type: ignore[arg-type]  # filled has no None


def as_totals(rows: Mapping[str, Row]) -> dict[tuple[str, int], Decimal]:
    """Rows as (line, month) → figure, leaving out months nobody planned."""
    result: dict[tuple[str, int], Decimal] = {}
    for code, row in rows.items():
        if _full(row):
            result.update(zip(zip(repeat(code), MONTHS), row, strict=True))  # type: ignore[arg-type]
        else:
            result.update(((code, m), v) for m, v in zip(MONTHS, row, strict=True) if v is not None)
    return result


def totals_by(
    plans: Iterable[OrgPlan],
    code: str,
    specs: Sequence[LineSpec],
    key: str,
    flat: Mapping[str, Mapping[str, int]] | None = None,
) -> dict[str, Decimal]:
    """One line's year total per organisation (key="ods_code") or per kind (key="kind").
    With the template's formulas already flattened, only that line's own terms are added up
    (the same sum as working out every derived line, without the rest)."""
    if flat is None:
        flat = flatten(specs)
    terms = flat.get(code, {code: 1})
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for plan in plans:
        annual = plan.annual
        out[getattr(plan, key)] += sum(
            (k * annual[ref] for ref, k in terms.items() if ref in annual), ZERO
        )
    return dict(out)


@dataclass(frozen=True)
class Consolidated:
    """The system's I&E with what partners plan to pay each other taken out of both sides."""

    income: dict[int, Decimal]
    expenditure: dict[int, Decimal]
    eliminated: dict[int, Decimal]
    surplus_before: dict[int, Decimal]
    surplus_after: dict[int, Decimal]


def consolidate(
    totals: Mapping[tuple[str, int], Decimal],
    surplus: LineSpec,
    income_from_partners: str,
) -> Consolidated:
    """Consolidated income and expenditure by month, from the system's totals."""
    return consolidate_rows(month_rows(totals), surplus, income_from_partners)


def consolidate_rows(
    rows: Mapping[str, Row],
    surplus: LineSpec,
    income_from_partners: str,
    eliminated: Row | None = None,
) -> Consolidated:
    """Consolidated income and expenditure by month, from the system's lines' months.

    Every row of the income-from-partners line is planned against a commissioner in the same
    system, so it is intra-system. The amount eliminated is that income (the providers'
    figures) from commissioners whose plans are in the collation (`eliminated`, by month; all
    of the line when not given): it comes off income and expenditure alike, so the surplus is
    the same before and after. Income from a commissioner whose plan is not in stays, as its
    spending is not in expenditure to take it from. Any difference from what commissioners
    planned to spend stays in expenditure, where the agreement-of-balances report shows it.
    """
    assert surplus.formula is not None
    none = [None] * len(MONTHS)
    income = {m: ZERO for m in MONTHS}
    expenditure = {m: ZERO for m in MONTHS}
    for coefficient, code in surplus.formula:
        side = income if coefficient > 0 else expenditure
        for m, value in zip(MONTHS, rows.get(code, none), strict=True):
            if value is not None:
                side[m] += value
    partners = rows.get(income_from_partners, none) if eliminated is None else eliminated
    taken_out = {
        m: ZERO if value is None else value for m, value in zip(MONTHS, partners, strict=True)
    }
    before = {m: income[m] - expenditure[m] for m in MONTHS}
    inc_after = {m: income[m] - taken_out[m] for m in MONTHS}
    exp_after = {m: expenditure[m] - taken_out[m] for m in MONTHS}
    after = {m: inc_after[m] - exp_after[m] for m in MONTHS}
    return Consolidated(inc_after, exp_after, taken_out, before, after)


@dataclass(frozen=True)
class PairBalance:
    """What a provider and a commissioner each plan for the other, and whether they agree."""

    measure: str  # "Income and expenditure" or an activity measure
    provider: str
    commissioner: str
    provider_figure: Decimal
    commissioner_figure: Decimal
    difference: Decimal  # provider − commissioner
    percent: Decimal | None  # of the larger figure
    flagged: bool
    # The side (ODS code) with no plan in the collation yet: its figure is not known, so the
    # pair is neither agreed nor a mismatch until that plan is in.
    awaiting: str | None = None

    @property
    def agreed(self) -> bool:
        return not self.flagged and self.awaiting is None

    # What can be said while a side's plan is not in: no figure for that side, and so no
    # difference (None); the figures as they are otherwise.
    @property
    def known_provider_figure(self) -> Decimal | None:
        return None if self.awaiting == self.provider else self.provider_figure

    @property
    def known_commissioner_figure(self) -> Decimal | None:
        return None if self.awaiting == self.commissioner else self.commissioner_figure

    @property
    def known_difference(self) -> Decimal | None:
        return None if self.awaiting else self.difference

    @property
    def known_percent(self) -> Decimal | None:
        return None if self.awaiting else self.percent

    @property
    def status(self) -> str:
        return "awaiting" if self.awaiting else "mismatch" if self.flagged else "agreed"

    @property
    def status_label(self) -> str:
        if self.awaiting:
            return f"Awaiting {self.awaiting}'s plan"
        return "Mismatch" if self.flagged else "Agreed"

    @property
    def agreed_figure(self) -> Decimal | None:
        """One figure per agreed pair: the provider's (their income is what is eliminated)."""
        return self.provider_figure if self.agreed else None


def _percent(difference: Decimal, a: Decimal, b: Decimal) -> Decimal | None:
    base = max(abs(a), abs(b))
    return None if base == ZERO else (abs(difference) / base * PERCENT).quantize(Decimal("0.01"))


# line code → (organisation, counterparty, the year's figure) for every counterparty row
CounterpartyFigures = Mapping[str, Sequence[tuple[str, str, Decimal]]]


def counterparty_figures(plans: Iterable[OrgPlan]) -> dict[str, list[tuple[str, str, Decimal]]]:
    """Every organisation's counterparty rows, by line: read once for all the measures."""
    out: dict[str, list[tuple[str, str, Decimal]]] = defaultdict(list)
    for plan in plans:
        for (code, counterparty), value in plan.by_counterparty.items():
            out[code].append((plan.ods_code, counterparty, value))
    return out


def balances(
    plans: Sequence[OrgPlan],
    provider_line: str,
    commissioner_line: str,
    *,
    measure: str,
    threshold: Decimal | None = None,
    threshold_percent: Decimal | None = None,
) -> list[PairBalance]:
    """Every provider–commissioner pair where either side planned something; a pair whose
    other side has no plan among these is awaiting it."""
    return balances_of(
        counterparty_figures(plans),
        provider_line,
        commissioner_line,
        measure=measure,
        threshold=threshold,
        threshold_percent=threshold_percent,
        included={plan.ods_code for plan in plans},
    )


def balances_of(
    figures: CounterpartyFigures,
    provider_line: str,
    commissioner_line: str,
    *,
    measure: str,
    threshold: Decimal | None = None,
    threshold_percent: Decimal | None = None,
    included: Collection[str] | None = None,
) -> list[PairBalance]:
    """The same from the counterparty rows already gathered by line; `included` names the
    organisations whose plans are in (None: take every side as in)."""
    pairs: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for provider, commissioner, value in figures.get(provider_line, ()):
        pairs[(provider, commissioner)][0] += value
    for commissioner, provider, value in figures.get(commissioner_line, ()):
        pairs[(provider, commissioner)][1] += value
    result = []
    for (provider, commissioner), (ours, theirs) in sorted(pairs.items()):
        difference = ours - theirs
        percent = _percent(difference, ours, theirs)
        awaiting = None
        if included is not None:
            awaiting = next((o for o in (provider, commissioner) if o not in included), None)
        flagged = False
        if awaiting is None and threshold is not None and abs(difference) > threshold:
            flagged = True
        if (
            awaiting is None
            and threshold_percent is not None
            and percent is not None
            and percent > threshold_percent
        ):
            flagged = True
        result.append(
            PairBalance(
                measure,
                provider,
                commissioner,
                ours,
                theirs,
                difference,
                percent,
                flagged,
                awaiting,
            )  # fmt: skip
        )
    return result


@dataclass(frozen=True)
class PayCheck:
    ods_code: str
    group: str
    pay: Decimal  # £000 a year
    wte: Decimal  # average in post over the year
    per_wte: Decimal | None  # £000 a year
    flagged: bool


def pay_per_wte(
    plan: OrgPlan,
    groups: Mapping[str, tuple[Sequence[str], Sequence[str]]],
    low: Decimal,
    high: Decimal,
) -> list[PayCheck]:
    """Pay cost per WTE by staff group: the year's pay over the year's average WTE, flagged
    outside [low, high]. A group with pay but no staff (or staff and no pay) is flagged too."""
    checks = []
    get = plan.annual.get
    for group, (pay_codes, wte_codes) in groups.items():
        pay = sum(map(get, pay_codes, repeat(ZERO)), ZERO)
        wte = sum(map(get, wte_codes, repeat(ZERO)), ZERO) / len(MONTHS)
        if pay == ZERO and wte == ZERO:
            continue
        per = None if wte == ZERO else (pay / wte).quantize(Decimal("0.001"))
        flagged = per is None or not (low <= per <= high)
        checks.append(
            PayCheck(plan.ods_code, group, pay, wte.quantize(Decimal("0.01")), per, flagged)
        )
    return checks
