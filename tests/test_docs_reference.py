"""docs/plugins.md's reference is checked against the code it documents, so that it cannot drift.

- The platform methods' reference is generated from the docstrings of ``ordersync.platform``
  (between the ``platform reference`` markers): a docstring changed without the page fails
  here. ``python tests/test_docs_reference.py`` writes the block again.
- Every hook of ``ordersync.hookspecs`` is on the page with its exact signature; every hook and
  every platform method documents each parameter (``:param:``), what its default raises
  (``:raises:``) and when it was added (``versionadded``).
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ordersync import hookspecs
from ordersync.platform import Channel, Notifier, Store, _PlatformType

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "plugins.md"
BEGIN = ("<!-- platform reference: generated from the docstrings of ordersync.platform by "
         "`python tests/test_docs_reference.py`; edit the docstrings, not this block -->")
END = "<!-- end of platform reference -->"
CLASSES: list[type] = [Channel, Store, Notifier]
HOOKS = [(name, func) for name, func in inspect.getmembers(hookspecs, inspect.isfunction)
         if name.startswith("ordersync_")]


def own_methods(cls: type) -> list[tuple[str, Callable[..., Any]]]:
    """The public methods ``cls`` itself defines, in source order."""
    return [(name, value) for name, value in vars(cls).items()
            if not name.startswith("_") and inspect.isfunction(value)]


METHODS = [(cls, name, func) for cls in [*CLASSES, _PlatformType]
           for name, func in own_methods(cls)]


def _method_id(item: tuple[type, str, Any]) -> str:
    return f"{item[0].__name__}.{item[1]}"


# -- rendering docstrings as Markdown ---------------------------------------------------------

_ROLE = re.compile(r":(?:class|meth|attr|func|mod|data|exc|obj):`(~?)([\w.]+)`")


def inline(text: str) -> str:
    """reST inline markup as Markdown: roles and ``literals`` become `code`."""
    text = _ROLE.sub(lambda m: f"`{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}`",
                     text)
    return re.sub(r"``(.+?)``", r"`\1`", text)


def _paragraphs(doc: str) -> list[str]:
    return [" ".join(part.split()) for part in re.split(r"\n\s*\n", doc) if part.strip()]


def _fields(doc: str) -> tuple[str, list[tuple[str, str]], list[str]]:
    """The prose of a docstring, its fields (``:param x:`` ...) and its version notes."""
    prose: list[str] = []
    fields: list[tuple[str, str]] = []
    versions: list[str] = []
    for line in doc.splitlines():
        field = re.match(r":(param|raises|returns|yields)(?: ([\w.]+))?: ?(.*)", line)
        version = re.match(r"\.\. version(added|changed):: (\S+) ?(.*)", line)
        if field:
            kind, name, text = field.groups()
            fields.append((f"{kind} {name}" if name else kind, text))
        elif version:
            what, number, text = version.groups()
            versions.append(f"*New in {number}.*" if what == "added"
                            else f"*Changed in {number}:* {inline(text)}")
        elif fields and line.startswith(" ") and line.strip():
            label, text = fields[-1]
            fields[-1] = (label, f"{text} {line.strip()}")
        elif not fields:
            prose.append(line)
    return "\n".join(prose), fields, versions


def _field_line(label: str, text: str) -> str:
    kind, _, name = label.partition(" ")
    text = inline(text)
    if kind == "param":
        return f"- `{name}`: {text}"
    if kind == "raises":
        return f"- raises `{name}`: {text}"
    if kind == "returns":
        return f"- returns {text}"
    return f"- {kind}: {text}"


def signature(name: str, func: Callable[..., Any], drop_self: bool = True) -> str:
    """``name(arg: Type, ...) -> Ret`` as the source writes it (annotations are strings)."""
    sig = inspect.signature(func)
    params = [p for p in sig.parameters.values() if not (drop_self and p.name == "self")]
    text = ", ".join(
        f"{p.name}: {p.annotation}" + ("" if p.default is p.empty else f" = {p.default!r}")
        for p in params)
    return f"{name}({text}) -> {sig.return_annotation}"


def render_method(cls: type, name: str, func: Callable[..., Any]) -> str:
    owner = "" if cls is _PlatformType else f"{cls.__name__}."
    required = name in getattr(cls, "__abstractmethods__", frozenset())
    prose, fields, versions = _fields(inspect.getdoc(func) or "")
    parts = [f"#### `{owner}{signature(name, func)}`",
             " ".join(["*Required.*" if required else "*Optional.*", *versions])]
    parts += [inline(paragraph) for paragraph in _paragraphs(prose)]
    if fields:
        parts.append("\n".join(_field_line(label, text) for label, text in fields))
    return "\n\n".join(parts)


def render_reference() -> str:
    sections = []
    for cls in [*CLASSES, _PlatformType]:
        title = (f"### `{cls.__name__}`" if cls is not _PlatformType
                 else "### Every type (`Channel`, `Store`, `Notifier`)")
        intro = inline(" ".join((inspect.getdoc(cls) or "").split()))
        sections.append("\n\n".join(
            [title, *( [intro] if cls is not _PlatformType else []),
             *(render_method(cls, name, func) for name, func in own_methods(cls))]))
    return "\n\n".join([BEGIN, *sections, END])


def page_block(text: str) -> str | None:
    start, end = text.find(BEGIN), text.find(END)
    return None if start < 0 or end < 0 else text[start:end + len(END)]


# -- the reference on the page ----------------------------------------------------------------


def test_the_platform_reference_on_the_page_is_the_docstrings_of_today() -> None:
    block = page_block(PAGE.read_text(encoding="utf-8"))
    assert block is not None, f"docs/plugins.md lacks the block between {BEGIN!r} and {END!r}"
    assert block == render_reference(), (
        "docs/plugins.md's platform reference differs from ordersync.platform's docstrings: "
        "run `python tests/test_docs_reference.py` and commit the page")


@pytest.mark.parametrize(("cls", "name", "func"), METHODS, ids=[_method_id(m) for m in METHODS])
def test_every_platform_method_is_on_the_page_with_its_signature(
    cls: type, name: str, func: Callable[..., Any],
) -> None:
    owner = "" if cls is _PlatformType else f"{cls.__name__}."
    expected = f"`{owner}{signature(name, func)}`"
    assert expected in PAGE.read_text(encoding="utf-8"), f"docs/plugins.md lacks {expected}"


def _raised_by_default(func: Callable[..., Any]) -> set[str]:
    """The exception classes the default body raises."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name):
                names.add(exc.id)
    return names


