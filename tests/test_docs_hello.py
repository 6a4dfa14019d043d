"""docs/plugins.md's hello-world channel works as the page says: its files load and sync.

The files are taken from the page itself (each fenced block after a ``<!-- file: PATH -->``
comment), so the page cannot drift from what runs. The plugin is made importable as an installed
distribution would be (a ``dist-info`` with the entry points of its ``pyproject.toml``), and the
page's commands run as subprocesses in the page's ``shop/`` folder.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "plugins.md"
SECTION = "## Hello world"
#: ``<!-- file: PATH -->``, then a fenced block: the file's text.
FILE_BLOCK = re.compile(r"<!-- file: (\S+) -->\n```\w*\n(.*?)\n```", re.DOTALL)


def page_files() -> dict[str, str]:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(SECTION)
    section = text[start:text.index("\n## ", start + len(SECTION))]
    return {path: body + "\n" for path, body in FILE_BLOCK.findall(section)}


def test_the_section_gives_the_plugin_and_the_shop() -> None:
    assert set(page_files()) == {
        "ordersync-hello/pyproject.toml",
        "ordersync-hello/ordersync_hello/plugin.py",
        "ordersync-hello/ordersync_hello/channel.py",
        "shop/orders.csv",
        "shop/store/products.json",
        "shop/ordersync.yaml",
    }


def test_the_channel_is_about_sixty_lines() -> None:
    channel = page_files()["ordersync-hello/ordersync_hello/channel.py"]
    assert len(channel.splitlines()) <= 75


@pytest.fixture
def hello(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The page's files in ``tmp_path``, the plugin importable as if installed; the shop folder
    and the environment to run ``ordersync`` in."""
    for path, text in page_files().items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    plugin = tmp_path / "ordersync-hello"
    (plugin / "ordersync_hello" / "__init__.py").write_text("")  # "(empty)", says the page
    project = tomllib.loads((plugin / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dist_info = tmp_path / "site" / "ordersync_hello-0.1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    entry_points = project["entry-points"]["ordersync"]
    (dist_info / "entry_points.txt").write_text(
        "[ordersync]\n" + "".join(f"{name} = {value}\n" for name, value in entry_points.items()))
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ORDERSYNC_", "PYTHON"))}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "site"), str(plugin)])
    return tmp_path / "shop", env


def ordersync(shop: Path, env: dict[str, str], *args: str, code: int = 0) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from ordersync.cli import main; main()", *args],
        cwd=shop, env=env, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == code, f"ordersync {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_the_hello_channel_loads_and_imports_the_spreadsheet(
    hello: tuple[Path, dict[str, str]],
) -> None:
    shop, env = hello
    rows = json.loads(ordersync(shop, env, "plugins", "list", "--json"))
    [row] = [row for row in rows if row["kind"] == "channel" and row["name"] == "hello"]
    assert (row["error"], row["warnings"]) == (None, [])
    assert "ok: 1 channels" in ordersync(shop, env, "config", "check")
    assert "2 linked" in ordersync(shop, env, "links", "auto")
    ordersync(shop, env, "sync", "--once")

    assert sorted(p.name for p in (shop / "store" / "orders").iterdir()) == [
        "1001.json", "1002.json"]
    stock = {p["sku"]: p["quantity"]
             for p in json.loads((shop / "store" / "products.json").read_text())}
    assert stock == {"MUG-RED": 8, "MUG-BLUE": 3}
    assert json.loads((shop / "orders.stock.json").read_text()) == {"MUG-RED": 8, "MUG-BLUE": 3}
    listed = ordersync(shop, env, "orders", "list")
    assert re.search(r"spreadsheet\s+1001\s+imported", listed), listed


@pytest.mark.slow
def test_a_bad_row_fails_only_its_order(hello: tuple[Path, dict[str, str]]) -> None:
    shop, env = hello
    with (shop / "orders.csv").open("a", encoding="utf-8") as csv:
        csv.write("1003,not a time,MUG-RED,Red mug,1,12.00\n")
    ordersync(shop, env, "links", "auto")
    synced = ordersync(shop, env, "sync", "--once", code=1)  # 1: an order failed
    assert re.search(r"spreadsheet\s+1003\s+failed.*bad row", synced), synced
    listed = ordersync(shop, env, "orders", "list")
    assert re.search(r"spreadsheet\s+1003\s+failed.*bad row", listed), listed
    assert re.search(r"spreadsheet\s+1001\s+imported", listed), listed


def test_the_plugin_code_is_clean_for_ruff(hello: tuple[Path, dict[str, str]]) -> None:
    plugin = hello[0].parent / "ordersync-hello"
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run(
        [str(ruff), "check", "--no-cache", "--isolated", "--line-length", "100", "--select",
         "E,F,W,I,B,UP,SIM,RUF", "."],
        cwd=plugin, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
