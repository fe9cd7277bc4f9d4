"""The benchmark command: every documented row, with sensible numbers (not speed)."""

import json
import math

from bpviz import bench

ENGINE_ROWS = [
    "BLAS threads during the timings",
    "step 4-5-3 iris, per sample, with record",
    "step 4-5-3 iris, per sample, no record",
    "step 64-32-16-10 digits, per sample, with record",
    "step 64-32-16-10 digits, per sample, no record",
    "64-32-16-10 digits, batch 32, with record",
    "64-32-16-10 digits, batch 32, no record",
    "784-128-64-10 random, batch 64, with record",
    "784-128-64-10 random, batch 64, no record",
    "784-128-64-10, batch 64, page faults per step",
    "784-128-64-10, batch 64, its 8 matrix products alone",
    "784-128-64-10 step time / products alone, with record",
    "784-128-64-10 step time / products alone, no record",
]
GUI_ROWS = [
    "digits 64-32-16-10 headless Trainer loop",
    "the training process alone, nothing drawn",
    "digits 64-32-16-10 playing in the window",
    "window frames while playing",
    "GUI thread's share of the time while playing",
    "playing / headless",
    "784-256-256-10 per sample, headless",
    "784-256-256-10 playing in the window",
    "784-256-256-10 window frames while playing",
    "784-256-256-10 playing / headless",
    "network view 64-32-16-10, update + paint",
    "network view 784-32-10, update + paint",
    "network view 784-128-10, update + paint",
    "network view 784-256-256-10, update + paint",
    "10 ms timer lateness while playing, median",
    "10 ms timer lateness while playing, p99",
    "Step to repainted network view, digits, median",
]
MEMORY_ROWS = ["resident size after 10,000 Iris steps, history on"]


def test_quick_json_has_every_row_with_positive_finite_numbers(capsys):
    assert bench.main(["--quick", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("cpu", "cores", "python", "numpy", "blas"):
        assert report["machine"][key]
    rows = {row["name"]: row for row in report["rows"]}
    assert list(rows) == ENGINE_ROWS + GUI_ROWS + MEMORY_ROWS
    for name, row in rows.items():
        assert math.isfinite(row["value"]), name
        # A timer may fire on time, and a step may fault no page.
        may_be_zero = row["unit"] == "faults" or "lateness" in name
        assert row["value"] >= 0 if may_be_zero else row["value"] > 0, name
        assert row["unit"], name
        assert row["status"] in (("ok", "MISSED") if row["target"] else ("",)), name
    assert rows["BLAS threads during the timings"]["value"] == 1


def test_rows_compare_with_their_targets_and_print_three_figures():
    assert bench.Row("gui", "redraw", 12.0, "ms", ("<=", 16.0)).status == "ok"
    assert bench.Row("gui", "frames", 20.0, "per s", (">=", 30.0)).status == "MISSED"
    assert bench.Row("engine", "no target", 1.0, "µs").status == ""
    assert bench.Row("gui", "lateness", 5.0, "ms", ("<", 5.0)).status == "MISSED"
    assert [bench.three_figures(v) for v in (28.649, 0.012345, 1.1, 274_123.0)] == ["28.6", "0.0123", "1.10", "274,000"]
    table = bench.format_table({"cpu": "test"}, [bench.Row("gui", "redraw", 12.0, "ms", ("<=", 16.0))])
    assert "redraw" in table and "<= 16.0" in table and table.rstrip().endswith("ok")
