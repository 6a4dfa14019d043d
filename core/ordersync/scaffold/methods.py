"""A scaffolded platform class's methods, written from the base class they implement.

Every public method of :class:`~ordersync.platform.Channel`, ``Store`` or ``Notifier`` (the
abstract ones, and the optional ones a capability asks for) is written with the base class's
signature and contract docstring, what the author should do, and a body from the kind's
``methods.txt`` that works against the generated sandbox. So the scaffold follows the base
class: an optional method the base class gains before ``methods.txt`` knows it is still written,
with a body that calls the base class's default (an abstract one without a body fails
``tests/test_scaffold.py``: the generated plugin would not work).
"""

from __future__ import annotations

import ast
import builtins
import inspect
import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

#: Where a docstring and a body line may reach (ruff's line length in the generated project).
WIDTH = 100
#: A name in an annotation: ``AsyncIterator``, ``ChannelOrder``.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Body:
    """What ``methods.txt`` says of one method: what to do (prose) and working code."""

    todo: str
    code: str


def parse_bodies(text: str) -> dict[str, Body]:
    """The sections of a ``methods.txt``: ``## name``, the to-do prose, a ``--`` line, the code.

    Lines before the first section are comments for whoever edits the file.
    """
    bodies: dict[str, Body] = {}
    for section in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        name, _, rest = section.partition("\n")
        todo, separator, code = rest.partition("\n--\n")
        if not separator:
            msg = f"methods.txt: section {name.strip()!r} has no '--' line before its code"
            raise ValueError(msg)
        bodies[name.strip()] = Body(" ".join(todo.split()), code.strip("\n"))
    return bodies


def public_methods(base: type) -> list[tuple[str, Callable[..., Any]]]:
    """The public methods of ``base`` and its platform bases, in the order they are defined."""
    seen: dict[str, Callable[..., Any]] = {}
    for klass in base.__mro__:
        if klass.__module__ != base.__module__:
            continue  # ABC, object
        for name, value in vars(klass).items():
            if not name.startswith("_") and inspect.isfunction(value) and name not in seen:
                seen[name] = value
    return list(seen.items())


def _is_async(func: Callable[..., Any]) -> bool:
    returns = inspect.signature(func).return_annotation
    return inspect.iscoroutinefunction(func) or str(returns).startswith("AsyncIterator")


def _parameter(param: inspect.Parameter) -> str:
    text = param.name
    if param.annotation is not inspect.Parameter.empty:
        text += f": {param.annotation}"
        if param.default is not inspect.Parameter.empty:
            text += f" = {param.default!r}"
    elif param.default is not inspect.Parameter.empty:
        text += f"={param.default!r}"
    return text


def _def_line(name: str, func: Callable[..., Any], indent: str) -> str:
    signature = inspect.signature(func)
    params = [_parameter(p) for p in signature.parameters.values()]
    returns = signature.return_annotation
    tail = "" if returns is inspect.Parameter.empty else f" -> {returns}"
    head = f"{indent}{'async def' if _is_async(func) else 'def'} {name}("
    one_line = f"{head}{', '.join(params)}){tail}:"
    if len(one_line) <= WIDTH:
        return one_line
    inner = indent + " " * 4
    return "\n".join([head, *(f"{inner}{param}," for param in params), f"{indent}){tail}:"])


def _docstring(func: Callable[..., Any], todo: str, indent: str) -> str:
    contract = (inspect.getdoc(func) or "").replace('"""', r"\"\"\"")
    # When ordersync added the method is ordersync's history, not the plugin's.
    contract = re.sub(r"\n*(\.\. version(added|changed)::.*(\n|$))+", "\n", contract).rstrip()
    paragraphs = [*contract.split("\n"), "", *textwrap.wrap(
        f"To do: {todo}", WIDTH - len(indent), break_on_hyphens=False)]
    lines = [f"{indent}{line}" if line else "" for line in paragraphs]
    lines[0] = f'{indent}"""{paragraphs[0]}'
    return "\n".join([*lines, f'{indent}"""'])


def _delegate(name: str, func: Callable[..., Any]) -> str:
    """A body that runs the base class's default, with the same arguments."""
    params = list(inspect.signature(func).parameters.values())[1:]  # not self
    args = ", ".join(p.name if p.kind is p.POSITIONAL_OR_KEYWORD else f"{p.name}={p.name}"
                     for p in params)
    call = f"super().{name}({args})"
    if inspect.isasyncgenfunction(func):
        return f"async for item in {call}:\n    yield item"
    if _is_async(func) and not inspect.iscoroutinefunction(func):  # an abstract async iterator
        return f"async for item in {call}:\n    yield item"
    return f"return await {call}" if inspect.iscoroutinefunction(func) else f"return {call}"


def render_method(base: type, name: str, body: Body | None, indent: str = "    ") -> str:
    """One method of a subclass of ``base``: signature, contract and to-do, and ``body``."""
    func = getattr(base, name)
    if body is None:  # an optional method the scaffold has no example of yet
        body = Body("implement it if the platform can (and declare the capability it needs, if "
                    "any); until then the base class's default runs.", _delegate(name, func))
    code = textwrap.indent(body.code, indent + " " * 4)
    return "\n".join([_def_line(name, func, indent), _docstring(func, body.todo, indent + " " * 4),
                      code])


def annotation_names(base: type) -> Iterator[tuple[str, str]]:
    """``(module, name)`` for every name the public methods' annotations use, to import them."""
    module = sys.modules[base.__module__]
    namespace = vars(module)
    imported = _imported_names(inspect.getsource(module))
    for _, func in public_methods(base):
        signature = inspect.signature(func)
        annotations = [p.annotation for p in signature.parameters.values()]
        for annotation in [*annotations, signature.return_annotation]:
            if annotation is inspect.Parameter.empty:
                continue
            for name in _NAME.findall(str(annotation)):
                if name == "None" or hasattr(builtins, name):
                    continue
                value = namespace.get(name)
                if name in imported:  # from where the base class's module imports it
                    yield imported[name], name
                elif value is not None:  # defined there
                    yield getattr(value, "__module__", base.__module__), name
                else:
                    msg = (f"{base.__name__}: annotation name {name!r} is not importable "
                           f"from {base.__module__}")
                    raise LookupError(msg)


def _imported_names(source: str) -> dict[str, str]:
    """``name -> module`` of every ``from module import name`` in ``source``, at any depth
    (``if TYPE_CHECKING:`` blocks included)."""
    return {alias.asname or alias.name: node.module
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
            for alias in node.names}
