"""``ordersync sandbox run``'s refusals, before any sandbox starts (the whole walkthrough on it
is tests/cli/test_operator_walkthrough.py)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.shop import ordersync


def test_a_folder_with_an_earlier_runs_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sandbox-account").mkdir()
    (tmp_path / "sandbox-account" / "ordersync.db").write_bytes(b"")

    done = ordersync(tmp_path, "sandbox", "run")

    assert done.returncode == 2
    assert "ordersync.db holds the state of an earlier sandbox run" in done.stderr
    assert not (tmp_path / "sandbox-account" / "ordersync.yaml").exists()


def test_a_channel_type_without_a_sandbox_names_those_installed(tmp_path: Path) -> None:
    done = ordersync(tmp_path, "sandbox", "run", "--channel", "nowhere")

    assert done.returncode == 1
    assert "no channel sandbox for nowhere" in done.stderr
    assert "ebay" in done.stderr
