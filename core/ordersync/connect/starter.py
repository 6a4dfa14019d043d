"""The starter ``ordersync.yaml`` of ``ordersync init``, written from the platforms' ``Config``
models so that it never drifts from what they accept: every key with its default, its
description as a comment, credentials as ``${ENV}`` references.

A required key without a default is a ``${ENV}`` reference too (or the first of the field's
``examples``), a required path the account's name (a folder beside the file). An optional
credential is written commented out, unless the ``Config`` lists it in
``starter_credentials`` (a class attribute: the credentials a working starter file needs, such
as Shopify's ``access_token``, which stands in for ``ordersync auth``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python

from ordersync.capabilities import ChannelCapabilities, always_skips_unpaid
from ordersync.connect.accounts import is_secret
from ordersync.platform import Channel, Notifier, Store

_INDENT = "  "
#: Keys the starter file sets other than to their default (a channel that imports nothing
#: would look broken), by dotted path within a section.
STARTER_VALUES: dict[str, Any] = {"order_sync.import_orders": True, "inventory_sync": True}


def env_name(account: str, key: str) -> str:
    """``EBAY_UK_CLIENT_SECRET`` for key ``client_secret`` of account ``ebay-uk``."""
    return re.sub(r"[^A-Z0-9]+", "_", f"{account}_{key}".upper()).strip("_")


def _scalar(value: Any) -> str:
    text = yaml.safe_dump(to_jsonable_python(value), default_flow_style=True, width=1000,
                          allow_unicode=True)
    return text.removesuffix("\n").removesuffix("\n...")


def _comment(info: FieldInfo, *, required: bool, secret: bool) -> list[str]:
    words = info.description or ""
    if secret:
        words = f"{words} (a credential: set the variable, or use ${{file:/path}})".strip()
    if required:
        words = f"required: {words}" if words else "required"
    return [f"# {line}" for line in words.splitlines()] if words else []


def _fields(model: type[BaseModel], value: BaseModel | None, account: str,
            depth: int, where: str = "", folder: str | None = None,
            values: dict[str, Any] | None = None) -> Iterator[str]:
    pad = _INDENT * depth
    values = STARTER_VALUES if values is None else values
    for key, info in model.model_fields.items():
        if key == "type" and not where:
            continue  # (written first, by ``section``)
        secret = is_secret(info)
        required = info.is_required()
        for line in _comment(info, required=required, secret=secret):
            yield pad + line
        if value is not None:
            default = getattr(value, key)
        elif required:
            default = None
        else:
            default = info.get_default(call_default_factory=True, validated_data={})
        if f"{where}{key}" in values:
            default = values[f"{where}{key}"]
            was = _scalar(info.get_default(call_default_factory=True))
            yield f"{pad}# (ordersync init sets {_scalar(default)}; the default is {was})"
        if secret and (required or default is None):
            active = required or key in getattr(model, "starter_credentials", ())
            yield f"{pad}{'' if active else '# '}{key}: ${{{env_name(account, key)}}}"
        elif required:
            yield f"{pad}{key}: {_required_value(info, account, key, folder or account)}"
        elif isinstance(default, BaseModel):
            yield f"{pad}{key}:"
            yield from _fields(type(default), default, account, depth + 1, f"{where}{key}.",
                               values=values)
        else:
            yield f"{pad}{key}: {_scalar(default)}"


def _required_value(info: FieldInfo, account: str, key: str, folder: str) -> str:
    if info.examples:
        return _scalar(info.examples[0])
    if info.annotation is Path or key == "path":
        return _scalar(folder)
    reference = f"${{{env_name(account, key)}}}"
    origin = getattr(info.annotation, "__origin__", None)
    return f"[\"{reference}\"]" if origin is list else f"\"{reference}\""


def section(cls: type[Channel] | type[Store] | type[Notifier], account: str,
            depth: int, folder: str | None = None) -> list[str]:
    """The YAML lines of one account of type ``cls``, indented ``depth`` levels; its ``${ENV}``
    names start with ``account`` (upper case), a required path is ``folder`` (default:
    ``account``)."""
    pad = _INDENT * depth
    values = dict(STARTER_VALUES)
    capabilities = cls.capabilities
    if isinstance(capabilities, ChannelCapabilities) and always_skips_unpaid(capabilities):
        values["order_sync.skip_unpaid"] = True  # (the channel gives paid orders only)
    return [f"{pad}type: {cls.type_name}",
            *_fields(cls.Config, None, account, depth, folder=folder, values=values)]


def starter_yaml(store: type[Store], channels: dict[str, type[Channel]],
                 notifiers: dict[str, type[Notifier]]) -> str:
    """The whole file: database, main store, channels, notifiers, retention and daemon."""
    from ordersync.config.database import DEFAULT_DATABASE
    from ordersync.config.settings import DaemonSettings, RetentionSettings

    lines = [
        "# ordersync.yaml, written by `ordersync init`: every key with its default.",
        "# Credentials are ${ENV} references (or ${file:/path}): set the variables, never",
        "# write a secret here. Check it with `ordersync config check`, connect accounts with",
        "# `ordersync auth NAME` and try them with `ordersync doctor` (docs/operations.md).",
        "",
        "# The state database: SQLite (a file beside this one) or postgresql+psycopg://...",
        f"database: {DEFAULT_DATABASE}",
        "",
        "# The main store: where orders are imported and stock lives.",
        "main_store:",
        *section(store, store.type_name, 1, folder="store"),
        "",
        "# The sales channels, by name.",
        "channels:" if channels else "channels: {}",
    ]
    for name, cls in channels.items():
        lines += [f"{_INDENT}{name}:", *section(cls, name, 2)]
    lines += ["", "# Who is told about failed orders and channels in error."]
    lines.append("notifiers:" if notifiers else "notifiers: {}")
    for name, notifier in notifiers.items():
        lines += [f"{_INDENT}{name}:", *section(notifier, name, 2)]
    lines += ["", "# How long buyers' personal data is kept (null: for as long as the orders).",
              "retention:",
              *_fields(RetentionSettings, RetentionSettings(), "retention", 1, "retention."),
              "", "# The daemon (`ordersync run`).",
              "daemon:", *_fields(DaemonSettings, DaemonSettings(), "daemon", 1, "daemon."),
              ""]
    return "\n".join(lines)
