"""The benchmark command runs end to end and reports every field (docs/performance.md).

Speed is measured by ``python -m bench``, never asserted by a timed test: this only proves that
the command works and that its report has the shape the docs describe.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
