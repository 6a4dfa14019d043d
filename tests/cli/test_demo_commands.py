"""The commands ``ordersync demo`` suggests work when pasted: the demo is run in a fresh folder
as a subprocess, and each command it prints is run as printed, in a new process, with no
variable exported."""

from __future__ import annotations

import shlex
import stat
from pathlib import Path

import pytest

from tests.cli.shop import ordersync


@pytest.mark.slow
@pytest.mark.parametrize("platforms", [("ebay", "shopify"), ("file", "file")])
def test_every_command_the_demo_suggests_works_when_pasted(
    tmp_path: Path, platforms: tuple[str, str]
) -> None:
    channel, store = platforms
    demo = ordersync(tmp_path, "demo", "--channel-type", channel, "--store-type", store,
                     timeout=300)
    assert demo.returncode == 0, demo.stderr
    commands = [line.strip() for line in demo.stdout.splitlines()
                if line.startswith("  ordersync ")]
    assert len(commands) >= 3, demo.stdout
    for command in commands:
        program, *args = shlex.split(command)
        assert program == "ordersync"
        done = ordersync(tmp_path, *args)
        assert done.returncode == 0, f"{command}:\n{done.stdout}{done.stderr}"
        assert done.stdout.strip(), command
    secrets = tmp_path / ".demo" / "secrets"
    if channel == "ebay":  # the sandboxes' credentials: in files only their owner reads
        assert sorted(path.name for path in secrets.iterdir())
        assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in secrets.iterdir())
        assert "${file:secrets/" in (tmp_path / ".demo" / "ordersync.yaml").read_text()
