"""HSTE forward values, straight-through gradients, samples and seeding."""

import pytest
import torch

from tracker.perm import gumbel_noise, hungarian, hungarian_ste
from tracker.perm.noise import perturb


def test_forward_is_an_exact_permutation_matrix():
    scores = torch.randn(4, 7, 7)
    P = hungarian_ste(scores, tau=0.3, noise=1.0, generator=torch.Generator().manual_seed(1))
    assert set(P.unique().tolist()) == {0.0, 1.0}
    assert (P.sum(-1) == 1).all() and (P.sum(-2) == 1).all()


def test_without_noise_forward_equals_hungarian():
    scores = torch.randn(3, 6, 6)
    assert torch.equal(hungarian_ste(scores, tau=2.0), hungarian(scores))


@pytest.mark.parametrize("tau", [1.0, 0.25, 3.0])
def test_gradient_of_a_linear_loss_is_its_weights_over_tau(tau):
    scores = torch.randn(2, 5, 5, requires_grad=True)
    weights = torch.randn(2, 5, 5)
    P = hungarian_ste(scores, tau=tau, noise=0.5, generator=torch.Generator().manual_seed(0))
    (grad,) = torch.autograd.grad((weights * P).sum(), scores)
    torch.testing.assert_close(grad, weights / tau)


def test_samples_add_a_leading_dimension_with_distinct_noise():
    scores = torch.zeros(3, 6, 6)
    P = hungarian_ste(scores, noise=1.0, samples=5, generator=torch.Generator().manual_seed(0))
    assert P.shape == (5, 3, 6, 6)
    assert not all(torch.equal(P[0], P[s]) for s in range(1, 5))


def test_gradient_sums_over_samples():
    scores = torch.randn(4, 4, requires_grad=True)
    P = hungarian_ste(scores, noise=1.0, samples=3, generator=torch.Generator().manual_seed(0))
    (grad,) = torch.autograd.grad(P.sum(), scores)
    torch.testing.assert_close(grad, torch.full((4, 4), 3.0))


def test_seeded_runs_repeat_exactly():
    scores = torch.randn(2, 8, 8)
    runs = [
        hungarian_ste(scores, noise=1.0, samples=4, generator=torch.Generator().manual_seed(7))
        for _ in range(2)
    ]
    assert torch.equal(*runs)


def test_gumbel_noise_statistics():
    g = gumbel_noise((200_000,), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.isfinite(g).all()
    # Standard Gumbel: mean = Euler-Mascheroni constant, variance = pi^2 / 6.
    assert g.mean().item() == pytest.approx(0.5772, abs=0.01)
    assert g.var().item() == pytest.approx(torch.pi**2 / 6, rel=0.02)


@pytest.mark.parametrize(("noise", "tau"), [(1.0, 1.0), (0.37, 0.6)])
def test_perturbation_is_bit_identical_to_the_plain_formula(noise, tau):
    """The in-place arithmetic must not change a single draw (stored runs are reproduced)."""
    scores = torch.randn(3, 9, 9, requires_grad=True)
    uniform = torch.rand((4, 3, 9, 9), generator=torch.Generator().manual_seed(5)).clamp(
        torch.finfo(torch.float32).tiny, 1.0 - torch.finfo(torch.float32).eps)
    plain = (scores + noise * -torch.log(-torch.log(uniform))) / tau
    ours = perturb(scores, tau, noise, samples=4, generator=torch.Generator().manual_seed(5))
    assert torch.equal(ours, plain)
    (grad,) = torch.autograd.grad(ours.sum(), scores)
    assert torch.equal(grad, torch.full_like(scores, 4 / tau))


def test_bad_arguments():
    with pytest.raises(ValueError, match="tau"):
        hungarian_ste(torch.zeros(2, 2), tau=0.0)
    with pytest.raises(ValueError, match="samples"):
        hungarian_ste(torch.zeros(2, 2), samples=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_tensors_stay_on_cuda():
    scores = torch.randn(3, 5, 5, device="cuda", requires_grad=True)
    P = hungarian_ste(scores, noise=1.0, generator=torch.Generator("cuda").manual_seed(0))
    assert P.device == scores.device
    P.sum().backward()
    assert scores.grad.device == scores.device
