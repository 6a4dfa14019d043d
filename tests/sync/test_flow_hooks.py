"""The order-flow and alert hooks: a plugin that is not a platform takes part in every import.

Each hook is implemented by a small plugin registered with ``load_plugins(extra=...)`` beside the
sync doubles, and runs through whole passes on the ``file`` platforms: a failure of one
implementation is charged to its plugin and to the one order (or alert) it concerns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ordersync
import pytest
from ordersync.capabilities import ChannelCapabilities, StoreCapabilities
from ordersync.errors import RetriableError
from ordersync.hookspecs import Hold
from ordersync.models import ChannelOrder, StoreOrder, StoreOrderDraft
from ordersync.platform import Alert, Store
from ordersync.plugins import load_plugins
from ordersync.state.db import session_scope
from ordersync.state.tables import AlertRecord
from ordersync.sync.passes import sync_channel
from ordersync_file_store.store import FileStore
from sqlmodel import select

from tests import doubles
from tests.sync.conftest import SMTP_PASSWORD, SmtpServer, World, channel_section
from tests.sync.helpers import MUG, card_line, changed, link_all, mug_line, mug_order, seed_shop
from tests.sync.test_alerts import email_notifier, mails

PLUGIN = "flow-test"


def world_with(world: World, *plugins: object) -> World:
    """``world`` with ``plugins`` registered beside the doubles (``flow-test``, ``flow-test-2``)."""
    names = [PLUGIN, *(f"{PLUGIN}-{n}" for n in range(2, len(plugins) + 1))]
    world.registry = load_plugins(
        extra=[(doubles.PLUGIN_NAME, doubles), *zip(names, plugins, strict=True)])
    assert all(info.error is None for info in world.registry.plugins), world.registry.plugins
    return world


# -------------------------------------------------------------------------------------------------
# ordersync_order_fetched
# -------------------------------------------------------------------------------------------------


@dataclass
class Gate:
    """Holds the orders named in ``holding`` (id -> reason); remembers every order it saw."""

    holding: dict[str, Hold | str] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)

    @ordersync.hookimpl
    def ordersync_order_fetched(self, order: ChannelOrder, channel: str) -> Hold | str | None:
        self.seen.append((channel, order.id))
        return self.holding.get(order.id)


async def test_a_hold_keeps_exactly_the_orders_it_names_out_until_it_lets_them_pass(
    world: World,
) -> None:
    gate = Gate(holding={"A-2": Hold("fraud check: review it in the fraud tool"),
                         "A-3": "address not verified"})
    world_with(world, gate)
    seed_shop(world)
    await link_all(world)
    for order_id in ("A-1", "A-2", "A-3"):
        world.put_order("shop-a", mug_order(order_id, mug_line(1)))

    await world.sync()

    orders = await world.orders()
    assert orders["A-1"]["state"] == "imported"
    assert (orders["A-2"]["state"], orders["A-3"]["state"]) == ("held", "held")
    assert orders["A-2"]["reason"] == (
        f"held by plugin {PLUGIN!r}: fraud check: review it in the fraud tool")
    assert orders["A-3"]["reason"] == f"held by plugin {PLUGIN!r}: address not verified"
    assert [o["reference"] for o in world.store_orders()] == ["ordersync:shop-a:A-1"]
    assert world.stock()[MUG] == 9  # a held order takes no stock

    # Held orders are offered again on every pass, though the channel shows them unchanged.
    gate.seen.clear()
    await world.sync()
    assert {"A-2", "A-3"} <= {order_id for _, order_id in gate.seen}
    assert (await world.orders())["A-2"]["state"] == "held"

    del gate.holding["A-2"]
    await world.sync()

    orders = await world.orders()
    assert (orders["A-1"]["state"], orders["A-2"]["state"]) == ("imported", "imported")
    assert orders["A-3"]["state"] == "held"
    assert sorted(o["reference"] for o in world.store_orders()) == [
        "ordersync:shop-a:A-1", "ordersync:shop-a:A-2"]
    assert world.stock()[MUG] == 8


async def test_a_dry_run_shows_a_held_order_as_held_and_changes_nothing(world: World) -> None:
    world_with(world, Gate(holding={"A-1": "waiting for approval"}))
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1"))
    before = world.fingerprint()

    [result] = await world.sync(["shop-a"], dry_run=True)

    [row] = result.decisions
    assert (row.order_id, row.action) == ("A-1", "held")
    assert "waiting for approval" in row.reason
    assert world.fingerprint() == before


async def test_an_order_already_imported_is_not_changed_by_a_hold(world: World) -> None:
    gate = Gate()
    world_with(world, gate)
    seed_shop(world)
    await link_all(world)
    order = mug_order("A-1")
    world.put_order("shop-a", order)
    await world.sync()
    assert (await world.orders())["A-1"]["state"] == "imported"

    gate.holding["A-1"] = "hold everything"
    world.put_order("shop-a", changed(order, status="cancelled"))
    await world.sync()

    assert (await world.orders())["A-1"]["state"] == "imported"  # left as it was
    assert world.store_order("shop-a", "A-1")["status"] != "cancelled"

    del gate.holding["A-1"]
    await world.sync()  # read again: the cursor stayed before it

    assert (await world.orders())["A-1"]["state"] == "cancelled"


class Annotator:
    @ordersync.hookimpl
    def ordersync_order_fetched(self, order: ChannelOrder, channel: str) -> None:
        order.tags.append("vip")


class TagsToNote:
    @ordersync.hookimpl
    def ordersync_prepare_store_order(
        self, draft: StoreOrderDraft, order: ChannelOrder, channel: str
    ) -> None:
        draft.note = ",".join(order.tags)


async def test_an_annotation_reaches_the_draft(world: World) -> None:
    world_with(world, Annotator(), TagsToNote())
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1"))

    await world.sync()

    assert world.store_order("shop-a", "A-1")["note"] == "vip"


class Crashing:
    """Fails on order A-2 only, as a plugin calling a service that is down would."""

    @ordersync.hookimpl
    def ordersync_order_fetched(self, order: ChannelOrder, channel: str) -> None:
        if order.id == "A-2":
            msg = "fraud service unreachable"
            raise ConnectionError(msg)


class WrongAnswer:
    @ordersync.hookimpl
    def ordersync_order_fetched(self, order: ChannelOrder, channel: str) -> Any:
        return 42 if order.id == "B-1" else None


async def test_a_raising_order_fetched_hook_holds_only_that_order(world: World) -> None:
    world_with(world, Crashing(), WrongAnswer())
    world.configure({"shop-a": channel_section("shop-a"), "shop-b": channel_section("shop-b")})
    seed_shop(world, "shop-a", "shop-b")
    await link_all(world, "shop-a", "shop-b")
    for order_id in ("A-1", "A-2", "A-3"):
        world.put_order("shop-a", mug_order(order_id, mug_line(1)))
    world.put_order("shop-b", mug_order("B-1", mug_line(1)))
    world.put_order("shop-b", mug_order("B-2", mug_line(1)))

    results = await world.sync()

    assert all(result.error is None for result in results)
    orders = await world.orders()
    assert {order_id: row["state"] for order_id, row in orders.items()} == {
        "A-1": "imported", "A-2": "held", "A-3": "imported", "B-1": "held", "B-2": "imported"}
    assert orders["A-2"]["reason"].startswith(
        f"plugin {PLUGIN!r} failed in ordersync_order_fetched: ConnectionError: fraud service "
        "unreachable")
    assert orders["B-1"]["reason"].startswith(
        f"plugin '{PLUGIN}-2' failed in ordersync_order_fetched: returned 42; it must return "
        "None, a Hold(reason) or a non-empty reason")
    assert len(world.store_orders()) == 3


class FailingPreparer:
    @ordersync.hookimpl
    def ordersync_prepare_store_order(
        self, draft: StoreOrderDraft, order: ChannelOrder, channel: str
    ) -> None:
        if order.id == "A-2":
            msg = "no note template for this buyer"
            raise KeyError(msg)


async def test_a_raising_prepare_hook_fails_only_that_order_naming_the_plugin(
    world: World,
) -> None:
    world_with(world, FailingPreparer())
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1", mug_line(1)))
    world.put_order("shop-a", mug_order("A-2", mug_line(1)))

    await world.sync()

    orders = await world.orders()
    assert orders["A-1"]["state"] == "imported"
    assert orders["A-2"]["state"] == "failed"
    assert orders["A-2"]["reason"] == (
        f"plugin {PLUGIN!r} failed in ordersync_prepare_store_order: KeyError: "
        "'no note template for this buyer'")


# -------------------------------------------------------------------------------------------------
# ordersync_store_order_created
# -------------------------------------------------------------------------------------------------


@dataclass
class Announcer:
    heard: list[tuple[str, str, str]] = field(default_factory=list)

    @ordersync.hookimpl
    async def ordersync_store_order_created(
        self, store_order: StoreOrder, order: ChannelOrder, channel: str
    ) -> None:
        assert store_order.reference == f"ordersync:{channel}:{order.id}"
        self.heard.append((channel, order.id, store_order.id))


async def test_store_order_created_hears_of_each_import_once(world: World) -> None:
    announcer = Announcer()
    world_with(world, announcer)
    seed_shop(world)
    await link_all(world)
    first = mug_order("A-1", mug_line(1))
    world.put_order("shop-a", first)
    world.put_order("shop-a", mug_order("A-2", mug_line(1)))

    await world.sync()
    await world.sync()
    world.put_order("shop-a", changed(first, status="cancelled"))  # a follow-up, no create
    await world.sync()

    made = {o["reference"].rsplit(":", 1)[1]: o["id"] for o in world.store_orders()}
    assert sorted(announcer.heard) == [("shop-a", "A-1", made["A-1"]),
                                       ("shop-a", "A-2", made["A-2"])]


class LostAnswerStore(FileStore):
    """A ``file`` store whose first create is written but its answer lost (a dropped connection)."""

    type_name = "lost-answer-file"
    creates = 0

    async def create_order(self, draft: StoreOrderDraft) -> StoreOrder:
        created = await super().create_order(draft)
        type(self).creates += 1
        if type(self).creates == 1:
            raise RetriableError("lost-answer-file", "create_order", "connection dropped")
        return created


class LostAnswerPlugin:
    @ordersync.hookimpl
    def ordersync_register_store_types(self, register: Callable[[type[Store]], None]) -> None:
        register(LostAnswerStore)


async def test_store_order_created_is_heard_once_when_a_retry_finds_the_order_made(
    world: World,
) -> None:
    announcer = Announcer()
    world_with(world, announcer, LostAnswerPlugin())
    world.configure(store_type="lost-answer-file")
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1"))
    LostAnswerStore.creates = 0

    # Made in the store, its answer lost; the retry (the store pass's apply) finds it made.
    await world.sync()
    await world.sync()
    await world.sync()

    assert LostAnswerStore.creates == 1  # the retry created nothing: it found the order
    [store_order] = world.store_orders()
    assert announcer.heard == [("shop-a", "A-1", store_order["id"])]
    assert (await world.orders())["A-1"]["state"] == "imported"


async def test_store_order_created_is_heard_once_when_a_later_pass_adopts_the_order(
    world: World,
) -> None:
    announcer = Announcer()
    world_with(world, announcer, LostAnswerPlugin())
    world.configure(store_type="lost-answer-file")
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1"))
    LostAnswerStore.creates = 0

    async with world.runtime() as runtime:
        await sync_channel(runtime, "shop-a")  # made in the store, its answer lost
        assert announcer.heard == []
        # The order waits to be created: this pass finds its store order before applying.
        await sync_channel(runtime, "shop-a")
        await sync_channel(runtime, "shop-a")

    assert LostAnswerStore.creates == 1
    [store_order] = world.store_orders()
    assert announcer.heard == [("shop-a", "A-1", store_order["id"])]
    assert (await world.orders())["A-1"]["state"] == "imported"


class Grumpy:
    @ordersync.hookimpl
    def ordersync_store_order_created(
        self, store_order: StoreOrder, order: ChannelOrder, channel: str
    ) -> None:
        msg = "ticket system down"
        raise RuntimeError(msg)


async def test_a_raising_store_order_created_hook_neither_undoes_nor_repeats_the_create(
    world: World,
) -> None:
    announcer = Announcer()
    world_with(world, Grumpy(), announcer)
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1", mug_line(1)))
    world.put_order("shop-a", mug_order("A-2", mug_line(1)))

    await world.sync()
    await world.sync()

    assert len(world.store_orders()) == 2
    assert sorted(order_id for _, order_id, _ in announcer.heard) == ["A-1", "A-2"]
    orders = await world.orders()
    for order_id in ("A-1", "A-2"):
        assert orders[order_id]["state"] == "imported"
        assert (f"plugin {PLUGIN!r} failed in ordersync_store_order_created: RuntimeError: "
                "ticket system down") in orders[order_id]["reason"]


# -------------------------------------------------------------------------------------------------
# ordersync_capabilities
# -------------------------------------------------------------------------------------------------


class TextLinesHere:
    """This installation's textless store takes text lines after all."""

    @ordersync.hookimpl
    def ordersync_capabilities(
        self, kind: str, type_name: str, capabilities: Any
    ) -> StoreCapabilities | None:
        if (kind, type_name) == ("store", "textless-file"):
            return capabilities.model_copy(update={"text_lines": True})
        return None


