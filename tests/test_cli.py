"""The command line as a whole: version, help on every command, the schema command."""

from __future__ import annotations

import json

import click
from click.testing import CliRunner
from ordersync import __version__
from ordersync.cli import cli


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        out.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            out.extend(_commands(command, f"{prefix}{name} "))
    return out


def test_version_is_printed() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_every_command_has_help_text() -> None:
    missing = [name for name, command in _commands(cli) if not (command.help or "").strip()]
    assert missing == []


def test_schema_order_prints_the_canonical_order_schema() -> None:
    result = CliRunner().invoke(cli, ["schema", "order"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["title"] == "ChannelOrder"
    assert {"id", "number", "status", "currency", "lines", "total"} <= set(schema["required"])
    status = schema["$defs"]["OrderStatus"]["enum"]
    assert status == ["unpaid", "paid", "partially_shipped", "shipped", "cancelled",
                      "refunded", "partially_refunded"]
    # amounts are decimal strings in the public format
    line = schema["$defs"]["OrderLine"]["properties"]["unit_price"]
    assert line["type"] == "string"


def test_unknown_schema_name_is_refused() -> None:
    result = CliRunner().invoke(cli, ["schema", "nothing"])
    assert result.exit_code == 2
