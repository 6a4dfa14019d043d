"""README's "Connect a sandbox account and use the console" works as written: each command of
its block runs as a real subprocess in a copy of a fresh clone, with the quick start's ``.venv``
(only the console's port is a free one instead of 8080). The test plays the browser: on eBay's
consent page (with httpx, pasting where it lands, as on a server without a browser) and in the
console (log in, link the waiting order's listing to the suggested variant). The order ends
imported in the sandbox Shopify shop."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
SECTION = "## Connect a sandbox account and use the console"
WAITING_ORDER = "26-00003-00001"
POSTER_LISTING = "110000000200"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_COMMENT = re.compile(r"\s+#\s.*$")


def walkthrough() -> list[str]:
    """The commands of the section's block, without their comments."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return [_COMMENT.sub("", line).strip() for line in match.group(1).splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Operator:
    """Two terminals' worth of state: the working folder and the exported variables."""

    def __init__(self, clone: Path) -> None:
        self.cwd = clone
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith(("ORDERSYNC_", "VIRTUAL_ENV"))}
        self.env["PATH"] = "/usr/bin:/bin"  # ordersync only through the activated environment
        self.env["COLUMNS"] = "200"
        self.background: list[subprocess.Popen[str]] = []

    def shell(self, line: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", line], cwd=self.cwd,
                              env=self.env, capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
        return done

    def export(self, line: str) -> None:
        name = line.removeprefix("export ").split("=", 1)[0]
        done = self.shell(f'{line}; printf %s "${name}"')
        assert done.stdout, f"{line} set nothing"
        self.env[name] = done.stdout

    def start(self, line: str, log: Path | None = None) -> subprocess.Popen[str]:
        """Start ``line``; its output goes to pipes, or to ``log`` when nobody reads it."""
        output: Any = subprocess.PIPE if log is None else log.open("w")
        process = subprocess.Popen(shlex.split(line), cwd=self.cwd, env=self.env,
                                   stdin=subprocess.PIPE, stdout=output,
                                   stderr=subprocess.STDOUT if log else subprocess.PIPE,
                                   text=True)
        if log is not None:
            output.close()  # the child has its own copy
        self.background.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.background):
            if process.poll() is None:
                process.terminate()
                try:
                    process.communicate(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.communicate()


@pytest.fixture
def operator(tmp_path: Path) -> Iterator[Operator]:
    """A copy of what a fresh clone has that the walkthrough uses: the quick start's ``.venv``."""
    (tmp_path / ".venv").symlink_to(VENV)
    person = Operator(tmp_path)
    yield person
    person.stop()


def _serve_sandboxes(operator: Operator, line: str) -> None:
    process = operator.start(line)
    assert process.stderr is not None
    for text in process.stderr:
        if text.strip() == "ready":
            return
    raise AssertionError(f"{line} did not start: {process.communicate(timeout=10)}")


def _authorise(operator: Operator, line: str) -> None:
    """The consent page in a browser: stdin is not a terminal, so ``auth`` asks for the URL the
    browser lands on (nothing listens on 127.0.0.1:8765: only the address matters)."""
    process = operator.start(line)
    operator.background.remove(process)
    assert process.stdout is not None
    url = next((text.strip() for text in process.stdout if text.strip().startswith("http")),
               None)
    assert url is not None, process.communicate(timeout=10)
    landed = httpx.get(url).headers["location"]
    assert landed.startswith("http://127.0.0.1:8765/callback?")
    out, err = process.communicate(landed + "\n", timeout=60)
    assert process.returncode == 0, err
    assert "ebay-sandbox: authorised" in out


def _run_daemon(operator: Operator, line: str) -> str:
    port = _free_port()
    assert "--listen 127.0.0.1:8080" in line
    operator.start(line.replace("127.0.0.1:8080", f"127.0.0.1:{port}"),
                   log=operator.cwd / "daemon.log")
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/login", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    _wait(up, "the console")
    return base


def test_the_operator_walkthrough_connects_links_and_imports(operator: Operator) -> None:
    lines = walkthrough()
    console = ""
    outputs: dict[str, str] = {}
    for line in lines:
        if line == ". .venv/bin/activate":
            operator.env["PATH"] = f"{operator.cwd / '.venv' / 'bin'}:/usr/bin:/bin"
        elif line.startswith("cd "):
            operator.cwd = (operator.cwd / line.removeprefix("cd ")).resolve()
        elif line.startswith("export "):
            operator.export(line)
        elif line.startswith("ordersync sandbox run"):
            _serve_sandboxes(operator, line)
        elif line.startswith("ordersync auth "):
            _authorise(operator, line)
        elif line.startswith("ordersync run "):
            console = _run_daemon(operator, line)
        else:
            outputs[line] = operator.shell(line).stdout
    assert console, "the block starts no console"
    assert re.search(r"authenticated\s+ok", outputs["ordersync doctor"])
    assert "3 linked" in outputs["ordersync links auto"]

    store = _shop(operator.cwd)
    browser = httpx.Client(base_url=console, timeout=10.0)
    try:
        _log_in(browser, operator.env["ORDERSYNC_CONSOLE_PASSWORD"])

        def waiting() -> str | None:
            page = browser.get("/links/waiting").text
            return page if WAITING_ORDER in page else None

        page = _wait(waiting, f"order {WAITING_ORDER} in the waiting queue")
        overview = browser.get("/").text
        assert "ebay-sandbox" in overview and "main_store" in overview
        assert 'state=imported">3</a>' in overview
        expires = re.search(r"ebay-sandbox.*?<td>(\S+ \S+) UTC</td>\s*<td class=\"num\">",
                            overview, re.DOTALL)
        assert expires is not None, "the overview shows when eBay's authorization expires"
        months = (datetime.fromisoformat(expires.group(1)).replace(tzinfo=UTC)
                  - datetime.now(UTC)) / timedelta(days=30)
        assert 17 < months < 19  # eBay's refresh token: about 18 months
        form = _suggestion(page, POSTER_LISTING)
        assert "same title" in form
        variant = re.search(r'name="variant_id" value="([^"]+)"', form)
        assert variant is not None
        csrf = _CSRF.search(page)
        assert csrf is not None
        linked = browser.post("/links", data={
            "csrf": csrf.group(1), "channel": "ebay-sandbox", "listing_id": POSTER_LISTING,
            "variant_id": variant.group(1)}, headers={"Origin": console})
        assert linked.status_code == 303, linked.text

        def imported() -> bool:
            return 'state-imported">imported' in browser.get(
                f"/orders/ebay-sandbox/{WAITING_ORDER}").text

        _wait(imported, f"order {WAITING_ORDER} imported")
    finally:
        browser.close()
    posters = [order for order in store()
               if order["sourceIdentifier"] == f"ordersync:ebay-sandbox:{WAITING_ORDER}"]
    assert len(posters) == 1, store()
    assert {item["title"] for item in posters[0]["lineItems"]["nodes"]} == {
        "T-shirt M", "Poster A2"}


def _log_in(browser: httpx.Client, password: str) -> None:
    csrf = _CSRF.search(browser.get("/login").text)
    assert csrf is not None
    response = browser.post("/login", data={"csrf": csrf.group(1), "password": password,
                                            "next": "/"},
                            headers={"Origin": str(browser.base_url).rstrip("/")})
    assert response.status_code == 303, response.text


def _suggestion(page: str, listing_id: str) -> str:
    """The first suggestion form for ``listing_id`` on the waiting page."""
    for form in re.findall(r'<form method="post" action="/links" class="suggestion">.*?</form>',
                           page, re.DOTALL):
        if f'name="listing_id" value="{listing_id}"' in form:
            return str(form)
    raise AssertionError(f"no suggested variant for listing {listing_id}")


def _shop(folder: Path) -> Callable[[], list[dict[str, Any]]]:
    """The sandbox shop's orders, read through its Admin GraphQL API as the seller's admin
    would show them."""
    config = yaml.safe_load((folder / "ordersync.yaml").read_text())["main_store"]
    token = (folder / "secrets" / "SHOPIFY_SANDBOX_TOKEN").read_text().strip()
    from ordersync_shopify.schema import API_VERSION

    def orders() -> list[dict[str, Any]]:
        answer = httpx.post(
            f"{config['base_url']}/admin/api/{API_VERSION}/graphql.json",
            headers={"X-Shopify-Access-Token": token},
            json={"query": "{ orders(first: 50) { nodes { id sourceIdentifier "
                           "lineItems(first: 10) { nodes { title } } } } }"})
        answer.raise_for_status()
        data = answer.json()
        assert "errors" not in data, data
        nodes: list[dict[str, Any]] = data["data"]["orders"]["nodes"]
        return nodes

    return orders
