"""Plausible made-up figures for the built-in template's version 2 (the finer returns).

What makes them plausible, as a finance lead would check them:
- most providers plan a deficit of a few per cent of income, and ICBs a small surplus, so a
  national round lands within a few hundred £m of break-even;
- costs split as a trust's do (pay about 62%), pay by staff group at believable pay per WTE,
  with bank and agency a small share;
- activity by specialty and point of delivery at a district general hospital's volumes,
  valued at tariff, lower in August and December and busier in winter;
- partners agree, except in about one pair of partners in five, where about one line in
  eight is out by 6–15%;
- balance sheets balance and the cash flow ends where the balance sheet's cash is.

Deterministic: the same organisation in the same round always gets the same figures.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from decimal import Decimal

from accounts.models import Organisation
from plans import selectors
from plans.calculations import derive
from plans.cells import CellInput
from plans.models import Line, PlanningRound, Section

K = Organisation.Kind
Q = Decimal("0.001")
D = Decimal
# A year's shape: April … March. Elective work dips in August and at Christmas; emergency
# work peaks in winter.
ELECTIVE_SEASON = [1.0, 1.02, 1.0, 1.01, 0.9, 1.0, 1.04, 1.03, 0.88, 1.03, 1.0, 1.05]
WINTER_SEASON = [0.96, 0.98, 0.97, 0.98, 0.96, 0.98, 1.0, 1.02, 1.08, 1.08, 1.02, 1.0]
# Year volumes for a £450m acute trust.
POD_VOLUME = {"EL": 12_000, "DC": 60_000, "OF": 200_000, "OU": 400_000, "OP": 60_000}
POD_PRICE = {"EL": D("4.2"), "DC": D("1.05"), "OF": D("0.18"), "OU": D("0.1"), "OP": D("0.26")}
NEL_VOLUME = {"Z": 22_000, "L": 38_000, "M": 7_000, "O": 3_000}
AE_VOLUME = {"1": 120_000, "2": 5_000, "3": 45_000}
# A year of other activity, for a trust of its kind's usual size (SCALE).
OTHER_VOLUME = {
    "DGMRI": 30_000, "DGCT": 50_000, "DGUS": 60_000, "DGCOL": 6_000, "DGGAS": 7_000,
    "DGFLX": 1_500, "DGECH": 10_000, "DGDXA": 3_000, "DGAUD": 8_000,
    "COMCON": 600_000, "COMUCR": 9_000, "COMVW": 60, "MHCON": 450_000, "MHCYP": 90_000,
    "MHBED": 70_000, "MHOAP": 2_000, "AMBC1": 60_000, "AMBC2": 350_000, "AMBC34": 250_000,
    "AMB111": 1_200_000,
}  # fmt: skip
# Rough annual scale (£000 of income) by kind, so a mental health trust is not an acute.
SCALE = {
    "acute": 450_000,
    "community": 150_000,
    "mental_health": 200_000,
    "ambulance": 250_000,
    "commissioner": 1_800_000,
    "local_authority": 300_000,
    "pcn": 8_000,
    "voluntary": 5_000,
}
# Pay by staff group (shares of the pay bill) and cost per substantive WTE, £000 a year.
STAFF = {
    "CON": (D("0.14"), 138), "CSD": (D("0.04"), 105), "DIT": (D("0.08"), 72),
    "RNU": (D("0.30"), 50), "RMW": (D("0.03"), 52), "HCA": (D("0.10"), 31),
    "AHP": (D("0.07"), 51), "HCS": (D("0.03"), 56), "STT": (D("0.04"), 44),
    "AMB": (D("0.00"), 46), "ADM": (D("0.11"), 36), "EST": (D("0.04"), 29),
    "MGR": (D("0.02"), 82),
}  # fmt: skip
AMBULANCE_STAFF = {"AMB": D("0.55"), "CON": D("0.0"), "CSD": D("0.0"), "DIT": D("0.0"),
                   "RMW": D("0.0"), "HCS": D("0.0"), "RNU": D("0.08")}  # fmt: skip
CONTRACT = {"S": (D("0.90"), D(1)), "B": (D("0.06"), D(1)), "A": (D("0.04"), D("1.6"))}
INCOME = {"INCSPEC": D("0.12"), "INCOOS": D("0.04"), "INCPRIV": D("0.01"),
          "INCRTA": D("0.002"), "INCOTHPC": D("0.01"), "INCEDU": D("0.04"),
          "INCRND": D("0.015"), "INCNPC": D("0.01"), "INCOTH": D("0.033")}  # fmt: skip
PARTNER_INCOME = 1 - sum(INCOME.values())  # the rest, from the system's commissioners
NON_PAY = {"NPDRUG": D("0.25"), "NPCLIN": D("0.20"), "NPGEN": D("0.06"), "NPPREM": D("0.12"),
           "NPPFI": D("0.03"), "NPHEAL": D("0.08"), "NPCNST": D("0.06"), "NPIT": D("0.05"),
           "NPEDU": D("0.02"), "NPOTH": D("0.13")}  # fmt: skip
FINANCING = {"FINDEP": D("0.030"), "FINAMO": D("0.005"), "FININT": D("0.008"),
             "FINPDC": D("0.017")}  # fmt: skip
COMMISSIONER_SPEND = {"CSPOOS": D("0.06"), "CSPIS": D("0.03"), "CSPGP": D("0.09"),
                      "CSPRX": D("0.09"), "CSPCHC": D("0.05"), "CSPMH": D("0.02"),
                      "CSPCOM": D("0.02"), "CSPBCF": D("0.03"), "CSPRUN": D("0.01")}  # fmt: skip
ALLOCATION = {"ALLCORE": D("0.85"), "ALLPC": D("0.09"), "ALLSPEC": D("0.04"), "ALLOTH": D("0.02")}
# Balance sheet positions as shares of a year's income.
ASSETS = {"BSPPE": D("0.90"), "BSROU": D("0.08"), "BSINT": D("0.03"), "BSNCO": D("0.01"),
          "BSINV": D("0.012"), "BSREC": D("0.05")}  # fmt: skip
LIABILITIES = {"BSPAY": D("0.10"), "BSDEF": D("0.02"), "BSBORC": D("0.01"), "BSPROC": D("0.005"),
               "BSBORN": D("0.08"), "BSPRON": D("0.01")}  # fmt: skip
PERCENT = {"PF4HR": (72, 80), "PFRTT": (55, 66), "PFDM01": (76, 90), "PFFDS": (74, 80),
           "PF62": (64, 75), "PFOCC": (89, 95)}  # fmt: skip


class _Commissioners(dict):
    """How many commissioners each provider plans its income with, asked once a provider
    while one organisation's figures are made up."""

    def __missing__(self, provider: Organisation) -> int:
        self[provider] = max(len(selectors.counterparties_for(provider, "commissioner")), 1)
        return self[provider]


