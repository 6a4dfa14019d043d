"""The names a new plugin gets from the one its author gives: distribution, package, classes.

``acme-shop`` (a channel) becomes the distribution ``ordersync-acme-shop`` in the folder of that
name, the package ``ordersync_acme_shop``, the class ``AcmeShopChannel``, the ``type:`` value
``acme-shop`` and the environment variable ``ACME_SHOP_API_KEY`` of its credential.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from typing import Literal

from ordersync.errors import OrderSyncError

Kind = Literal["channel", "store", "notifier"]
KINDS: tuple[Kind, ...] = ("channel", "store", "notifier")

#: Lower-case words of letters and digits joined by single ``-`` or ``_``, starting with a letter.
NAME = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
MAX_LENGTH = 24


class ScaffoldError(OrderSyncError):
    """A plugin cannot be generated as asked: a bad name, or its folder exists."""


@dataclass(frozen=True)
class PluginNames:
    kind: Kind
    #: The name as given: the plugin's entry-point name and its ``type:`` value in YAML.
    name: str

    @property
    def type_name(self) -> str:
        return self.name

    @property
    def distribution(self) -> str:
        return "ordersync-" + self.name.replace("_", "-")

    @property
    def package(self) -> str:
        return "ordersync_" + self.name.replace("-", "_")

    @property
    def title(self) -> str:
        """``Acme Shop``: the platform's name in prose."""
        return " ".join(word.capitalize() for word in re.split(r"[-_]", self.name))

    @property
    def prefix(self) -> str:
        """``AcmeShop``: the start of every class name."""
        return self.title.replace(" ", "")

    @property
    def class_name(self) -> str:
        return self.prefix + self.kind.capitalize()

    @property
    def env_prefix(self) -> str:
        return self.name.replace("-", "_").upper()


def plugin_names(kind: str, name: str) -> PluginNames:
    """Check ``kind`` and ``name`` and derive the rest.

    :raises ScaffoldError: what is wrong with either, and what a valid one looks like.
    """
    if kind not in KINDS:
        msg = f"unknown plugin kind {kind!r}: say one of {', '.join(KINDS)}"
        raise ScaffoldError(msg)
    if not NAME.fullmatch(name):
        msg = (f"plugin name {name!r} is not a valid name: use lower-case letters and digits, "
               "starting with a letter, words joined by single '-' or '_' (e.g. acme or acme-shop)")
        raise ScaffoldError(msg)
    if len(name) > MAX_LENGTH:
        msg = f"plugin name {name!r} is {len(name)} characters long; at most {MAX_LENGTH}"
        raise ScaffoldError(msg)
    if keyword.iskeyword(name):  # harmless in the names made from it, but confusing as a type
        msg = f"plugin name {name!r} is a Python keyword; choose the platform's name"
        raise ScaffoldError(msg)
    return PluginNames(kind, name)
