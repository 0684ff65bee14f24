"""Risk-share money is typed, stored and shown in pounds and pence (it was £000 to five
places): each agreement's money parameters, the spend actuals of its settlements and their
flows are restated in pounds, to two places. The same amounts, in the unit people type; the
mechanisms still work in £000 (the catalogue's reader divides). Each converted mechanism is
marked `"money": "gbp"`, as terms stored from now on are, so running this again (a partial
restore) converts nothing twice. Stop the web and the workers while it runs: code from before
reads every amount as £000."""

from decimal import Decimal, InvalidOperation

from django.db import migrations

# Each kind's money parameters, and the kinds whose actual is spend, as they were when money
# moved to pounds (a migration keeps its own copy of what it converts).
MONEY = {
    "marginal_rate": ["price"],
    "blended": ["fixed", "price", "outcome_amount"],
    "cap_and_collar": ["core", "price"],
    "risk_pool": ["budget", "caps"],
    "all_or_nothing": ["contract_values"],
    "gain_share": ["baseline", "planned_spend"],
    "capitation": ["baseline", "shifts", "planned_spend", "target"],
    "pooled_budget": ["contributions"],
}
SPEND = {"risk_pool", "gain_share", "capitation", "pooled_budget"}
PENNY = Decimal("0.01")
FIFTH = Decimal("0.00001")  # a penny in £000


def _scaled(value, factor: Decimal):
    """A typed amount times `factor`, as text at its unit's scale (pounds to two places, £000
    to five); what cannot be read is left as it was."""
    if value in (None, ""):
        return value
    try:
        number = Decimal(str(value).strip().replace(",", "")) * factor
    except InvalidOperation:
        return value
    if not number.is_finite():
        return value
    return str(number.quantize(PENNY if factor > 1 else FIFTH))


def _amounts(mapping, factor: Decimal):
    if not isinstance(mapping, dict):
        return mapping
    return {k: _scaled(v, factor) for k, v in mapping.items()}


def _restate(apps, forwards: bool) -> None:
    factor = Decimal(1000) if forwards else Decimal("0.001")
    AgreementVersion = apps.get_model("payments", "AgreementVersion")
    Settlement = apps.get_model("payments", "Settlement")
    converted = set()
    for version in AgreementVersion.objects.all():
        items = version.mechanisms or []
        if any((item.get("money") == "gbp") == forwards for item in items):
            continue  # already in the unit this goes to
        mechanisms = []
        for item in items:
            params = dict(item.get("params") or {})
            for key in MONEY.get(item.get("kind"), []):
                if isinstance(params.get(key), dict):
                    params[key] = _amounts(params[key], factor)
                elif key in params:
                    params[key] = _scaled(params[key], factor)
            moved = {k: v for k, v in item.items() if k != "money"}
            mechanisms.append({**moved, "params": params, **({"money": "gbp"} if forwards else {})})
        version.mechanisms = mechanisms
        version.save(update_fields=["mechanisms"])
        converted.add(version.pk)
    for settlement in Settlement.objects.filter(version_id__in=converted).select_related("version"):
        kinds = [m.get("kind") for m in settlement.version.mechanisms or []]
        settlement.measures = [
            _scaled(m, factor) if n < len(kinds) and kinds[n] in SPEND else m
            for n, m in enumerate(settlement.measures or [])
        ]
        settlement.flows = _amounts(settlement.flows, factor)
        settlement.external = _amounts(settlement.external, factor)
        settlement.save(update_fields=["measures", "flows", "external"])


def forwards(apps, schema_editor):
    _restate(apps, forwards=True)


def backwards(apps, schema_editor):
    _restate(apps, forwards=False)


class Migration(migrations.Migration):
    dependencies = [("payments", "0013_quarter_assessments")]

    operations = [migrations.RunPython(forwards, backwards)]
