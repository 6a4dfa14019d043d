"""``ordersync doctor`` on every installed platform type that has a sandbox, with its own checks
or the generic one: good credentials pass; a wrong credential is "authenticated: fail" and names
a key of the platform's section."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from ordersync.plugins import load_plugins

from tests.connect.conftest import Folder

SANDBOXES = load_plugins(disabled=[]).sandboxes
REMOTE = sorted(key for key in SANDBOXES if key[1] != "file")


def _configure(folder: Folder, kind: str, sandbox: Any) -> str:
    folder.env.update(sandbox.environ())
    (folder.path / "shop").mkdir(exist_ok=True)
    if kind == "channel":
        folder.write(channels={"remote": sandbox.config()})
        return "remote"
    folder.write(channels={"shop": {"type": "file", "path": "shop"}},
                 main_store=sandbox.config())
    return "main_store"


@pytest.fixture(params=REMOTE, ids=[f"{kind}-{name}" for kind, name in REMOTE])
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    kind, _ = request.param
    sandbox = SANDBOXES[request.param]()
    asyncio.run(sandbox.start(tmp_path))
    yield kind, sandbox
    asyncio.run(sandbox.stop())


def test_good_credentials_are_reachable_and_authenticated(folder: Folder, remote: Any) -> None:
    kind, sandbox = remote
    name = _configure(folder, kind, sandbox)

    done = folder.run("doctor", name, "--json")

    report = json.loads(done.stdout)[name]
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert statuses["reachable"] == "ok" and statuses["authenticated"] == "ok", done.stdout
    assert done.returncode == 0, done.stdout


def test_a_wrong_credential_is_not_authenticated_and_names_a_key(folder: Folder,
                                                                  remote: Any) -> None:
    kind, sandbox = remote
    name = _configure(folder, kind, sandbox)
    written = (folder.path / "ordersync.yaml").read_text()
    # Every variable the sandbox's section reads, wrong: whichever the platform checks first.
    for variable in sandbox.environ():
        if f"${{{variable}}}" in written:
            folder.env[variable] = "wrong-" + folder.env[variable][::-1]

    done = folder.run("doctor", name, "--json")

    assert done.returncode == 1
    [check] = [c for c in json.loads(done.stdout)[name]["checks"]
               if c["name"] == "authenticated"]
    assert check["status"] == "fail", done.stdout
    section = "main_store" if kind == "store" else f"channels.{name}"
    assert check["fix"] and check["fix"][0].startswith(f"{section}.")
