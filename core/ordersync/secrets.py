"""References and credentials in ``ordersync.yaml``: ``${VAR}``, ``${file:/path}``, ``Secret``.

Any string value may contain references: ``${NAME}`` reads the environment variable ``NAME`` and
``${file:/run/secrets/x}`` reads a file (its trailing newlines stripped; a relative path is
relative to the folder of ``ordersync.yaml``). ``$${`` writes a literal ``${``.

A field annotated with :data:`ordersync.platform.Secret` is a credential: its YAML value must be
exactly one reference, never clear text, so that the file can be committed and shown. Resolved
credential values are collected so that they can be scrubbed from any text ordersync prints; no
function here puts a resolved value, or the clear text of a refused one, in an error message.
"""

from __future__ import annotations

import copy
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ordersync.errors import ConfigError

if TYPE_CHECKING:  # references resolve without pydantic (``ordersync status``)
    from pydantic import BaseModel
    from pydantic.fields import FieldInfo

#: What a credential is shown as, wherever it is shown.
MASK = "***"

#: A location in the YAML tree: mapping keys and list indexes from the section's root.
Loc = tuple[str | int, ...]

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ONE_REFERENCE = re.compile(r"\$\{[^{}]+\}")
# Values shorter than this are not scrubbed from text: replacing every "ab" would garble
# messages while protecting nothing a person could not guess.
_SCRUB_MIN_LENGTH = 4


class SecretField:
    """Marks a config field as a credential: YAML must give ``${ENV}`` or ``${file:/path}``."""


def dotted(*parts: str | int) -> str:
    """The dotted YAML path of ``parts`` (``channels.ebay-uk.order_sync.tax.rate``)."""
    return ".".join(str(part) for part in parts if part != "")


# -------------------------------------------------------------------------------------------------
# References
# -------------------------------------------------------------------------------------------------


def is_reference(value: object) -> bool:
    """Whether ``value`` is exactly one ``${...}`` reference and nothing else."""
    return isinstance(value, str) and _ONE_REFERENCE.fullmatch(value) is not None


def resolve_string(
    text: str,
    path: str,
    environ: Mapping[str, str],
    base_dir: Path,
    *,
    secret: bool = False,
) -> str:
    """``text`` with every reference replaced by its value.

    :param path: the dotted YAML path of the value, for error messages.
    :param secret: the value is a credential: an empty variable or file is an error.
    :raises ConfigError: naming ``path`` and the variable or file (never a value).
    """
    out: list[str] = []
    start = 0
    while True:
        opening = text.find("${", start)
        if opening < 0:
            out.append(text[start:])
            return "".join(out)
        if opening > 0 and text[opening - 1] == "$":
            # "$${" is an escaped, literal "${".
            out.append(text[start : opening - 1])
            out.append("${")
            start = opening + 2
            continue
        closing = text.find("}", opening + 2)
        if closing < 0:
            msg = "a ${ is not closed by }: write ${NAME} or ${file:/path} ($${ is a literal ${)"
            raise ConfigError(path, msg)
        out.append(text[start:opening])
        out.append(_lookup(text[opening + 2 : closing], path, environ, base_dir, secret=secret))
        start = closing + 1


def _lookup(
    body: str, path: str, environ: Mapping[str, str], base_dir: Path, *, secret: bool
) -> str:
    if body.startswith("file:"):
        return _read_file(body.removeprefix("file:"), path, base_dir, secret=secret)
    if _ENV_NAME.fullmatch(body) is None:
        msg = (
            "not a valid reference: inside ${...} write an environment variable name "
            "(letters, digits and _) or file: and a path, "
            "e.g. ${SHOP_TOKEN} or ${file:/run/secrets/x}"
        )
        raise ConfigError(path, msg)
    value = environ.get(body)
    if value is None:
        msg = f"environment variable {body} is not set"
        raise ConfigError(path, msg)
    if secret and value == "":
        msg = f"environment variable {body} is empty"
        raise ConfigError(path, msg)
    return value


def _read_file(name: str, path: str, base_dir: Path, *, secret: bool) -> str:
    if not name.strip():
        msg = "${file:} needs a path, e.g. ${file:/run/secrets/shop}"
        raise ConfigError(path, msg)
    file = Path(name).expanduser()
    if not file.is_absolute():
        file = base_dir / file
    try:
        value = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"file {file} does not exist"
        raise ConfigError(path, msg) from None
    except IsADirectoryError:
        msg = f"{file} is a folder, not a file"
        raise ConfigError(path, msg) from None
    except PermissionError:
        msg = f"file {file} cannot be read: permission denied"
        raise ConfigError(path, msg) from None
    except UnicodeDecodeError:
        msg = f"file {file} is not UTF-8 text"
        raise ConfigError(path, msg) from None
    except OSError as exc:
        msg = f"file {file} cannot be read: {exc.strerror or type(exc).__name__}"
        raise ConfigError(path, msg) from None
    value = value.rstrip("\r\n")
    if secret and value == "":
        msg = f"file {file} is empty"
        raise ConfigError(path, msg)
    return value


@dataclass
class Resolved:
    """A YAML tree with its references resolved, and the credential values found in it."""

    data: Any
    secret_values: set[str]
    errors: list[ConfigError]


