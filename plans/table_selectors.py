"""Reading table sections and their rows. The version read is one its reader was allowed to
see (plans.selectors.version_for and the like), so these only shape what it holds."""

from __future__ import annotations

from plans.models import Section, TableRow, Version
from plans.tables import Row, TableSpec


def spec_of(section: Section) -> TableSpec:
    return TableSpec.of(section.code, section.name, section.table)


def table_sections(template_version_id: int, kind: str) -> list[Section]:
    """The table sections an organisation of this kind completes, in template order."""
    return list(
        Section.objects.filter(
            template_version_id=template_version_id,
            kind=Section.Kind.TABLE,
            kinds__contains=[kind],
        ).order_by("position")
    )


def version_rows(version: Version | None, section: Section) -> list[Row]:
    if version is None:
        return []
    return [
        Row(dict(fields), tuple(amounts))
        for fields, amounts in TableRow.objects.filter(version=version, section=section)
        .order_by("position")
        .values_list("fields", "amounts")
    ]


def version_tables(version: Version | None) -> dict[str, list[Row]]:
    """Every table's rows in a version, by section code."""
    tables: dict[str, list[Row]] = {}
    if version is None:
        return tables
    for code, fields, amounts in (
        TableRow.objects.filter(version=version)
        .order_by("section__position", "position")
        .values_list("section__code", "fields", "amounts")
    ):
        tables.setdefault(code, []).append(Row(dict(fields), tuple(amounts)))
    return tables
