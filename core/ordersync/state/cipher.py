"""The token key: what encrypts the platform tokens of the state database (Fernet, from
``cryptography``), read from ``ORDERSYNC_TOKEN_KEY`` or the file ``ORDERSYNC_TOKEN_KEY_FILE``.

Needs no database: ``ordersync status`` reads the grants' expiry with it, without SQLAlchemy
(:mod:`ordersync.state.overview`); :mod:`ordersync.state.tokens` stores tokens with it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ordersync.errors import ConfigError

if TYPE_CHECKING:  # imported when a key is used: without one, nothing here needs it
    from cryptography.fernet import MultiFernet

#: The environment variable holding the token key(s).
KEY_ENV = "ORDERSYNC_TOKEN_KEY"
#: The environment variable naming a file that holds the token key(s).
KEY_FILE_ENV = "ORDERSYNC_TOKEN_KEY_FILE"
#: What an encrypted value starts with; a value starting with ``{`` is a plaintext row.
PREFIX = "fernet:"
NEW_KEY_HINT = "make one with `ordersync tokens new-key`"


class TokenKeyError(ConfigError):
    """The token key is missing, malformed or does not decrypt the stored tokens.

    ``path`` names where the key comes from (``ORDERSYNC_TOKEN_KEY`` or the file variable).
    """


def new_key() -> str:
    """A fresh random key for ``ORDERSYNC_TOKEN_KEY``."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


class TokenCipher:
    """Encrypts token values with the first of ``keys``, decrypts with any of them."""

    def __init__(self, keys: Sequence[str], source: str = KEY_ENV) -> None:
        from cryptography.fernet import Fernet, MultiFernet

        if not keys:
            msg = f"no key given; {NEW_KEY_HINT}"
            raise TokenKeyError(source, msg)
        fernets = []
        for number, key in enumerate(keys, 1):
            try:
                fernets.append(Fernet(key.encode()))
            except (ValueError, TypeError):
                # The message never quotes the key: it is a secret.
                msg = (f"key {number} of {len(keys)} is not a token key (32 random bytes in "
                       f"URL-safe base64, 44 characters); {NEW_KEY_HINT}")
                raise TokenKeyError(source, msg) from None
        self.source = source
        #: How many keys it holds (more than one: a rotation in progress).
        self.keys = len(fernets)
        self._fernet: MultiFernet = MultiFernet(fernets)

    def encrypt(self, text: str) -> str:
        return PREFIX + self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, stored: str) -> str:
        """The plaintext of ``stored`` (an :meth:`encrypt` result).

        :raises InvalidToken: no key decrypts it (wrong key, or the row was altered).
        """
        return self._fernet.decrypt(stored.removeprefix(PREFIX).encode()).decode()

    def rotate(self, stored: str) -> str:
        """``stored`` encrypted again with the first key."""
        return PREFIX + self._fernet.rotate(stored.removeprefix(PREFIX).encode()).decode()


def parse_keys(text: str) -> list[str]:
    """The keys in ``text``: separated by commas, spaces or new lines."""
    return text.replace(",", " ").split()


def cipher_from_environment(env: Mapping[str, str] | None = None) -> TokenCipher | None:
    """The cipher of ``ORDERSYNC_TOKEN_KEY`` or ``ORDERSYNC_TOKEN_KEY_FILE``; None when neither
    is set.

    :raises TokenKeyError: both are set, the file cannot be read, or a key is malformed.
    """
    env = os.environ if env is None else env
    inline = env.get(KEY_ENV, "").strip()
    file_name = env.get(KEY_FILE_ENV, "").strip()
    if inline and file_name:
        msg = f"set {KEY_ENV} or {KEY_FILE_ENV}, not both"
        raise TokenKeyError(KEY_ENV, msg)
    if inline:
        return TokenCipher(parse_keys(inline), KEY_ENV)
    if file_name:
        return TokenCipher(read_key_file(Path(file_name), KEY_FILE_ENV), KEY_FILE_ENV)
    return None


def read_key_file(path: Path, source: str) -> list[str]:
    """The keys in the file at ``path``; ``source`` names the setting in errors."""
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read the key file {str(path)!r}: {exc.strerror or type(exc).__name__}"
        raise TokenKeyError(source, msg) from None
    except UnicodeDecodeError:
        msg = f"the key file {str(path)!r} is not text"
        raise TokenKeyError(source, msg) from None
    keys = parse_keys(text)
    if not keys:
        msg = f"the key file {str(path)!r} is empty; {NEW_KEY_HINT}"
        raise TokenKeyError(source, msg)
    return keys


@contextmanager
def key_file_while_unset(path: Path) -> Iterator[None]:
    """Within the block, the key in the file at ``path`` (made if missing, owner only) when
    neither ``ORDERSYNC_TOKEN_KEY`` nor ``ORDERSYNC_TOKEN_KEY_FILE`` is set: for the demo, whose
    state database is its own."""
    if os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV):
        yield
        return
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(new_key() + "\n", encoding="utf-8")
    os.environ[KEY_FILE_ENV] = str(path)
    try:
        yield
    finally:
        os.environ.pop(KEY_FILE_ENV, None)