class WrongClass:
    @ordersync.hookimpl
    def ordersync_capabilities(self, kind: str, type_name: str, capabilities: Any) -> Any:
        return ChannelCapabilities() if kind == "store" else None


class Broken:
    @ordersync.hookimpl
    def ordersync_capabilities(self, kind: str, type_name: str, capabilities: Any) -> Any:
        msg = "cannot read the site's extensions"
        raise OSError(msg)


def unlinked_on_textless_store(world: World) -> None:
    world.configure({"shop-a": channel_section("shop-a", import_unlinked=True)},
                    store_type="textless-file")


async def test_a_capabilities_hook_changes_what_config_check_accepts(world: World) -> None:
    unlinked_on_textless_store(world)
    code, _, err = await world.cli("config", "check")
    assert code == 2
    assert "channels.shop-a.order_sync.import_unlinked" in err

    world_with(world, TextLinesHere())
    code, _, err = await world.cli("config", "check")
    assert code == 0, err

    # The engine sees them too: an unlinked line is imported as a text line.
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1", mug_line(1), card_line(1)))
    await world.sync()
    assert (await world.orders())["A-1"]["state"] == "imported"


@pytest.mark.parametrize(("plugin", "said"), [
    (WrongClass(), "returned ChannelCapabilities for the store type 'textless-file'; it must "
                   "return a StoreCapabilities or None"),
    (Broken(), "OSError: cannot read the site's extensions"),
])
async def test_a_broken_capabilities_hook_is_a_configuration_error_naming_the_plugin(
    world: World, plugin: object, said: str,
) -> None:
    unlinked_on_textless_store(world)
    world_with(world, plugin)

    code, _, err = await world.cli("config", "check")

    assert code == 2
    assert "main_store.type" in err
    assert f"plugin {PLUGIN!r} failed in ordersync_capabilities" in err
    assert said in err


