"""``ordersync config check`` with a Squarespace main store refuses what Squarespace cannot do,
naming it (run as the user runs it: the installed command, in a subprocess)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ordersync_squarespace.store import SquarespaceStore

CONFIG = """\
main_store:
  type: squarespace
  api_key: ${SQSP_KEY}
channels:
  shop:
    type: file
    path: channel
    inventory_sync: true
    order_sync:
      import_orders: true
      import_unlinked: %(unlinked)s
      keep_order_number: %(keep)s
      tax:
        label: %(label)s
      emails:
        order_receipt: %(receipt)s
        fulfillment_receipt: true
        marketing: %(marketing)s
"""


def _check(tmp_path: Path, **options: str) -> subprocess.CompletedProcess[str]:
    values = {"unlinked": "false", "keep": "false", "label": "null", "receipt": "false",
              "marketing": "false", **options}
    (tmp_path / "ordersync.yaml").write_text(CONFIG % values)
    (tmp_path / "channel").mkdir(exist_ok=True)
    command = shutil.which("ordersync", path=str(Path(sys.executable).parent))
    if command is None:
        pytest.skip("the ordersync command is not installed beside this Python")
    return subprocess.run(
        [command, "--config", "ordersync.yaml", "config", "check"], cwd=tmp_path,
        env={**os.environ, "SQSP_KEY": "sandbox-key"}, capture_output=True, text=True,
        timeout=60, check=False)


def test_capabilities_declare_what_squarespace_can_do() -> None:
    caps = SquarespaceStore.capabilities
    assert (caps.text_lines, caps.tax_labels, caps.set_order_number) == (False, False, False)
    assert (caps.order_receipt, caps.fulfillment_receipt, caps.marketing_consent) == (
        False, True, False)  # shouldSendNotification per shipment is the only email switch
    assert (caps.cancel_orders, caps.refund_orders, caps.webhooks) == (False, False, True)


def test_a_squarespace_store_with_options_it_can_do_checks_ok(tmp_path: Path) -> None:
    result = _check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_cancellations_and_refunds_left_to_the_seller_are_warned_of(tmp_path: Path) -> None:
    result = _check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert ("channels.shop.order_sync.import_orders: the Squarespace main store cannot cancel "
            "orders through its API: a channel cancellation is recorded and you cancel it in "
            "Squarespace") in result.stderr
    assert ("channels.shop.order_sync.import_orders: the Squarespace main store cannot refund "
            "orders through its API: a channel refund is recorded and you refund it in "
            "Squarespace") in result.stderr


def test_an_order_receipt_is_refused_and_marketing_warned_of_naming_squarespace(
    tmp_path: Path,
) -> None:
    refused = _check(tmp_path, receipt="true")
    assert refused.returncode == 2
    assert ("channels.shop.order_sync.emails.order_receipt: the Squarespace main store cannot "
            "be told to send the buyer an order receipt") in refused.stderr
    assert "fulfillment_receipt" not in refused.stderr
    warned = _check(tmp_path, marketing="true")
    assert warned.returncode == 0, warned.stderr
    assert ("channels.shop.order_sync.emails.marketing: the Squarespace main store has no field "
            "for the buyer's marketing consent") in warned.stderr


def test_unlinked_lines_tax_labels_and_kept_numbers_are_refused_naming_squarespace(
    tmp_path: Path,
) -> None:
    result = _check(tmp_path, unlinked="true", keep="true", label="VAT")
    assert result.returncode == 2
    errors = result.stderr
    assert ("channels.shop.order_sync.import_unlinked: the Squarespace main store cannot take "
            "lines linked to no product") in errors
    assert "channels.shop.order_sync.tax.label: the Squarespace main store does not take tax " \
        "labels" in errors
    assert "channels.shop.order_sync.keep_order_number: the Squarespace main store cannot set " \
        "the number" in errors
