"""Every permutation operator of tracker.perm as a method of ``hste bench sorting`` and ``hste
bench jigsaw`` and as the tracker's training operator, on tiny inputs; old spellings of committed
results still read."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from learned_scans import single_thread  # noqa: F401 (autouse fixture)
from test_jigsaw import write_tiny_mnist
from test_tracking_cli import assert_refused, run
from test_training_cli import TINY

from common.errors import InputError
from experiments.jigsaw import JigsawConfig
from experiments.sorting import METHODS, SortingConfig
from experiments.sorting_sweep import load_finished
from tracker.cli import main
from tracker.perm import OPERATORS

ROOT = Path(__file__).resolve().parents[1]
NEW_SORTING_METHODS = ["perturbed", "perturbed-gumbel", "blackbox", "blackbox-gumbel",
                       "hste-softmax", "hste-softmax-gumbel"]


def test_sorting_methods_cover_every_operator_in_one_spelling():
    assert {METHODS[name].operator for name in METHODS} == set(OPERATORS)
    assert set(NEW_SORTING_METHODS) <= set(METHODS)


def test_sorting_cli_trains_every_new_method(tmp_path):
    out = tmp_path / "sorting"
    args = ["bench", "sorting", "--sizes", "4", "--methods", ",".join(NEW_SORTING_METHODS),
            "--seeds", "1", "--epochs", "3", "--no-plots", "--out", str(out)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with open(out / "results.csv") as handle:
        rows = {row["method"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == sorted(NEW_SORTING_METHODS)
    for method, row in rows.items():
        assert -1.0 <= float(row["kendall_tau"]) <= 1.0, method
        assert float(row["constraint_error_row"]) < 1e-6, method  # exact or a mean of exact


def test_sorting_perturbed_needs_noise():
    with pytest.raises(InputError, match="needs noise > 0"):
        SortingConfig(method="perturbed", noise=0.0)


def test_committed_sorting_runs_still_load():
    paths = sorted((ROOT / "docs/results/sorting").rglob("runs/*.json"))
    assert paths
    for path in paths:
        row = json.loads(path.read_text())
        config = SortingConfig(**{name: row[name] for name in SortingConfig.__dataclass_fields__})
        assert load_finished(path.parent.parent, config) == row


@pytest.mark.parametrize("spelling", ["gumbel_sinkhorn", "sinkhorn"])
def test_jigsaw_reads_both_spellings_of_sinkhorn(spelling):
    config = JigsawConfig(method=spelling)
    assert config.method == "sinkhorn" and config.run_name == "M3_sinkhorn_seed0"


def test_jigsaw_refuses_unknown_operators_and_noise_free_perturbed():
    with pytest.raises(InputError, match="'gumbel-sinkhorn'; choose from hste, sinkhorn"):
        JigsawConfig(method="gumbel-sinkhorn")
    with pytest.raises(InputError, match="needs noise > 0"):
        JigsawConfig(method="perturbed", noise=0.0)


def test_committed_jigsaw_results_name_known_operators():
    methods = set()
    for path in (ROOT / "docs/results/jigsaw").rglob("results.csv"):
        with open(path) as handle:
            methods |= {row["method"] for row in csv.DictReader(handle)}
    assert methods  # e.g. hste, gumbel_sinkhorn, ours_hste
    for label in methods:
        model, _, method = label.rpartition("_") if label.startswith("ours_") else ("", "", label)
        assert JigsawConfig(method=method).method in OPERATORS, label


def test_jigsaw_cli_trains_the_new_operators(tmp_path):
    data, out = write_tiny_mnist(tmp_path / "mnist"), tmp_path / "out"
    args = ["bench", "jigsaw", "--data-dir", str(data), "--out", str(out), "--sizes", "2",
            "--epochs", "1", "--methods", "perturbed,blackbox,hste-softmax", "--eval-subset", "8"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    with open(out / "results.csv") as handle:
        assert sorted(row["method"] for row in csv.DictReader(handle)) == [
            "blackbox", "hste-softmax", "perturbed"]
    bad = CliRunner().invoke(main, args[:-4] + ["--methods", "hungarian,nope"])
    assert bad.exit_code == 2 and "'nope' is not one of hste, sinkhorn" in bad.output


@pytest.mark.parametrize("operator", ["perturbed", "blackbox", "hste-softmax"])
def test_tracker_trains_with_every_operator(tmp_path, operator):
    out = tmp_path / operator
    result = run("train", *TINY, "--epochs", "1", "--validation-scenes", "0",
                 "--operator", operator, "--out", out)
    assert result.exit_code == 0, result.output
    with open(out / "log.csv", newline="") as handle:
        losses = [float(row["loss"]) for row in csv.DictReader(handle) if row["loss"]]
    assert losses and all(loss >= 0 for loss in losses)
    assert torch.load(out / "checkpoint.pt", weights_only=True)["operator"] == operator


def test_tracker_refuses_noise_free_perturbed(tmp_path):
    result = run("train", *TINY, "--operator", "perturbed", "--noise", "0", "--out", tmp_path)
    assert_refused(result, "perturbed needs noise > 0")
