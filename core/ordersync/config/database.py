"""The ``database:`` URL of ``ordersync.yaml``: references resolved, a relative SQLite file made
relative to the configuration's folder, and a PostgreSQL password taken from the environment or
a file only.

Needs no plugin and no SQLAlchemy: ``ordersync status`` reads it on its own
(:mod:`ordersync.config.outline`), the loader with every other section.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ordersync.errors import ConfigError
from ordersync.secrets import is_reference, resolve_string

#: The state database when ``database:`` is not given: a SQLite file beside the configuration.
DEFAULT_DATABASE = "sqlite:///ordersync.db"
#: The key every error of this module names.
KEY = "database"
_EXAMPLE = "sqlite:///ordersync.db or postgresql+psycopg://user@host/db"


@dataclass(frozen=True)
class DatabaseUrl:
    url: str
    #: The credential values read on the way (to scrub from every message and log line).
    secret_values: frozenset[str] = field(default_factory=frozenset)


def database_url(value: Any, environ: Mapping[str, str], base_dir: Path) -> DatabaseUrl:
    """The state database URL that ``value`` (the YAML's ``database:``) gives.

    :param base_dir: the folder of ``ordersync.yaml``: a relative SQLite file lives there.
    :raises ConfigError: naming ``database``, with what to write instead (never a credential).
    """
    whole = is_reference(value)
    if whole:
        # The whole URL from the environment or a file (DATABASE_URL): a password in it is
        # not clear text in this file, and is masked like any credential.
        value = resolve_string(value, KEY, environ, base_dir, secret=True)
    if not isinstance(value, str) or "://" not in value:
        raise ConfigError(KEY, f"must be a database URL: {_EXAMPLE}")
    scheme, _, rest = value.partition("://")
    driver = scheme.split("+", 1)[0]
    if driver == "sqlite":
        return DatabaseUrl(_sqlite_url(scheme, rest, environ, base_dir))
    if driver != "postgresql":
        msg = (f"{scheme!r} databases are not supported: ordersync keeps its state in SQLite or "
               f"PostgreSQL ({_EXAMPLE})")
        raise ConfigError(KEY, msg)
    return _postgres_url(value, environ, base_dir, from_reference=whole)


def _sqlite_url(scheme: str, rest: str, environ: Mapping[str, str], base_dir: Path) -> str:
    rest = resolve_string(rest, KEY, environ, base_dir)
    if rest == "":
        return f"{scheme}://"  # in memory
    if not rest.startswith("/"):
        msg = ("a SQLite URL has three slashes before a relative path: sqlite:///ordersync.db "
               "(four before an absolute one)")
        raise ConfigError(KEY, msg)
    file, sep, query = rest[1:].partition("?")
    if file in ("", ":memory:") or file.startswith("file:"):
        return f"{scheme}://{rest}"
    absolute = Path(file).expanduser()
    if not absolute.is_absolute():
        absolute = base_dir / absolute
    return f"{scheme}:///{absolute}{sep}{query}"


def _postgres_url(
    value: str, environ: Mapping[str, str], base_dir: Path, *, from_reference: bool
) -> DatabaseUrl:
    # The password sits between "user:" and "@"; a reference in it may contain ":" and "/".
    match = re.match(r"^([^:/]+://[^:@/]*:)(\$\{[^{}]*\}|[^@/]*)(@.*)$", value)
    if from_reference:
        if match is None:
            return DatabaseUrl(value)
        password = match.group(2)
        return DatabaseUrl(value, frozenset({password, urllib.parse.unquote(password)}))
    if match is None:
        return DatabaseUrl(resolve_string(value, KEY, environ, base_dir))
    head, password, tail = match.groups()
    if not is_reference(password):
        msg = ("the database password must come from the environment or a file: write "
               "postgresql+psycopg://user:${PGPASSWORD}@host/db (or leave it out and set "
               "PGPASSWORD)")
        raise ConfigError(KEY, msg)
    secret = resolve_string(password, KEY, environ, base_dir, secret=True)
    head, tail = (resolve_string(part, KEY, environ, base_dir) for part in (head, tail))
    return DatabaseUrl(f"{head}{urllib.parse.quote(secret, safe='')}{tail}", frozenset({secret}))
