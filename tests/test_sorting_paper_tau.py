"""`python -m experiments.sorting_paper_tau` on tiny stored runs: retrains, checks, bad input."""

import json

from click.testing import CliRunner

from experiments.sorting import SortingConfig
from experiments.sorting_paper_tau import PAPER_TAU_FOLDER, main, priority
from experiments.sorting_sweep import run_and_store, run_path


def _store(tmp_path, **settings) -> SortingConfig:
    config = SortingConfig(epochs=3, **settings)
    run_and_store(config, tmp_path)
    return config


def _invoke(*args):
    return CliRunner().invoke(main, [*args], catch_exceptions=False)


def test_retrains_every_run_and_checks_the_stored_metrics(tmp_path):
    good = _store(tmp_path, n=4, method="hste", seed=1)
    bad = _store(tmp_path, n=5, method="sinkhorn", seed=0)
    path = run_path(tmp_path, bad)
    row = json.loads(path.read_text())
    row["prop_wrong"] += 0.5  # a stored value the retrained run cannot reproduce
    path.write_text(json.dumps(row))
    result = _invoke("--results", str(tmp_path))
    assert result.exit_code == 0, result.output
    ok = json.loads((tmp_path / PAPER_TAU_FOLDER / "hste_N4_seed1.json").read_text())
    assert ok["reproduced"] is True and "stored_prop_wrong" not in ok
    assert ok["kendall_tau_list"] == json.loads(run_path(tmp_path, good).read_text())[
        "kendall_tau_list"]
    wrong = json.loads((tmp_path / PAPER_TAU_FOLDER / "sinkhorn_N5_seed0.json").read_text())
    assert wrong["reproduced"] is False and wrong["stored_prop_wrong"] == row["prop_wrong"]


def test_a_spent_budget_starts_nothing_and_finished_runs_are_skipped(tmp_path):
    _store(tmp_path, n=3, method="hste", seed=0)
    assert _invoke("--results", str(tmp_path), "--budget-min", "0").exit_code == 0
    assert not (tmp_path / PAPER_TAU_FOLDER).exists()
    assert _invoke("--results", str(tmp_path)).exit_code == 0
    done = tmp_path / PAPER_TAU_FOLDER / "hste_N3_seed0.json"
    stamp = done.stat().st_mtime_ns
    assert "retraining" not in _invoke("--results", str(tmp_path)).output
    assert done.stat().st_mtime_ns == stamp


def test_run_retrains_only_the_named_runs_and_an_unknown_name_is_an_error(tmp_path):
    _store(tmp_path, n=3, method="hste", seed=0)
    _store(tmp_path, n=4, method="hste", seed=0)
    assert _invoke("--results", str(tmp_path), "--run", "hste_N4_seed0").exit_code == 0
    assert sorted(p.name for p in (tmp_path / PAPER_TAU_FOLDER).iterdir()) == [
        "hste_N4_seed0.json"]
    result = CliRunner().invoke(main, ["--results", str(tmp_path), "--run", "hste_N9_seed0"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: {tmp_path}: no stored run named hste_N9_seed0"]


def test_priority_is_seed_0_first_then_cheapest_first():
    rows = [{"seed": s, "train_seconds": t, "name": f"{s}/{t}"} for s in (1, 0) for t in (9, 2)]
    assert [r["name"] for r in sorted(rows, key=priority)] == ["0/2", "0/9", "1/2", "1/9"]


def test_no_runs_is_one_error_line(tmp_path):
    result = CliRunner().invoke(main, ["--results", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: no run files in {tmp_path / 'runs'}"]


def _sweep(out, *extra):
    from tracker.cli import main as hste

    args = ["bench", "sorting", "--sizes", "3", "--methods", "hste", "--seeds", "2",
            "--epochs", "3", "--no-plots", "--out", str(out), *extra]
    result = CliRunner().invoke(hste, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return (out / "report.md").read_text()


def test_the_report_takes_the_list_tau_of_reproduced_retrained_runs_only(tmp_path):
    assert "**2 of 2 runs have the list-form tau** (2 measured in their sweep" in _sweep(tmp_path)
    for seed in (0, 1):  # as stored before the list-form tau existed
        path = tmp_path / "runs" / f"hste_N3_seed{seed}.json"
        row = json.loads(path.read_text())
        del row["kendall_tau_list"]
        row["l2_x1000"] += seed  # seed 1 cannot reproduce
        path.write_text(json.dumps(row))
    assert "**0 of 2 runs have" in _sweep(tmp_path, "--report-only")
    assert _invoke("--results", str(tmp_path)).exit_code == 0
    report = _sweep(tmp_path, "--report-only")
    assert "**1 of 2 runs have the list-form tau** (0 measured in their sweep, 1 recomputed" \
        in report
    assert "Retrained but not reproduced (left out): hste_N3_seed1." in report
    assert "| 3 | 0 |" in report  # seeds with the list-form tau in the N = 3 row
    assert "| hste_N3_seed0 | yes |" in report and "| hste_N3_seed1 | no |" in report
