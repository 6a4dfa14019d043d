"""Every relative link in README.md and docs/ resolves, and so does every docs path the code
and docs name in prose (``docs/x.md``): a reader who follows one lands on a page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
#: ``[text](target)`` and ``![alt](target)``; the target up to a space, ``)`` or ``#``.
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s#>]*)[^)]*\)")
#: A project document named in prose or a docstring: ``docs/engine.md``, ``DESIGN.md``.
NAMED_DOC = re.compile(r"(?<![\w/.-])((?:docs/)?[\w./-]*[A-Za-z]\.md)\b")


def _relative_links(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    targets = [m.group(1) for m in MARKDOWN_LINK.finditer(text)]
    return [t for t in targets if t and not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = [t for t in _relative_links(page) if not (page.parent / t).exists()]
    assert not broken, f"{page.relative_to(ROOT)} links to missing files: {broken}"


def _named_docs(path: Path) -> list[str]:
    names = [m.group(1) for m in NAMED_DOC.finditer(path.read_text(encoding="utf-8"))]
    if path.suffix == ".py":  # links that code writes into a page are relative to that page
        return [n for n in names if not n.startswith(".")]
    # In a page, prose also cites other projects' files (a platform's docs, `_orders.md`): the
    # names checked are this project's own, a docs/ path or an upper-case one (DESIGN.md).
    return [n for n in names if n.startswith("docs/") or n.rsplit("/", 1)[-1][0].isupper()]


def _resolves(name: str, where: Path) -> bool:
    candidates = [ROOT / name, where.parent / name, ROOT / "docs" / name]
    if any(c.exists() for c in candidates):
        return True
    # A bare name ("each plugin's SOURCES.md") stands for files of that name in the tree.
    return "/" not in name and any(
        ".venv" not in p.parts for p in ROOT.glob(f"*/**/{name}")
    )


SOURCES = sorted([
    ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "core").rglob("*.py"),
])


def test_every_named_document_exists() -> None:
    broken = [
        f"{src.relative_to(ROOT)}: {name}"
        for src in SOURCES
        for name in _named_docs(src)
        if not _resolves(name, src)
    ]
    assert not broken, "documents named but missing:\n" + "\n".join(broken)


def test_the_checker_finds_a_broken_link(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("see [a](missing.md), [b](https://example.com) and [c](page.md#top)\n")
    assert _relative_links(page) == ["missing.md", "page.md"]
    page.write_text("see docs/missing.md, DESIGN.md and their `_orders.md`\n")
    assert _named_docs(page) == ["docs/missing.md", "DESIGN.md"]
