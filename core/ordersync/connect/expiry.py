"""When each account's authorization ends: the ``token_expires`` of ``ordersync status``.

Read from the grants ``ordersync auth`` stored (encrypted) in the token table, with the token
key of the environment; without the key, or for an account authorised through its configured
credentials only, the expiry is not known (None).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from ordersync.connect.flow import Grant, grant_key
from ordersync.errors import ConfigError
from ordersync.state.cipher import PREFIX, cipher_from_environment
from ordersync.state.overview import Rows

log = logging.getLogger("ordersync.connect")

_GRANT = "SELECT value FROM token WHERE key = :key"


def grant_expiries(
    rows: Rows, names: list[str], environ: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """Per account name: when its stored grant expires (ISO 8601), or None.

    :param rows: runs a query on the state database (:data:`ordersync.state.overview.Rows`).
    """
    out: dict[str, str | None] = dict.fromkeys(names)
    try:
        cipher = cipher_from_environment(environ)
    except ConfigError as exc:
        log.warning("token expiry not shown: %s", exc)
        return out
    if cipher is None:
        return out
    from cryptography.fernet import InvalidToken

    for name in names:
        for (stored,) in rows(_GRANT, {"key": grant_key(name)}):
            try:
                text = cipher.decrypt(stored) if stored.startswith(PREFIX) else stored
                expires = Grant.from_json(json.loads(text)).expires_at
            except (InvalidToken, ValueError, AttributeError):
                continue  # ``open_token_store`` reports a key that does not decrypt
            out[name] = expires.isoformat(timespec="seconds") if expires is not None else None
    return out
