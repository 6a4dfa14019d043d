"""The console's passwords, sessions and login limits, as plain objects."""

from __future__ import annotations

from pathlib import Path

import pytest
from ordersync.console.auth import ADMIN, READONLY, Credentials, LoginLimiter, Sessions
from ordersync.errors import ConfigError


def test_no_admin_password_means_no_console() -> None:
    assert Credentials.from_environ({}) is None


def test_passwords_come_from_the_environment_or_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "console-password"
    secret.write_text("from a file\n")
    credentials = Credentials.from_environ({
        "ORDERSYNC_CONSOLE_PASSWORD_FILE": str(secret),
        "ORDERSYNC_CONSOLE_READONLY_PASSWORD": "reader",
    })
    assert credentials is not None
    assert credentials.role_of("from a file") == ADMIN
    assert credentials.role_of("reader") == READONLY
    assert credentials.role_of("from a file\n") is None
    assert credentials.role_of("") is None
    assert not credentials.trust_proxy


def test_without_a_read_only_password_no_password_is_read_only() -> None:
    credentials = Credentials.from_environ({"ORDERSYNC_CONSOLE_PASSWORD": "admin"})
    assert credentials is not None
    assert credentials.role_of("") is None
    assert credentials.role_of("\0" * 32) is None


@pytest.mark.parametrize(("environ", "names"), [
    ({"ORDERSYNC_CONSOLE_PASSWORD": "a", "ORDERSYNC_CONSOLE_PASSWORD_FILE": "/x"},
     "ORDERSYNC_CONSOLE_PASSWORD_FILE is set too"),
    ({"ORDERSYNC_CONSOLE_PASSWORD_FILE": "/nowhere/at/all"},
     "ORDERSYNC_CONSOLE_PASSWORD_FILE: cannot read /nowhere/at/all"),
    ({"ORDERSYNC_CONSOLE_READONLY_PASSWORD": "r"}, "ORDERSYNC_CONSOLE_PASSWORD is not"),
    ({"ORDERSYNC_CONSOLE_PASSWORD": "same", "ORDERSYNC_CONSOLE_READONLY_PASSWORD": "same"},
     "is the admin's password"),
])
def test_a_bad_password_setting_is_an_error_naming_it(environ: dict[str, str],
                                                      names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        Credentials.from_environ(environ)


def test_an_empty_password_file_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(ConfigError, match="is empty"):
        Credentials.from_environ({"ORDERSYNC_CONSOLE_PASSWORD_FILE": str(empty)})


def test_failed_logins_are_forgotten_after_the_window() -> None:
    now = [0.0]
    limiter = LoginLimiter(max_failures=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.wait_for("10.0.0.1") == 0
        limiter.failed("10.0.0.1")
    assert limiter.wait_for("10.0.0.1") == 60
    assert limiter.wait_for("10.0.0.2") == 0  # per address
    now[0] = 59.0
    assert limiter.wait_for("10.0.0.1") == pytest.approx(1.0)
    now[0] = 61.0
    assert limiter.wait_for("10.0.0.1") == 0


def test_an_idle_session_expires() -> None:
    now = [0.0]
    sessions = Sessions(idle=100, clock=lambda: now[0])
    session = sessions.create(ADMIN)
    assert sessions.get(session.token) is session
    now[0] = 90.0
    assert sessions.get(session.token) is session  # (a request keeps it alive)
    now[0] = 191.0
    assert sessions.get(session.token) is None
    assert sessions.create(READONLY).csrf != session.csrf
