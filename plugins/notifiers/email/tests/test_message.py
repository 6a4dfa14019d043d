"""The alert email as an operator reads it: facts first, then what to do."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

from ordersync.platform import Alert, AlertKind
from ordersync_email import build_message, parse_address

SENDER = parse_address("ordersync <alerts@shop.example>")
TO = [parse_address("ops@shop.example"), parse_address("Owner <owner@shop.example>")]


def message_for(alert: Alert) -> EmailMessage:
    return build_message(alert, sender=SENDER, to=TO, notifier="ops")


def unlinked() -> Alert:
    return Alert(
        kind=AlertKind.UNLINKED_PRODUCTS,
        channel="ebay-uk",
        order_id="12-34567-89012",
        reason="listing L-100 (Red mug) is linked to no store product",
        created_at=datetime(2026, 11, 20, 10, 5, tzinfo=UTC),
    )


def test_unlinked_products_email_says_which_order_and_how_to_link_it() -> None:
    message = message_for(unlinked())
    body = message.get_content()
    assert message["Subject"] == "[ordersync] Order has unlinked products: ebay-uk 12-34567-89012"
    assert "Channel: ebay-uk" in body
    assert "Order:   12-34567-89012" in body
    assert "Reason:  listing L-100 (Red mug) is linked to no store product" in body
    assert "When:    2026-11-20 10:05:00 UTC" in body
    assert "ordersync links add ebay-uk <listing id> <store variant id>" in body
    assert "ordersync links auto --channel ebay-uk" in body
    assert "ordersync orders retry ebay-uk:12-34567-89012" in body
    assert "channels.ebay-uk.order_sync.import_unlinked: true" in body


def test_import_failure_email_says_how_to_retry() -> None:
    alert = Alert(
        kind=AlertKind.IMPORT_FAILURE,
        channel="etsy",
        order_id="3141",
        reason="store refused the order: 422 line 1: variant 99 no longer exists",
    )
    body = message_for(alert).get_content()
    assert "store refused the order: 422 line 1: variant 99 no longer exists" in body
    assert "ordersync orders show etsy:3141" in body
    assert "ordersync orders retry etsy:3141" in body


def test_channel_error_email_without_an_order_points_at_the_channel_settings() -> None:
    alert = Alert(kind=AlertKind.CHANNEL_ERROR, channel="amazon-de", reason="token revoked")
    message = message_for(alert)
    body = message.get_content()
    assert message["Subject"] == "[ordersync] Channel in error: amazon-de"
    assert "Order:   -" in body
    assert "channels.amazon-de" in body
    assert "ordersync status" in body
    assert message["X-Ordersync-Order-Id"] is None


def test_email_has_addresses_message_id_date_and_machine_readable_headers() -> None:
    message = message_for(unlinked())
    assert message["From"] == "ordersync <alerts@shop.example>"
    assert message["To"] == "ops@shop.example, Owner <owner@shop.example>"
    assert message["Message-ID"].endswith("@shop.example>")
    assert message["Date"].datetime.tzinfo is not None
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Ordersync-Alert"] == "unlinked_products"
    assert message["X-Ordersync-Channel"] == "ebay-uk"
    assert message["X-Ordersync-Order-Id"] == "12-34567-89012"


def test_multi_line_reason_stays_under_its_label() -> None:
    alert = unlinked().model_copy(update={"reason": "first line\nsecond line"})
    assert "Reason:  first line\n         second line\n" in message_for(alert).get_content()


def test_order_id_with_line_breaks_cannot_add_headers() -> None:
    alert = unlinked().model_copy(update={"order_id": "1\r\nBcc: everyone@example.com"})
    message = message_for(alert)
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"]
    assert message["X-Ordersync-Order-Id"] == "1 Bcc: everyone@example.com"
    headers = message.as_bytes().split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in headers


def test_order_id_is_quoted_for_the_shell_in_commands() -> None:
    alert = unlinked().model_copy(update={"order_id": "A 1;rm"})
    assert "ordersync orders retry 'ebay-uk:A 1;rm'" in message_for(alert).get_content()


def test_non_ascii_reason_survives_encoding() -> None:
    alert = unlinked().model_copy(update={"reason": "Café mug £12 — no product"})
    assert "Café mug £12 — no product" in message_for(alert).get_content()
