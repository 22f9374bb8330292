"""The sorting task: model shapes, data, reconstruction, metrics on known permutations, a tiny
training run, determinism and config checks."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import kendalltau

from common.errors import InputError
from experiments.sorting import (
    METHODS,
    PAPER_METHODS,
    SortingConfig,
    SortingData,
    SortingScorer,
    anneal,
    evaluate,
    learning_rate,
    make_sequences,
    noise_scale,
    reconstruct,
    run_sorting,
)
from experiments.sorting_sweep import plan_sweep
from tracker.perm import hungarian


def test_scorer_maps_sequences_to_square_scores():
    model = SortingScorer(n=7, hidden=32, generator=torch.Generator().manual_seed(0))
    assert model(torch.rand(3, 7)).shape == (3, 7, 7)
    assert model(torch.rand(2, 3, 7)).shape == (2, 3, 7, 7)
    assert [p.shape for p in model.parameters()] == [(32, 1), (32,), (7, 32), (7,)]


def test_scorer_scores_each_element_alone():
    """Row i depends on x_i only: changing x_0 leaves the other rows unchanged."""
    model = SortingScorer(n=4, generator=torch.Generator().manual_seed(1))
    x = torch.rand(1, 4)
    changed = x.clone()
    changed[0, 0] += 0.5
    assert torch.equal(model(x)[0, 1:], model(changed)[0, 1:])
    assert not torch.equal(model(x)[0, 0], model(changed)[0, 0])


def test_initial_weights_follow_the_generator():
    first, second, other = (SortingScorer(5, generator=torch.Generator().manual_seed(s))
                            for s in (3, 3, 4))
    assert torch.equal(first.g2.weight, second.g2.weight)
    assert not torch.equal(first.g2.weight, other.g2.weight)
    assert first.g1.weight.abs().max() <= 1.0 and first.g2.weight.abs().max() <= 32 ** -0.5


@given(st.integers(1, 4), st.integers(1, 30), st.integers(0, 2**31 - 1))
def test_sequences_are_sorted_by_their_order(count, n, seed):
    data = make_sequences(count, n, torch.Generator().manual_seed(seed))
    assert data.x.shape == data.x_sorted.shape == data.order.shape == (count, n)
    assert torch.equal(torch.gather(data.x, 1, data.order), data.x_sorted)
    assert bool((data.x_sorted.diff(dim=-1) >= 0).all())
    assert bool(((data.x >= 0) & (data.x < 1)).all())


def test_reconstruct_is_p_transpose_x():
    x = torch.tensor([[10.0, 20.0, 30.0]])
    # input 0 -> position 2, input 1 -> position 0, input 2 -> position 1
    P = torch.tensor([[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    assert reconstruct(P, x).tolist() == [[20.0, 30.0, 10.0]]
    assert reconstruct(torch.stack([P, P]), x).shape == (2, 1, 3)


def _known_data() -> SortingData:
    x = torch.tensor([[0.3, 0.1, 0.2]])
    x_sorted, order = torch.sort(x, dim=-1)
    return SortingData(x=x, x_sorted=x_sorted, order=order)


def test_metrics_of_the_identity_on_a_known_shuffle():
    """Scores that pick the identity for x = (.3, .1, .2), whose sorting order is (1, 2, 0)."""
    metrics = evaluate(lambda x: torch.eye(3).expand(1, 3, 3), _known_data())
    assert metrics["prop_wrong"] == 1.0
    assert metrics["prop_any_wrong"] == 1.0
    assert metrics["kendall_tau"] == pytest.approx(-1 / 3)  # 1 concordant, 2 discordant pairs
    assert metrics["kendall_tau_list"] == pytest.approx(-1 / 3)  # tau((1, 2, 0), (0, 1, 2))
    assert metrics["l1_x100"] == pytest.approx(100 * 0.4 / 3)  # |.3-.1|, |.1-.2|, |.2-.3|
    assert metrics["l2_x1000"] == pytest.approx(1000 * 0.06 / 3)


def test_metrics_of_the_right_permutation():
    data = _known_data()
    scores = torch.zeros(1, 3, 3)
    scores[0, data.order[0], torch.arange(3)] = 1.0  # input order[j] -> position j
    metrics = evaluate(lambda x: scores, data)
    assert metrics == {"kendall_tau": 1.0, "kendall_tau_list": 1.0, "prop_wrong": 0.0,
                       "prop_any_wrong": 0.0, "l1_x100": 0.0, "l2_x1000": 0.0}


def test_the_two_taus_of_one_swap_of_distant_inputs():
    """x = (.1, .3, .4, .2) sorts by inputs (0, 3, 1, 2); placing inputs (3, 0, 1, 2) swaps the
    two smallest numbers: one misordered pair of 6 (ours, 1 - 2/6), but in list form the inputs 1
    and 2 lie between 0 and 3, so 5 of the 6 index pairs are discordant (paper's, -4/6)."""
    x = torch.tensor([[0.1, 0.3, 0.4, 0.2]])
    x_sorted, order = torch.sort(x, dim=-1)
    assert order.tolist() == [[0, 3, 1, 2]]
    scores = torch.zeros(1, 4, 4)
    scores[0, torch.tensor([3, 0, 1, 2]), torch.arange(4)] = 1.0
    metrics = evaluate(lambda x: scores, SortingData(x=x, x_sorted=x_sorted, order=order))
    assert metrics["kendall_tau"] == pytest.approx(2 / 3)
    assert metrics["kendall_tau_list"] == pytest.approx(-2 / 3)
    assert metrics["prop_wrong"] == 0.5


def test_kendall_tau_counts_misordered_pairs_whatever_the_input_order():
    """Mena et al.'s tau compares the reconstructed sequence with the sorted one; it must not
    change when the inputs (and the score rows with them) are listed in another order."""
    generator = torch.Generator().manual_seed(3)
    data = make_sequences(1, 8, generator)
    scores = torch.randn(1, 8, 8, generator=generator)
    reference = evaluate(lambda x: scores, data)["kendall_tau"]
    reconstructed = reconstruct(hungarian(scores), data.x)
    assert reference == pytest.approx(
        kendalltau(reconstructed[0].numpy(), data.x_sorted[0].numpy()).statistic)
    for seed in range(5):
        relabel = torch.randperm(8, generator=torch.Generator().manual_seed(seed))
        x = data.x[:, relabel]
        x_sorted, order = torch.sort(x, dim=-1)
        relabelled = SortingData(x=x, x_sorted=x_sorted, order=order)
        scorer = lambda x, rows=scores[:, relabel]: rows  # noqa: E731
        assert evaluate(scorer, relabelled)["kendall_tau"] == pytest.approx(reference)


def test_tiny_hste_run_learns_to_sort():
    result = run_sorting(SortingConfig(n=5, method="hste", epochs=100))
    assert result["prop_any_wrong"] == 0.0
    assert result["kendall_tau"] == 1.0
    assert result["constraint_error_row"] == result["constraint_error_col"] == 0.0


@pytest.mark.parametrize("method", list(METHODS))
def test_runs_are_deterministic_under_a_seed(method):
    config = SortingConfig(n=6, method=method, epochs=5, seed=7)
    first, second = run_sorting(config), run_sorting(config)
    timing = {"train_seconds", "seconds_per_epoch"}
    assert {k: v for k, v in first.items() if k not in timing} == \
        {k: v for k, v in second.items() if k not in timing}
    other = run_sorting(SortingConfig(n=6, method=method, epochs=5, seed=8))
    assert other["final_loss"] != first["final_loss"]


def test_sinkhorn_reports_its_constraint_error():
    result = run_sorting(SortingConfig(n=8, method="gumbel-sinkhorn", epochs=3, sinkhorn_iters=2))
    assert result["constraint_error_row"] > 1e-3
    assert result["constraint_error_col"] < 1e-5  # each iteration ends with a column pass


def test_paper_methods_keep_noise_and_learning_rate_constant():
    config = SortingConfig(epochs=11, noise=0.7, lr=0.2)
    for name in PAPER_METHODS:
        for epoch in (0, 5, 10):
            assert learning_rate(config, METHODS[name], epoch) == 0.2
            assert noise_scale(config, METHODS[name], epoch) == (0.7 if "gumbel" in name else 0.0)


def test_variant_anneals_noise_and_learning_rate_geometrically():
    config = SortingConfig(epochs=11, noise=1.0, lr=0.1)
    plus = METHODS["hste-gumbel-plus"]
    assert [noise_scale(config, plus, e) for e in (0, 5, 10)] == pytest.approx(
        [1.0, 0.05 ** 0.5, 0.05])
    assert [learning_rate(config, plus, e) for e in (0, 5, 10)] == pytest.approx(
        [0.1, 0.01, 0.001])
    assert anneal(2.0, 0.5, 0, 1) == 2.0  # a one-epoch run stays at the start value


@pytest.mark.parametrize("bad", [dict(method="bogus"), dict(n=0), dict(epochs=0),
                                 dict(lr=0.0), dict(tau=-1.0), dict(noise=-0.1),
                                 dict(lr=float("nan"))])
def test_bad_settings_are_input_errors(bad):
    with pytest.raises(InputError):
        SortingConfig(**bad)


def test_config_from_toml(tmp_path):
    path = tmp_path / "sorting.toml"
    path.write_text('n = 12\nmethod = "sinkhorn"\nlr = 0.05\n')
    assert SortingConfig.from_toml(path, seed=3) == SortingConfig(n=12, method="sinkhorn",
                                                                  lr=0.05, seed=3)
    path.write_text("nn = 12\n")
    with pytest.raises(InputError, match="unknown config keys"):
        SortingConfig.from_toml(path)
    path.write_text("n = \n")
    with pytest.raises(InputError, match="cannot read"):
        SortingConfig.from_toml(path)
    for bad, message in (('n = "abc"', "expected a value like 5"), ("lr = nan", "finite")):
        path.write_text(bad + "\n")
        with pytest.raises(InputError, match=message):
            SortingConfig.from_toml(path)


def test_sweep_plan_is_by_size_then_costliest_first():
    plan = plan_sweep(SortingConfig(), ["hste", "gumbel-sinkhorn", "hste-gumbel"], [10, 5], [0, 1])
    assert [c.n for c in plan] == [5] * 6 + [10] * 6
    costliest_first = ["gumbel-sinkhorn"] * 2 + ["hste-gumbel"] * 2 + ["hste"] * 2
    assert [c.method for c in plan[:6]] == costliest_first
    assert [c.seed for c in plan[:2]] == [0, 1]