# -------------------------------------------------------------------------------------------------
# ordersync_alert
# -------------------------------------------------------------------------------------------------


@dataclass
class ChatRoom:
    posted: list[Alert] = field(default_factory=list)

    @ordersync.hookimpl
    async def ordersync_alert(self, alert: Alert) -> None:
        self.posted.append(alert)


class BrokenChat:
    @ordersync.hookimpl
    def ordersync_alert(self, alert: Alert) -> None:
        msg = "chat webhook answered 500"
        raise RuntimeError(msg)


async def test_an_alert_plugin_alone_is_somewhere_for_alerts_to_go(world: World) -> None:
    world.configure({"shop-a": channel_section("shop-a", alerts={"unlinked_products": True})})
    code, _, err = await world.cli("config", "check")
    assert code == 2
    assert "channels.shop-a.order_sync.alerts.unlinked_products" in err

    room = ChatRoom()
    world_with(world, room)
    code, _, err = await world.cli("config", "check")
    assert code == 0, err
    seed_shop(world)
    world.put_order("shop-a", mug_order("A-1", card_line(1)))
    await world.sync()
    await world.sync()

    assert [(a.kind.value, a.order_id) for a in room.posted] == [("unlinked_products", "A-1")]


async def test_the_alert_hook_gets_every_alert_once_and_a_raising_one_stops_no_notifier(
    world: World, smtp_server: SmtpServer,
) -> None:
    room = ChatRoom()
    world_with(world, BrokenChat(), room)
    world.env["SMTP_PASSWORD"] = SMTP_PASSWORD
    world.configure({"shop-a": channel_section("shop-a", alerts={"unlinked_products": True})},
                    notifiers={"ops": email_notifier(smtp_server)})
    seed_shop(world)
    world.put_order("shop-a", mug_order("A-1", card_line(1)))
    world.put_order("shop-a", mug_order("A-2", card_line(2)))

    await world.sync()
    await world.sync()

    assert sorted(subject for subject, _ in mails(smtp_server)) == [
        "[ordersync] Order has unlinked products: shop-a A-1",
        "[ordersync] Order has unlinked products: shop-a A-2",
    ]
    assert sorted((a.kind.value, a.order_id) for a in room.posted) == [
        ("unlinked_products", "A-1"), ("unlinked_products", "A-2")]
    async with world.runtime() as runtime:
        with session_scope(runtime.engine, read_only=True) as session:
            rows = list(session.exec(select(AlertRecord)))
    assert len(rows) == 2
    assert all(row.sent_at is not None for row in rows)
    assert all(f"plugin {PLUGIN!r} failed in ordersync_alert: RuntimeError: chat webhook "
               "answered 500" in (row.error or "") for row in rows)
