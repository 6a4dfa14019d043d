"""Configuration errors in the operator's words: :class:`ConfigErrors` (every problem of one
file) and pydantic's validation errors as dotted YAML paths with what is allowed.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from ordersync.config.values import DURATION_PATTERNS
from ordersync.errors import ConfigError
from ordersync.secrets import dotted, field_keys


class ConfigErrors(ConfigError):
    """Every problem found in one configuration; ``errors`` holds them in file order."""

    def __init__(self, errors: list[ConfigError]) -> None:
        if not errors:
            msg = "ConfigErrors needs at least one error"
            raise ValueError(msg)
        super().__init__(errors[0].path, errors[0].reason)
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


def _unwrap(annotation: Any) -> Any:
    """The annotation without ``Annotated`` and ``Optional`` around it."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin is typing.Union or origin is types.UnionType:
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _field_of(model: type[BaseModel], key: str) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if key in field_keys(name, info):
            return info
    return None


def _follow(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[Any, FieldInfo | None]:
    """The annotation and field reached from ``model`` along ``loc`` (``(None, None)`` if lost)."""
    annotation: Any = model
    info: FieldInfo | None = None
    for part in loc:
        annotation = _unwrap(annotation)
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = _field_of(annotation, str(part))
            if info is None:
                return None, None
            annotation = info.annotation
        elif origin in (list, tuple, set) and args and isinstance(part, int):
            annotation, info = args[0], None
        elif origin is dict and len(args) == 2:
            annotation, info = args[1], None
        else:
            return None, None
    return _unwrap(annotation), info


def _keys_of(annotation: Any) -> list[str]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [field_keys(name, info)[0] for name, info in annotation.model_fields.items()]
    return []


def unknown_key_reason(key: str, allowed: list[str]) -> str:
    """``unknown key 'x'`` with the allowed keys and, if one is close, a suggestion."""
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(allowed) if allowed else "none"
    return f"unknown key {key!r}{hint}; allowed here: {listed}"


def _bounds(info: FieldInfo | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in info.metadata if info is not None else []:
        for name in ("ge", "gt", "le", "lt"):
            value = getattr(item, name, None)
            if value is not None:
                found[name] = value
    return found


def _is_duration_field(info: FieldInfo | None) -> bool:
    return info is not None and any(
        getattr(item, "pattern", None) in DURATION_PATTERNS for item in info.metadata
    )


_PLAIN_TYPES = {
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of keys",
    "model_type": "must be a mapping of keys",
    "model_attributes_type": "must be a mapping of keys",
}


def _number(value: Any) -> str:
    return format(value, "f") if hasattr(value, "as_tuple") else str(value)


def _reason(error: Mapping[str, Any], model: type[BaseModel]) -> tuple[tuple[Any, ...], str]:
    """The location and the operator-facing reason of one pydantic error."""
    loc: tuple[Any, ...] = tuple(error["loc"])
    kind: str = error["type"]
    message: str = error["msg"]
    annotation, info = _follow(model, loc)

    if kind == "extra_forbidden":
        parent, _ = _follow(model, loc[:-1])
        return loc, unknown_key_reason(str(loc[-1]), _keys_of(parent))
    if kind == "missing":
        description = info.description if info is not None else None
        return loc, "required" + (f": {description}" if description else "")
    if _is_duration_field(info) and kind in ("string_type", "string_pattern_mismatch"):
        given = error.get("input")
        reason = f"{given!r} is not a duration: write a number and a unit, ms, s, m or h (e.g. 5m)"
        return loc, reason
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bounds = _bounds(info)
        low = bounds.get("ge", bounds.get("gt"))
        high = bounds.get("le", bounds.get("lt"))
        if low is not None and high is not None:
            return loc, f"must be between {_number(low)} and {_number(high)}"
    if kind in _PLAIN_TYPES:
        return loc, _PLAIN_TYPES[kind]
    if kind in ("value_error", "assertion_error"):
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        # Model validators name the key they are about first ("rate: ..."): put it in the path.
        match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*): (.+)$", message, re.DOTALL)
        if match and match.group(1) in _keys_of(annotation):
            return (*loc, match.group(1)), match.group(2)
        return loc, message
    for opening in ("Input should", "String should", "List should", "Value should",
                    "Dictionary should", "Decimal input should", "Tuple should"):
        if message.startswith(opening):
            return loc, "must" + message.removeprefix(opening)
    return loc, message


def validation_errors(
    exc: ValidationError,
    model: type[BaseModel],
    prefix: str,
    scrub: Callable[[str], str] = lambda text: text,
) -> list[ConfigError]:
    """Every error of ``exc`` as a ``ConfigError`` whose path starts with ``prefix``.

    Input values are never quoted except in duration errors; ``scrub`` masks credentials
    that a plugin's own validator might have put in its message.
    """
    out: list[ConfigError] = []
    for error in exc.errors(include_url=False):
        loc, reason = _reason(error, model)
        out.append(ConfigError(dotted(prefix, *loc), scrub(reason)))
    return out
