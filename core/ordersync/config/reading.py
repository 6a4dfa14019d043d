"""Reading ``ordersync.yaml`` into plain data: YAML with unique keys, errors naming the file."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import yaml

from ordersync.errors import ConfigError


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (YAML keeps the last)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # keys merged in with << may be overridden on purpose
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, typing.Hashable):
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> dict[str, Any]:
    """The top-level mapping of the YAML file at ``path`` (``{}`` for an empty file).

    :raises ConfigError: unreadable file or invalid YAML, with line and column. The offending
        line is not quoted, since it may hold a credential written in clear text.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read the configuration file: {exc.strerror or type(exc).__name__}"
        raise ConfigError("", msg) from None
    except UnicodeDecodeError:
        raise ConfigError("", "the configuration file is not UTF-8 text") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
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
