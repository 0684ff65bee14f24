"""Loading templates and setting up planning rounds."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts import policy
from openbook.audit import audit_record
from plans.models import (
    Line,
    PlanningRound,
    Section,
    Template,
    TemplateVersion,
)
from plans.template_definition import (
    MEANINGS,
    DefinitionError,
    based_on,
    checksum,
    line_help,
    normalise,
)

if TYPE_CHECKING:
    from accounts.models import User

# libyaml's safe loader where PyYAML was built with it (much faster on version 2's thousand
# lines), else PyYAML's own: the same documents either way.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
BUILTIN = Path(__file__).parent.parent / "builtin"
# Version 1, the first built-in template: what rounds made before version 2 pin, and what the
# tests build their rounds on. CURRENT_TEMPLATE is what a new round takes (the demo and the
# national seed): the finer returns of the national exercise.
BUILTIN_TEMPLATE = BUILTIN / "operational-plan-v1.yaml"
CURRENT_TEMPLATE = BUILTIN / "operational-plan-v3.yaml"
BUILTIN_TEMPLATES = (BUILTIN_TEMPLATE, BUILTIN / "operational-plan-v2.yaml", CURRENT_TEMPLATE)

# --- templates and rounds ------------------------------------------------------------------


@transaction.atomic
def template_load(
    *, path: Path = BUILTIN_TEMPLATE, actor: User | None = None
) -> tuple[TemplateVersion, bool]:
    """Load a template definition file; loading the same version again changes nothing.

    A loaded version is frozen: a file that changes it must carry a new version number.
    """
    try:
        definition = normalise(_read(path))
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise ValidationError(f"{path.name} is not a valid template definition: {exc}") from exc
    except DefinitionError as exc:
        raise ValidationError(f"{path.name}: {exc}") from exc
    digest = checksum(definition)
    template, _ = Template.objects.get_or_create(
        code=definition["code"], defaults={"name": definition["name"]}
    )
    existing = TemplateVersion.objects.filter(
        template=template, number=definition["version"]
    ).first()
    if existing is not None:
        if existing.checksum != digest:
            raise ValidationError(
                f"{template.code} version {existing.number} is already loaded with different "
                "contents. Give the changed template a new version number."
            )
        _check_meanings(existing, definition)
        _refresh_help(existing, definition)
        return existing, False
    version = TemplateVersion.objects.create(
        template=template, number=definition["version"], definition=definition, checksum=digest
    )
    for s_pos, section in enumerate(definition["sections"], start=1):
        section_row = Section.objects.create(
            template_version=version,
            code=section["code"],
            name=section["name"],
            kind=section["kind"],
            guidance=section["guidance"],
            position=s_pos,
            kinds=section["kinds"],
            required=section["required"],
            table=section.get("table", {}),
        )
        Line.objects.bulk_create(
            Line(
                section=section_row,
                code=line["code"],
                label=line["label"],
                unit=line["unit"],
                sign=line["sign"],
                kinds=line["kinds"],
                counterparty=line["counterparty"],
                counterparty_kinds=line.get("counterparty_kinds", []),
                formula=line["formula"],
                minimum=None if line["min"] is None else Decimal(line["min"]),
                maximum=None if line["max"] is None else Decimal(line["max"]),
                required=line["required"],
                help=line["help"],
                role=line.get("role", ""),
                balances_with=line.get("balances_with", ""),
                staff_group=line.get("staff_group", ""),
                fed_by=line.get("fed_by", ""),
                provided=line.get("provided", False),
                position=l_pos,
            )
            for l_pos, line in enumerate(section["lines"], start=1)
        )
    audit_record(
        action="template.loaded",
        actor=actor,
        actor_label="" if actor else "system set-up",
        obj=version,
        after={"template": template.code, "version": version.number, "checksum": digest},
    )
    return version, True


def _read(path: Path, depth: int = 0) -> dict:
    """A definition file, with the version it is written as changes to (`based_on`, a file
    beside it) applied first."""
    data = yaml.load(path.read_text(), Loader=SAFE_LOADER)  # noqa: S506  (a safe loader)
    if not isinstance(data, dict) or "based_on" not in data:
        return data
    base = path.parent / str(data["based_on"])
    if depth > 5 or base.parent != path.parent or not base.is_file():
        raise DefinitionError(f"based_on names {data['based_on']}, not a template beside it")
    return based_on(data, _read(base, depth + 1))


def _check_meanings(version: TemplateVersion, definition: dict) -> None:
    """A loaded version's line meanings (role, what it balances with, staff group) are part
    of what it is: its file may not give them differently (a version loaded before lines had
    them was given them from its line codes)."""
    wanted = {
        line["code"]: tuple(line.get(key, "") for key in MEANINGS)
        for section in definition["sections"]
        for line in section["lines"]
    }
    stored = {
        code: tuple(meanings)
        for code, *meanings in Line.objects.filter(section__template_version=version).values_list(
            "code", *MEANINGS
        )
    }
    empty = ("",) * len(MEANINGS)
    differ = sorted(code for code in wanted if stored.get(code, empty) != wanted[code])
    if differ:
        raise ValidationError(
            f"{version.template.code} version {version.number} is already loaded with other "
            f"roles, pairs or staff groups for {', '.join(differ)}. Give the changed template "
            "a new version number."
        )


def _refresh_help(version: TemplateVersion, definition: dict) -> None:
    """Bring a loaded version's help text up to date with its file: the one thing that may
    change in a loaded version, since it explains lines rather than defining them."""
    wanted = line_help(definition)
    changed = []
    for line in Line.objects.filter(section__template_version=version):
        text = wanted.get(line.code, "")
        if line.help != text:
            line.help = text
            changed.append(line)
    if changed:
        Line.objects.bulk_update(changed, ["help"])
        stored = dict(version.definition)
        stored["sections"] = definition["sections"]
        version.definition = stored
        version.save(update_fields=["definition"])
        audit_record(
            action="template.help_updated",
            actor_label="system set-up",
            obj=version,
            payload={"lines": sorted(line.code for line in changed)},
        )


@transaction.atomic
def round_save(*, actor: User | None, plan_round: PlanningRound) -> PlanningRound:
    """Create or change a planning round (platform administrators)."""
    if actor is not None and not policy.is_platform_admin(actor):
        raise PermissionDenied("Only a platform administrator can set up planning rounds.")
    plan_round.full_clean()
    if plan_round.draft_deadline > plan_round.final_deadline:
        raise ValidationError(
            {"draft_deadline": "The draft deadline must come before the final one."}
        )
    created = plan_round.pk is None
    if not created:
        pinned = (
            PlanningRound.objects.filter(pk=plan_round.pk)
            .values_list("template_version_id", flat=True)
            .get()
        )
        if pinned != plan_round.template_version_id and plan_round.submissions.exists():
            raise ValidationError(
                {
                    "template_version": "Plans have been started on this round's template, "
                    "so it changes only by a revision, which moves every draft across: "
                    "“Revise the template” on the round's page."
                }
            )
    plan_round.save()
    audit_record(
        action="round.created" if created else "round.changed",
        actor=actor,
        actor_label="" if actor else "system set-up",
        obj=plan_round,
        after={
            "name": plan_round.name,
            "financial_year": plan_round.financial_year,
            "template_version": plan_round.template_version.label,
            "draft_deadline": plan_round.draft_deadline,
            "final_deadline": plan_round.final_deadline,
        },
    )
    return plan_round
