"""The core's sandbox plumbing, which every platform's sandbox uses: one Fault type and its
queue, the request pipeline, and serving on loopback."""

from __future__ import annotations

import httpx
import pytest
from ordersync.sandbox import Fault, FaultPlan
from ordersync.sandbox.pipeline import Pipeline
from ordersync.sandbox.server import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def _app(plan: FaultPlan, ran: list[str], *, answer: object = None) -> tuple[Starlette, Pipeline]:
    pipeline = Pipeline(plan, lambda status: {"error": status}, partial=b'{"items": [')

    def handler(request: Request, body: bytes) -> Response:
        ran.append(request.method)
        return JSONResponse(answer if answer is not None else {"ok": True})

    def refuse(request: Request, body: bytes) -> Response | None:
        return JSONResponse({"error": "no key"}, status_code=401) if not request.headers.get(
            "key") else None

    def check(request: Request, body: bytes, response: Response) -> list[str]:
        ok = response.status_code >= 400 or b'"ok"' in bytes(response.body)
        return [] if ok else ["not ok"]

    route = Route("/items", pipeline.endpoint(handler, operation="Items", refuse=refuse,
                                              check=check), methods=["GET", "POST"])
    return Starlette(routes=[route]), pipeline


async def _call(app: Starlette, method: str = "GET", key: str = "k") -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        return await client.request(method, "/items", headers={"key": key} if key else {})


async def test_a_fault_is_served_instead_of_the_request_and_used_up() -> None:
    plan, ran = FaultPlan(), []
    app, _ = _app(plan, ran)
    plan.inject(Fault("status", status=503, retry_after=2, headers={"X-Why": "maintenance"}))

    first, second = await _call(app), await _call(app)

    assert (first.status_code, first.json()) == (503, {"error": 503})
    assert first.headers["retry-after"] == "2" and first.headers["x-why"] == "maintenance"
    assert second.status_code == 200 and ran == ["GET"]


async def test_a_lost_answer_runs_the_request_then_answers_the_fault() -> None:
    plan, ran = FaultPlan(), []
    app, _ = _app(plan, ran)
    plan.inject(Fault("malformed", method="POST", after_processing=True))

    response = await _call(app, "POST")

    assert response.status_code == 200 and response.content == b'{"items": ['
    assert ran == ["POST"]


async def test_faults_match_on_operation_method_and_path() -> None:
    plan = FaultPlan()
    plan.inject(Fault(operation="Other"))
    plan.inject(Fault(method="DELETE"))
    plan.inject(Fault(path="/elsewhere"))
    assert plan.take("Items", "GET", "/items") is None
    assert plan.take("Other", "GET", "/items") is not None
    assert plan.take("Items", "delete", "/items") is not None
    assert plan.take(None, "GET", "/elsewhere/1") is not None
    assert plan.queued == []


async def test_a_refused_request_never_reaches_the_handler() -> None:
    plan, ran = FaultPlan(), []
    app, _ = _app(plan, ran)

    response = await _call(app, key="")

    assert response.status_code == 401 and ran == []


async def test_an_answer_outside_the_spec_is_a_sandbox_bug_sent_as_501() -> None:
    plan, ran = FaultPlan(), []
    app, pipeline = _app(plan, ran, answer={"wrong": True})

    response = await _call(app)

    assert response.status_code == 501
    assert pipeline.bugs == ["GET /items -> 200: not ok"]


@pytest.mark.parametrize("seed", [1, 2])
def test_random_faults_repeat_with_the_seed(seed: int) -> None:
    def draws() -> list[str | None]:
        plan = FaultPlan()
        plan.randomize(0.5, seed)
        return [f.label if (f := plan.take(method="GET")) else None for _ in range(200)]

    assert draws() == draws()


def test_serve_runs_an_app_on_a_free_loopback_port_until_stopped() -> None:
    served = serve(Starlette(routes=[Route("/", lambda request: JSONResponse({"up": True}))]),
                   "probe")
    try:
        assert served.url.startswith("http://127.0.0.1:")
        assert httpx.get(served.url + "/").json() == {"up": True}
    finally:
        served.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(served.url + "/")


def test_a_garbled_answer_to_a_write_is_a_lost_answer_only_where_writes_run_first() -> None:
    rest = FaultPlan(mix=(Fault("malformed"),), writes_run_before_garbled_answers=True)
    graphql = FaultPlan(mix=(Fault("malformed"),))
    for plan in (rest, graphql):
        plan.randomize(1.0)
    assert [f.after_processing for f in (rest.take(method="GET"), rest.take(method="POST"))
            if f] == [False, True]
    assert [f.after_processing for f in (graphql.take(method="POST"),) if f] == [False]