@pytest.mark.parametrize(("cls", "name", "func"), METHODS, ids=[_method_id(m) for m in METHODS])
def test_every_platform_method_states_its_parameters_raises_and_version(
    cls: type, name: str, func: Callable[..., Any],
) -> None:
    doc = inspect.getdoc(func) or ""
    for param in list(inspect.signature(func).parameters)[1:]:  # not self
        assert f":param {param}:" in doc, f"{_method_id((cls, name, func))}: no :param {param}:"
    for exc in _raised_by_default(func):
        assert f":raises {exc}:" in doc, f"{_method_id((cls, name, func))}: no :raises {exc}:"
    assert ".. versionadded::" in doc


# -- hooks ------------------------------------------------------------------------------------


def test_there_are_hooks() -> None:
    assert len(HOOKS) >= 8


@pytest.mark.parametrize(("name", "func"), HOOKS, ids=[name for name, _ in HOOKS])
def test_every_hook_is_on_the_page_with_its_exact_signature(name: str, func: Any) -> None:
    expected = f"`{signature(name, func, drop_self=False)}`"
    assert expected in PAGE.read_text(encoding="utf-8"), f"docs/plugins.md lacks {expected}"


@pytest.mark.parametrize(("name", "func"), HOOKS, ids=[name for name, _ in HOOKS])
def test_every_hook_states_each_parameter_what_it_returns_and_its_version(
    name: str, func: Any,
) -> None:
    doc = inspect.getdoc(func) or ""
    for param in inspect.signature(func).parameters:
        assert f":param {param}:" in doc, f"{name}: no :param {param}:"
    assert ":returns:" in doc, f"{name}: no :returns:"
    assert re.search(r"^\.\. versionadded:: \d+\.\d+$", doc, re.MULTILINE), name


# -- the renderer itself ----------------------------------------------------------------------


def test_inline_markup_becomes_markdown_code() -> None:
    text = "See :class:`~ordersync.platform.OrderPage`, :meth:`get_order` and ``since``."
    assert inline(text) == "See `OrderPage`, `get_order` and `since`."


def test_fields_become_a_list_and_versions_a_note() -> None:
    def example(self: Any, since: int) -> None:
        """Do it, as
        :class:`Channel` does.

        :param since: the start,
            inclusive.
        :raises ValueError: when not.

        .. versionadded:: 0.3
        """

    rendered = render_method(Channel, "example", example)
    assert "*Optional.* *New in 0.3.*\n\nDo it, as `Channel` does." in rendered
    assert "- `since`: the start, inclusive.\n- raises `ValueError`: when not." in rendered


def write_page() -> None:
    text = PAGE.read_text(encoding="utf-8")
    block = page_block(text)
    if block is None:
        sys.exit(f"{PAGE}: put the markers {BEGIN} and {END} where the reference goes")
    PAGE.write_text(text.replace(block, render_reference()), encoding="utf-8")


if __name__ == "__main__":
    write_page()
