"""Canary credentials (unique values in environment variables) never show: not in the daemon's
logs in either format, not in /healthz, /metrics or error output, not in `config show`, even when
a plugin puts them in an error message or a log line. And a failing channel backs off without
stalling the others."""

from __future__ import annotations

import json

from tests.daemon.harness import Daemon, Install, paid_order
from tests.daemon.hook_doubles import delivery

CANARY = "canary-4e1d9b7f-secret"
HOOK = "/webhooks/hooks"


def _setup(install: Install) -> None:
    install.env.update(HOOK_SECRET=CANARY)
    install.configure({
        "hooks": {"type": "hookfile", "webhook_secret": "${HOOK_SECRET}"},
        "plain": {},
    })
    # The hooks channel fails with an error that quotes its secret (see hook_doubles).
    (install.channel("hooks") / "fail").write_text("")


def test_no_secret_in_json_logs_health_or_metrics_and_a_failing_channel_stalls_no_other(
    install: Install, daemons: list[Daemon],
) -> None:
    _setup(install)
    daemon = install.start("--log-format", "json")
    daemons.append(daemon)

    daemon.wait(lambda: daemon.health()["channels"]["hooks"]["failures"] >= 3,
                "channel hooks to fail three times")
    install.put_order("plain", paid_order("P-1"))
    daemon.wait(lambda: install.store_references() == ["ordersync:plain:P-1"],
                "channel plain to import while hooks fails")
    hooks = daemon.health()["channels"]["hooks"]
    assert hooks["state"] == "error"
    assert "refused for key ***" in hooks["error"]
    forged = delivery("e-1", "X")
    assert daemon.post(HOOK, forged, {"X-Hook-Signature": "00"}).status_code == 401
    metrics = daemon.get("/metrics").text
    assert daemon.metric("ordersync_channel_error", channel="hooks") == 1
    assert daemon.metric("ordersync_consecutive_failures", channel="hooks") >= 3
    health = daemon.get("/healthz").text

    (install.channel("hooks") / "fail").unlink()
    daemon.wait(lambda: daemon.health()["channels"]["hooks"]["state"] == "ok",
                "channel hooks to recover", timeout=20)
    assert daemon.health()["channels"]["hooks"]["failures"] == 0

    code, _ = daemon.stop()
    assert code == 0
    records = [json.loads(line) for line in daemon.lines if line.strip()]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    messages = " ".join(record["message"] for record in records)
    assert "delivery not signed with ***" in messages  # the plugin tried to log it
    assert "refused for key ***" in messages           # and the pass logged its error
    for text in (daemon.output(), metrics, health):
        assert CANARY not in text


def test_no_secret_in_text_logs_command_errors_or_config_show(
    install: Install, daemons: list[Daemon],
) -> None:
    _setup(install)
    daemon = install.start("--log-format", "text")
    daemons.append(daemon)
    daemon.wait(lambda: daemon.health()["channels"]["hooks"]["failures"] >= 1,
                "channel hooks to fail")
    forged = delivery("e-1", "X")
    assert daemon.post(HOOK, forged, {"X-Hook-Signature": "00"}).status_code == 401
    code, _ = daemon.stop()
    assert code == 0
    assert "delivery not signed with ***" in daemon.output()
    assert CANARY not in daemon.output()

    once = install.cli("sync", "--once", "--channel", "hooks")
    assert once.returncode == 1
    assert "hooks: FAILED: " in once.stderr and "***" in once.stderr
    shown = install.cli("config", "show")
    assert shown.returncode == 0, shown.stderr
    for text in (once.stdout, once.stderr, shown.stdout, shown.stderr):
        assert CANARY not in text
