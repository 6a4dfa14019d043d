"""The daemon's HTTP app in process (over ASGI): health when the database is gone, oversized
deliveries, and the API-call counters of the platform HTTP clients."""

from __future__ import annotations

from typing import Any

import httpx
from ordersync.daemon.app import build_app
from ordersync.daemon.metrics import DaemonMetrics, HttpCollector
from ordersync.daemon.scheduler import Scheduler
from ordersync.daemon.webhooks import MAX_BODY
from ordersync.http import PlatformHttp, live_clients
from ordersync.state.db import make_engine
from ordersync.sync.runtime import Runtime
from prometheus_client import CollectorRegistry, generate_latest

from tests.daemon.harness import Install


def _client(runtime: Runtime) -> httpx.AsyncClient:
    metrics = DaemonMetrics(runtime.engine, runtime.settings.channels)
    scheduler = Scheduler(runtime, metrics, reconcile_interval=3600)
    app = build_app(runtime, scheduler, metrics)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon")


async def test_healthz_answers_503_while_the_state_database_does_not_answer(
    install: Install,
) -> None:
    install.configure({"shop": {}})
    async with install.runtime() as runtime, _client(runtime) as client:
        answer = await client.get("/healthz")
        assert answer.status_code == 200
        assert set(answer.json()["channels"]) == {"shop", "main_store"}

        database = runtime.engine
        runtime.engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/gone")
        try:
            answer = await client.get("/healthz")
        finally:
            runtime.engine.dispose()
            runtime.engine = database
        assert answer.status_code == 503
        assert answer.json()["status"] == "error"
        assert "the state database does not answer" in answer.json()["error"]


async def test_an_oversized_delivery_is_refused_before_it_is_read(install: Install) -> None:
    install.env.update(HOOK_SECRET="canary-http-51ac")
    install.configure({"hooks": {"type": "hookfile", "webhook_secret": "${HOOK_SECRET}"}})
    async with install.runtime() as runtime, _client(runtime) as client:
        answer = await client.post("/webhooks/hooks", content=b"x" * (MAX_BODY + 1))
        assert answer.status_code == 413
        assert (await client.get("/webhooks/hooks")).status_code == 405


async def test_api_calls_and_throttled_answers_are_counted_per_platform() -> None:
    answers = iter([httpx.Response(429), httpx.Response(200, json={})])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers)

    async def no_wait(seconds: float) -> Any:
        return None

    client = PlatformHttp("acme", "http://acme.test", transport=httpx.MockTransport(handler),
                          sleep=no_wait)
    try:
        await client.request("GET", "/orders", operation="fetch orders")
        assert client in live_clients()
        registry = CollectorRegistry()
        registry.register(HttpCollector(lambda: [client]))
        text = generate_latest(registry).decode()
    finally:
        await client.aclose()
    assert 'ordersync_api_calls_total{platform="acme"} 2.0' in text
    assert 'ordersync_api_throttled_total{platform="acme"} 1.0' in text
