"""The shared benchmark report writer: summary statistics, CSV, markdown, JSON, PNGs, coverage."""

import json
import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments.report import (
    Metric,
    Summary,
    coverage_line,
    markdown_tables,
    results_csv,
    summarise,
    within_spread,
    write_report,
)

METRICS = [Metric("acc", "Accuracy"), Metric("err", "Error", log_y=True, digits=2)]


def _rows():
    return [
        {"method": "b", "size": 10, "seed": 0, "acc": 0.5, "err": 2.0, "extra": "kept"},
        {"method": "a", "size": 10, "seed": 1, "acc": 3.0, "err": 1.0},
        {"method": "a", "size": 10, "seed": 0, "acc": 1.0, "err": 1.0},
        {"method": "a", "size": 5, "seed": 0, "acc": 2.0, "err": 0.5},
        {"method": "a", "size": 10, "seed": 2, "acc": 2.0, "err": 1.0},
    ]


def test_summary_is_mean_and_sample_sd_over_seeds():
    summaries = summarise(_rows(), METRICS)
    by_key = {(s.method, s.size, s.metric): s for s in summaries}
    assert by_key[("a", 10, "acc")] == Summary("a", 10, "acc", 3, 2.0, 1.0, 1.0, 3.0)
    assert by_key[("a", 5, "acc")] == Summary("a", 5, "acc", 1, 2.0, 0.0, 2.0, 2.0)
    assert by_key[("b", 10, "err")] == Summary("b", 10, "err", 1, 2.0, 0.0, 2.0, 2.0)
    assert [s.method for s in summaries][0] == "b"  # methods keep first-seen order
    assert len(summaries) == 3 * len(METRICS)


@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=10))
def test_spread_matches_statistics_stdev(values):
    rows = [{"method": "m", "size": 1, "seed": i, "acc": v, "err": 0.0}
            for i, v in enumerate(values)]
    (acc, _) = summarise(rows, METRICS)
    assert acc.mean == pytest.approx(statistics.fmean(values), abs=1e-6)
    assert acc.spread == pytest.approx(statistics.stdev(values), rel=1e-6, abs=1e-6)


def test_nan_values_are_left_out_of_the_summary():
    rows = [{"method": "m", "size": 1, "seed": i, "acc": v, "err": math.nan}
            for i, v in enumerate([1.0, math.nan, 3.0])]
    acc, err = summarise(rows, METRICS)
    assert (acc.mean, acc.spread) == (2.0, pytest.approx(math.sqrt(2.0)))
    assert (acc.seeds, acc.low, acc.high) == (2, 1.0, 3.0)  # seeds that have the metric
    assert math.isnan(err.mean) and math.isnan(err.spread) and err.seeds == 0


def test_a_metric_no_run_has_is_not_measured_and_its_paper_value_unmarked():
    rows = [{"method": "m", "size": 1, "seed": i, "acc": 1.0} for i in range(3)]  # no "err"
    paper = {"m": {1: {"acc": 1.004, "err": 0.5}}}
    text = markdown_tables(summarise(rows, METRICS), METRICS, paper)
    assert "| 1 | 1.000 ± 0.000 (3) | 1.00 (in) |" in text  # printed as the paper does
    assert "| 1 | not measured | 0.50 |" in text


def test_within_spread_is_between_lowest_and_highest_seed_up_to_the_papers_rounding():
    (acc, _) = summarise(_rows()[1:3] + _rows()[4:], METRICS)  # a at 10: 1.0, 2.0, 3.0
    assert [within_spread(acc, v) for v in (0.99, 0.996, 3.005, 3.006, None)] == [
        False, True, True, False, None]
    (single, _) = summarise(_rows()[3:4], METRICS)
    assert within_spread(single, 2.0) is None  # one seed: no spread, no verdict


def test_csv_is_long_format_sorted_by_method_size_seed():
    lines = results_csv(_rows(), METRICS).splitlines()
    assert lines[0] == "method,size,seed,acc,err"
    assert lines[1:] == ["a,5,0,2.0,0.5", "a,10,0,1.0,1.0", "a,10,1,3.0,1.0", "a,10,2,2.0,1.0",
                         "b,10,0,0.5,2.0"]


def test_markdown_puts_paper_values_beside_ours():
    paper = {"a": {5: {"acc": 0.25}, 20: {"acc": 0.75}}}
    text = markdown_tables(summarise(_rows(), METRICS), METRICS, paper)
    assert "| N | b | a | a (paper) |" in text
    assert "| 5 | not run | 2.000 (1) | 0.25 |" in text
    assert "| 10 | 0.500 (1) | 2.000 ± 1.000 (3) |  |" in text
    assert "| 20 | not run | not run | 0.75 |" in text  # a paper-only size still shows
    # no paper value of this metric: no paper column
    assert "### Error" in text and "| 10 | 2.00 (1) | 1.00 ± 0.00 (3) |\n" in text


def test_coverage_line_says_partial():
    assert coverage_line(5, 5).startswith("Complete")
    assert "PARTIAL: 3 of 5" in coverage_line(3, 5)


def test_write_report_files(tmp_path):
    planned = [(r["method"], r["size"], r["seed"]) for r in _rows()] + [("b", 10, 1)]
    paths = write_report(tmp_path / "out", _rows(), METRICS, title="Toy", command="toy --run",
                         planned=planned, paper={"a": {5: {"acc": 0.25}}}, paper_note="Table 9.",
                         notes="## Notes\n\nhello")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "acc.png", "err.png", "report.md", "results.csv", "results.json"]
    assert (tmp_path / "out" / "acc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = paths["md"].read_text()
    assert "PARTIAL: 5 of 6" in report and "(b, 10, 1)" in report
    assert "toy --run" in report and "Paper: Table 9." in report and "hello" in report
    data = json.loads(paths["json"].read_text())
    assert (data["planned_runs"], data["completed_runs"], data["complete"]) == (6, 5, False)
    assert data["missing"] == [["b", 10, 1]]
    assert data["paper"] == {"a": {"5": {"acc": 0.25}}}
    assert data["comparison"] == [{"method": "a", "size": 5, "metric": "acc", "paper": 0.25,
                                   "ours": {"seeds": 1, "mean": 2.0, "spread": 0.0, "low": 2.0,
                                            "high": 2.0}, "within_seed_spread": None}]
    assert '"(in)": it lies within our seed spread' in report
    assert "| Accuracy | 1 | 0 | 0 | 1 |" in report  # one paper value, one seed: no verdict
    assert data["runs"][0]["extra"] == "kept"


def test_write_report_without_plots_writes_no_png(tmp_path):
    write_report(tmp_path, _rows(), METRICS, title="Toy", command="toy",
                 planned=[(r["method"], r["size"], r["seed"]) for r in _rows()], plots=False)
    assert not list(tmp_path.glob("*.png"))
    assert "Complete" in (tmp_path / "report.md").read_text()
