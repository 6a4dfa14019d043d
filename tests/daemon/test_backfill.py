"""``ordersync sync --backfill --since DATE``: orders the passes will not see again (older than
the cursor's look-back) are pulled and imported through the normal path, once; ``--once`` keeps
working as before."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner, Result
from ordersync.cli import cli

from tests.daemon.harness import Install, paid_order

OLD = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _sync(install: Install, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(install.config), "sync", *args])


def _old_order(install: Install, order_id: str) -> None:
    install.put_order("shop", paid_order(order_id, created_at=OLD, updated_at=OLD))
    path = install.channel("shop") / "orders" / f"{order_id}.json"
    os.utime(path, (OLD.timestamp(), OLD.timestamp()))


def test_backfill_imports_orders_older_than_the_cursor_once(install: Install) -> None:
    install.configure({"shop": {}})
    install.put_order("shop", paid_order("A-1", updated_at=datetime.now(UTC)))
    assert _sync(install, "--once").exit_code == 0
    _old_order(install, "A-2")
    _old_order(install, "A-3")
    assert _sync(install, "--once").exit_code == 0
    assert install.store_references() == ["ordersync:shop:A-1"]

    first = _sync(install, "--backfill", "--since", "2025-01-01")

    assert first.exit_code == 0, first.output
    assert "backfill shop since 2025-01-01T00:00:00+00:00" in first.stderr
    assert "shop: 3 read, 2 to import, 0 failed, 0 unreadable; 2 effects applied" in first.stderr
    assert install.store_references() == [f"ordersync:shop:A-{n}" for n in (1, 2, 3)]

    again = _sync(install, "--backfill", "--since", "2025-01-01T00:00:00Z", "--json")
    assert again.exit_code == 0, again.output
    actions = sorted(json.loads(line)["action"] for line in again.stdout.splitlines())
    assert actions == ["none", "none", "none"]
    assert len(install.store_orders()) == 3


def test_once_still_prints_one_decision_per_line(install: Install) -> None:
    install.configure({"shop": {}})
    install.put_order("shop", paid_order("A-1"))
    result = _sync(install, "--once", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert (row["channel"], row["order_id"], row["action"]) == ("shop", "A-1", "import")


@pytest.mark.parametrize(("args", "message"), [
    ((), "give --once (one pass) or --backfill --since DATE"),
    (("--once", "--backfill", "--since", "2025-01-01"), "not both"),
    (("--backfill",), "--backfill needs --since DATE"),
    (("--once", "--since", "2025-01-01"), "--since goes with --backfill"),
    (("--backfill", "--since", "last tuesday"), "is not a date"),
    (("--backfill", "--since", "2025-01-01", "--dry-run"), "--dry-run works with --once only"),
])
def test_backfill_options_are_checked(install: Install, args: tuple[str, ...],
                                      message: str) -> None:
    install.configure({"shop": {}})
    result = _sync(install, *args)
    assert result.exit_code == 2
    assert message in result.stderr
