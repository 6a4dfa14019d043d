"""README's "Using it" works as written after the quick start: its first block is run, line by
line as a shell runs it, in a copy of a fresh clone (the shipped ``ordersync.yaml`` and
``examples/``), with the quick start's ``.venv``. And the shipped configuration, run as it is on
a fresh clone, says why it reads nothing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.shop import ordersync

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent


def _using_it() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Using it", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """What a fresh clone has that "Using it" uses, and the quick start's ``.venv``."""
    shutil.copy(ROOT / "ordersync.yaml", tmp_path / "ordersync.yaml")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / ".venv").symlink_to(VENV)
    return tmp_path


def test_using_it_runs_as_written(clone: Path) -> None:
    block = _using_it()
    assert block.startswith(". .venv/bin/activate")
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("ORDERSYNC_", "VIRTUAL_ENV"))}
    environ["PATH"] = "/usr/bin:/bin"  # ordersync only through the activated environment
    done = subprocess.run(["bash", "-euo", "pipefail", "-x", "-c", block], cwd=clone,
                          env=environ, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "does not exist" in done.stderr  # the first config check warned
    lines = done.stdout.splitlines()
    assert any(re.match(r"shop-folder\s+1001\s+import\s", line) for line in lines)
    assert any(re.match(r"shop-folder\s+1002\s+wait_link\s", line) for line in lines)
    assert any(re.match(r"shop-folder\s+1002\s+imported\s+1002\s", line) for line in lines)
    assert sorted(p.name for p in (clone / "sandbox" / "store" / "orders").iterdir()) == [
        "1001.json", "1002.json"]


def test_the_shipped_configuration_on_a_fresh_clone_says_why_it_reads_nothing(
    clone: Path,
) -> None:
    done = ordersync(clone, "sync", "--once")
    assert done.returncode == 0, done.stderr
    missing = f"channels.shop-folder.path: {clone / 'sandbox' / 'channel'} does not exist"
    assert missing in done.stderr
    assert "shop-folder: 0 read" in done.stderr
