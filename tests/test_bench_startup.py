"""The start-up benchmark (``python -m bench --only startup``) measures both commands and
reports each as a multiple of ``python -c pass``, with its target and bound; the speed itself is
measured by the benchmark, never asserted here."""

from __future__ import annotations

import asyncio

from bench import startup
from bench.run import BENCHMARKS


def test_startup_figures_have_their_targets_and_bounds() -> None:
    assert "startup" in BENCHMARKS

    results = asyncio.run(startup.run_rounds(1))

    assert [r.figure for r in results] == ["ordersync --version / python -c pass",
                                           "ordersync status / python -c pass"]
    assert [r.target for r in results] == [4.0, 8.0]
    for result in results:
        assert result.measured is not None and result.measured > 1
        assert result.bound is not None and result.bound > 1
        assert result.details["rounds"] == 1
        assert result.details["best_ms"] > result.details["python_c_pass_best_ms"]
