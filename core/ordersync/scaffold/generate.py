"""Writing a new plugin's files: the templates of its kind, filled in with its names.

Templates are package data under ``templates/``: ``common/`` for every kind, ``api/`` for the
platforms with an HTTP API (channels and stores), and one folder per kind. A path segment
``{package}`` becomes the package's name, a leading ``dot-`` a dot, and the ``.tmpl`` suffix
goes; the text is a :class:`string.Template` (``$$`` is a dollar sign). The platform class's
methods and imports come from :mod:`ordersync.scaffold.methods`.
"""

from __future__ import annotations

import shutil
import sys
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from ordersync import __version__
from ordersync.scaffold.methods import (
    annotation_names,
    parse_bodies,
    public_methods,
    render_method,
)
from ordersync.scaffold.names import PluginNames, ScaffoldError

#: Template folders of each kind, in the order they are laid down.
LAYERS = {
    "channel": ("common", "api", "channel"),
    "store": ("common", "api", "store"),
    "notifier": ("common", "notifier"),
}
#: Files in a template folder that are instructions to the generator, not files of the plugin.
GENERATOR_FILES = {"methods.txt"}


def _templates() -> Traversable:
    return files("ordersync.scaffold") / "templates"


def _walk(folder: Traversable, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            out.extend(_walk(entry, (*prefix, entry.name)))
        elif entry.name.endswith(".tmpl"):
            out.append(((*prefix, entry.name.removesuffix(".tmpl")), entry.read_text("utf-8")))
    return out


def base_class(kind: str) -> type:
    from ordersync.platform import Channel, Notifier, Store

    bases: dict[str, type] = {"channel": Channel, "store": Store, "notifier": Notifier}
    return bases[kind]


def _section(module: str, package: str) -> int:
    if module.split(".")[0] in sys.stdlib_module_names:
        return 0
    return 2 if module.split(".")[0] == package else 1


def _name_order(name: str) -> tuple[int, str]:
    """isort's order by type: CONSTANTS, then Classes, then functions."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[0].isupper() else 2
    return kind, name


def format_imports(lines: list[str], extra: list[tuple[str, str]], package: str) -> str:
    """The import block for ``import x`` / ``from m import a, b`` ``lines`` and ``extra``
    ``(module, name)`` pairs: merged, grouped and sorted as ruff's isort rule wants."""
    plain: set[str] = set()
    names: dict[str, set[str]] = {}
    for line in lines:
        words = line.split()
        if words[0] == "import":
            plain.add(words[1])
        else:
            names.setdefault(words[1], set()).update(
                n.strip() for n in line.split(" import ", 1)[1].split(","))
    for module, name in extra:
        names.setdefault(module, set()).add(name)
    blocks = []
    for section in range(3):
        block = [f"import {m}" for m in sorted(plain) if _section(m, package) == section]
        for module in sorted(m for m in names if _section(m, package) == section):
            listed = sorted(names[module], key=_name_order)
            line = f"from {module} import {', '.join(listed)}"
            if len(line) > 100:
                line = "\n".join([f"from {module} import (", *(f"    {n}," for n in listed), ")"])
            block.append(line)
        if block:
            blocks.append("\n".join(block))
    return "\n\n".join(blocks)


def platform_module(names: PluginNames, methods_text: str, substitute: dict[str, str]) -> dict[
        str, str]:
    """``methods`` and ``imports`` for the platform class's module of ``names.kind``."""
    text = Template(methods_text).substitute(substitute)
    preamble = text.split("\n## ", 1)[0]
    import_lines = [line for line in preamble.splitlines()
                    if line.startswith(("import ", "from "))]
    bodies = parse_bodies(text)
    base = base_class(names.kind)
    methods = [render_method(base, name, bodies.get(name)) for name, _ in public_methods(base)]
    unknown = sorted(set(bodies) - {name for name, _ in public_methods(base)})
    if unknown:
        msg = f"methods.txt of {names.kind} has bodies for no method of {base.__name__}: {unknown}"
        raise ScaffoldError(msg)
    extra = [(module, name) for module, name in annotation_names(base)]
    return {"methods": "\n\n".join(methods),
            "imports": format_imports(import_lines, extra, names.package)}


#: What the README shows of each kind: the YAML section and where things are.
_README: dict[str, tuple[str, str]] = {
    "channel": (
        "channels:\n  $name:\n    type: $name\n    base_url: https://api.example.com/v1\n"
        "    api_key: $${${env}API_KEY}\n    inventory_sync: true",
        "- `$package/channel.py`: the channel: its `Config`, `capabilities` and methods.\n"
        "- `$package/plugin.py`: the hooks that register it (the entry point).\n"
        "- `$package/sandbox/`: the sandbox, a fake $title API (the `sandbox` extra).\n"
        "- `tests/`: the conformance suite (one class), the entry point, retries, webhooks.",
    ),
    "store": (
        "store:\n  type: $name\n  base_url: https://api.example.com/v1\n"
        "  api_key: $${${env}API_KEY}",
        "- `$package/store.py`: the main store: its `Config`, `capabilities` and methods.\n"
        "- `$package/plugin.py`: the hooks that register it (the entry point).\n"
        "- `$package/sandbox/`: the sandbox, a fake $title API (the `sandbox` extra).\n"
        "- `tests/`: the conformance suite (one class), the entry point, retries, webhooks.",
    ),
    "notifier": (
        "notifiers:\n  team:\n    type: $name\n    webhook_url: $${${env}WEBHOOK_URL}",
        "- `$package/notifier.py`: the notifier: its `Config` and `send`.\n"
        "- `$package/plugin.py`: the hook that registers it (the entry point).\n"
        "- `$package/receiver.py`: a stand-in for $title that keeps what it is sent.\n"
        "- `tests/`: delivery, retries and refusals, and the entry point.",
    ),
}


def variables(names: PluginNames) -> dict[str, str]:
    yaml_example, layout = _README[names.kind]
    words = {"name": names.name, "package": names.package, "title": names.title,
             "env": names.env_prefix + "_"}
    return {
        "yaml_example": Template(yaml_example).substitute(words),
        "layout": Template(layout).substitute(words),
        "kind_class": names.kind.capitalize(),
        "name": names.name, "kind": names.kind, "type_name": names.type_name,
        "distribution": names.distribution, "package": names.package, "title": names.title,
        "prefix": names.prefix, "class_name": names.class_name, "module": names.kind,
        "env_prefix": names.env_prefix, "ordersync_version": _release(__version__),
    }


def _release(version: str) -> str:
    """``0.1`` for ``0.1.0`` (or a development version): what the plugin needs at least."""
    parts = version.split(".")
    return ".".join(parts[:2]) if all(p.isdigit() for p in parts[:2]) else "0.1"


def _file_name(part: str, names: PluginNames) -> str:
    """A template path segment as a file name: ``{package}`` and ``dot-gitignore`` (package
    data globs skip names that start with a dot)."""
    if part == "{package}":
        return names.package
    return "." + part.removeprefix("dot-") if part.startswith("dot-") else part


def render(names: PluginNames) -> dict[Path, str]:
    """Every file of the new plugin: its path in the plugin's folder and its text."""
    substitute = variables(names)
    root = _templates()
    methods_text = (root / names.kind / "methods.txt").read_text("utf-8")
    substitute.update(platform_module(names, methods_text, substitute))
    out: dict[Path, str] = {}
    for layer in LAYERS[names.kind]:
        for parts, text in _walk(root / layer):
            path = Path(*(_file_name(part, names) for part in parts))
            out[path] = Template(text).substitute(substitute)
    return out


def new_plugin(names: PluginNames, parent: Path) -> Path:
    """Write the plugin into ``parent / names.distribution`` and return that folder.

    :raises ScaffoldError: the folder exists, or cannot be written; either way nothing of the
        plugin is left behind.
    """
    folder = parent / names.distribution
    if folder.exists() or folder.is_symlink():
        msg = f"{folder} exists already; choose another --dir or remove it first"
        raise ScaffoldError(msg)
    files_ = render(names)  # every template is filled in before anything is written
    try:
        folder.mkdir(parents=True)
        for path, text in files_.items():
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    except OSError as exc:
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
        msg = f"cannot write the plugin into {folder}: {exc.strerror or exc}"
        raise ScaffoldError(msg) from exc
    return folder
