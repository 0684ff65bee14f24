"""Agreements drafted before an all-or-nothing outcome payment named its payer: the payer is
the partner that is not paid, a commissioner first (the usual payer), so the terms partners
signed still settle, now with the payer keeping what the providers lose."""

from django.db import migrations


def name_payers(apps, schema_editor):
    AgreementVersion = apps.get_model("payments", "AgreementVersion")
    for version in AgreementVersion.objects.prefetch_related("partners"):
        changed = False
        for mechanism in version.mechanisms or []:
            params = mechanism.get("params") or {}
            if mechanism.get("kind") != "all_or_nothing" or params.get("payer"):
                continue
            paid = set((params.get("contract_values") or {}).keys())
            candidates = sorted(
                (o for o in version.partners.all() if o.ods_code not in paid),
                key=lambda o: (o.kind != "commissioner", o.ods_code),
            )
            if candidates:
                params["payer"] = candidates[0].ods_code
                mechanism["params"] = params
                changed = True
        if changed:
            version.save(update_fields=["mechanisms"])


class Migration(migrations.Migration):
    dependencies = [("payments", "0010_settlement_external")]

    operations = [migrations.RunPython(name_payers, migrations.RunPython.noop)]
