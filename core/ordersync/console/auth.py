"""Who may use the console: passwords from the environment, sessions, CSRF, login limits.

- Passwords: ``ORDERSYNC_CONSOLE_PASSWORD`` (or ``..._FILE``, a file holding it) for the admin,
  ``ORDERSYNC_CONSOLE_READONLY_PASSWORD`` (or ``..._FILE``) for a user who only reads. Never in
  the YAML. Compared in constant time (digests of equal length).
- Sessions live in the daemon's memory, keyed by a random token in an ``HttpOnly``,
  ``SameSite=Strict`` cookie (``Secure`` when the request came over HTTPS); a restart or a
  logout ends them.
- Every form carries the session's CSRF token; every POST must also come from the console's
  own origin (``Origin``, else ``Referer``).
- Failed logins are limited per client address.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ordersync.errors import ConfigError

ADMIN = "admin"
READONLY = "readonly"

PASSWORD_ENV = "ORDERSYNC_CONSOLE_PASSWORD"
READONLY_PASSWORD_ENV = "ORDERSYNC_CONSOLE_READONLY_PASSWORD"
#: Set to 1 when a reverse proxy on the same host serves the console over HTTPS: its
#: ``X-Forwarded-Proto``, ``X-Forwarded-Host`` and ``X-Forwarded-For`` are then believed.
TRUST_PROXY_ENV = "ORDERSYNC_CONSOLE_TRUST_PROXY"

#: How long a session lasts without a request.
SESSION_IDLE_SECONDS = 12 * 3600
#: Failed logins allowed per client address within :data:`LOGIN_WINDOW_SECONDS`.
LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW_SECONDS = 300.0


def _secret(environ: Mapping[str, str], name: str) -> str | None:
    """The value of ``name`` or of the file ``name_FILE`` names (one trailing newline off)."""
    value = environ.get(name)
    path = environ.get(f"{name}_FILE")
    if value and path:
        raise ConfigError(name, f"{name}_FILE is set too: keep one")
    if path:
        try:
            value = Path(path).read_text(encoding="utf-8").removesuffix("\n")
        except OSError as exc:
            reason = f"cannot read {path}: {exc.strerror or exc}"
            raise ConfigError(f"{name}_FILE", reason) from None
        if not value:
            raise ConfigError(f"{name}_FILE", f"{path} is empty")
    return value or None


def _digest(password: str) -> bytes:
    return hashlib.sha256(password.encode("utf-8")).digest()


@dataclass(frozen=True)
class Credentials:
    """The console's passwords (as digests) and whether a proxy's headers are believed."""

    admin: bytes
    readonly: bytes | None = None
    trust_proxy: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Credentials | None:
        """The credentials the environment sets; None when no admin password is set.

        :raises ConfigError: a password file cannot be read, or a password is set twice.
        """
        admin = _secret(environ, PASSWORD_ENV)
        readonly = _secret(environ, READONLY_PASSWORD_ENV)
        if admin is None:
            if readonly is not None:
                raise ConfigError(READONLY_PASSWORD_ENV, f"set but {PASSWORD_ENV} is not: "
                                  "set both")
            return None
        if readonly is not None and readonly == admin:
            raise ConfigError(READONLY_PASSWORD_ENV, "is the admin's password: choose another")
        trust = environ.get(TRUST_PROXY_ENV, "").strip().lower() in ("1", "true", "yes")
        return cls(admin=_digest(admin),
                   readonly=_digest(readonly) if readonly is not None else None,
                   trust_proxy=trust)

    def role_of(self, password: str) -> str | None:
        """``admin``, ``readonly`` or None; both passwords are always compared (in constant
        time), so the time taken says nothing of which one, if any, matched."""
        given = _digest(password)
        is_admin = hmac.compare_digest(given, self.admin)
        is_reader = hmac.compare_digest(given, self.readonly or b"\0" * len(given))
        if is_admin:
            return ADMIN
        if is_reader and self.readonly is not None:
            return READONLY
        return None


@dataclass
class Session:
    token: str
    role: str
    csrf: str
    last_seen: float
    flashes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def can_act(self) -> bool:
        return self.role == ADMIN


class Sessions:
    """The logged-in sessions, in memory."""

    def __init__(self, idle: float = SESSION_IDLE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.idle = idle
        self.clock = clock
        self._sessions: dict[str, Session] = {}

    def create(self, role: str) -> Session:
        self._expire()
        session = Session(token=secrets.token_urlsafe(32), role=role,
                          csrf=secrets.token_urlsafe(32), last_seen=self.clock())
        self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        session = self._sessions.get(token)
        if session is None:
            return None
        now = self.clock()
        if now - session.last_seen > self.idle:
            del self._sessions[token]
            return None
        session.last_seen = now
        return session

    def drop(self, token: str) -> None:
        self._sessions.pop(token, None)

    def _expire(self) -> None:
        now = self.clock()
        for token in [t for t, s in self._sessions.items() if now - s.last_seen > self.idle]:
            del self._sessions[token]


class LoginLimiter:
    """At most ``max_failures`` failed logins per client address in ``window`` seconds."""

    #: Addresses remembered at most (the oldest are forgotten first).
    MAX_ADDRESSES = 10_000

    def __init__(self, max_failures: int = LOGIN_MAX_FAILURES,
                 window: float = LOGIN_WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def wait_for(self, address: str) -> float:
        """Seconds until ``address`` may try again (0: now)."""
        times = self._failures.get(address)
        if not times:
            return 0.0
        now = self.clock()
        while times and now - times[0] > self.window:
            times.popleft()
        if len(times) < self.max_failures:
            return 0.0
        return max(0.0, self.window - (now - times[0]))

    def failed(self, address: str) -> None:
        if address not in self._failures and len(self._failures) >= self.MAX_ADDRESSES:
            del self._failures[next(iter(self._failures))]
        self._failures.setdefault(address, deque()).append(self.clock())

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)


def same_token(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
