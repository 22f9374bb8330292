"""The near-tie analysis of sorting runs: misplacement listing on a hand-made scorer, the
min-gap probability, reproduction of stored runs, and the command end to end."""

import json
from dataclasses import asdict

import pytest
import torch
from click.testing import CliRunner

from common.errors import InputError
from experiments.sorting import SortingConfig, SortingData, run_sorting
from experiments.sorting_misplaced import (
    main,
    misplacements,
    near_tie_counts,
    prob_min_gap_below,
    reproduce,
)
from experiments.sorting_sweep import run_path


class RankScorer(torch.nn.Module):
    """Scores element i against position j by -(rank_i - j)^2 with a fixed (wrong) rank table."""

    def __init__(self, ranks: list[int]):
        super().__init__()
        self.ranks = torch.tensor(ranks, dtype=torch.float32)

    def forward(self, x):
        positions = torch.arange(x.shape[-1], dtype=torch.float32)
        return -(self.ranks[:, None] - positions[None, :]).square().expand(*x.shape, x.shape[-1])


def test_misplacements_lists_the_swapped_positions_and_their_gap():
    x = torch.tensor([[0.5, 0.1, 0.9, 0.5001]])
    order = torch.tensor([[1, 0, 3, 2]])
    data = SortingData(x=x, x_sorted=torch.gather(x, 1, order), order=order)
    # Ranks put element 3 (0.5001) before element 0 (0.5): positions 1 and 2 are swapped.
    (found,) = misplacements(RankScorer([2, 0, 3, 1]), data)
    assert found.sequence == 0 and found.positions == (1, 2)
    assert found.values == pytest.approx((0.5, 0.5001))
    assert found.gap == pytest.approx(1e-4, rel=1e-3)
    assert found.min_gap == pytest.approx(1e-4, rel=1e-3)
    assert misplacements(RankScorer([1, 0, 3, 2]), data) == []


def test_min_gap_probability():
    assert prob_min_gap_below(2, 0.25) == pytest.approx(1 - 0.75 ** 2)  # P(|U1 - U2| < g)
    assert prob_min_gap_below(100, 0.0) == 0.0
    assert prob_min_gap_below(10, 0.2) == 1.0
    draws = torch.rand(20_000, 30, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    below = (draws.sort(dim=-1).values.diff(dim=-1).min(dim=-1).values < 1e-3).double().mean()
    assert below.item() == pytest.approx(prob_min_gap_below(30, 1e-3), abs=0.01)


def _store(tmp_path, config):
    row = run_sorting(config)
    path = run_path(tmp_path, config)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(row))
    return row


def test_stored_run_reproduces_and_a_changed_one_is_refused(tmp_path):
    row = _store(tmp_path, SortingConfig(n=15, method="hste-gumbel", seed=0, epochs=3))
    assert row["prop_any_wrong"] > 0  # three steps cannot sort 15 numbers
    found = reproduce(row)
    assert len(found) == round(row["prop_any_wrong"] * 10)
    with pytest.raises(InputError, match="does not reproduce"):
        reproduce({**row, "prop_wrong": row["prop_wrong"] + 0.1})


def test_near_tie_counts_count_test_sequences():
    row = asdict(SortingConfig(n=15))
    assert near_tie_counts([row], 1.0) == (10, 10)
    assert near_tie_counts([row], 0.0) == (10, 0)


def test_command_writes_the_report(tmp_path):
    _store(tmp_path, SortingConfig(n=15, method="hste-gumbel", seed=0, epochs=3))
    _store(tmp_path, SortingConfig(n=5, method="hste-gumbel", seed=0, epochs=3))
    out = tmp_path / "misplaced.md"
    result = CliRunner().invoke(main, ["--results", str(tmp_path), "--max-n", "20",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "| 15 | 0 |" in text and "Test sequences of all 2 runs: 20" in text


def test_command_without_runs_exits_2_and_writes_nothing(tmp_path):
    out = tmp_path / "misplaced.md"
    result = CliRunner().invoke(main, ["--results", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: no finished hste-gumbel runs")
    assert not out.exists()


def test_a_run_file_without_settings_exits_2(tmp_path):
    path = run_path(tmp_path, SortingConfig(n=5))
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"method": "hste-gumbel", "n": 5, "prop_any_wrong": 0.5}))
    result = CliRunner().invoke(main, ["--results", str(tmp_path), "--out",
                                       str(tmp_path / "m.md")])
    assert result.exit_code == 2 and "run file without seed" in result.output
