"""Stopping the daemon: SIGTERM lets the work in flight finish within the bound and exits 0,
interrupting what takes longer; a second signal exits at once."""

from __future__ import annotations

import signal
import socket

from tests.daemon.harness import Daemon, Install


def _busy(install: Install) -> Daemon:
    install.env.update(HOOK_SECRET="canary-lifecycle-7c2e")
    install.configure({"hooks": {"type": "hookfile", "webhook_secret": "${HOOK_SECRET}"}})
    # Every pass of channel hooks first takes 30 seconds.
    (install.channel("hooks") / "slow").write_text("30")
    daemon = install.start("--stop-timeout", "1.5")
    daemon.wait(lambda: daemon.health()["channels"]["hooks"]["running"] == "sync pass",
                "a pass of channel hooks in flight")
    return daemon


def test_sigterm_interrupts_work_that_outlasts_the_stop_timeout_and_exits_0(
    install: Install, daemons: list[Daemon],
) -> None:
    daemon = _busy(install)
    daemons.append(daemon)
    code, took = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.output()
    assert 1.4 < took < 6
    assert "still busy with sync pass" in daemon.output()


def test_a_second_signal_exits_at_once_with_a_failure_status(
    install: Install, daemons: list[Daemon],
) -> None:
    daemon = _busy(install)
    daemons.append(daemon)
    daemon.send(signal.SIGTERM)
    daemon.wait(lambda: "SIGTERM: stopping" in daemon.output(), "the first signal taken")
    code, took = daemon.stop(signal.SIGINT)
    assert code == 128 + signal.SIGINT
    assert took < 1.0
    assert "second signal (SIGINT): exiting now" in daemon.output()


def test_an_address_in_use_is_reported_and_exits_1(install: Install) -> None:
    install.configure({"shop": {}})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = install.cli("run", "--listen", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