def _rng(*parts: object) -> random.Random:
    return random.Random(":".join(map(str, parts)))  # noqa: S311  (made-up figures)


def _off(provider: str, commissioner: str, line: str) -> Decimal:
    """How far a commissioner's figure is from its provider's: within a whisker for most; in
    about one pair of partners in five, about one line in eight is out by 6–15%."""
    pair = hashlib.sha256(f"{provider}:{commissioner}".encode()).digest()
    digest = hashlib.sha256(f"{provider}:{commissioner}:{line}".encode()).digest()
    if pair[0] % 5 or digest[0] % 8:
        return 1 + D(digest[1] % 5 - 2) / 1000
    return 1 + D(6 + digest[2] % 10) / 100 * (1 if digest[3] % 2 else -1)


def _months(rng: random.Random, annual: Decimal, season=None, whole: bool = False) -> list:
    """A year's figure over its twelve months, by the season's shape, with a little noise."""
    shape = season or [1.0] * 12
    weights = [D(str(round(s * rng.uniform(0.985, 1.015), 4))) for s in shape]
    total = sum(weights)
    out = [annual * w / total for w in weights]
    return [D(int(v)) for v in out] if whole else [v.quantize(Q) for v in out]


def income_of(plan_round: PlanningRound, organisation: Organisation) -> Decimal:
    """The organisation's income in £000 a year, by its kind, give or take 30%."""
    factor = _rng(organisation.ods_code, plan_round.slug, "scale").uniform(0.7, 1.3)
    return (D(SCALE.get(organisation.kind, 10_000)) * D(str(factor))).quantize(Q)


