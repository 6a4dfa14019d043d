"""Reading ``ordersync.yaml`` into plain data: YAML with unique keys, names read as written,
and errors with their line and column.

The loader differs from PyYAML's safe loader in two ways, both so that a name means what it
says: only ``true`` and ``false`` are booleans (YAML 1.2; ``yes``, ``no``, ``on`` and ``off``
stay text, which pydantic still reads as booleans where a switch is expected), and a plain
mapping key is always text (a channel named ``on``, ``null`` or ``2026`` is that name).
"""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import yaml

from ordersync.errors import ConfigError

_BOOL_TAG = "tag:yaml.org,2002:bool"
_STR_TAG = "tag:yaml.org,2002:str"


class ConfigLoader(yaml.SafeLoader):
    """A safe loader for configuration files: YAML 1.2 booleans, text keys, unique keys."""


# YAML 1.1's booleans (yes/no/on/off/y/n) out, YAML 1.2's (true/false) in.
ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ConfigLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _key(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """A mapping key: a plain scalar is its text; anything else as YAML reads it."""
    if isinstance(node, yaml.ScalarNode) and node.style is None \
            and node.tag != "tag:yaml.org,2002:merge":
        return node.value
    return loader.construct_object(node, deep=True)


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """A mapping whose plain keys are text; a key given twice is an error (YAML keeps the
    last one, silently). Keys merged in with ``<<`` may be overridden on purpose."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = _key(loader, key_node)
        if not isinstance(key, typing.Hashable):
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark, "a key must be a single value",
                key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice", key_node.start_mark)
        seen.add(key)
    loader.flatten_mapping(node)  # the merged keys first, so that the mapping's own win
    return {_key(loader, key_node): loader.construct_object(value_node, deep=True)
            for key_node, value_node in node.value}


ConfigLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> dict[str, Any]:
    """The top-level mapping of the YAML file at ``path`` (``{}`` for an empty file).

    :raises ConfigError: unreadable file or invalid YAML, with line and column (the caller
        names the file). The offending line is not quoted, since it may hold a credential
        written in clear text.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read the configuration file: {exc.strerror or type(exc).__name__}"
        raise ConfigError("", msg) from None
    except UnicodeDecodeError:
        raise ConfigError("", "the configuration file is not UTF-8 text") from None
    try:
        data = yaml.load(text, Loader=ConfigLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = exc.problem or exc.context or "cannot be parsed"
        raise ConfigError("", f"not valid YAML: {problem}{where}") from None
    except yaml.YAMLError as exc:
        raise ConfigError("", f"not valid YAML: {type(exc).__name__}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        msg = "the top level must be a mapping of keys (database:, main_store:, ...)"
        raise ConfigError("", msg)
    return data
