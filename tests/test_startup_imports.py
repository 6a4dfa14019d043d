"""A command imports only what it needs: the import discipline behind the start-up figures of
``docs/performance.md`` ("Start-up"), checked without timing anything.

Each test runs the command in a fresh interpreter, as a person does, and looks at the modules it
imported (``sys.modules`` once the command has finished).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ordersync.cli.app import ENV_TRACE
from ordersync.plugins import ENV_TRACE as PLUGINS_ENV_TRACE

#: Only the daemon, the demo, migrations and sandboxes need these.
NEVER_FOR_STATUS = ("alembic", "starlette", "uvicorn", "jinja2", "openapi_core", "graphql",
                    "prometheus_client")
#: What a command that reads no configuration and no database must not import.
NEVER_FOR_HELP = (*NEVER_FOR_STATUS, "sqlalchemy", "sqlmodel", "pydantic", "httpx", "rich",
                  "ordersync.plugins", "ordersync.config.loader", "ordersync.models")

_RUN = """
import json, sys
sys.argv = ["ordersync", *json.loads(sys.argv[1])]
from ordersync.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
with open(OUT, "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""

CONFIG = """\
database: sqlite:///state.db
main_store:
  type: file
  path: store
channels:
  shop-folder:
    type: file
    path: channel
    inventory_sync: true
    order_sync:
      import_orders: true
"""


def imported_by(args: list[str], cwd: Path) -> set[str]:
    """The modules ``ordersync ARGS`` has imported when it ends (it must succeed)."""
    out = cwd / "modules.json"
    code = _RUN.replace("OUT", repr(str(out)))
    done = subprocess.run([sys.executable, "-c", code, json.dumps(args)], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["code"] in (0, None), f"ordersync {' '.join(args)}: {done.stderr}"
    return set(report["modules"])


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` (packages or modules) were imported."""
    return sorted(name for name in names
                  if any(m == name or m.startswith(f"{name}.") for m in modules))


@pytest.fixture
def installation(tmp_path: Path) -> Path:
    """A folder with a configuration of a ``file`` channel and main store and its upgraded
    state database (status migrates a database that is not yet at the newest schema)."""
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "products.json").write_text("[]\n")
    (tmp_path / "channel" / "orders").mkdir(parents=True)
    (tmp_path / "ordersync.yaml").write_text(CONFIG)
    done = subprocess.run([sys.executable, "-c", "from ordersync.cli import main; main()",
                           "db", "upgrade"], cwd=tmp_path, capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return tmp_path


def test_version_imports_click_and_nothing_of_the_engine(tmp_path: Path) -> None:
    modules = imported_by(["--version"], tmp_path)

    assert loaded(modules, (*NEVER_FOR_HELP, "pluggy", "yaml", "ordersync.config")) == []


def test_help_of_a_command_imports_neither_state_nor_plugins(tmp_path: Path) -> None:
    for command in (["status", "--help"], ["db", "--help"], ["demo", "--help"],
                    ["sync", "--help"], ["run", "--help"]):
        assert loaded(imported_by(command, tmp_path), NEVER_FOR_HELP) == [], command


def test_the_list_of_commands_imports_no_server_migration_or_sandbox(tmp_path: Path) -> None:
    modules = imported_by(["--help"], tmp_path)

    assert loaded(modules, NEVER_FOR_STATUS) == []
    # (every command's module is imported for its summary; none imports the state or engine)
    assert loaded(modules, ("sqlalchemy", "sqlmodel", "httpx", "ordersync.plugins",
                            "ordersync.state.db", "ordersync.state.tables",
                            "ordersync.sync")) == []


def test_status_imports_no_server_migration_sandbox_or_spec(installation: Path) -> None:
    modules = imported_by(["status"], installation)

    assert "ordersync.state.overview" in modules  # it did read the database
    assert loaded(modules, NEVER_FOR_STATUS) == []
    sandboxes = sorted(m for m in modules if m.startswith("ordersync_") and ".sandbox" in m)
    assert sandboxes == []
    assert loaded(modules, ("ordersync.sandbox.openapi", "ordersync.sandbox.graphql",
                            "ordersync.sandbox.server")) == []


def test_status_of_a_sqlite_state_loads_no_plugin_model_or_sqlalchemy(
    installation: Path,
) -> None:
    modules = imported_by(["status"], installation)

    assert loaded(modules, (*NEVER_FOR_HELP, "pluggy", "cryptography")) == []


def test_the_traceback_option_names_the_variable_plugin_loading_reads() -> None:
    assert ENV_TRACE == PLUGINS_ENV_TRACE
