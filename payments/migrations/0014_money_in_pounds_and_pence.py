"""Risk-share money is typed, stored as typed and shown in pounds and pence (it was £000 to
five places): each agreement's money parameters, the spend actuals of settlements and their
flows are restated in pounds. The same amounts, in the unit people type; the mechanisms still
work in £000 (the catalogue's reader divides)."""

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


def _scaled(value, factor: Decimal):
    """A typed amount times `factor`, as text; what cannot be read is left as it was."""
    if value in (None, ""):
        return value
    try:
        number = Decimal(str(value).strip().replace(",", "")) * factor
    except InvalidOperation:
        return value
    return format(number.normalize(), "f")


def _amounts(mapping, factor: Decimal):
    if not isinstance(mapping, dict):
        return mapping
    if factor > 1:
        return {k: str((Decimal(v) * factor).quantize(PENNY)) for k, v in mapping.items()}
    return {k: str((Decimal(v) * factor).quantize(Decimal("0.00001"))) for k, v in mapping.items()}


def _restate(apps, factor: Decimal) -> None:
    AgreementVersion = apps.get_model("payments", "AgreementVersion")
    Settlement = apps.get_model("payments", "Settlement")
    for version in AgreementVersion.objects.all():
        mechanisms = []
        for item in version.mechanisms or []:
            params = dict(item.get("params") or {})
            for key in MONEY.get(item.get("kind"), []):
                if isinstance(params.get(key), dict):
                    params[key] = {o: _scaled(v, factor) for o, v in params[key].items()}
                elif key in params:
                    params[key] = _scaled(params[key], factor)
            mechanisms.append({**item, "params": params})
        version.mechanisms = mechanisms
        version.save(update_fields=["mechanisms"])
    for settlement in Settlement.objects.select_related("version"):
        kinds = [m.get("kind") for m in settlement.version.mechanisms or []]
        settlement.measures = [
            _scaled(m, factor) if kind in SPEND else m
            for m, kind in zip(settlement.measures or [], kinds + [None] * 99, strict=False)
        ]
        settlement.flows = _amounts(settlement.flows, factor)
        settlement.external = _amounts(settlement.external, factor)
        settlement.save(update_fields=["measures", "flows", "external"])


def forwards(apps, schema_editor):
    _restate(apps, Decimal(1000))


def backwards(apps, schema_editor):
    _restate(apps, Decimal("0.001"))


class Migration(migrations.Migration):
    dependencies = [("payments", "0013_quarter_assessments")]

    operations = [migrations.RunPython(forwards, backwards)]
