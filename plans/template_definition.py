"""Reading and checking a template definition (the YAML data file) before it is loaded."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from accounts.models import Organisation

K = Organisation.Kind
KIND_GROUPS: dict[str, list[str]] = {
    "providers": [K.ACUTE, K.COMMUNITY, K.MENTAL_HEALTH, K.AMBULANCE],
    "commissioners": [K.COMMISSIONER],
    "local": [K.LOCAL_AUTHORITY, K.PRIMARY_CARE_NETWORK, K.VOLUNTARY],
    "all": [k.value for k in K],
}
UNITS = {"gbp000", "wte", "count", "percent"}
SIGNS = {"positive", "negative", "any"}
COUNTERPARTIES = {"", "commissioner", "provider"}
# What a line means to the platform, whatever the template calls it: the surplus (+) or
# deficit (−) the control totals and the fund compare against; a provider's income from the
# commissioners in its system, and a commissioner's spending with the providers in it (the
# two sides of the agreement of balances, eliminated when the system is consolidated); and a
# count that is a position at the end of each month (its year figure is March's, not a sum).
ROLES = {
    "surplus": {"unit": "gbp000", "counterparty": "", "one": True},
    "partner_income": {"unit": "gbp000", "counterparty": "commissioner", "one": True},
    "partner_spend": {"unit": "gbp000", "counterparty": "provider", "one": True},
    "month_end": {"unit": ("count", "gbp000"), "counterparty": None, "one": False},
}


# What a line means, beyond its role: loaded with the line and frozen with it, kept out of the
# checksum so that versions loaded before a meaning existed (given it from their line codes by
# a migration) keep theirs. balances_with: a provider's line by commissioner that the
# commissioners' line by provider should agree with (activity in the agreement of balances);
# staff_group: the pay (£000) and staff (WTE) lines whose pay per WTE is checked together.
MEANINGS = ("role", "balances_with", "staff_group")


class DefinitionError(ValueError):
    pass


def _kinds(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        if value not in KIND_GROUPS:
            raise DefinitionError(f"{where}: unknown kinds group {value!r}")
        return [str(k) for k in KIND_GROUPS[value]]
    if not isinstance(value, list) or not value:
        raise DefinitionError(f"{where}: kinds must be a group name or a list of kinds")
    valid = set(KIND_GROUPS["all"])
    for kind in value:
        if kind not in valid:
            raise DefinitionError(f"{where}: unknown organisation kind {kind!r}")
    return [str(k) for k in value]


def _formula(value: Any, where: str) -> list[list[Any]]:
    terms = []
    for term in value:
        text = str(term).strip()
        if text[:1] not in "+-" or len(text) < 2:
            raise DefinitionError(f"{where}: formula terms look like +F100 or -F200, not {term!r}")
        terms.append([1 if text[0] == "+" else -1, text[1:]])
    return terms


MATRIX_FIELDS = ("code", "label", "help", "balances_with", "staff_group")


def _expand(lines: list[Any], where: str) -> list[dict[str, Any]]:
    """Lines as written, with each `matrix` written out: one line for every row (and column),
    its code, label, help, pair and staff group filled in from the row's and column's code
    and label ({row}, {row_label}, {column}, {column_label}), every other key the same. A
    finely divided return (activity by specialty and point of delivery, staff by group and
    contract) is then a few lines of the file, and its lines are still ordinary lines."""
    out = []
    for line in lines:
        matrix = line.get("matrix") if isinstance(line, dict) else None
        if matrix is None:
            out.append(line)
            continue
        rows, columns = matrix.get("rows"), matrix.get("columns") or [{"code": "", "label": ""}]
        if not rows or not isinstance(rows, list) or not isinstance(columns, list):
            raise DefinitionError(f"{where}: a matrix needs a list of rows (and of columns)")
        for row in rows:
            for column in columns:
                try:
                    names = {"row": row["code"], "row_label": row["label"],
                             "column": column["code"], "column_label": column["label"]}  # fmt: skip
                    filled = {
                        key: str(matrix[key]).format(**names)
                        for key in MATRIX_FIELDS
                        if key in matrix
                    }
                except (KeyError, TypeError, IndexError, ValueError) as exc:
                    raise DefinitionError(
                        f"{where}: a matrix's rows and columns each have a code and a label, and "
                        f"its code and label use only {{row}}, {{row_label}}, {{column}} and "
                        f"{{column_label}} ({exc})"
                    ) from None
                out.append({**{k: v for k, v in line.items() if k != "matrix"}, **filled})
    return out


def normalise(data: dict[str, Any]) -> dict[str, Any]:
    """Check a definition and return it in the canonical form that is stored and hashed."""
    for key in ("code", "name", "version", "sections"):
        if key not in data:
            raise DefinitionError(f"the template has no {key!r}")
    sections = []
    codes: dict[str, str] = {}
    roles: dict[str, str] = {}
    for s_index, section in enumerate(data["sections"]):
        where = f"section {section.get('code', s_index + 1)}"
        kind = section.get("kind", "grid")
        if kind not in ("grid", "narrative", "table"):
            raise DefinitionError(f"{where}: kind must be grid, narrative or table")
        out: dict[str, Any] = {
            "code": section["code"],
            "name": section["name"],
            "kind": kind,
            "guidance": section.get("guidance", ""),
            "kinds": _kinds(section.get("kinds", "all"), where),
            "required": bool(section.get("required", False)),
            "lines": [],
            # Only for a table, so the other kinds keep their canonical form (and checksums).
            **({"table": _table(section, where)} if kind == "table" else {}),
            **({"bridge": _bridge(section["bridge"], where)} if "bridge" in section else {}),
        }
        for line in _expand(section.get("lines") or [], where):
            lwhere = f"{where}, line {line.get('code')}"
            code = str(line["code"])
            for key, longest in (("code", 20), ("label", 200), ("staff_group", 80)):
                if len(str(line.get(key) or "")) > longest:
                    raise DefinitionError(
                        f"{lwhere}: the {key} is longer than {longest} characters"
                    )
            if code in codes:
                raise DefinitionError(f"{lwhere}: the code is used twice")
            codes[code] = section["code"]
            unit = line.get("unit")
            if unit not in UNITS:
                raise DefinitionError(f"{lwhere}: unit must be one of {sorted(UNITS)}")
            sign = line.get("sign", "positive")
            if sign not in SIGNS:
                raise DefinitionError(f"{lwhere}: sign must be one of {sorted(SIGNS)}")
            counterparty = line.get("counterparty", "") or ""
            if counterparty not in COUNTERPARTIES:
                raise DefinitionError(f"{lwhere}: counterparty must be commissioner or provider")
            partner_kinds = []
            if line.get("counterparty_kinds"):
                # Which partners get a row: an ICB plans elective activity with its acute
                # trusts, not with its ambulance trust.
                partner_kinds = _kinds(line["counterparty_kinds"], lwhere)
                allowed = [str(k) for k in KIND_GROUPS[f"{counterparty}s"]] if counterparty else []
                if not allowed:
                    raise DefinitionError(f"{lwhere}: counterparty_kinds needs a counterparty")
                if not set(partner_kinds) <= set(allowed):
                    raise DefinitionError(
                        f"{lwhere}: counterparty_kinds must be kinds of {counterparty} "
                        f"({', '.join(allowed)})"
                    )
            role = str(line.get("role", "") or "")
            if role:
                rule = ROLES.get(role)
                if rule is None:
                    raise DefinitionError(f"{lwhere}: role must be one of {sorted(ROLES)}")
                units = rule["unit"] if isinstance(rule["unit"], tuple) else (rule["unit"],)
                if unit not in units:
                    raise DefinitionError(f"{lwhere}: a {role} line is in {' or '.join(units)}")
                if rule["counterparty"] is not None and counterparty != rule["counterparty"]:
                    wanted = rule["counterparty"] or "no counterparty"
                    raise DefinitionError(f"{lwhere}: a {role} line has {wanted}")
                if rule["one"] and role in roles:
                    raise DefinitionError(
                        f"{lwhere}: only one line can be the {role} line ({roles[role]} is)"
                    )
                roles[role] = code
            balances_with = str(line.get("balances_with", "") or "")
            if balances_with and counterparty != "commissioner":
                raise DefinitionError(
                    f"{lwhere}: a line that balances with another is planned by commissioner"
                )
            if balances_with and unit != "count":
                # The agreement of balances compares activity counts (and income as a whole,
                # by the partner_income and partner_spend roles).
                raise DefinitionError(f"{lwhere}: a line that balances with another is a count")
            staff_group = str(line.get("staff_group", "") or "").strip()
            if staff_group and unit not in ("gbp000", "wte"):
                raise DefinitionError(f"{lwhere}: a staff group's lines are pay (£000) or WTE")
            provided = bool(line.get("provided", False))
            if provided and (counterparty or "formula" in line):
                # The round's owner gives one figure a month for each organisation.
                raise DefinitionError(
                    f"{lwhere}: a provided line has no counterparty and no formula"
                )
            minimum = line.get("min")
            maximum = line.get("max")
            if (
                minimum is not None
                and maximum is not None
                and Decimal(str(minimum)) > Decimal(str(maximum))
            ):
                raise DefinitionError(f"{lwhere}: min is above max")
            out["lines"].append(
                {
                    "code": code,
                    "label": line["label"],
                    "unit": unit,
                    "sign": sign,
                    "kinds": _kinds(line.get("kinds", "all"), lwhere),
                    "counterparty": counterparty,
                    **({"counterparty_kinds": partner_kinds} if partner_kinds else {}),
                    "formula": _formula(line["formula"], lwhere) if "formula" in line else None,
                    "min": None if minimum is None else str(minimum),
                    "max": None if maximum is None else str(maximum),
                    "required": bool(line.get("required", False)),
                    "help": str(line.get("help", "") or "").strip(),
                    # Only when given, so a definition without them keeps its canonical form.
                    **({"role": role} if role else {}),
                    **({"balances_with": balances_with} if balances_with else {}),
                    **({"staff_group": staff_group} if staff_group else {}),
                    **({"provided": True} if provided else {}),
                }
            )
        sections.append(out)
    if "surplus" not in roles:
        # Control totals, the fund and the system plan all compare against it: a template
        # without one would show every partner at a surplus of nothing.
        raise DefinitionError("the template names no surplus line (give one line role: surplus)")
    by_code = {line["code"]: line for section in sections for line in section["lines"]}
    _feed(sections, by_code)
    for section in sections:
        layout = section.get("bridge")
        for code in [layout["start"], *(s[1:] for s in layout["steps"])] if layout else []:
            if code not in by_code or by_code[code]["unit"] != "gbp000":
                raise DefinitionError(f"section {section['code']}: the bridge's {code} is not "
                                      "a £000 line")  # fmt: skip
    paired: dict[str, str] = {}
    for line in by_code.values():
        for _, ref in line["formula"] or []:
            if ref not in codes:
                raise DefinitionError(f"line {line['code']}: formula uses unknown line {ref}")
        if "balances_with" not in line:
            continue
        other = by_code.get(line["balances_with"])
        if other is None or other["counterparty"] != "provider" or other["unit"] != line["unit"]:
            raise DefinitionError(
                f"line {line['code']}: balances_with names {line['balances_with']}, which must "
                f"be a line in {line['unit']} planned by provider"
            )
        if other["code"] in paired:
            first = paired[other["code"]]
            raise DefinitionError(f"line {line['code']}: {other['code']} balances with {first}")
        paired[other["code"]] = line["code"]
    return {
        "code": data["code"],
        "name": data["name"],
        "version": int(data["version"]),
        "sections": sections,
    }


TABLE_ROWS_MAX = 500


def _table(section: dict[str, Any], where: str) -> dict[str, Any]:
    """A table section's columns (what each row says of itself: a name, and choices such as a
    category), its monthly amount, and the lines its rows add up to, by the rows' choices: an
    efficiency scheme list adds up to recurrent and non-recurrent pay and non-pay savings."""
    if section.get("lines"):
        raise DefinitionError(f"{where}: a table has columns and rows, not lines")
    columns = []
    for column in section.get("columns") or []:
        code, label = str(column.get("code", "")), str(column.get("label", ""))
        if not code.isidentifier() or not label or len(code) > 20 or len(label) > 80:
            raise DefinitionError(f"{where}: each column has a short code (a name) and a label")
        choices = [str(c) for c in column.get("choices") or []]
        if len(set(choices)) != len(choices):
            raise DefinitionError(f"{where}, column {code}: a choice is listed twice")
        columns.append(
            {
                "code": code,
                "label": label,
                "choices": choices,
                "required": bool(column.get("required", True)),
                "help": str(column.get("help", "") or "").strip(),
            }
        )
    if not columns or columns[0]["choices"]:
        raise DefinitionError(f"{where}: a table's first column is the row's name (free text)")
    if len({c["code"] for c in columns}) != len(columns):
        raise DefinitionError(f"{where}: a column code is used twice")
    amount = section.get("amount") or {}
    if amount.get("unit", "gbp000") != "gbp000":
        raise DefinitionError(f"{where}: a table's amounts are in £000")
    rows_max = int(section.get("rows_max", 200))
    if not 1 <= rows_max <= TABLE_ROWS_MAX:
        raise DefinitionError(f"{where}: rows_max is 1 to {TABLE_ROWS_MAX}")
    choices = {c["code"]: c["choices"] for c in columns}
    totals = []
    for total in section.get("totals") or []:
        line, match = str(total.get("line", "")), total.get("where") or {}
        for column, value in match.items():
            if str(value) not in choices.get(column, []):
                raise DefinitionError(f"{where}, total {line}: {column} has no choice {value!r}")
        totals.append({"line": line, "where": {k: str(v) for k, v in match.items()}})
    return {
        "columns": columns,
        "amount": {
            "label": str(amount.get("label", "Amount")),
            "unit": "gbp000",
            "max": str(amount.get("max", "1000000")),
        },
        "rows_max": rows_max,
        "totals": totals,
    }


def _bridge(layout: Any, where: str) -> dict[str, Any]:
    """A plan's bridge from last year (plans/bridge.py): `start`, a line, then `steps`, each
    +LINE or -LINE (added or taken away) or =LINE (a subtotal shown, not a step)."""
    if not isinstance(layout, dict) or not layout.get("start") or not layout.get("steps"):
        raise DefinitionError(f"{where}: a bridge has a start line and steps")
    steps = [str(step).strip() for step in layout["steps"]]
    for step in steps:
        if step[:1] not in "+-=" or len(step) < 2:
            raise DefinitionError(f"{where}: bridge steps look like +LINE, -LINE or =LINE")
    return {"start": str(layout["start"]), "steps": steps}


def _feed(sections: list[dict[str, Any]], by_code: dict[str, dict[str, Any]]) -> None:
    """Mark each line a table adds up to as fed by it: entered nowhere else, and kept as
    ordinary figures, so collation, the Excel download and the API read it like any line."""
    for section in sections:
        for total in section.get("table", {}).get("totals", []):
            line = by_code.get(total["line"])
            where = f"section {section['code']}, total {total['line']}"
            if line is None:
                raise DefinitionError(f"{where}: there is no line {total['line']}")
            if line["unit"] != "gbp000" or line["counterparty"] or line["formula"] is not None:
                raise DefinitionError(
                    f"{where}: a table adds up to an entered £000 line with no counterparty"
                )
            if line.get("fed_by"):
                raise DefinitionError(f"{where}: {line['code']} is fed by {line['fed_by']}")
            if line.get("provided"):
                raise DefinitionError(f"{where}: {line['code']} is provided by the round's owner")
            line["fed_by"] = section["code"]


def _changed_lines(section: dict[str, Any]) -> dict[str, Any]:
    """A section's `line_changes` ({code: {key: value}}) applied to the lines it has."""
    changes = section.pop("line_changes", None) or {}
    if not changes:
        return section
    lines = [dict(line) for line in section.get("lines") or []]
    for code, change in changes.items():
        line = next((line for line in lines if line.get("code") == code), None)
        if line is None:
            raise DefinitionError(f"section {section['code']}: line_changes names no line {code}")
        line.update(change)
    return {**section, "lines": lines}