def surplus_share(plan_round: PlanningRound, organisation: Organisation) -> Decimal:
    """The surplus (+) or deficit (−) planned, as a share of income: providers mostly in
    deficit (a few per cent at worst), commissioners a little over break-even."""
    rng = _rng(organisation.ods_code, plan_round.slug, "surplus")
    if organisation.kind in Organisation.PROVIDER_KINDS:
        return D(str(round(rng.triangular(-0.04, 0.012, -0.004), 4)))
    if organisation.kind == K.COMMISSIONER:
        return D(str(round(rng.uniform(-0.001, 0.004), 4)))
    return D(str(round(rng.uniform(-0.01, 0.01), 4)))


def _activity(plan_round, provider, commissioner, code: str, n_commissioners: int) -> Decimal:
    """A provider's year of one activity line with one commissioner (counts)."""
    factor = income_of(plan_round, provider) / 450_000 / n_commissioners
    rng = _rng(provider.ods_code, commissioner.ods_code, code, plan_round.slug)
    if code[:2] in ("AP", "AV"):
        specialty, pod = code[2:5], code[5:]
        weight = D(str(_rng(provider.ods_code, specialty).uniform(0.5, 1.5))) / 21
        volume = D(POD_VOLUME[pod]) * weight
    elif code.startswith("NP"):
        volume = D(NEL_VOLUME[code[2:]])
    else:  # EP: A&E by type
        volume = D(AE_VOLUME[code[2:]]) * (1 if provider.kind == K.ACUTE else D("0.2"))
    return (volume * factor * D(str(rng.uniform(0.9, 1.1)))).quantize(D(1))


def plan_cells(plan_round: PlanningRound, organisation: Organisation) -> list[CellInput]:
    """Every input cell of the organisation's version-2 template, filled in."""
    lines = [
        line
        for line in selectors.lines_for(plan_round.template_version_id, organisation.kind)
        if line.section.kind == Section.Kind.GRID and not line.is_derived
    ]
    known: dict = {}
    partners = {line.code: selectors.partners_of(organisation, line, known) for line in lines}
    rng = _rng(organisation.ods_code, plan_round.slug, "months")
    income = income_of(plan_round, organisation)
    annual: dict[str, Decimal] = {}
    cells: list[CellInput] = []
    maxima = {line.code: line.maximum for line in lines}

    def put(code: str, months: list, counterparty: Organisation | None = None) -> None:
        top = maxima.get(code)
        for month, value in enumerate(months, start=1):
            value = min(value, top) if top is not None else value
            partner = counterparty.ods_code if counterparty else None
            cells.append(CellInput(line=code, month=month, value=value, counterparty=partner))

    def year(code: str, value: Decimal, season=None, whole=False) -> None:
        if code in partners:
            annual[code] = value
            put(code, _months(rng, value, season, whole))

    def level(code: str, value: Decimal) -> None:
        """A position held through the year (staff in post), growing a little."""
        if code in partners:
            put(code, [(value * D(str(1 + (m - 6) / 600))).quantize(D("0.01")) for m in range(12)])

    surplus = income * surplus_share(plan_round, organisation)
    if organisation.kind in Organisation.PROVIDER_KINDS:
        _provider(plan_round, organisation, income, surplus, partners, (year, level, put), rng,
                  annual)  # fmt: skip
        if "LYFOT" in partners:
            _last_year(plan_round, organisation, cells, annual, year)
    elif organisation.kind == K.COMMISSIONER:
        _commissioner(plan_round, organisation, partners, year, put, rng)
    else:
        year("LAINC", income)
        spend = income - surplus
        for code, share in (("LAASC", D("0.7")), ("LAPH", D("0.1")), ("LAOTH", D("0.2"))):
            year(code, spend * share)
    return cells


