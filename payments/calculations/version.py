"""The version of the calculations, recorded with every stored result.

A stored result is reused while its inputs are unchanged; the version is part of what is
compared, so a change to how results or their workings are worked out makes every result
from an older version stale (the worker recomputes them after a deploy). Bump
CALCULATION_VERSION whenever a module of this package changes what it computes or says, and
record the new FINGERPRINT: tests/payments/test_calculation_version.py fails until the
fingerprint is recorded, so no change to this package goes unseen. (A change that alters no
figure and no working, a rename, records the fingerprint and keeps the version.)
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

CALCULATION_VERSION = 1
FINGERPRINT = "12d3130df956ad271c8e6ff239e1644bb6f8f1aff54369ddcfb8fd29aeb206dd"


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


def fingerprint(folder: Path | None = None) -> str:
    """A digest of what this package computes: each module's code as Python reads it
    (comments, docstrings and layout left out, via the syntax tree written back as source,
    which stays the same across Python versions), this module aside."""
    digest = hashlib.sha256()
    for path in sorted((folder or Path(__file__).parent).glob("*.py")):
        if path.name == "version.py":
            continue
        tree = _without_docstrings(ast.parse(path.read_text(), filename=path.name))
        digest.update(path.name.encode() + b"\0" + ast.unparse(tree).encode() + b"\0")
    return digest.hexdigest()
