"""``ordersync db``: placeholder until its module lands."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
