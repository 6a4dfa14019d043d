"""The capabilities matrix: which of the reference's order-sync options each platform supports.

Rendered from the installed platform types' declared capabilities, so that it says what the
code enforces: ``ordersync plugins matrix`` prints it, and docs/platforms/README.md is its
output for the platforms that ship (a test keeps the two equal).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ordersync.capabilities import ChannelCapabilities, StoreCapabilities, always_skips_unpaid

YES, NO = "yes", "no"


@dataclass(frozen=True)
class Column:
    """One option of the reference (or one thing a seller asks of a platform) as a column."""

    title: str
    cell: Callable[[Any], str]


def _flag(name: str) -> Callable[[Any], str]:
    return lambda caps: YES if getattr(caps, name) else NO


def _skip_unpaid(caps: ChannelCapabilities) -> str:
    return "always on (only paid orders)" if always_skips_unpaid(caps) else YES


def _restock(caps: ChannelCapabilities) -> str:
    return YES if caps.restock_on_cancel else "no (restock by hand)"


CHANNEL_COLUMNS = (
    Column("Skip Unpaid Orders", _skip_unpaid),
    Column("Restock on cancel/refund", _restock),
    Column("Tracking to channel", _flag("upload_tracking")),
    Column("Inventory sync", _flag("set_listing_quantity")),
    Column("Store cancellations to channel", _flag("cancel_orders")),
    Column("Store refunds to channel", _flag("refund_orders")),
    Column("Webhooks", _flag("webhooks")),
)


def _prefix(caps: StoreCapabilities) -> str:
    return YES if caps.set_order_number or caps.order_number_prefix else NO


def _by_hand(name: str, what: str) -> Callable[[Any], str]:
    return lambda caps: YES if getattr(caps, name) else f"no ({what} by hand in the store)"


STORE_COLUMNS = (
    Column("Import Orders with Unlinked Products", _flag("text_lines")),
    Column("Keep Order Number", _flag("set_order_number")),
    Column("Order number prefix", _prefix),
    Column("Tax Label", _flag("tax_labels")),
    Column("Order Receipt", _flag("order_receipt")),
    Column("Fulfillment Receipt", _flag("fulfillment_receipt")),
    Column("Marketing", _flag("marketing_consent")),
    Column("Customer Notifications, Disable New Orders Notifications",
           _flag("store_email_switches")),
    Column("Cancel from channel", _by_hand("cancel_orders", "cancel")),
    Column("Refund from channel", _by_hand("refund_orders", "refund")),
    Column("Webhooks", _flag("webhooks")),
)


def _name(cls: type[Any]) -> str:
    display = getattr(cls, "display_name", None)
    return f"{display} (`{cls.type_name}`)" if display and display != cls.type_name \
        else f"`{cls.type_name}`"


def _table(types: dict[str, type[Any]], columns: tuple[Column, ...], what: str) -> list[str]:
    lines = [f"| {what} | " + " | ".join(c.title for c in columns) + " |",
             "|---" * (len(columns) + 1) + "|"]
    for type_name in sorted(types):
        cls = types[type_name]
        cells = [c.cell(cls.capabilities) for c in columns]
        lines.append(f"| {_name(cls)} | " + " | ".join(cells) + " |")
    return lines


def render_markdown(
    channels: dict[str, type[Any]], stores: dict[str, type[Any]]
) -> str:
    """The matrix as a Markdown page: one table of channel types, one of main-store types."""
    lines = [
        "# Platforms",
        "",
        "Which of the order-sync options each platform supports, from the capabilities its",
        "plugin declares (`ordersync plugins matrix` prints this for the plugins installed;",
        "this page is its output for the platforms that ship). Options that every platform",
        "has — Import Orders, the tax rules, the alerts — are not listed. `config check`",
        "refuses an option a platform cannot do, naming the platform, and warns where the",
        "option would have no effect (Marketing) or the seller has work to do (a main store",
        "that cannot cancel or refund a channel's order: it is recorded as failed with what",
        "to do) ([configuration.md](../configuration.md#capability-rules)).",
        "",
        "## Sales channels",
        "",
        *_table(channels, CHANNEL_COLUMNS, "channel"),
        "",
        "## Main stores",
        "",
        "An option of a channel's `order_sync` that depends on the main store:",
        "",
        *_table(stores, STORE_COLUMNS, "main store"),
        "",
        "## Each platform",
        "",
        *[f"- [{_plain(cls)}]({name}.md)" for name, cls in sorted({**channels, **stores}.items())
          if name != "file"],
        "- [The `file` channel and store](../file-platforms.md)",
        "",
    ]
    return "\n".join(lines)


def _plain(cls: type[Any]) -> str:
    return str(getattr(cls, "display_name", None) or cls.type_name)