def based_on(data: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """A new version written as changes to an earlier one, as a revision arrives in a real
    round: a section of an earlier version's code changes the keys it gives (its lines whole,
    if it gives them, or single lines' keys by `line_changes`) where it stands, a new one goes
    after the section it names (`after`) or at the end, and `drop` removes sections."""
    sections = [dict(s) for s in base["sections"] if s["code"] not in set(data.get("drop") or [])]
    for section in data.get("sections") or []:
        codes = [s["code"] for s in sections]
        section = dict(section)
        after = section.pop("after", None)
        if section.get("code") in codes:
            at = codes.index(section["code"])
            sections[at] = _changed_lines({**sections[at], **section})
        elif after is not None:
            if after not in codes:
                raise DefinitionError(
                    f"section {section.get('code')}: no section {after} to follow"
                )
            sections.insert(codes.index(after) + 1, section)
        else:
            sections.append(section)
    merged = {**base, **{k: v for k, v in data.items() if k not in ("based_on", "drop")}}
    return {**merged, "sections": sections}


def checksum(definition: dict[str, Any]) -> str:
    """What a loaded version is frozen to: everything but the lines' help text, which is
    guidance and may be reworded without a new version (and versions loaded before lines had
    help keep their checksums), and their meanings (MEANINGS), which are frozen with the
    loaded lines themselves (a version loaded before lines had them was given them from its
    codes, and its file naming the same meanings is the same version)."""
    frozen = {
        **definition,
        "sections": [
            {
                **section,
                "lines": [
                    {
                        key: value
                        for key, value in line.items()
                        if key != "help" and key not in MEANINGS
                    }
                    for line in section["lines"]
                ],
            }
            for section in definition["sections"]
        ],
    }
    return hashlib.sha256(
        json.dumps(frozen, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def line_help(definition: dict[str, Any]) -> dict[str, str]:
    """Each line's help text, by code."""
    return {
        line["code"]: line.get("help", "")
        for section in definition["sections"]
        for line in section["lines"]
    }
