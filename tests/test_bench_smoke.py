"""The benchmark command runs end to end and reports every field (docs/performance.md).

Speed is measured by ``python -m bench``, never asserted by a timed test: this only proves that
the command works and that its report has the shape the docs describe.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.results import Result, write
from bench.run import main

FIELDS = ("benchmark", "figure", "unit", "measured", "target", "ratio_to_target", "bound",
          "ratio_to_bound", "met", "status", "details")


def test_quick_core_benchmark_reports_its_figure_with_target_and_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "results.json"

    assert main(["--quick", "--only", "core", "--orders", "20", "--output", str(output)]) == 0

    report = json.loads(output.read_text())
    assert report["command"].startswith("python -m bench --quick --only core")
    assert report["machine"]["cpus"] >= 1
    [result] = report["results"]
    assert set(FIELDS) <= set(result)
    assert result["benchmark"] == "core"
    assert result["status"] == "measured"
    assert result["unit"] == "ms"
    assert result["target"] == 1.0
    assert result["measured"] > 0
    assert result["bound"] > 0
    assert result["ratio_to_target"] == pytest.approx(result["measured"] / result["target"],
                                                      rel=1e-3)
    assert result["details"]["orders"] == 20
    table = capsys.readouterr().out
    assert "ratio to target" in table
    assert "core" in table


def test_markdown_renders_a_run_as_the_figures_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "results.json"
    figure = Result(benchmark="latency", figure="webhook | store p99", unit="ms", measured=80.0,
                    target=1000.0, goal="at_most", bound=4.0, bound_meaning="the store's own")
    write(output, [figure], "python -m bench --only latency", 61.0, extra={
        "commit": "abc1234", "uncommitted": [], "quick": False,
        "load_average_before": [0.5, 0.4, 0.3], "load_average_after": [1.0, 0.6, 0.4],
        "benchmarks": {"latency": {"seconds": 61.0, "load_1min_before": 0.5,
                                   "load_1min_after": 1.0}}})

    assert main(["--markdown", str(output)]) == 0

    text = capsys.readouterr().out
    assert "`python -m bench --only latency`" in text
    assert "- Commit: `abc1234`" in text
    assert "| benchmark | figure | measured | target | ratio to target | bound |" in text
    assert "| latency | webhook \\| store p99 | 80 ms | ≤ 1,000 ms | 0.08 | 4 ms | 20 | yes |" \
        in text
    assert "| latency | 61 s | 0.50 | 1.00 |" in text  # the benchmark's wall time and load