def _last_year(plan_round, organisation, cells, annual, year) -> None:
    """Last year's outturn (the round owner's figure), such that the bridge's other changes
    come out as made up: the plan's surplus as its lines add up, less the bridge's steps."""
    lines = selectors.lines_for(plan_round.template_version_id, organisation.kind)
    specs = [selectors.line_spec(line) for line in lines]
    figures = {(c.line, None, c.month): D(c.value) for c in cells if not c.counterparty}
    figures |= {(c.line, c.counterparty, c.month): D(c.value) for c in cells if c.counterparty}
    derived = derive(specs, figures)
    surplus_line = next(s.code for s in specs if s.role == Line.Role.SURPLUS)
    planned = sum((derived.get((surplus_line, m), D(0)) for m in range(1, 13)), D(0))
    year("LYFOT", planned + annual.pop("_last_year_less_surplus"))


def _provider(plan_round, organisation, income, surplus, partners, writers, rng, annual):
    year, level, put = writers
    commissioners = partners.get("INCSYS", [])
    for commissioner in commissioners:
        share = income * PARTNER_INCOME / len(commissioners)
        put("INCSYS", _months(rng, share), commissioner)
    for code, share in INCOME.items():
        year(code, income * share * (1 if organisation.kind == K.ACUTE else D("0.4")))
    own_income = income * PARTNER_INCOME + sum((annual.get(c, D(0)) for c in INCOME), D(0))
    finance_income = own_income * D("0.001")
    year("FININC", finance_income)
    costs = own_income + finance_income - surplus
    financing = {code: costs * share for code, share in FINANCING.items()}
    pay = (costs - sum(financing.values())) * D("0.655")
    non_pay = costs - sum(financing.values()) - pay
    year("PAYOTH", pay * D("0.005"))
    groups = dict(STAFF)
    if organisation.kind == K.AMBULANCE:
        groups = {g: (AMBULANCE_STAFF.get(g, share), cost) for g, (share, cost) in STAFF.items()}
    total_share = sum(share for share, _ in groups.values())
    for group, (share, cost) in groups.items():
        for contract, (part, premium) in CONTRACT.items():
            money = pay * D("0.995") * share / total_share * part
            year(f"PAY{group}{contract}", money)
            level(f"WTE{group}{contract}", money / (D(cost) * premium) if money else D(0))
    for code, share in NON_PAY.items():
        year(code, non_pay * share)
    for code, value in financing.items():
        year(code, value)
    year("FINOTH", D(0))
    # Efficiency: about 4.5% of costs, mostly recurrent; capital about 4% of income.
    saving = costs * D("0.045")
    # The bridge from last year: one-off items last year, inflation's net pressure, growth,
    # and last year's outturn, which the round's owner provides, such that what is left
    # (other changes, worked out) is small.
    one_off = income * D(str(round(rng.uniform(0.0, 0.006), 4)))
    inflation = -costs * D(str(round(rng.uniform(0.008, 0.016), 4)))
    growth = income * D(str(round(rng.uniform(0.0, 0.006), 4)))
    other = income * D(str(round(rng.uniform(-0.003, 0.003), 4)))
    year("LYNR", one_off)
    year("BRINF", inflation)
    year("BRGRO", growth)
    # Last year's outturn is worked out from the plan's own surplus once every line is in.
    annual["_last_year_less_surplus"] = one_off - inflation - growth - saving - other
    for code, share in (("EFRP", "0.32"), ("EFRN", "0.38"), ("EFNP", "0.13"), ("EFNN", "0.17")):
        year(code, saving * D(share))
    back_loaded = [0.5, 0.6, 0.7, 0.8, 0.8, 0.9, 1.0, 1.0, 1.1, 1.3, 1.5, 1.8]
    for code, share in (("CAPEST", "0.018"), ("CAPMED", "0.009"), ("CAPIT", "0.008"),
                        ("CAPLEA", "0.003"), ("CAPOTH", "0.002")):  # fmt: skip
        year(code, income * D(share), back_loaded)
    _activity_lines(plan_round, organisation, partners, put)
    size = income / SCALE[organisation.kind]
    for code, volume in OTHER_VOLUME.items():
        if code.startswith("DG") and organisation.kind != K.ACUTE:
            volume = volume * 15 // 100  # a community trust's diagnostic hub
        if code == "COMVW" and code in partners:
            put(code, [(D(volume) * size).quantize(D(1))] * 12)
        else:
            year(code, D(volume) * size, WINTER_SEASON, whole=True)
    _performance(organisation, income, partners, put)
    _balance_sheet(income, surplus, financing, annual, partners, put)


