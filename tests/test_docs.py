"""Meta-tests: every hook is documented with its exact signature and exercised by a test."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from ordersync import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = [
    (name, func) for name, func in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("ordersync_")
]


def signature(func: object) -> str:
    """``name(arg: Type, ...) -> Ret`` as written in the source (annotations are strings)."""
    annotations = dict(func.__annotations__)  # type: ignore[attr-defined]
    ret = annotations.pop("return")
    args = ", ".join(f"{arg}: {annotation}" for arg, annotation in annotations.items())
    return f"{func.__name__}({args}) -> {ret}"  # type: ignore[attr-defined]


def test_there_are_hooks() -> None:
    assert len(HOOKS) >= 4


@pytest.mark.parametrize(("name", "func"), HOOKS, ids=[name for name, _ in HOOKS])
def test_hook_is_documented_with_its_exact_signature(name: str, func: object) -> None:
    docs = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert signature(func) in docs, f"docs/plugins.md lacks `{signature(func)}`"


@pytest.mark.parametrize(("name", "func"), HOOKS, ids=[name for name, _ in HOOKS])
def test_hook_has_a_docstring_stating_its_contract(name: str, func: object) -> None:
    doc = inspect.getdoc(func) or ""
    assert ":returns:" in doc and "versionadded" in doc


@pytest.mark.parametrize(("name", "func"), HOOKS, ids=[name for name, _ in HOOKS])
def test_hook_is_exercised_by_a_test(name: str, func: object) -> None:
    """Some test module other than this one implements or calls the hook."""
    sources = [
        path for path in [*ROOT.glob("tests/**/*.py"), *ROOT.glob("plugins/*/*/tests/**/*.py")]
        if path.name != "test_docs.py"
    ]
    pattern = re.compile(rf"\b{name}\b")
    users = [p for p in sources if pattern.search(p.read_text(encoding="utf-8"))]
    assert users, f"no test exercises {name}"
