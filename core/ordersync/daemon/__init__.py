"""``ordersync run``: the daemon that keeps every channel in sync with the main store.

One asyncio loop runs everything:

- :mod:`.scheduler` runs each enabled channel's sync pass on its own poll interval, the main
  store's pass, reconciliation rounds and webhook-triggered work, one job at a time per channel,
  with bounded concurrency per platform and backoff on a failing channel;
- :mod:`.webhooks` receives webhook deliveries: verified by the platform, deduplicated by event
  id, turned into work for the scheduler;
- :mod:`.app` is the HTTP face (uvicorn serves it): webhooks, ``/healthz``, ``/metrics``;
- :mod:`.metrics` is the Prometheus registry of one daemon;
- :mod:`.lifecycle` starts it all, handles SIGTERM/SIGINT and stops within a bounded time.

Operating it is described in ``docs/operations.md``.
"""