def _activity_lines(plan_round, provider, partners, put):
    for code, commissioners in partners.items():
        if code[:2] not in ("AP", "AV", "NP", "EP"):
            continue
        count_code = "AP" + code[2:] if code.startswith("AV") else code
        season = ELECTIVE_SEASON if code[:2] in ("AP", "AV") else WINTER_SEASON
        for commissioner in commissioners:
            count = _activity(plan_round, provider, commissioner, count_code, len(commissioners))
            months = _months(_rng(provider.ods_code, commissioner.ods_code, count_code), count,
                             season, whole=True)  # fmt: skip
            if code.startswith("AV"):
                months = [(m * POD_PRICE[code[5:]]).quantize(Q) for m in months]
            put(code, months, commissioner)


def _performance(organisation, income, partners, put):
    rng = _rng(organisation.ods_code, "performance")
    for code, (low, high) in PERCENT.items():
        if code in partners:
            start = rng.uniform(low, high)
            put(code, [D(str(round(start + m * 0.25, 1))).min(D(100)) for m in range(12)])
    size = income / 450_000
    waiting = size * 60_000
    for code, value, step in (("PFWL", waiting, -0.004), ("PF52", waiting * D("0.02"), -0.06),
                              ("PF65", waiting * D("0.002"), -0.15), ("PFGA", size * 800, 0),
                              ("PFCAT2", D(36), -0.01)):  # fmt: skip
        if code in partners:
            put(code, [(value * D(str(max(0.0, 1 + step * m)))).quantize(D(1)) for m in range(12)])


def _balance_sheet(income, surplus, financing, annual, partners, put):
    """Month-end positions that balance (the I&E reserve takes the difference) and a cash flow
    that ends each month at the balance sheet's cash."""
    if "BSPPE" not in partners:
        return
    cash = income * D("0.06")
    pdc_received = D(0)
    monthly_surplus = surplus / 12
    non_cash = (financing["FINDEP"] + financing["FINAMO"]) / 12
    capital = [annual.get(c, D(0)) / 12 for c in ("CAPEST", "CAPMED", "CAPIT", "CAPOTH")]
    capex = sum(capital, D(0))
    flows: dict[str, list[Decimal]] = {code: [] for code in (
        "CFOPS", "CFNONC", "CFWC", "CFPROV", "CFCAP", "CFDISP", "CFPDCR", "CFLOAN", "CFLEASE",
        "CFINT", "CFPDCD")}  # fmt: skip
    closing, positions = [], {code: [] for code in [*ASSETS, *LIABILITIES, "BSCASH", "BSPDC",
                                                    "BSREV", "BSIER"]}  # fmt: skip
    for month in range(1, 13):
        month_flows = {
            "CFOPS": monthly_surplus + (financing["FININT"] + financing["FINPDC"]) / 12,
            "CFNONC": non_cash,
            "CFWC": income * D("0.002") * (1 if month % 3 else -2),
            "CFPROV": -income * D("0.0003"),
            "CFCAP": -capex,
            "CFDISP": D(0),
            "CFPDCR": capex * D("0.5") if month in (6, 12) else D(0),
            "CFLOAN": -income * D("0.0005"),
            "CFLEASE": -income * D("0.0008"),
            "CFINT": -financing["FININT"] / 12,
            "CFPDCD": -financing["FINPDC"] / 2 if month in (9, 12) else D(0),
        }
        short = income * D("0.015") - cash - sum(month_flows.values())
        if short > 0:  # a trust in deficit draws cash support as public dividend capital
            month_flows["CFPDCR"] += short
        pdc_received += month_flows["CFPDCR"]
        for code, value in month_flows.items():
            flows[code].append(value.quantize(Q))
        cash += sum(flows[code][-1] for code in flows)
        closing.append(cash.quantize(Q))
        drift = 1 + D(month) / 400
        for code, share in ASSETS.items():
            positions[code].append((income * share * drift).quantize(Q))
        for code, share in LIABILITIES.items():
            positions[code].append((income * share * drift).quantize(Q))
        positions["BSCASH"].append(cash.quantize(Q))
        positions["BSPDC"].append((income * D("0.7") + pdc_received).quantize(Q))
        positions["BSREV"].append((income * D("0.15")).quantize(Q))
        net = (
            sum(positions[c][-1] for c in ASSETS)
            + positions["BSCASH"][-1]
            - sum(positions[c][-1] for c in LIABILITIES)
        )
        positions["BSIER"].append(net - positions["BSPDC"][-1] - positions["BSREV"][-1])
    for code, months in {**flows, **positions, "CFCLOSE": closing}.items():
        if code in partners:
            put(code, months)


