"""`openbook import_ods` on small files in the published ODS layouts (tests/accounts/fixtures/ods):
the first run creates, the same files again change nothing, a later month's file renames and
moves, a bad row refuses everything, a dry run stores nothing."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Organisation, Region, System
from openbook.audit import audit_verify_chain
from openbook.models import PLATFORM_CHAIN, AuditEvent
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

FILES = Path(__file__).parent / "fixtures" / "ods"
FIRST = [FILES / "eicb.csv", FILES / "etr.csv", FILES / "eccg.csv"]


def run(*args: object) -> str:
    out = StringIO()
    call_command("import_ods", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def state() -> list[tuple]:
    """Everything the import may write, to show a refused or dry run wrote nothing."""
    return [
        sorted(Region.objects.values_list("code", "name")),
        sorted(System.objects.values_list("code", "name", "region__code")),
        sorted(Organisation.objects.values_list("ods_code", "name", "kind", "system__code")),
        AuditEvent.objects.count(),
    ]


def test_first_import_creates_regions_systems_and_organisations():
    out = run(*FIRST)

    assert set(Region.objects.values_list("code", "name")) == {
        ("y60", "Midlands"),
        ("y58", "South West"),
    }
    borsetshire = System.objects.get(code="qza")
    assert borsetshire.name == "Borsetshire Integrated Care System"
    assert borsetshire.region.code == "y60"
    assert System.objects.get(code="qzb").region.code == "y58"
    kinds = dict(Organisation.objects.values_list("ods_code", "kind"))
    assert kinds == {
        "QZA": "commissioner",  # the ICB, in its own system
        "QZB": "commissioner",
        "99Z": "commissioner",  # sub-ICB locations
        "98Z": "commissioner",
        "RZ1": "acute",
        "RZ2": "mental_health",
        "RZ3": "ambulance",
        "RZ4": "community",
        "RZ5": "acute",
    }
    rz5 = Organisation.objects.get(ods_code="RZ5")
    assert rz5.name == "King's Loamshire Hospital NHS Foundation Trust"
    assert rz5.system.code == "qzb"
    assert Organisation.objects.get(ods_code="QZA").system == borsetshire
    # Closed ones are reported, not made.
    assert not Organisation.objects.filter(ods_code__in=["RZ9", "97Z"]).exists()
    assert "Created 13." in out
    assert "Closed 2." in out and "RZ9" in out and "not created" in out

    events = AuditEvent.objects.filter(chain=PLATFORM_CHAIN)
    assert events.count() == 13 == AuditEvent.objects.count()
    created = events.get(action="organisation.created", object_id=str(rz5.pk))
    assert created.actor is None and created.actor_label == "command line"
    assert created.after == {
        "ods_code": "RZ5",
        "name": "King's Loamshire Hospital NHS Foundation Trust",
        "kind": "acute",
        "system": "qzb",
    }
    assert created.payload == {"source": "etr.csv line 5"}
    assert audit_verify_chain(PLATFORM_CHAIN).ok


def test_the_same_files_again_change_nothing_and_record_nothing():
    run(*FIRST)
    before = state()

    out = run(*FIRST)

    assert state() == before
    assert "Created 0." in out and "Updated 0." in out and "Unchanged 9." in out


def test_a_later_file_renames_moves_and_reports_closed():
    run(*FIRST)
    kept = Organisation.objects.get(ods_code="RZ5")
    events = AuditEvent.objects.count()

    out = run(FILES / "eicb.csv", FILES / "updated" / "etr.csv")

    rz1 = Organisation.objects.get(ods_code="RZ1")
    assert rz1.name == "Borchester and Felpersham Hospitals NHS Trust"
    assert Organisation.objects.get(ods_code="RZ4").system.code == "qza"
    # Closed since: left as it was, and said so.
    kept.refresh_from_db()
    assert kept.system.code == "qzb" and kept.name.startswith("King's")
    assert "Updated 2." in out
    assert "RZ1: name 'Borchester General Hospital NHS Trust' → 'Borchester and" in out
    assert "RZ4: system 'qzb' → 'qza'" in out
    assert "RZ5 King's Loamshire Hospital NHS Foundation Trust: closed 2024-03-31, left" in out

    new = AuditEvent.objects.order_by("seq")[events:]
    assert [e.action for e in new] == ["organisation.updated", "organisation.updated"]
    assert new[1].before == {"system": "qzb"} and new[1].after == {"system": "qza"}
    assert run(FILES / "eicb.csv", FILES / "updated" / "etr.csv").count("Updated 0.") == 1


def test_a_kind_set_in_openbook_stays_unless_told():
    run(*FIRST)
    Organisation.objects.filter(ods_code="RZ5").update(kind="community")

    run(*FIRST)
    assert Organisation.objects.get(ods_code="RZ5").kind == "community"

    out = run(*FIRST, "--kind", "RZ5=acute")
    assert Organisation.objects.get(ods_code="RZ5").kind == "acute"
    assert "RZ5: kind 'community' → 'acute'" in out


def test_bad_rows_refuse_the_whole_import_naming_each_line():
    OrganisationFactory()  # something already there, untouched
    before = state()

    with pytest.raises(CommandError) as refused:
        run(FILES / "eicb.csv", FILES / "bad" / "etr.csv")

    message = str(refused.value)
    assert "Nothing imported: 2 problem(s)" in message
    assert "etr.csv line 2: Organisation Code 'R-1' is not an ODS code" in message
    assert "etr.csv line 3: RZ7: its ICB QZQ is not in the ICB file given" in message
    assert state() == before  # not even the good rows, nor the ICBs


def test_a_trust_may_name_an_icb_already_in_openbook():
    run(FILES / "eicb.csv")
    out = run(FILES / "etr.csv")
    assert "Created 5." in out
    assert Organisation.objects.get(ods_code="RZ1").system.code == "qza"


def test_dry_run_reports_and_stores_nothing():
    before = state()

    out = run(*FIRST, "--dry-run")

    assert state() == before
    assert "Dry run: nothing was stored" in out and "Created 13." in out


def test_a_file_whose_name_does_not_tell_its_layout_needs_kind_of(tmp_path):
    icbs = tmp_path / "download.csv"
    icbs.write_bytes((FILES / "eicb.csv").read_bytes())
    with pytest.raises(CommandError, match="--kind-of"):
        run(icbs)
    run(icbs, "--kind-of", "icbs")
    assert System.objects.filter(code__in=["qza", "qzb"]).count() == 2


def test_the_published_zip_is_read_as_its_csv(tmp_path):
    import zipfile

    archive = tmp_path / "etr.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(FILES / "etr.csv", "etr.csv")
    run(FILES / "eicb.csv")
    assert "Created 5." in run(archive)
