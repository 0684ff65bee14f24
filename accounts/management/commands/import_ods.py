"""`openbook import_ods FILE [FILE ...] [--kind-of LAYOUT] [--kind CODE=KIND ...] [--dry-run]`:
load regions, systems and organisations from the NHS Organisation Data Service files (the ICB
list, etr.csv for NHS trusts, eccg.csv for sub-ICB locations; .csv or the published .zip).
All or nothing; a second run of the same files changes nothing. Exit 1 naming every bad row."""

import zipfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts import ods
from accounts.ods_import import OdsImportRefused, OdsReport, ods_import, ods_import_problems

# Whole files are read before anything is checked; the national trust file is ~250 KB.
MAX_BYTES = 20 * 1024 * 1024


def _read(path: Path) -> tuple[str, str]:
    """A file's text and the name its layout is told by (a zip's CSV inside, as published)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if m.filename.lower().endswith(".csv")]
            if len(members) != 1:
                raise CommandError(
                    f"{path}: expected one CSV file in the zip, found {len(members)}."
                )
            member = members[0]
            if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise CommandError(f"{path}: {member.filename} is compressed in a way ODS's "
                                   "files are not.")  # fmt: skip
            # Read at most one byte past the limit: a zip's own sizes are whatever it claims.
            with archive.open(member) as inside:
                data, name = inside.read(MAX_BYTES + 1), member.filename
            if len(data) > MAX_BYTES:
                raise CommandError(f"{path}: {member.filename} is too large for an ODS file.")
    else:
        if path.stat().st_size > MAX_BYTES:
            raise CommandError(f"{path} is too large for an ODS file.")
        data, name = path.read_bytes(), path.name
    try:
        return data.decode("utf-8-sig"), name
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), name  # older ODS files are Windows text
    except UnicodeDecodeError:
        raise CommandError(f"{path}: neither UTF-8 nor Windows text; is it an ODS file?") from None


class Command(BaseCommand):
    help = (
        "Load regions, systems and organisations from NHS Organisation Data Service CSV files "
        "(ICBs, etr.csv trusts, eccg.csv sub-ICB locations). All or nothing; idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", type=Path)
        parser.add_argument(
            "--kind-of",
            choices=[layout.value for layout in ods.Layout],
            help="The layout of every file given, when their names do not tell it "
            "(etr… trusts, eccg… sub-ICB locations, …icb… ICBs).",
        )
        parser.add_argument(
            "--kind",
            action="append",
            default=[],
            metavar="CODE=KIND",
            help="Set an organisation's kind (the import guesses a new trust's from its name: "
            "ambulance, mental health, community, else acute). Repeatable.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; store nothing."
        )

    def handle(self, *args, files, kind_of, kind, dry_run, **options):
        today = timezone.localdate()
        kinds, problems = ods.parse_kinds(kind)
        rows: list[ods.OdsRow] = []
        bad: list[ods.Problem] = []
        for path in files:
            if not path.is_file():
                raise CommandError(f"{path}: no such file.")
            text, name = _read(path)
            layout = ods.Layout(kind_of) if kind_of else ods.layout_for(name)
            if layout is None:
                raise CommandError(
                    f"{path}: cannot tell its layout from its name; add --kind-of "
                    "trusts, icbs or sub-icb."
                )
            found, wrong = ods.read_rows(text, layout=layout, source=path.name, today=today)
            rows += found
            bad += wrong
            self.stdout.write(f"{path.name}: {len(found) + len(wrong)} rows of {layout.value}")
        codes = {row.code for row in rows}
        problems += [
            f"--kind {code}: {code} is not in the files" for code in kinds if code not in codes
        ]
        try:
            bad += ods_import_problems(rows, today)  # a wrong ICB, a code twice
            if bad or problems:
                raise OdsImportRefused(sorted(bad, key=lambda p: (p.source, p.line)))
            report = ods_import(rows=rows, today=today, kinds=kinds, dry_run=dry_run)
        except OdsImportRefused as refused:
            lines = problems + [str(p) for p in refused.problems]
            raise CommandError(
                f"Nothing imported: {len(lines)} problem(s).\n" + "\n".join(lines)
            ) from None
        self._summary(report, dry_run)

    def _summary(self, report: OdsReport, dry_run: bool) -> None:
        out = self.stdout
        if dry_run:
            out.write("Dry run: nothing was stored. This is what an import would do.")
        for heading, lines in (("Created", report.created), ("Updated", report.updated)):
            out.write(f"{heading} {len(lines)}.")
            for line in lines:
                out.write(f"  {line}")
        out.write(f"Unchanged {len(report.unchanged)}.")
        out.write(f"Closed {len(report.closed)}.")
        for line in report.closed:
            out.write(f"  {line}")