def _commissioner(plan_round, organisation, partners, year, put, rng):
    counts = _Commissioners()
    """What the ICB spends with its system's providers (as they plan to be paid, a little off
    for a few) is about 55% of its spending; its allocation covers the rest and its surplus."""
    providers = partners.get("CSPSYS", [])
    spent = D(0)
    for provider in providers:
        n = counts[provider]
        theirs = income_of(plan_round, provider) * PARTNER_INCOME / n
        value = theirs * _off(provider.ods_code, organisation.ods_code, "CSPSYS")
        spent += value
        put("CSPSYS", _months(rng, value), provider)
    spend = spent / D("0.55") if spent else income_of(plan_round, organisation)
    for code, share in COMMISSIONER_SPEND.items():
        year(code, spend * share)
    year("CSPOTH", spend * (D("0.45") - sum(COMMISSIONER_SPEND.values())))
    allocation = spend * (1 + surplus_share(plan_round, organisation))
    for code, share in ALLOCATION.items():
        year(code, allocation * share)
    _commissioned_activity(plan_round, organisation, partners, put, counts)


def _commissioned_activity(plan_round, commissioner, partners, put, counts):
    """The commissioner's side of each activity line: the provider's figure for it, a little
    off for most, further off for a few."""
    provider_code: Callable[[str], str] = lambda c: {"AC": "AP", "CV": "AV", "NC": "NP",  # noqa: E731
                                                      "EC": "EP"}[c[:2]] + c[2:]  # fmt: skip
    for code, providers in partners.items():
        if code[:2] not in ("AC", "CV", "NC", "EC"):
            continue
        theirs = provider_code(code)
        count_code = "AP" + theirs[2:] if theirs.startswith("AV") else theirs
        season = ELECTIVE_SEASON if code[:2] in ("AC", "CV") else WINTER_SEASON
        for provider in providers:
            n = counts[provider]
            count = _activity(plan_round, provider, commissioner, count_code, n)
            months = _months(_rng(provider.ods_code, commissioner.ods_code, count_code), count,
                             season, whole=True)  # fmt: skip
            factor = _off(provider.ods_code, commissioner.ods_code, count_code)
            if code.startswith("CV"):
                months = [(m * POD_PRICE[code[5:]] * factor).quantize(Q) for m in months]
            else:
                months = [(m * factor).quantize(D(1)) for m in months]
            put(code, months, provider)


def is_realistic(plan_round: PlanningRound) -> bool:
    """Is the round on a template these figures are for (version 2's lines)?"""
    return Line.objects.filter(
        section__template_version_id=plan_round.template_version_id, code="PAYCONS"
    ).exists()
