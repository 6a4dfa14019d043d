"""The Shopify sandbox in its own process, for benchmarks: ``python -m bench.shopify_server``.

On a 2-core machine the sandbox must not share the benchmark's interpreter (and its GIL): its
schema validation and cost walks would be charged to ordersync. This process serves the
sandbox on 127.0.0.1 (a free port, ``TCP_NODELAY``), prints one JSON line
``{"base_url", "shop", "access_token"}`` and serves until its stdin closes.

Besides the Admin GraphQL endpoint it answers, for the benchmark only:

- ``GET /bench/stats``: orders created (count, first and last creation time), requests by
  operation, THROTTLED answers, the requested cost of the requests by operation as the
  plugin's documents declare it (``ordersync_shopify.documents``, ``Document.cost_for``), the
  actual cost the bucket kept by operation (Shopify takes the requested cost before a query
  runs and gives back the difference to its actual cost after; a THROTTLED answer costs
  nothing), and the CPU seconds the sandbox process has used;
- ``POST /bench/drain``: empty the cost bucket, so that a measurement starts at the restore
  rate and not with a full bucket's burst.

:func:`start` runs it as a subprocess and returns a :class:`SandboxProcess`.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]


def _stats(state: Any) -> dict[str, Any]:
    from ordersync_shopify import documents

    costs = {doc.name: doc for doc in documents.ALL}
    with state.lock:
        requests = list(state.requests)
        created = sorted(order.created_at for order in state.orders.values())
    by_op: Counter[str] = Counter()
    cost: Counter[str] = Counter()
    actual: Counter[str] = Counter()
    throttled = 0
    for received in requests:
        name = received.operation_name or "?"
        by_op[name] += 1
        doc = costs.get(name)
        if doc is not None:
            cost[name] += doc.cost_for(received.variables)
        actual[name] += int((received.cost or {}).get("actualQueryCost") or 0)
        if any((e.get("extensions") or {}).get("code") == "THROTTLED"
               for e in received.errors if isinstance(e, dict)):
            throttled += 1
    return {
        "orders": len(created),
        "first_created": created[0].timestamp() if created else None,
        "last_created": created[-1].timestamp() if created else None,
        "requests": dict(by_op), "requested_cost": dict(cost), "actual_cost": dict(actual),
        "throttled": throttled,
        "bucket": state.bucket.status(),
        # The sandbox's own CPU: when it nears one core per second, the sandbox is the limit.
        "cpu_s": time.process_time(),
    }


def serve_forever(latency: float, maximum: float, restore: float, products: int,
                  quantity: int) -> None:
    import uvicorn
    from ordersync_shopify.sandbox import SandboxState, create_app
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from bench.platforms import sku

    state = SandboxState(maximum_available=maximum, restore_rate=restore, latency=latency)
    for k in range(products):
        state.seed_product(sku(k), f"Product {k}", "12.00", quantity=quantity)
    app = create_app(state)

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse(_stats(state))

    async def drain(request: Request) -> JSONResponse:
        with state.lock:
            state.bucket.take(state.bucket.available())
            return JSONResponse(state.bucket.status())

    app.router.routes.append(Route("/bench/stats", stats, methods=["GET"]))
    app.router.routes.append(Route("/bench/drain", drain, methods=["POST"]))

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           access_log=False))

    def announce() -> None:
        while not server.started:
            threading.Event().wait(0.01)
        print(json.dumps({"base_url": f"http://127.0.0.1:{port}", "shop": state.shop,
                          "access_token": state.access_token}), flush=True)

    def watch_stdin() -> None:
        sys.stdin.read()  # returns when the parent closes the pipe or exits
        server.should_exit = True

    threading.Thread(target=announce, daemon=True).start()
    threading.Thread(target=watch_stdin, daemon=True).start()
    server.run(sockets=[sock])


@dataclass
class SandboxProcess:
    process: subprocess.Popen[str]
    base_url: str
    shop: str
    access_token: str

    def stats(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.base_url}/bench/stats", timeout=30).json()
        return answer

    def drain(self) -> None:
        httpx.post(f"{self.base_url}/bench/drain", timeout=30).raise_for_status()

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(*, latency: float, maximum: float = 2000, restore: float = 1000, products: int = 50,
          quantity: int = 1_000_000) -> SandboxProcess:
    """Run the sandbox in a subprocess; stop it with ``SandboxProcess.stop()``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.shopify_server", "--latency", str(latency),
         "--maximum", str(maximum), "--restore", str(restore), "--products", str(products),
         "--quantity", str(quantity)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO, env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait()
        msg = f"the Shopify sandbox process exited with {process.returncode} before serving"
        raise RuntimeError(msg)
    info = json.loads(line)
    return SandboxProcess(process=process, base_url=info["base_url"], shop=info["shop"],
                          access_token=info["access_token"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per call")
    parser.add_argument("--maximum", type=float, default=2000, help="bucket size (points)")
    parser.add_argument("--restore", type=float, default=1000, help="points restored per second")
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--quantity", type=int, default=1_000_000)
    args = parser.parse_args()
    serve_forever(args.latency, args.maximum, args.restore, args.products, args.quantity)


if __name__ == "__main__":
    main()
