"""Fixtures: a sandbox WooCommerce served by uvicorn on 127.0.0.1 and a store wired to it.

``store_sandbox`` is the conformance kit's fixture, checked after each test: every request the
store sent passed the sandbox's OpenAPI validation, and the sandbox answered inside the document.
``site`` is the kit's ``sandboxed_store`` (``site.store`` under test, ``site.sandbox`` its
:class:`WooCommerceSandbox`), with quick retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from ordersync.http import PlatformHttp
from ordersync.platform import Context
from ordersync.testing import SandboxedStore
from ordersync_woocommerce.sandbox import SandboxState, WooCommerceSandbox


@dataclass
class QuickContext(Context):
    """The core's Context with quick retries: the sandbox's faults are one-offs."""

    def http(self, platform: str, base_url: str, **kwargs: Any) -> PlatformHttp:
        kwargs.setdefault("backoff_base", 0.01)
        return super().http(platform, base_url, **kwargs)


@pytest.fixture
def platform_context() -> Context:
    return QuickContext(name="woocommerce")


def refused(state: SandboxState) -> list[tuple[str, str, list[str]]]:
    """Requests the sandbox refused as the spec does not allow them."""
    return [(r.method, r.path, r.problems) for r in state.requests if r.problems]


@pytest.fixture
def store_sandbox() -> Iterator[WooCommerceSandbox]:
    """The conformance kit's sandbox (see ``ordersync.testing``)."""
    sandbox = WooCommerceSandbox(timeout=5.0)
    yield sandbox
    assert refused(sandbox.state) == [], "the sandbox refused requests the store sent"
    assert sandbox.state.bugs == [], "the sandbox answered outside the spec"


@pytest.fixture
def site(sandboxed_store: SandboxedStore) -> Any:
    """The store under test (``site.store``) and its sandbox (``site.sandbox``)."""
    return sandboxed_store


@pytest.fixture
def state(site: Any) -> SandboxState:
    sandbox: WooCommerceSandbox = site.sandbox
    return sandbox.state
