"""`hste bench sorting` end to end on tiny sweeps: outputs, resuming, partial reports, bad input."""

import csv
import json

import pytest
from click.testing import CliRunner

from tracker.cli import main

TINY = ["bench", "sorting", "--sizes", "3,4", "--methods", "hste,sinkhorn", "--seeds", "2",
        "--epochs", "3", "--no-plots"]


def _invoke(*args):
    return CliRunner().invoke(main, [*args], catch_exceptions=False)


def _run_files(out):
    return {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}


def test_tiny_sweep_writes_every_output(tmp_path):
    out = tmp_path / "sorting"
    result = _invoke(*TINY, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "8 of 8 runs" in result.output
    with open(out / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8
    assert list(rows[0])[:3] == ["method", "size", "seed"]
    assert {"kendall_tau", "prop_wrong", "prop_any_wrong", "l1_x100", "l2_x1000",
            "constraint_error_row", "seconds_per_epoch"} <= set(rows[0])
    report = (out / "report.md").read_text()
    assert "Complete: all 8 planned runs" in report
    assert "--epochs 3" in report and "--sizes 3,4" in report
    summary = json.loads((out / "results.json").read_text())
    assert summary["complete"] and summary["completed_runs"] == 8
    assert len(json.loads((out / "sweep_log.json").read_text())) == 1


def test_rerun_skips_finished_runs_and_redoes_missing_ones(tmp_path):
    out = tmp_path / "sorting"
    assert _invoke(*TINY, "--out", str(out)).exit_code == 0
    before = _run_files(out)
    assert _invoke(*TINY, "--out", str(out)).exit_code == 0
    assert _run_files(out) == before  # nothing retrained

    (out / "runs" / "hste_N4_seed1.json").unlink()
    assert _invoke(*TINY, "--out", str(out)).exit_code == 0
    after = _run_files(out)
    assert set(after) == set(before)
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"hste_N4_seed1.json"}
    assert len(json.loads((out / "sweep_log.json").read_text())) == 2


def test_report_only_labels_a_partial_sweep(tmp_path):
    out = tmp_path / "sorting"
    assert _invoke(*TINY, "--out", str(out)).exit_code == 0
    (out / "runs" / "sinkhorn_N4_seed0.json").unlink()
    result = _invoke(*TINY, "--out", str(out), "--report-only")
    assert result.exit_code == 0
    assert "7 of 8 runs" in result.output
    assert not (out / "runs" / "sinkhorn_N4_seed0.json").exists()  # nothing trained
    report = (out / "report.md").read_text()
    assert "PARTIAL: 7 of 8" in report and "(sinkhorn, 4, 0)" in report


@pytest.mark.slow  # spawns two worker processes that import torch
def test_parallel_jobs_give_the_same_results(tmp_path):
    args = ["bench", "sorting", "--sizes", "4", "--methods", "hste-gumbel", "--seeds", "2",
            "--epochs", "3", "--no-plots"]
    assert _invoke(*args, "--out", str(tmp_path / "serial")).exit_code == 0
    assert _invoke(*args, "--jobs", "2", "--out", str(tmp_path / "parallel")).exit_code == 0
    for seed in (0, 1):
        name = f"runs/hste-gumbel_N4_seed{seed}.json"
        serial, parallel = (json.loads((tmp_path / f / name).read_text())
                            for f in ("serial", "parallel"))
        for key in ("kendall_tau", "prop_wrong", "final_loss", "l2_x1000"):
            assert serial[key] == parallel[key]


def _error_line(result):
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("bad, words", [
    (["--sizes", "5,x"], "comma-separated integers"),
    (["--sizes", "0"], "positive integers"),
    (["--methods", "hste,nope"], "unknown method"),
    (["--epochs", "0"], "epochs must be >= 1"),
    (["--lr", "-1"], "lr must be > 0"),
    (["--jobs", "0"], ">= 1"),
])
def test_bad_options_exit_2_with_one_line_and_no_output(tmp_path, bad, words):
    out = tmp_path / "never"
    line = _error_line(CliRunner().invoke(main, [*TINY, "--out", str(out), *bad]))
    assert words in line
    assert not out.exists()


def test_bad_config_file(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("epochs = 'many'\nbogus = 1\n")
    line = _error_line(CliRunner().invoke(
        main, [*TINY, "--config", str(config), "--out", str(tmp_path / "o")]))
    assert "unknown config keys ['bogus']" in line


def test_config_file_values_are_used_and_options_win(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("epochs = 2\nlr = 0.05\n")
    out = tmp_path / "o"
    args = ["bench", "sorting", "--sizes", "3", "--methods", "hste", "--seeds", "1", "--no-plots"]
    assert _invoke(*args, "--config", str(config), "--lr", "0.2", "--out", str(out)).exit_code == 0
    run = json.loads((out / "runs" / "hste_N3_seed0.json").read_text())
    assert (run["epochs"], run["lr"]) == (2, 0.2)


def test_runs_with_other_settings_are_refused(tmp_path):
    out = tmp_path / "sorting"
    assert _invoke(*TINY, "--out", str(out)).exit_code == 0
    before = _run_files(out)
    line = _error_line(CliRunner().invoke(main, [*TINY, "--out", str(out), "--lr", "0.05"]))
    assert "other settings (lr differ)" in line
    assert _run_files(out) == before


def test_truncated_run_file_is_reported(tmp_path):
    out = tmp_path / "sorting"
    assert _invoke(*TINY, "--out", str(out)).exit_code == 0
    path = out / "runs" / "hste_N3_seed0.json"
    path.write_text(path.read_text()[:20])
    line = _error_line(CliRunner().invoke(main, [*TINY, "--out", str(out)]))
    assert "unreadable run file" in line and "hste_N3_seed0.json" in line
