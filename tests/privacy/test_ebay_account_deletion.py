"""eBay's Marketplace Account Deletion notifications at /webhooks/<channel>: the endpoint check
answered, each notice's signature checked with the sandbox eBay's real public key (fetched over
HTTP, kept), and the user's personal data removed from every eBay channel's orders."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ordersync.models import Address, Buyer
from ordersync_ebay.sandbox import EbaySandbox
from ordersync_ebay.sandbox.notifications import keys_of, signed_account_deletion

from tests.daemon.harness import Daemon, Install, paid_order

ENDPOINT = "https://orders.example.com/webhooks/ebay-uk"
TOKEN = "verification_token-0123456789abcdefXYZ"
CANARY = ("Zyxwv Canary", "canary-7f3a@example.com", "zyxwv_canary", "9 Wren Close",
          "WR9 9WR")
OTHER = ("Ottoline Keep", "ottoline@example.org", "otto_keep", "4 Bramble Row", "BR1 1AA")


@pytest.fixture
def ebay(tmp_path: Path) -> Iterator[EbaySandbox]:
    sandbox = EbaySandbox()
    asyncio.run(sandbox.start(tmp_path))
    try:
        yield sandbox
    finally:
        asyncio.run(sandbox.stop())


def buyer(person: tuple[str, ...]) -> dict[str, Any]:
    name, email, username, street, postcode = person
    return {"buyer": Buyer(name=name, email=email, username=username),
            "shipping_address": Address(name=name, line1=street, city="Leeds",
                                        postal_code=postcode, country="GB")}


def configure(install: Install, ebay: EbaySandbox) -> None:
    """Two eBay channels on the sandbox account; only ebay-uk is set up for the notices."""
    section = {**ebay.config(), "poll_interval": "200ms", "inventory_sync": True,
               "order_sync": {"import_orders": True, "import_unlinked": True}}
    config = {
        "database": "sqlite:///state.db",
        "main_store": {"type": "file", "path": "store"},
        "channels": {
            "ebay-uk": {**section, "account_deletion": {
                "endpoint": ENDPOINT, "verification_token": "${EBAY_VERIFICATION_TOKEN}"}},
            "ebay-de": section,
        },
        "daemon": {"reconcile_interval": "1h"},
    }
    install.config.write_text(yaml.safe_dump(config))
    install.env.update(ebay.environ(), EBAY_VERIFICATION_TOKEN=TOKEN)


def state_text(install: Install) -> str:
    return "\n".join(str(row) for table in ("order_record", "effect", "alert")
                     for row in install.state(f"SELECT * FROM {table}"))


def test_the_endpoint_check_is_answered_as_ebay_computes_it(
    install: Install, daemons: list[Daemon], ebay: EbaySandbox,
) -> None:
    configure(install, ebay)
    daemon = install.start()
    daemons.append(daemon)

    answer = daemon.get("/webhooks/ebay-uk?challenge_code=a8628072-3d33-45ee-9004")
    unset = daemon.get("/webhooks/ebay-de?challenge_code=a8628072-3d33-45ee-9004")
    other = daemon.get("/webhooks/ebay-uk")

    expected = hashlib.sha256(f"a8628072-3d33-45ee-9004{TOKEN}{ENDPOINT}".encode()).hexdigest()
    assert answer.status_code == 200
    assert answer.json() == {"challengeResponse": expected}
    assert unset.status_code == 500
    assert other.status_code == 404
    daemon.stop()
    assert "channels.ebay-de.account_deletion" in daemon.output()
    assert TOKEN not in daemon.output()


def test_a_verified_notice_removes_the_users_data_from_every_ebay_channel(
    install: Install, daemons: list[Daemon], ebay: EbaySandbox,
) -> None:
    configure(install, ebay)
    ebay.state.seed_order(paid_order("12-00001-00001", **buyer(CANARY)))
    ebay.state.seed_order(paid_order("12-00002-00002", **buyer(OTHER)))
    daemon = install.start("--log-level", "DEBUG")
    daemons.append(daemon)
    daemon.wait(lambda: len(install.store_orders()) == 4, "both channels' orders imported")
    assert all(value in state_text(install) for value in CANARY + OTHER)

    body, headers = signed_account_deletion(ebay.state, "zyxwv_canary", "ma8vp1jySJC")
    tampered = body.replace(b"zyxwv_canary", b"otto_keep")
    refused = daemon.post("/webhooks/ebay-uk", tampered, headers)
    unsigned = daemon.post("/webhooks/ebay-uk", body, {"Content-Type": "application/json"})
    assert (refused.status_code, unsigned.status_code) == (412, 412)
    assert all(value in state_text(install) for value in CANARY + OTHER)

    accepted = daemon.post("/webhooks/ebay-uk", body, headers)
    assert accepted.status_code == 204
    text = state_text(install)
    assert [value for value in CANARY if value in text] == []
    assert all(value in text for value in OTHER)

    # Another notice: the key is not fetched again (eBay asks to keep it an hour).
    again, again_headers = signed_account_deletion(ebay.state, "nobody_here", "zz0")
    assert daemon.post("/webhooks/ebay-de", again, again_headers).status_code == 204
    assert keys_of(ebay.state).served == 1
    # Passes after the notice store nothing of the user again (eBay still lists the orders).
    passes = daemon.output().count("channel ebay-uk: ")
    daemon.wait(lambda: daemon.output().count("channel ebay-uk: ") >= passes + 2,
                "two more passes of ebay-uk")
    text = state_text(install)
    assert [value for value in CANARY if value in text] == []
    code, _ = daemon.stop()

    assert code == 0
    output = daemon.output()
    assert "account deletion notice" in output
    assert "personal data removed from 2 order(s)" in output
    assert [value for value in CANARY if value.casefold() in output.casefold()] == []


def test_a_notice_signed_with_another_key_is_refused(
    install: Install, daemons: list[Daemon], ebay: EbaySandbox,
) -> None:
    configure(install, ebay)
    daemon = install.start()
    daemons.append(daemon)
    body, headers = signed_account_deletion(ebay.state, "zyxwv_canary", "ma8vp1jySJC")
    forged = json.loads(base64.b64decode(headers["X-EBAY-SIGNATURE"]))
    forged["kid"] = "no-such-key"
    headers["X-EBAY-SIGNATURE"] = base64.b64encode(json.dumps(forged).encode()).decode()

    assert daemon.post("/webhooks/ebay-uk", body, headers).status_code == 412
    assert daemon.post("/webhooks/ebay-uk", body, {
        "X-EBAY-SIGNATURE": "not base64!", "Content-Type": "application/json"}).status_code == 412
    daemon.stop()
    assert "signature" in daemon.output()
