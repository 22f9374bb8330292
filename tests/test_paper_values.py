"""The paper's published values as the reports read them (experiments/paper_data/*.csv)."""

from pathlib import Path

import pytest

from experiments.paper_values import DATA, jigsaw_table4, plateau_k, sorting_table5

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "paper"


def test_sorting_table5_under_our_keys():
    table = sorting_table5()
    assert sorted(table) == ["gumbel-sinkhorn", "hste", "hste-gumbel", "sinkhorn"]
    assert all(sorted(t) == [5, 10, 15, 80, 100, 120, 150, 200, 250, 400] for t in table.values())
    assert table["hste-gumbel"][400] == {"kendall_tau_list": 0.80, "prop_wrong": 0.16,
                                         "prop_any_wrong": 1.0, "l1_x100": 0.03, "l2_x1000": 0.0}
    assert table["gumbel-sinkhorn"][400]["kendall_tau_list"] == 0.59
    assert all("kendall_tau" not in cell for t in table.values() for cell in t.values())


def test_jigsaw_table4_under_our_keys():
    table = jigsaw_table4()
    assert sorted(table) == ["hste", "sinkhorn"]
    cell = table["hste"][3]
    assert cell["eval_kendall_tau_list"] == cell["eval_kendall_tau"] == 0.63
    assert cell["train_kendall_tau_list"] == cell["train_kendall_tau"] == 0.62
    assert (cell["eval_prop_wrong"], cell["train_prop_any_wrong"]) == (0.26, 0.69)
    assert table["sinkhorn"][4]["step_constraint_error_mean"] == 0.07
    assert table["sinkhorn"][5]["eval_constraint_error_mean"] == 0.04
    assert len(cell) == 2 * 7  # per split: two taus, Prop. wrong, any wrong, l1, l2, constraint


def test_plateau_k():
    assert plateau_k() == {1e-1: 5, 1e-2: 9, 1e-3: 12, 1e-4: 15, 1e-5: 19, 1e-6: 22, 1e-7: 25,
                           1e-8: 29, 1e-9: 32, 1e-10: 35}


@pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared/paper transcription here")
@pytest.mark.parametrize("name", ["table5_sorting.csv", "table4_jigsaw.csv",
                                  "appendix_d_plateaus.csv"])
def test_copies_equal_the_shared_transcription(name):
    assert (DATA / name).read_bytes() == (SHARED / name).read_bytes()
