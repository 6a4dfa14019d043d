"""``ordersync plugin new``: a plugin that installs and passes its own tests as generated.

The slow tests do what a plugin author (and CI) does, outside this repository: generate each kind
into a temporary folder, ``pip install -e`` it into a virtual environment of its own (which sees
this checkout's packages through a ``.pth`` file), and run the plugin's pytest there in
pytest-asyncio's strict mode.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from ordersync.cli import cli
from ordersync.platform import Channel, Notifier, Store
from ordersync.scaffold import KINDS, ScaffoldError, new_plugin, plugin_names, render
from ordersync.scaffold.generate import base_class
from ordersync.scaffold.methods import parse_bodies, public_methods, render_method

TEMPLATES = Path(__file__).resolve().parent.parent / "core" / "ordersync" / "scaffold" / "templates"
#: The module of each kind's platform class in the generated package.
CLASS_MODULE = {"channel": "channel.py", "store": "store.py", "notifier": "notifier.py"}


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["acme", "acme-shop", "tiktok_shop", "shop2go"])
def test_a_lower_case_slug_names_every_part_of_the_plugin(name: str) -> None:
    names = plugin_names("channel", name)
    assert names.type_name == name
    assert names.distribution == "ordersync-" + name.replace("_", "-")
    assert names.package == "ordersync_" + name.replace("-", "_")
    assert names.package.isidentifier() and names.class_name.isidentifier()
    assert names.class_name.endswith("Channel")


@pytest.mark.parametrize(
    ("name", "says"),
    [("Acme", "not a valid name"), ("2shop", "not a valid name"), ("acme shop", "not a valid"),
     ("acme--shop", "not a valid name"), ("acme-", "not a valid name"), ("", "not a valid"),
     ("a" * 25, "at most 24"), ("class", "Python keyword")],
)
def test_a_bad_name_is_refused_with_the_rule(name: str, says: str) -> None:
    with pytest.raises(ScaffoldError, match=says):
        plugin_names("channel", name)


def test_an_unknown_kind_is_refused_naming_the_kinds() -> None:
    with pytest.raises(ScaffoldError, match="channel, store, notifier"):
        plugin_names("widget", "acme")


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "ordersync-acme"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep me")
    with pytest.raises(ScaffoldError, match="exists already"):
        new_plugin(plugin_names("store", "acme"), tmp_path)
    assert [p.name for p in folder.iterdir()] == ["mine.txt"]


def test_a_dir_that_cannot_hold_the_plugin_is_reported(tmp_path: Path) -> None:
    parent = tmp_path / "a-file"
    parent.write_text("not a folder")
    with pytest.raises(ScaffoldError, match=r"cannot write the plugin into .*a-file"):
        new_plugin(plugin_names("channel", "acme"), parent)
    assert parent.read_text() == "not a folder"


# -- the command ------------------------------------------------------------------------------


def test_plugin_new_writes_the_plugin_into_dir(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["plugin", "new", "notifier", "acme", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "ordersync-acme"
    assert str(folder) in result.output
    assert (folder / "pyproject.toml").is_file()
    assert (folder / "ordersync_acme" / "notifier.py").is_file()
    assert "__pycache__/" in (folder / ".gitignore").read_text()


def test_plugin_new_with_a_bad_name_exits_2_with_the_reason(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["plugin", "new", "channel", "Acme!", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "plugin name 'Acme!' is not a valid name" in result.output
    assert list(tmp_path.iterdir()) == []


def test_plugin_new_into_an_existing_folder_exits_2(tmp_path: Path) -> None:
    (tmp_path / "ordersync-acme").mkdir()
    result = CliRunner().invoke(cli, ["plugin", "new", "channel", "acme", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "exists already" in result.output


# -- what is generated ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_required_method_has_a_working_body(kind: str) -> None:
    """No abstract method of Channel/Store/Notifier is left as a stub, and no body in
    methods.txt is for a method the base class does not have."""
    base = base_class(kind)
    bodies = parse_bodies((TEMPLATES / kind / "methods.txt").read_text(encoding="utf-8"))
    methods = {name for name, _ in public_methods(base)}
    assert set(base.__abstractmethods__) <= set(bodies) <= methods


def test_an_optional_method_without_an_example_runs_the_default() -> None:
    source = render_method(Channel, "upload_tracking", None)
    assert source.startswith("    async def upload_tracking(self, order: ChannelOrder, ")
    assert "To do: implement it if the platform can" in source
    assert source.rstrip().endswith("return await super().upload_tracking(order, fulfillment)")


@pytest.mark.parametrize("kind", KINDS)
def test_the_platform_class_has_each_method_with_its_contract_and_a_to_do(kind: str) -> None:
    names = plugin_names(kind, "acme")
    source = render(names)[Path(names.package) / CLASS_MODULE[kind]]
    tree = ast.parse(source)
    [cls] = [node for node in tree.body
             if isinstance(node, ast.ClassDef) and node.name == names.class_name]
    written = {node.name: node for node in cls.body
               if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    base = base_class(kind)
    for name, func in public_methods(base):
        assert name in written, f"{names.class_name} lacks {name}"
        docstring = ast.get_docstring(written[name]) or ""
        contract = inspect.getdoc(func) or ""
        contract = re.sub(r"\n*\.\. version.*", "", contract, flags=re.DOTALL)
        assert docstring.startswith(contract), f"{name}: the contract of {base.__name__}.{name}"
        assert "To do: " in docstring
        expected = inspect.signature(func)
        params = [arg.arg for arg in written[name].args.args]
        assert params == list(expected.parameters), f"{name}: parameters differ from the base"


def test_the_base_classes_are_the_platform_types() -> None:
    assert [base_class(kind) for kind in KINDS] == [Channel, Store, Notifier]


@pytest.mark.parametrize("kind", KINDS)
def test_the_generated_code_is_clean_for_ruff(kind: str, tmp_path: Path) -> None:
    """With the plugin's own ruff settings (its pyproject.toml): imports sorted, lines short."""
    folder = new_plugin(plugin_names(kind, "tiktok-shop"), tmp_path)
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run([str(ruff), "check", "--no-cache", "."], cwd=folder,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


# -- installed and tested as a third party would ----------------------------------------------


def _clean_env() -> dict[str, str]:
    """This process's environment without what would bend the plugin's own test run."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("PYTEST", "ORDERSYNC_", "PYTHON"))}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Path]]]:
    """A venv with one plugin of each kind ``pip install -e``d; its python and the folders.

    The venv has no packages of its own: a ``.pth`` file adds this environment's site-packages
    (ordersync, pytest, pytest-asyncio), as ``pip install ordersync`` would have.
    """
    root = tmp_path_factory.mktemp("scaffold")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    Path(purelib, "ordersync_dev.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    folders = {kind: new_plugin(plugin_names(kind, f"acme-{kind}"), root / "plugins")
               for kind in KINDS}
    editable = [arg for folder in folders.values() for arg in ("-e", str(folder))]
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", *editable],
                          cwd=root, env=_clean_env(), capture_output=True, text=True,
                          check=False, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    yield python, folders


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_the_generated_plugin_passes_its_own_tests_in_strict_mode(
    kind: str, generated: tuple[Path, dict[str, Path]],
) -> None:
    python, folders = generated
    folder = folders[kind]
    assert not folder.resolve().is_relative_to(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-o", "asyncio_mode=strict", "-p", "no:cacheprovider"],
        cwd=folder, env=_clean_env(), capture_output=True, text=True, check=False, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    passed = re.search(r"(\d+) passed", output)
    assert passed is not None and int(passed.group(1)) > 0, output


@pytest.mark.slow
def test_plugins_list_shows_each_generated_type_without_a_warning(
    generated: tuple[Path, dict[str, Path]],
) -> None:
    python, folders = generated
    done = subprocess.run(
        [str(python), "-c", "from ordersync.cli import main; main()", "plugins", "list",
         "--json"],
        cwd=next(iter(folders.values())).parent, env=_clean_env(), capture_output=True,
        text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {(row["kind"], row["name"]): row for row in json.loads(done.stdout)}
    for kind in KINDS:
        row = rows[(kind, f"acme-{kind}")]
        assert (row["error"], row["warnings"]) == (None, [])
