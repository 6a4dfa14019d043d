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
    command = str(Path(sys.executable).with_name("ordersync"))
    out = subprocess.run(
        [command, "--config", str(tmp_path / "ordersync.yaml"), "plugins", "matrix"],
        capture_output=True, text=True, check=False,
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


def _store_row(page: str, name: str) -> dict[str, str]:
    """The cells of the main-store row whose first cell is ``name``, by column title."""
    lines = page.splitlines()
    header = next(line for line in lines if line.startswith("| main store |"))
    row = next(line for line in lines if line.startswith(f"| {name} |"))
    titles = [cell.strip() for cell in header.strip("|").split("|")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    return dict(zip(titles, cells, strict=True))


def test_each_receipt_option_has_its_own_column() -> None:
    page = render_markdown({}, {
        "shipments": _store("shipments", StoreCapabilities(order_receipt=False,
                                                           marketing_consent=False)),
        "noconsent": _store("noconsent", StoreCapabilities(marketing_consent=False)),
    })
    shipments, noconsent = _store_row(page, "`shipments`"), _store_row(page, "`noconsent`")
    assert (shipments["Order Receipt"], shipments["Fulfillment Receipt"],
            shipments["Marketing"]) == ("no", "yes", "no")
    assert (noconsent["Order Receipt"], noconsent["Fulfillment Receipt"],
            noconsent["Marketing"]) == ("yes", "yes", "no")


def test_a_store_that_cannot_cancel_or_refund_says_it_is_done_by_hand() -> None:
    page = render_markdown({}, {
        "manual": _store("manual", StoreCapabilities(cancel_orders=False, refund_orders=False)),
        "plain": _store("plain", StoreCapabilities()),
    })
    manual, plain = _store_row(page, "`manual`"), _store_row(page, "`plain`")
    assert manual["Cancel from channel"] == "no (cancel by hand in the store)"
    assert manual["Refund from channel"] == "no (refund by hand in the store)"
    assert (plain["Cancel from channel"], plain["Refund from channel"]) == ("yes", "yes")


def test_the_shipped_stores_rows_say_what_each_can_do() -> None:
    registry = load_plugins()
    page = render_markdown(registry.channels, registry.stores)
    squarespace = _store_row(page, "Squarespace (`squarespace`)")
    assert [squarespace[title] for title in (
        "Order Receipt", "Fulfillment Receipt", "Marketing", "Cancel from channel",
        "Refund from channel")] == ["no", "yes", "no", "no (cancel by hand in the store)",
                                    "no (refund by hand in the store)"]
    woocommerce = _store_row(page, "WooCommerce (`woocommerce`)")
    assert [woocommerce[title] for title in ("Order Receipt", "Fulfillment Receipt",
                                             "Marketing")] == ["yes", "yes", "no"]
