"""Parts 2 and 3 of ``hste bench sinkhorn``: plateaus and Sinkhorn run to a tolerance."""

import numpy as np
import pytest

from experiments.sinkhorn_diagnostics.config import (
    PatternsConfig,
    PlateausConfig,
    VariableLengthConfig,
)
from experiments.sinkhorn_diagnostics.plateaus import (
    first_below,
    fit_line,
    formula_normalisations,
    measure,
)
from experiments.sinkhorn_diagnostics.variable_length import statistics


@pytest.fixture(scope="module")
def plateaus():
    config = PlateausConfig(
        epsilons=(0.0, 1e-1, 1e-3, 1e-6),
        max_iters=30,
        stuck_lengths=(4, 8),
        stuck_log10_eps=(-0.5, -12.0, 47),
    )
    return measure(config, PatternsConfig(n_iters=40))


def test_first_below_is_one_based_and_minus_one_when_never():
    curves = np.array([[1.0, 0.5, 0.001, 0.0001], [1.0, 1.0, 1.0, 1.0]])
    assert first_below(curves, 0.01).tolist() == [3, -1]


def test_fit_line_recovers_an_exact_line():
    x = np.array([1.0, 2.0, 5.0])
    fit = fit_line(x, 3.0 * x - 2.0)
    assert fit["slope"] == pytest.approx(3.0)
    assert fit["intercept"] == pytest.approx(-2.0)
    assert fit["max_residual"] < 1e-9


def test_formula_is_the_papers():
    assert formula_normalisations(np.array([0.25, 2.0**-10])).tolist() == [4.0, 12.0]


def test_plateaus_grow_with_minus_log_e_and_e_zero_never_ends(plateaus):
    assert len(plateaus["patterns"]) == 2
    for pattern in plateaus["patterns"]:
        lengths = pattern["plateau_normalisations"]
        assert lengths[0] is None  # e = 0: the error stays on the plateau for ever
        assert lengths[1] < lengths[2] < lengths[3]
        assert pattern["plateau_spread_within_group"] == 0
        assert pattern["members"] == 9
        stuck = pattern["stuck_epsilon"]
        assert stuck[0] > stuck[1] > 0  # a longer fixed L needs a smaller e to stay stuck
        assert 1.5 < pattern["stuck_fit"]["slope"] < 2.5
        curves = np.array(pattern["curves"])
        assert curves.shape == (4, 30)
        assert (curves[0] > 0.9).all()


def test_statistics_count_capped_runs_apart():
    summary = statistics(np.array([3, 5, -1, 7]))
    assert summary["not_converged"] == 1
    assert (summary["min"], summary["median"], summary["max"]) == (3.0, 5.0, 7.0)


def test_variable_length_config_needs_one_count_per_size():
    from experiments.sinkhorn_diagnostics.variable_length import measure as measure_lengths

    bad = VariableLengthConfig(sizes=(4, 5), matrices=(2,))
    with pytest.raises(ValueError, match="one count per size"):
        measure_lengths(bad, PlateausConfig(), PatternsConfig(), seed=0)
