"""The estimators beside HSTE (perturbed, blackbox, softmax-backward HSTE) and the one dispatch:
forward values, backward against the defining formulas on hand-made cases, a many-sample check of
the perturbed Jacobian against its closed form, batching, seeding, spellings, CUDA."""

import math

import pytest
import torch

from tracker.perm import (
    OPERATORS,
    blackbox_hungarian,
    canonical_operator,
    gumbel_noise,
    gumbel_sinkhorn,
    hungarian,
    hungarian_ste,
    hungarian_ste_softmax,
    permute,
    perturbed_hungarian,
)
from tracker.perm.operators import ALIASES

IDENTITY = torch.eye(2, dtype=torch.float64)
SWAP = IDENTITY.flip(-1)


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- perturbed ----------------------------------------------------------------------------------


def test_perturbed_forward_is_the_mean_of_the_noisy_solutions():
    scores = torch.randn(3, 5, 5)
    y = perturbed_hungarian(scores, sigma=0.7, samples=6, noise="normal", generator=seeded(1))
    z = torch.randn((6, 3, 5, 5), generator=seeded(1))
    assert torch.equal(y, hungarian(scores + 0.7 * z).mean(0))
    assert y.shape == (3, 5, 5)
    torch.testing.assert_close(y.sum(-1), torch.ones(3, 5))


def test_perturbed_forward_is_exact_where_every_draw_agrees():
    scores = 100.0 * torch.eye(4)
    y = perturbed_hungarian(scores, sigma=0.1, samples=8, generator=seeded(0))
    assert torch.equal(y, torch.eye(4))


