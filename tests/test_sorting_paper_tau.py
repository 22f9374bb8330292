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


def test_priority_puts_the_largest_and_smallest_n_of_seed_0_first():
    keys = {(n, s): priority(SortingConfig(n=n, seed=s, method="hste"), 400)
            for n in (10, 100, 400) for s in (0, 1)}
    assert sorted(keys, key=keys.get) == [(10, 0), (400, 0), (100, 0), (10, 1), (100, 1),
                                          (400, 1)]


def test_no_runs_is_one_error_line(tmp_path):
    result = CliRunner().invoke(main, ["--results", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: no run files in {tmp_path / 'runs'}"]
