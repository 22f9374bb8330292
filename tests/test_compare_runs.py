"""benchmarks/compare_runs.py: paired changes between two hard_scenes runs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.compare_runs import comparison_table, paired_change

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_runs.py"


def rows(*values):
    return [{"seed": seed, "MOTA": mota, "IDF1": idf1} for seed, (mota, idf1) in
            enumerate(values, start=101)]


def test_paired_change_is_the_mean_and_standard_error_of_per_seed_differences():
    before = rows((0.5, 0.5), (0.6, 0.5), (0.7, 0.5))
    after = rows((0.6, 0.5), (0.6, 0.5), (0.9, 0.5))
    # differences 0.1, 0.0, 0.2: mean 0.1, sd 0.1, standard error 0.1 / sqrt(3) = 0.0577
    assert paired_change(before, after, "MOTA") == "+0.100 ± 0.058"
    assert paired_change(before, after, "IDF1") == "+0.000 ± 0.000"
    assert paired_change(before[::-1], after, "MOTA") == "+0.100 ± 0.058"  # paired by seed
    with pytest.raises(ValueError, match="no seeds"):
        paired_change([], [], "MOTA")


def test_table_keeps_pairs_both_runs_hold_and_refuses_other_seeds():
    before = {"formation": {"gnn": rows((0.8, 0.7)), "jpda": rows((0.8, 0.7))}}
    after = {"formation": {"gnn": rows((0.9, 0.6))}}
    table = comparison_table(before, after, ("a", "b"), None)
    assert table.splitlines()[2] == ("| formation | gnn | 0.800 (0.700) | 0.900 (0.600) | +0.100 "
                                     "| -0.100 |")
    assert len(table.splitlines()) == 3
    shifted = {"formation": {"gnn": [dict(rows((0.9, 0.6))[0], seed=7)]}}
    with pytest.raises(ValueError, match="seeds differ"):
        comparison_table(before, shifted, ("a", "b"), None)


def test_cli_prints_the_table_and_names_a_bad_file(tmp_path):
    run = tmp_path / "run.json"
    run.write_text(json.dumps({"results": {"crossing": {"gnn": rows((0.9, 0.9), (0.8, 0.8))}}}))
    done = subprocess.run([sys.executable, SCRIPT, run, run, "--out", tmp_path / "t.md"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "+0.000 ± 0.000" in done.stdout
    assert (tmp_path / "t.md").read_text() == done.stdout
    bad = subprocess.run([sys.executable, SCRIPT, run, tmp_path / "missing.json"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("Error:")
    assert len(bad.stderr.strip().splitlines()) == 1
