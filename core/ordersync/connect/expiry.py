"""When each account's authorization ends: the ``token_expires`` of ``ordersync status``.

Read from the grants ``ordersync auth`` stored (encrypted) in the token table, with the token
key of the environment; without the key, or for an account authorised through its configured
credentials only, the expiry is not known (None).
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from cryptography.fernet import InvalidToken
from sqlalchemy.engine import Engine

from ordersync.connect.flow import Grant, grant_key
from ordersync.errors import ConfigError
from ordersync.state.tables import StoredToken
from ordersync.state.tokens import PREFIX, cipher_from_environment

_TOKEN: sa.Table = StoredToken.__table__  # type: ignore[attr-defined]
log = logging.getLogger("ordersync.connect")


def grant_expiries(engine: Engine, names: list[str]) -> dict[str, str | None]:
    """Per account name: when its stored grant expires (ISO 8601), or None."""
    out: dict[str, str | None] = dict.fromkeys(names)
    try:
        cipher = cipher_from_environment()
    except ConfigError as exc:
        log.warning("token expiry not shown: %s", exc)
        return out
    if cipher is None:
        return out
    keys = {grant_key(name): name for name in names}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_TOKEN.c.key, _TOKEN.c.value)
                            .where(_TOKEN.c.key.in_(list(keys)))).all()
    for key, stored in rows:
        try:
            text = cipher.decrypt(stored) if stored.startswith(PREFIX) else stored
            expires = Grant.from_json(json.loads(text)).expires_at
        except (InvalidToken, ValueError, AttributeError):
            continue  # ``open_token_store`` reports a key that does not decrypt
        out[keys[key]] = expires.isoformat(timespec="seconds") if expires is not None else None
    return out
