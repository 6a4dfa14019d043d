"""Sending alerts to a real SMTP server (aiosmtpd on 127.0.0.1): TLS, AUTH and every failure."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ordersync.errors import FatalPlatformError, RetriableError
from ordersync.platform import Alert, AlertKind, Context
from ordersync_email import EmailNotifier
from ordersync_email.config import EmailConfig
from pydantic import SecretStr

HOST = "127.0.0.1"
PASSWORD = "s3cret-Pa55"

ALERT = Alert(
    kind=AlertKind.UNLINKED_PRODUCTS,
    channel="ebay-uk",
    order_id="12-34567-89012",
    reason="listing L-100 (Red mug) is linked to no store product",
)


def notifier(port: int, **section: Any) -> EmailNotifier:
    config = EmailConfig(
        type="email",
        host=HOST,
        port=port,
        sender="ordersync <alerts@shop.example>",
        to=["ops@shop.example", "owner@shop.example"],
        **{"timeout": 5, **section},
    )
    return EmailNotifier("ops", config, Context(name="ops"))


@pytest.fixture
def closed_port() -> int:
    """A port on which nothing listens (the OS just handed it out and it was closed again)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts TCP connections (through the backlog) and never says a word."""
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(4)
        yield listener.getsockname()[1]


# -- delivery -------------------------------------------------------------------------------------


async def test_alert_is_delivered_over_plain_smtp_with_channel_order_and_reason(
    smtp_server: Callable[..., Any],
) -> None:
    server = smtp_server()
    await notifier(server.port, security="none").send(ALERT)

    [delivery] = server.inbox.deliveries
    assert delivery.mail_from == "alerts@shop.example"
    assert delivery.rcpt_tos == ["ops@shop.example", "owner@shop.example"]
    assert not delivery.over_tls
    message = delivery.message
    assert message["Subject"] == "[ordersync] Order has unlinked products: ebay-uk 12-34567-89012"
    assert message["To"] == "ops@shop.example, owner@shop.example"
    assert message["Message-ID"]
    assert message["Date"]
    body = message.get_content()
    assert "ebay-uk" in body
    assert "12-34567-89012" in body
    assert "listing L-100 (Red mug) is linked to no store product" in body
    assert "ordersync orders retry ebay-uk:12-34567-89012" in body


async def test_starttls_delivery_trusts_the_server_through_ca_file(
    smtp_server: Callable[..., Any], tls_files: Any
) -> None:
    server = smtp_server(tls="starttls")
    await notifier(server.port, ca_file=str(tls_files.cert)).send(ALERT)

    [delivery] = server.inbox.deliveries
    assert delivery.over_tls
    assert delivery.message["X-Ordersync-Order-Id"] == "12-34567-89012"


async def test_implicit_ssl_delivery(smtp_server: Callable[..., Any], tls_files: Any) -> None:
    server = smtp_server(tls="ssl")
    await notifier(server.port, security="ssl", ca_file=str(tls_files.cert)).send(ALERT)

    [delivery] = server.inbox.deliveries
    assert delivery.over_tls


async def test_untrusted_certificate_is_fatal_and_says_to_set_ca_file(
    smtp_server: Callable[..., Any],
) -> None:
    server = smtp_server(tls="starttls")
    with pytest.raises(FatalPlatformError) as caught:
        await notifier(server.port).send(ALERT)

    assert f"{HOST}:{server.port}" in str(caught.value)
    assert "not trusted" in str(caught.value)
    assert "ca_file" in str(caught.value)
    assert server.inbox.deliveries == []


async def test_tls_verify_off_accepts_a_self_signed_test_server(
    smtp_server: Callable[..., Any],
) -> None:
    server = smtp_server(tls="starttls")
    await notifier(server.port, tls_verify=False).send(ALERT)

    assert len(server.inbox.deliveries) == 1


async def test_starttls_against_a_server_without_it_is_fatal(
    smtp_server: Callable[..., Any],
) -> None:
    server = smtp_server()
    with pytest.raises(FatalPlatformError, match="does not offer STARTTLS"):
        await notifier(server.port).send(ALERT)


async def test_ssl_against_a_plain_server_is_fatal_and_hints_at_security(
    smtp_server: Callable[..., Any],
) -> None:
    server = smtp_server()
    with pytest.raises(FatalPlatformError, match="check security"):
        await notifier(server.port, security="ssl", timeout=2).send(ALERT)


# -- authentication -------------------------------------------------------------------------------


@pytest.mark.parametrize("mechanism, other", [("PLAIN", "LOGIN"), ("LOGIN", "PLAIN")])
async def test_right_credentials_authenticate_and_deliver(
    smtp_server: Callable[..., Any], tls_files: Any, mechanism: str, other: str
) -> None:
    server = smtp_server(
        tls="starttls", auth=("alerts", PASSWORD), auth_exclude_mechanism=[other]
    )
    await notifier(
        server.port,
        ca_file=str(tls_files.cert),
        username="alerts",
        password=SecretStr(PASSWORD),
    ).send(ALERT)

    assert server.credentials.mechanisms == [mechanism]
    assert len(server.inbox.deliveries) == 1


async def test_wrong_password_is_fatal_and_never_shows_the_password(
    smtp_server: Callable[..., Any], tls_files: Any
) -> None:
    server = smtp_server(tls="starttls", auth=("alerts", "the-right-one"))
    with pytest.raises(FatalPlatformError) as caught:
        await notifier(
            server.port,
            ca_file=str(tls_files.cert),
            username="alerts",
            password=SecretStr(PASSWORD),
        ).send(ALERT)

    error = caught.value
    assert f"{HOST}:{server.port}" in str(error)
    assert "authentication failed for user 'alerts'" in str(error)
    assert "535" in str(error)
    for text in (str(error), repr(error), error.reason, repr(error.__cause__)):
        assert PASSWORD not in text
    assert error.__suppress_context__  # the smtplib traceback (and its locals) is not chained
    assert server.inbox.deliveries == []


async def test_server_requiring_auth_refuses_an_anonymous_sender(
    smtp_server: Callable[..., Any], tls_files: Any
) -> None:
    server = smtp_server(tls="starttls", auth=("alerts", PASSWORD))
    with pytest.raises(FatalPlatformError, match="530"):
        await notifier(server.port, ca_file=str(tls_files.cert)).send(ALERT)


# -- temporary and permanent failures -------------------------------------------------------------


async def test_server_down_is_retriable_and_names_host_and_port(closed_port: int) -> None:
    with pytest.raises(RetriableError) as caught:
        await notifier(closed_port, security="none").send(ALERT)

    assert f"{HOST}:{closed_port}" in str(caught.value)
    assert "connection refused" in str(caught.value)


async def test_server_that_never_answers_times_out_as_retriable(silent_server: int) -> None:
    with pytest.raises(RetriableError, match="timeout"):
        await notifier(silent_server, security="none", timeout=0.2).send(ALERT)


async def test_4xx_reply_is_retriable(smtp_server: Callable[..., Any]) -> None:
    server = smtp_server()
    server.inbox.reply_to_data = reply = "451 4.3.0 Mailbox temporarily unavailable"
    with pytest.raises(RetriableError, match=re.escape(reply)):
        await notifier(server.port, security="none").send(ALERT)


async def test_5xx_reply_is_fatal(smtp_server: Callable[..., Any]) -> None:
    server = smtp_server()
    server.inbox.reply_to_data = "554 5.7.1 Message rejected as spam"
    with pytest.raises(FatalPlatformError, match=re.escape("554 5.7.1")):
        await notifier(server.port, security="none").send(ALERT)


async def test_all_recipients_refused_permanently_is_fatal_and_names_them(
    smtp_server: Callable[..., Any],
) -> None:
    server = smtp_server()
    server.inbox.refuse_rcpt = {
        "ops@shop.example": "550 5.1.1 No such user",
        "owner@shop.example": "550 5.1.1 No such user",
    }
    refusal = "ops@shop.example: 550 5.1.1 No such user"
    with pytest.raises(FatalPlatformError, match=re.escape(refusal)):
        await notifier(server.port, security="none").send(ALERT)


async def test_one_refused_recipient_is_logged_and_the_others_still_get_the_alert(
    smtp_server: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_server()
    server.inbox.refuse_rcpt = {"owner@shop.example": "550 5.1.1 No such user"}
    with caplog.at_level(logging.WARNING):
        await notifier(server.port, security="none").send(ALERT)

    [delivery] = server.inbox.deliveries
    assert delivery.rcpt_tos == ["ops@shop.example"]
    assert "owner@shop.example (550)" in caplog.text
