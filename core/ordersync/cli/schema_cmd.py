"""``ordersync schema``: JSON schemas of the public formats."""

from __future__ import annotations

import click
from pydantic import BaseModel

from ordersync.cli.app import echo_json
from ordersync.models import ChannelOrder, Listing, StoreOrderDraft, StoreProduct

_SCHEMAS: dict[str, type[BaseModel]] = {
    "order": ChannelOrder,
    "listing": Listing,
    "product": StoreProduct,
    "draft": StoreOrderDraft,
}


@click.command("schema")
@click.argument("name", type=click.Choice(sorted(_SCHEMAS)))
def schema(name: str) -> None:
    """Print the JSON schema of a public format (``order`` is the canonical channel order)."""
    echo_json(_SCHEMAS[name].model_json_schema(mode="serialization"))


COMMANDS = [schema]
