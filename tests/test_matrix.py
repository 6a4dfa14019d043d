"""The capabilities matrix: docs/platforms/README.md is what the shipped plugins declare."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ordersync.capabilities import ChannelCapabilities, StoreCapabilities
from ordersync.matrix import render_markdown
from ordersync.platform import Channel, Store
from ordersync.plugins import load_plugins

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "platforms" / "README.md"


def test_the_platforms_page_is_the_matrix_of_the_shipped_plugins() -> None:
    registry = load_plugins()
    rendered = render_markdown(registry.channels, registry.stores)
    assert PAGE.read_text(encoding="utf-8") == rendered, (
        "docs/platforms/README.md is out of date: "
        "ordersync plugins matrix > docs/platforms/README.md"
    )


def test_the_command_prints_the_matrix(tmp_path: Path) -> None:
    (tmp_path / "ordersync.yaml").write_text("channels: {}\n")
    out = subprocess.run(
        [str(Path(sys.executable).with_name("ordersync")), "--config", str(tmp_path / "ordersync.yaml"),
         "plugins", "matrix"], capture_output=True, text=True, check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == PAGE.read_text(encoding="utf-8")


def _channel(name: str, caps: ChannelCapabilities) -> type[Channel]:
    return type(name, (Channel,), {"type_name": name, "capabilities": caps})


def _store(name: str, caps: StoreCapabilities) -> type[Store]:
    return type(name, (Store,), {"type_name": name, "capabilities": caps})


def test_a_cell_says_what_the_capability_makes_of_the_option() -> None:
    page = render_markdown(
        {"paid": _channel("paid", ChannelCapabilities(paid_orders_only=True,
                                                      restock_on_cancel=False))},
        {"nolines": _store("nolines", StoreCapabilities(text_lines=False, tax_labels=True))},
    )
    channel_row = next(line for line in page.splitlines() if line.startswith("| `paid`"))
    assert channel_row.split(" | ")[1:3] == ["always on (only paid orders)",
                                             "no (restock by hand)"]
    store_row = next(line for line in page.splitlines() if line.startswith("| `nolines`"))
    assert store_row.split(" | ")[1] == "no"  # unlinked products: no text lines
    assert store_row.split(" | ")[4] == "yes"  # tax label
