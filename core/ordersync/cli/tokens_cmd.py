"""``ordersync tokens``: the key that encrypts platform tokens in the state database."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ordersync.cli.app import App, fail
from ordersync.state.cipher import (
    KEY_ENV,
    KEY_FILE_ENV,
    TokenCipher,
    TokenKeyError,
    cipher_from_environment,
    new_key,
    parse_keys,
    read_key_file,
)

#: The environment variable ``tokens rotate-key`` reads the new key from.
NEW_KEY_ENV = "ORDERSYNC_NEW_TOKEN_KEY"


def check_token_key(app: App) -> None:
    """Exit 2 with a message naming the variable when the token key is missing (while tokens
    are stored), malformed or wrong: before the daemon or a pass starts, never during one.
    Plaintext rows of earlier versions are encrypted here."""
    from ordersync.state.tokens import open_token_store

    try:
        open_token_store(app.engine)
    except TokenKeyError as exc:
        fail(str(exc))


@click.group("tokens")
def tokens() -> None:
    """The key that encrypts platform tokens in the state database (docs/operations.md)."""


@tokens.command("new-key")
def new_key_command() -> None:
    """Print a new random key for ORDERSYNC_TOKEN_KEY (or the file ORDERSYNC_TOKEN_KEY_FILE)."""
    click.echo(new_key())


@tokens.command("rotate-key")
@click.option("--new-key-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"A file holding the new key (default: env {NEW_KEY_ENV}, else the first "
                   f"of several keys in {KEY_ENV}).")
@click.pass_obj
def rotate_key_command(app: App, new_key_file: Path | None) -> None:
    """Encrypt every stored token again with a new key, in one transaction.

    The tokens are read with the current key (ORDERSYNC_TOKEN_KEY or ORDERSYNC_TOKEN_KEY_FILE)
    and written with the new one: from --new-key-file, from ORDERSYNC_NEW_TOKEN_KEY, or, when
    the current setting lists several keys ("new,old"), the first of them. Then set the
    daemon's key to the new key only. Nothing changes if a stored token does not decrypt.
    """
    from ordersync.state.tokens import rotate_key

    try:
        old = cipher_from_environment()
        new = _new_cipher(new_key_file, old)
        count = rotate_key(app.engine, old or new, new)
    except TokenKeyError as exc:
        fail(str(exc))
    click.echo(f"{count} token(s) encrypted with the new key. Now set {KEY_ENV} (or the file "
               f"of {KEY_FILE_ENV}) to the new key alone, and restart the daemon.")


def _new_cipher(new_key_file: Path | None, old: TokenCipher | None) -> TokenCipher:
    if new_key_file is not None:
        return TokenCipher(read_key_file(new_key_file, "--new-key-file")[:1], "--new-key-file")
    inline = os.environ.get(NEW_KEY_ENV, "").strip()
    if inline:
        return TokenCipher(parse_keys(inline)[:1], NEW_KEY_ENV)
    if old is not None and old.keys > 1:
        return old
    msg = (f"no new key: give --new-key-file, set {NEW_KEY_ENV}, or list the new key first in "
           f"{KEY_ENV} (\"NEW,OLD\"); make one with `ordersync tokens new-key`")
    raise TokenKeyError("tokens rotate-key", msg)


COMMANDS: list[click.Command] = [tokens]
