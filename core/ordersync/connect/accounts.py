"""The configured accounts ``ordersync auth`` and ``ordersync doctor`` work on: each channel by
name and the main store (``main_store``), built from the settings with a given context."""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING

from ordersync.platform import Channel, Context, Store, TokenStore
from ordersync.secrets import SecretField

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

    from ordersync.config import Settings

STORE = "main_store"


def account_names(settings: Settings) -> list[str]:
    """Every channel's name, then ``main_store``."""
    return [*settings.channels, STORE]


def section(name: str) -> str:
    """The YAML path of the account's section: ``channels.<name>`` or ``main_store``."""
    return STORE if name == STORE else f"channels.{name}"


def build(settings: Settings, name: str, tokens: TokenStore,
          **http_overrides: object) -> Channel | Store:
    """The platform instance of account ``name``.

    :raises KeyError: no such account (the message lists the names there are).
    """
    context = Context(name=name, tokens=tokens, http_overrides=dict(http_overrides))
    if name == STORE:
        return settings.main_store_type(name, settings.main_store, context)
    if name not in settings.channels:
        msg = (f"no channel or main store named {name!r}: "
               f"choose one of {', '.join(account_names(settings))}")
        raise KeyError(msg)
    return settings.channel_types[name](name, settings.channels[name], context)


def credential_keys(platform: Channel | Store) -> tuple[str, ...]:
    """The names of the platform's secret configuration keys (``Secret`` fields)."""
    return tuple(name for name, info in type(platform).Config.model_fields.items()
                 if is_secret(info))


def is_secret(info: FieldInfo) -> bool:
    """A ``Secret`` field, or an optional one (``Secret | None``)."""
    metadata = [*info.metadata, *(item for arg in typing.get_args(info.annotation)
                                  for item in getattr(arg, "__metadata__", ()))]
    return any(isinstance(item, SecretField) for item in metadata)