def resolve_references(
    data: Any,
    prefix: str,
    environ: Mapping[str, str],
    base_dir: Path,
    secret_locations: Iterable[Loc] = (),
) -> Resolved:
    """Resolve every reference in every string of ``data`` (a copy is returned).

    :param prefix: the dotted path of ``data`` itself.
    :param secret_locations: where the credentials are; their values land in ``secret_values``.
    Errors are collected, one per value, so that all of them can be shown at once.
    """
    secrets = set(secret_locations)
    found: set[str] = set()
    errors: list[ConfigError] = []

    def walk(node: Any, loc: Loc) -> Any:
        if isinstance(node, Mapping):
            return {key: walk(value, (*loc, key)) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value, (*loc, index)) for index, value in enumerate(node)]
        if not isinstance(node, str):
            return node
        secret = loc in secrets
        try:
            value = resolve_string(node, dotted(prefix, *loc), environ, base_dir, secret=secret)
        except ConfigError as exc:
            errors.append(exc)
            return node
        if secret:
            found.add(value)
        return value

    return Resolved(data=walk(data, ()), secret_values=found, errors=errors)


# -------------------------------------------------------------------------------------------------
# Where the Secret fields of a model are
# -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shape:
    """What a field holds, as far as credentials are concerned."""

    kind: Literal["secret", "model", "list", "dict"]
    model: type[BaseModel] | None = None
    inner: _Shape | None = None


def _shape(annotation: Any, metadata: Sequence[Any] = ()) -> _Shape | None:
    from pydantic import BaseModel

    if any(isinstance(item, SecretField) for item in metadata):
        return _Shape("secret")
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _shape(args[0], annotation.__metadata__)
    if origin is typing.Union or origin is types.UnionType:
        for arg in args:
            found = _shape(arg)
            if found is not None:
                return found
        return None
    if origin in (list, tuple, set, frozenset, Sequence) and args:
        inner = _shape(args[0])
        return _Shape("list", inner=inner) if inner is not None else None
    if origin in (dict, Mapping) and len(args) == 2:
        inner = _shape(args[1])
        return _Shape("dict", inner=inner) if inner is not None else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _Shape("model", model=annotation)
    return None


def field_keys(name: str, field: FieldInfo) -> list[str]:
    """The YAML keys that fill ``field``: its alias (if any) and its name."""
    keys = [key for key in (field.alias, field.validation_alias) if isinstance(key, str)]
    return [*dict.fromkeys([*keys, name])]


def secret_locations(model: type[BaseModel], data: Any) -> list[Loc]:
    """Where ``data`` (a section of YAML for ``model``) holds values of ``Secret`` fields.

    Nested models, lists and mappings of them are followed; only keys present in ``data`` count.
    """
    found: list[Loc] = []
    _walk(_Shape("model", model=model), data, (), found)
    return found


def _walk(shape: _Shape, data: Any, loc: Loc, found: list[Loc]) -> None:
    if data is None:
        return
    if shape.kind == "secret":
        found.append(loc)
    elif shape.kind == "list" and shape.inner is not None and isinstance(data, list):
        for index, item in enumerate(data):
            _walk(shape.inner, item, (*loc, index), found)
    elif shape.kind == "dict" and shape.inner is not None and isinstance(data, Mapping):
        for key, item in data.items():
            _walk(shape.inner, item, (*loc, key), found)
    elif shape.kind == "model" and shape.model is not None and isinstance(data, Mapping):
        for name, field in shape.model.model_fields.items():
            inner = _shape(field.annotation, field.metadata)
            if inner is None:
                continue
            for key in field_keys(name, field):
                if key in data:
                    _walk(inner, data[key], (*loc, key), found)


def _get(data: Any, loc: Loc) -> Any:
    for part in loc:
        data = data[part]
    return data


def clear_text_errors(
    model: type[BaseModel], data: Any, prefix: str, type_name: str
) -> list[ConfigError]:
    """One error per ``Secret`` field of ``data`` whose value is not exactly one reference.

    The message suggests an environment variable and a file named after the type and the key,
    and never repeats the value.
    """
    errors: list[ConfigError] = []
    for loc in secret_locations(model, data):
        if is_reference(_get(data, loc)):
            continue
        key = next((part for part in reversed(loc) if isinstance(part, str)), "secret")
        variable = re.sub(r"[^A-Z0-9]+", "_", f"{type_name}_{key}".upper()).strip("_")
        msg = (
            "credentials must come from the environment or a file: write "
            f"${{{variable}}} or ${{file:/run/secrets/{type_name}}}"
        )
        errors.append(ConfigError(dotted(prefix, *loc), msg))
    return errors


def masked(data: Any, locations: Iterable[Loc]) -> Any:
    """A copy of ``data`` with the value at each of ``locations`` replaced by ``***``."""
    out = copy.deepcopy(data)
    for loc in locations:
        parent = _get(out, loc[:-1])
        parent[loc[-1]] = MASK
    return out


def redact(model: type[BaseModel], data: Any) -> Any:
    """A copy of ``data`` with every ``Secret`` field's value replaced by ``***``."""
    return masked(data, secret_locations(model, data))


# -------------------------------------------------------------------------------------------------
# Scrubbing
# -------------------------------------------------------------------------------------------------


def scrubber(secret_values: Iterable[str]) -> Callable[[str], str]:
    """A function that masks every occurrence of the credential values in a text."""
    # Longest first, so that a credential containing another is masked whole.
    values = sorted(
        {value for value in secret_values if len(value) >= _SCRUB_MIN_LENGTH}, key=len, reverse=True
    )

    def scrub(text: str) -> str:
        for value in values:
            text = text.replace(value, MASK)
        return text

    return scrub


def scrub_tree(data: Any, scrub: Callable[[str], str]) -> Any:
    """``data`` with ``scrub`` applied to every string, keys included."""
    if isinstance(data, Mapping):
        return {scrub_tree(key, scrub): scrub_tree(value, scrub) for key, value in data.items()}
    if isinstance(data, list):
        return [scrub_tree(item, scrub) for item in data]
    if isinstance(data, str):
        return scrub(data)
    return data
