"""The version of the calculations, recorded with every stored result.

A stored result is reused while its inputs are unchanged; the version is part of what is
compared, so a change to how results or their workings are worked out makes every result
from an older version stale (the worker recomputes them after a deploy). Bump
CALCULATION_VERSION whenever a module of this package changes what it computes or says, and
record the new FINGERPRINT: tests/payments/calculations/test_version.py fails until the
fingerprint is recorded, so no change to this package goes unseen. (A change that alters no
figure and no working, a rename, records the fingerprint and keeps the version.)
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

CALCULATION_VERSION = 4
FINGERPRINT = "830bfbd6d1de8cef458eec9a03ad5f13f1453ec5f4598d30322848b1c346a535"


def current() -> int:
    """The version now: read when used, so a deploy's new version (or a test's) counts."""
    return CALCULATION_VERSION


def _without_docstrings(tree: ast.AST) -> ast.AST:
    """Docstrings explain; they do not change a figure or a working."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return tree


# Outside the package, what the results and their workings are made with: the precision
# figures are kept to, and the one number format the workings state money in.
ALSO = (Path(__file__).resolve().parents[2] / "openbook" / "numbers.py",)


def fingerprint(folder: Path | None = None) -> str:
    """A digest of what this package computes: each module's code as Python reads it
    (comments, docstrings and layout left out: the syntax tree written back as source), this
    module aside, and the modules in ALSO. (A new Python may write some source back
    differently; then the fingerprint is recorded again, and the version stays.)"""
    digest = hashlib.sha256()
    folder = folder or Path(__file__).parent
    paths = sorted(folder.rglob("*.py"))  # the mechanisms are a package of their own
    for path in [*paths, *ALSO]:
        if path.name == "version.py":
            continue
        name = str(path.relative_to(folder)) if path.is_relative_to(folder) else path.name
        tree = _without_docstrings(ast.parse(path.read_text(), filename=name))
        digest.update(name.encode() + b"\0" + ast.unparse(tree).encode() + b"\0")
    return digest.hexdigest()
