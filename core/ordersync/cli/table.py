"""Lists on the command line: a header row, then one row per item, columns aligned."""

from __future__ import annotations

from collections.abc import Sequence

import click


def echo_table(header: Sequence[str], rows: Sequence[Sequence[str]], *,
               err: bool = False) -> None:
    """Print ``header`` and ``rows`` with aligned columns; the last column is not padded
    (a reason or an error of any length). The header is printed even with no rows, so
    that an empty list reads as one."""
    widths = [max([len(header[i]), *(len(row[i]) for row in rows)])
              for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip(), err=err)