@pytest.mark.parametrize("noise", ["gumbel", "normal"])
def test_perturbed_backward_is_the_monte_carlo_jacobian(noise):
    scores = torch.randn(2, 4, 4, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(2, 4, 4, dtype=torch.float64)
    y = perturbed_hungarian(scores, sigma=0.5, samples=5, noise=noise, generator=seeded(3))
    (grad,) = torch.autograd.grad((weights * y).sum(), scores)
    shape = (5, 2, 4, 4)
    z = (gumbel_noise(shape, seeded(3), torch.float64) if noise == "gumbel"
         else torch.randn(shape, generator=seeded(3), dtype=torch.float64))
    solutions = hungarian(scores.detach() + 0.5 * z)
    score = z if noise == "normal" else 1.0 - torch.exp(-z)
    inner = (solutions * weights).sum((-2, -1), keepdim=True)
    torch.testing.assert_close(grad, (inner * score).mean(0) / 0.5)


def test_perturbed_gradient_is_zero_at_forbidden_pairs():
    scores = torch.tensor([[1.0, -math.inf], [0.0, 2.0]], requires_grad=True)
    y = perturbed_hungarian(scores, sigma=1.0, samples=4, generator=seeded(0))
    assert torch.equal(y.detach(), torch.eye(2))
    (grad,) = torch.autograd.grad((torch.randn(2, 2) * y).sum(), scores)
    assert grad[0, 1] == 0.0 and torch.isfinite(grad).all()


def _two_by_two_identity_probability(d: float, sigma: float, noise: str) -> tuple[float, float]:
    """P(hungarian of [[a, b], [c, e]] + sigma Z is the identity) and its derivative in a, for
    d = a + e - b - c: the identity wins iff d + sigma (Z00 + Z11 - Z01 - Z10) > 0."""
    c = d / sigma
    if noise == "normal":  # the noise sum is N(0, 4)
        p = 0.5 * (1.0 + math.erf(c / (2.0 * math.sqrt(2.0))))
        return p, math.exp(-c * c / 8.0) / (2.0 * math.sqrt(2.0 * math.pi)) / sigma
    # Gumbel differences are logistic: P(L1 + L2 > -c) = int f(u) F(c + u) du.
    u = torch.linspace(-60.0, 60.0, 600_001, dtype=torch.float64)
    f, F = torch.sigmoid(u) * torch.sigmoid(-u), torch.sigmoid(c + u)
    f_shift = torch.sigmoid(c + u) * torch.sigmoid(-c - u)
    return torch.trapezoid(f * F, u).item(), torch.trapezoid(f * f_shift, u).item() / sigma


@pytest.mark.parametrize("noise", ["gumbel", "normal"])
def test_perturbed_matches_the_closed_form_expectation_with_many_samples(noise):
    scores = torch.tensor([[0.5, 0.0], [0.1, 0.2]], dtype=torch.float64, requires_grad=True)
    sigma = 0.8
    p, dp = _two_by_two_identity_probability(0.5 + 0.2 - 0.1, sigma, noise)
    y = perturbed_hungarian(scores, sigma, samples=40_000, noise=noise, generator=seeded(5))
    torch.testing.assert_close(y.detach(), p * IDENTITY + (1 - p) * SWAP, atol=0.01, rtol=0)
    (grad,) = torch.autograd.grad(y[0, 0], scores)
    torch.testing.assert_close(grad, dp * (IDENTITY - SWAP), atol=0.02, rtol=0)


def test_perturbed_rejects_bad_settings():
    with pytest.raises(ValueError, match="sigma"):
        perturbed_hungarian(torch.zeros(2, 2), sigma=0.0)
    with pytest.raises(ValueError, match="noise"):
        perturbed_hungarian(torch.zeros(2, 2), noise="uniform")


# --- blackbox -----------------------------------------------------------------------------------


def test_blackbox_forward_is_the_exact_assignment():
    scores = torch.randn(4, 6, 6)
    assert torch.equal(blackbox_hungarian(scores, lam=3.0), hungarian(scores))


def test_blackbox_backward_on_hand_made_cases():
    """scores [[2, 0], [0, 1]] take the identity. A gradient 1 on the (0, 0) entry moves it to
    2 - lam: lam = 0.5 keeps the identity (zero gradient); lam = 4 swaps, (I - swap) / 4."""
    scores = torch.tensor([[2.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    upstream = torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    for lam, expected in ((0.5, torch.zeros(2, 2, dtype=torch.float64)),
                          (4.0, (IDENTITY - SWAP) / 4.0)):
        batch = scores.expand(3, 2, 2).clone().requires_grad_()
        y = blackbox_hungarian(batch, lam)
        (grad,) = torch.autograd.grad(y, batch, upstream.expand(3, 2, 2))
        torch.testing.assert_close(grad, expected.expand(3, 2, 2))


def test_blackbox_backward_is_the_defining_formula():
    scores = torch.randn(3, 5, 5, requires_grad=True)
    upstream = torch.randn(3, 5, 5)
    (grad,) = torch.autograd.grad(blackbox_hungarian(scores, 2.0), scores, upstream)
    moved = hungarian(scores.detach() - 2.0 * upstream)
    torch.testing.assert_close(grad, (hungarian(scores.detach()) - moved) / 2.0)


def test_blackbox_rejects_a_non_positive_lambda():
    with pytest.raises(ValueError, match="lam"):
        blackbox_hungarian(torch.zeros(2, 2), lam=0.0)


# --- HSTE with a softmax backward ---------------------------------------------------------------


def test_softmax_hste_forward_equals_hste_and_backward_is_the_softmax_vjp():
    scores = torch.randn(2, 5, 5, requires_grad=True)
    upstream = torch.randn(3, 2, 5, 5)
    P = hungarian_ste_softmax(scores, tau=0.5, noise=1.0, samples=3, generator=seeded(2))
    assert torch.equal(P, hungarian_ste(scores, 0.5, 1.0, 3, seeded(2)))
    (grad,) = torch.autograd.grad(P, scores, upstream)
    x = ((scores.detach() + gumbel_noise((3, 2, 5, 5), seeded(2))) / 0.5).requires_grad_()
    (expected,) = torch.autograd.grad(torch.softmax(x, -1), x, upstream)
    torch.testing.assert_close(grad, expected.sum(0) / 0.5)


# --- the dispatch -------------------------------------------------------------------------------


def test_permute_dispatches_with_the_same_noise_as_the_direct_calls():
    scores = torch.randn(2, 4, 4)
    direct = {
        "hste": hungarian_ste(scores, 1.0, 0.5, 3, seeded(0)),
        "hste-softmax": hungarian_ste_softmax(scores, 1.0, 0.5, 3, seeded(0)),
        "sinkhorn": gumbel_sinkhorn(scores, 1.0, 0.5, 3, 7, seeded(0)),
        "perturbed": perturbed_hungarian(scores, 0.5, 3, "normal", seeded(0))[None],
        "blackbox": hungarian_ste(scores, 1.0, 0.5, 3, seeded(0)),  # same forward
    }
    assert set(direct) == set(OPERATORS)
    for operator, expected in direct.items():
        got = permute(scores, operator, noise=0.5, samples=3, generator=seeded(0),
                      sinkhorn_iters=7, noise_type="normal")
        assert torch.equal(got, expected), operator


@pytest.mark.parametrize("operator", list(OPERATORS))
def test_permute_always_has_a_sample_dimension_and_a_gradient(operator):
    scores = torch.randn(3, 4, 4, requires_grad=True)
    P = permute(scores, operator, noise=1.0, samples=1, generator=seeded(0), lam=50.0)
    assert P.shape == (1, 3, 4, 4)
    (grad,) = torch.autograd.grad((torch.randn(1, 3, 4, 4) * P).sum(), scores)
    assert grad.shape == scores.shape and torch.isfinite(grad).all()


def test_one_spelling_per_operator_and_the_old_ones_mapped():
    assert {name: canonical_operator(name) for name in OPERATORS} == {n: n for n in OPERATORS}
    assert ALIASES == {"hungarian": "hste", "gumbel_sinkhorn": "sinkhorn"}
    assert canonical_operator("gumbel_sinkhorn") == "sinkhorn"
    with pytest.raises(ValueError, match="choose from hste, sinkhorn"):
        canonical_operator("gumbel-sinkhorn")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("operator", list(OPERATORS))
def test_operators_on_cuda(operator):
    scores = torch.randn(2, 5, 5, device="cuda", requires_grad=True)
    generator = torch.Generator(device="cuda").manual_seed(0)
    P = permute(scores, operator, noise=1.0, samples=3, generator=generator)
    (grad,) = torch.autograd.grad(P.sum(), scores)
    assert P.device.type == "cuda" and grad.device.type == "cuda" and P.shape == (3, 2, 5, 5)
    if operator in ("hste", "blackbox", "hste-softmax"):
        assert set(P.unique().tolist()) == {0.0, 1.0}
