"""``ordersync init`` writes a starter file that passes ``config check`` once its variables are
set, for every installed platform type; it never writes over a file without --force."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ordersync.plugins import load_plugins

from tests.connect.conftest import Folder

REGISTRY = load_plugins(disabled=[])
#: Values that look like the real thing, for the keys whose format is checked.
EXAMPLES = {"shop": "example.myshopify.com", "url": "https://shop.example.com",
            "to": "ops@example.com", "host": "smtp.example.com"}
_PLACEHOLDER = re.compile(r'^\s*([a-z_]+): \[?"?\$\{([A-Z0-9_]+)\}"?\]?$')


def _variables(text: str) -> dict[str, str]:
    """Each ``${VAR}`` of the file (not in comments) with a value for its key."""
    found = {}
    for line in text.splitlines():
        match = _PLACEHOLDER.match(line)
        if match:
            key, name = match.groups()
            found[name] = EXAMPLES.get(key, f"starter-{key}-0123456789abcdef0123456789")
    return found


def _init_and_check(folder: Folder, *args: str) -> str:
    done = folder.run("init", *args)
    assert done.returncode == 0, done.stderr
    text = (folder.path / "ordersync.yaml").read_text()
    folder.env.update(_variables(text))
    checked = folder.run("config", "check")
    assert checked.returncode == 0, checked.stderr + text
    return text


@pytest.mark.parametrize("channel_type", sorted(REGISTRY.channels))
def test_a_starter_file_for_each_channel_type_passes_config_check(
    folder: Folder, channel_type: str,
) -> None:
    text = _init_and_check(folder, "--store", "file", "--channel", f"{channel_type}:mine",
                           *(f"--notifier={name}" for name in sorted(REGISTRY.notifiers)))

    config = yaml.safe_load(text)
    assert config["channels"]["mine"]["type"] == channel_type
    assert config["channels"]["mine"]["order_sync"]["import_orders"] is True
    assert config["retention"] == {"personal_data_days": None}
    assert "# days after an order's last change" in text  # descriptions as comments


@pytest.mark.parametrize("store_type", sorted(REGISTRY.stores))
def test_a_starter_file_for_each_store_type_passes_config_check(
    folder: Folder, store_type: str,
) -> None:
    text = _init_and_check(folder, "--store", store_type, "--channel", "file:shop")

    assert yaml.safe_load(text)["main_store"]["type"] == store_type


def test_every_credential_is_an_env_reference(folder: Folder) -> None:
    done = folder.run("init", "--store", "shopify", "--channel", "ebay:ebay-uk")

    assert done.returncode == 0, done.stderr
    config = yaml.safe_load((folder.path / "ordersync.yaml").read_text())
    assert config["channels"]["ebay-uk"]["client_secret"] == "${EBAY_UK_CLIENT_SECRET}"
    assert config["main_store"]["access_token"] == "${SHOPIFY_ACCESS_TOKEN}"
    assert "EBAY_UK_CLIENT_SECRET" in done.stdout


def test_init_does_not_overwrite_without_force(folder: Folder) -> None:
    (folder.path / "ordersync.yaml").write_text("# mine\n")

    refused = folder.run("init", "--store", "file", "--channel", "file")
    assert refused.returncode == 2
    assert "--force" in refused.stderr
    assert (folder.path / "ordersync.yaml").read_text() == "# mine\n"

    forced = folder.run("init", "--store", "file", "--channel", "file", "--force")
    assert forced.returncode == 0
    assert "channels:" in Path(folder.path / "ordersync.yaml").read_text()


def test_an_unknown_type_is_named_with_the_installed_ones(folder: Folder) -> None:
    done = folder.run("init", "--store", "file", "--channel", "etsy")

    assert done.returncode == 2
    assert "no channel type 'etsy'" in done.stderr and "ebay" in done.stderr


def test_on_a_terminal_init_asks_for_the_platforms(folder: Folder) -> None:
    import os
    import pty
    import subprocess

    from tests.connect.conftest import ORDERSYNC

    controller, terminal = pty.openpty()
    process = subprocess.Popen([ORDERSYNC, "init"], cwd=folder.path, env=folder.environ(),
                               stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    os.write(controller, b"shopify\nebay:ebay-uk, file:shop\nemail\n")
    output = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=30) == 0, output.decode()
    os.close(controller)

    config = yaml.safe_load((folder.path / "ordersync.yaml").read_text())
    assert config["main_store"]["type"] == "shopify"
    assert {name: c["type"] for name, c in config["channels"].items()} == {
        "ebay-uk": "ebay", "shop": "file"}
    assert list(config["notifiers"]) == ["email"]
    assert b"Main store type" in output
