"""Behaviour 11, alerts: once per order and reason, by email to a real SMTP server."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.sync.conftest import SMTP_PASSWORD, SMTP_USER, SmtpServer, World, channel_section
from tests.sync.helpers import card_line, link_all, mug_line, mug_order, seed_shop


def email_notifier(smtp: SmtpServer, to: str = "ops@shop.example") -> dict[str, Any]:
    """An ``email`` notifier section for ``smtp``; its password comes from the environment."""
    return {
        "type": "email", "host": "127.0.0.1", "port": smtp.port, "security": "starttls",
        "username": SMTP_USER, "password": "${SMTP_PASSWORD}", "ca_file": str(smtp.ca_file),
        "from": "ordersync <alerts@shop.example>", "to": [to], "timeout": 5,
    }


def with_email_alerts(world: World, smtp: SmtpServer, **alerts: bool) -> None:
    world.env["SMTP_PASSWORD"] = SMTP_PASSWORD
    world.configure({"shop-a": channel_section("shop-a", alerts=alerts)},
                    notifiers={"ops": email_notifier(smtp)})


def mails(smtp: SmtpServer) -> list[tuple[str, str]]:
    return [(str(m["Subject"]), m.get_content()) for m in smtp.inbox.messages]


async def test_unlinked_product_alert_is_emailed_once_per_order(
    world: World, smtp_server: SmtpServer,
) -> None:
    with_email_alerts(world, smtp_server, unlinked_products=True)
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1", mug_line(1), card_line(1)))
    world.put_order("shop-a", mug_order("A-2", card_line(2)))

    await world.sync()
    await world.sync()
    await world.sync()

    sent = mails(smtp_server)
    assert sorted(subject for subject, _ in sent) == [
        "[ordersync] Order has unlinked products: shop-a A-1",
        "[ordersync] Order has unlinked products: shop-a A-2",
    ]
    body = dict(sent)["[ordersync] Order has unlinked products: shop-a A-1"]
    assert "L-900" in body
    assert all(smtp_server.inbox.over_tls)
    assert SMTP_PASSWORD not in world.config_path.read_text()


async def test_import_failure_alert_is_emailed_once_per_order_and_kind(
    world: World, smtp_server: SmtpServer,
) -> None:
    with_email_alerts(world, smtp_server, import_failure=True, unlinked_products=True)
    seed_shop(world)
    await link_all(world)
    bad = mug_order("A-1", mug_line(2), total=Decimal("30.00"))
    world.put_order("shop-a", bad)

    await world.sync()
    await world.sync()

    [(subject, body)] = mails(smtp_server)
    assert subject == "[ordersync] Order import failed: shop-a A-1"
    assert "channel total is 30.00" in body

    # The channel corrects the order, but it is still wrong in another way: a new reason,
    # and no second email about the same order (`orders show` has the reason now).
    world.put_order("shop-a", bad.model_copy(update={"total": Decimal("31.00")}))
    await world.sync()
    assert len(smtp_server.inbox.messages) == 1
    assert "channel total is 31.00" in (await world.orders())["A-1"]["reason"]


async def test_store_rejecting_an_order_raises_an_import_failure_alert(
    world: World, smtp_server: SmtpServer,
) -> None:
    with_email_alerts(world, smtp_server, import_failure=True)
    seed_shop(world)
    await world.link("shop-a", "L-100", "V-GONE")  # linked to a variant the store no longer has
    world.put_order("shop-a", mug_order("A-1"))

    await world.sync()
    await world.sync()

    [(subject, body)] = mails(smtp_server)
    assert subject == "[ordersync] Order import failed: shop-a A-1"
    assert "V-GONE" in body
    assert (await world.orders())["A-1"]["state"] == "failed"
    assert world.store_orders() == []


async def test_no_alert_when_the_alert_options_are_off(
    world: World, smtp_server: SmtpServer,
) -> None:
    with_email_alerts(world, smtp_server)
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1", card_line(1)))
    world.put_order("shop-a", mug_order("A-2", total=Decimal("1.00")))

    await world.sync()

    assert smtp_server.inbox.messages == []


async def test_an_alert_the_server_could_not_take_is_sent_on_a_later_pass(
    world: World, smtp_server: SmtpServer,
) -> None:
    with_email_alerts(world, smtp_server, unlinked_products=True)
    good_port = smtp_server.port
    config: dict[str, Any] = world.config
    config["notifiers"]["ops"]["port"] = 1  # nothing listens there
    world.configure(config["channels"], notifiers=config["notifiers"])
    seed_shop(world)
    world.put_order("shop-a", mug_order("A-1", card_line(1)))

    await world.sync()
    assert smtp_server.inbox.messages == []

    config["notifiers"]["ops"]["port"] = good_port
    world.configure(config["channels"], notifiers=config["notifiers"])
    await world.sync()
    await world.sync()

    assert [s for s, _ in mails(smtp_server)] == [
        "[ordersync] Order has unlinked products: shop-a A-1"]


async def test_every_notifier_gets_each_alert_and_a_broken_one_stops_no_other(
    world: World, smtp_server: SmtpServer, other_smtp_server: SmtpServer,
) -> None:
    world.env["SMTP_PASSWORD"] = SMTP_PASSWORD
    broken = {**email_notifier(smtp_server), "port": 1}  # nothing listens there
    world.configure({"shop-a": channel_section("shop-a", alerts={"unlinked_products": True})},
                    notifiers={"ops": email_notifier(smtp_server),
                               "broken": broken,
                               "owner": email_notifier(other_smtp_server, "owner@shop.example")})
    seed_shop(world)
    world.put_order("shop-a", mug_order("A-1", card_line(1)))

    await world.sync()
    await world.sync()

    for server in (smtp_server, other_smtp_server):
        assert [s for s, _ in mails(server)] == [
            "[ordersync] Order has unlinked products: shop-a A-1"]
    assert str(other_smtp_server.inbox.messages[0]["To"]) == "owner@shop.example"


async def test_order_imported_with_text_lines_still_raises_the_unlinked_products_alert(
    world: World, smtp_server: SmtpServer,
) -> None:
    world.env["SMTP_PASSWORD"] = SMTP_PASSWORD
    world.configure({"shop-a": channel_section("shop-a", import_unlinked=True,
                                               alerts={"unlinked_products": True})},
                    notifiers={"ops": email_notifier(smtp_server)})
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1", mug_line(1), card_line(1)))

    await world.sync()
    await world.sync()

    assert world.store_order("shop-a", "A-1")["status"] == "open"
    [(subject, body)] = mails(smtp_server)
    assert subject == "[ordersync] Order has unlinked products: shop-a A-1"
    assert "L-900" in body and "text lines" in body
