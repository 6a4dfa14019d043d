"""What the configuration file says is what is read, and ``--help`` says what each command does:
the installed ``ordersync`` program, run in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from ordersync.cli import cli
from ordersync.config import load_config, read_yaml
from ordersync.plugins import load_plugins

from tests.cli.shop import make_shop, ordersync


@pytest.mark.parametrize("name", ["on", "off", "yes", "no", "null", "y", "n", "2026"])
def test_a_channel_name_yaml_1_1_reads_as_a_boolean_or_null_is_read_as_that_name(
    tmp_path: Path, name: str
) -> None:
    shop = make_shop(tmp_path)
    text = (shop / "ordersync.yaml").read_text().replace("\n  shop:\n", f"\n  {name}:\n")
    (shop / "ordersync.yaml").write_text(text)
    assert list(read_yaml(shop / "ordersync.yaml")["channels"]) == [name]
    checked = ordersync(shop, "config", "check")
    assert checked.returncode == 0, checked.stderr
    shown = json.loads(ordersync(shop, "config", "show", "--json").stdout)
    assert list(shown["channels"]) == [name]


def test_switches_written_yes_and_no_still_read_as_switches(tmp_path: Path) -> None:
    shop = make_shop(tmp_path)
    text = (shop / "ordersync.yaml").read_text()
    text = text.replace("inventory_sync: true", "inventory_sync: yes").replace(
        "import_orders: true", "import_orders: on")
    (shop / "ordersync.yaml").write_text(text + "    enabled: no\n")
    assert ordersync(shop, "config", "check").returncode == 0
    section = load_config(shop / "ordersync.yaml", load_plugins()).channels["shop"]
    assert (section.inventory_sync, section.order_sync.import_orders,
            section.enabled) == (True, True, False)


def test_a_yaml_error_names_the_file_line_and_column_and_quotes_nothing(tmp_path: Path) -> None:
    shop = make_shop(tmp_path)
    (shop / "broken.yaml").write_text("main_store:\n  type: file\n  token: [s3cret-value\n")
    done = ordersync(shop, "--config", "broken.yaml", "status")
    assert done.returncode == 2
    assert done.stderr.startswith("error: broken.yaml: not valid YAML: ")
    assert "(line 4, column 1)" in done.stderr
    assert "s3cret-value" not in done.stderr
    assert "<unicode string>" not in done.stderr


def test_a_key_given_twice_names_the_file(tmp_path: Path) -> None:
    shop = make_shop(tmp_path)
    (shop / "twice.yaml").write_text("main_store: {type: file, path: store}\n"
                                     "channels: {}\nchannels: {}\n")
    done = ordersync(shop, "--config", "twice.yaml", "config", "check")
    assert (done.returncode, done.stderr.strip()) == (
        2, "error: twice.yaml: not valid YAML: the key 'channels' is given twice "
           "(line 3, column 1)")


def _summaries(help_text: str) -> dict[str, str]:
    """The "Commands:" section of a help text: name -> its summary, lines joined."""
    rows: dict[str, str] = {}
    section = help_text.split("Commands:\n", 1)[1]
    name = ""
    for line in section.splitlines():
        if not line.strip():
            break
        if line.startswith("  ") and not line.startswith("   "):
            name, _, text = line.strip().partition(" ")
            rows[name] = text.strip()
        else:
            rows[name] += " " + line.strip()
    return rows


def _first_paragraph(command: click.Command) -> str:
    return " ".join((command.help or "").split("\n\n", 1)[0].split())


@pytest.mark.parametrize("args", [[], ["orders"], ["links"], ["config"], ["plugins"]])
def test_help_lists_whole_summaries(tmp_path: Path, args: list[str]) -> None:
    done = ordersync(tmp_path, *args, "--help", env={"COLUMNS": "80"})
    assert done.returncode == 0
    summaries = _summaries(done.stdout)
    group = cli
    ctx = click.Context(cli)
    for name in args:
        found = group.get_command(ctx, name)
        assert isinstance(found, click.Group)
        group = found
    assert sorted(summaries) == sorted(group.list_commands(ctx))
    for name, summary in summaries.items():
        command = group.get_command(ctx, name)
        assert command is not None
        assert "..." not in summary, (name, summary)
        assert summary == _first_paragraph(command), name
