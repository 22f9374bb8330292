"""Sinkhorn convergence, the Appendix D plateau, gradients, and the constraint error."""

import math
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.perm import constraint_error, gumbel_sinkhorn, sinkhorn

# The package re-exports the function under the module's name, so reach the module itself.
sinkhorn_module = sys.modules["tracker.perm.sinkhorn_operator"]


def appendix_d_matrix(e: float) -> torch.Tensor:
    """The paper's [[e,1,e],[1,e,1],[e,1,e]] as log scores (float64)."""
    m = torch.tensor([[e, 1.0, e], [1.0, e, 1.0], [e, 1.0, e]], dtype=torch.float64)
    return m.log()


def test_converges_on_random_positive_matrices():
    log_alpha = torch.randn(8, 10, 10, dtype=torch.float64)
    P, iterations = sinkhorn(log_alpha, tol=1e-8)
    assert (iterations > 0).all()
    row, col = constraint_error(P)
    assert (row < 1e-8).all() and (col < 1e-8).all()


def test_fixed_iterations_leave_columns_exact():
    P = sinkhorn(torch.randn(4, 6, 6, dtype=torch.float64), n_iters=3)
    np.testing.assert_allclose(P.sum(-2).numpy(), 1.0, atol=1e-12)


def test_appendix_d_plateau_grows_by_half_log2_10_per_decade():
    exponents = np.arange(1, 11)
    lengths = []
    for k in exponents:
        _, iterations = sinkhorn(appendix_d_matrix(10.0 ** -k), tol=0.01, max_iters=1000)
        lengths.append(int(iterations))
    assert all(b > a for a, b in zip(lengths, lengths[1:], strict=False)), lengths
    slope = np.polyfit(exponents, lengths, 1)[0]
    # The paper's k = -log2(e) + 2 normalisations; one iteration here is two normalisations.
    assert slope == pytest.approx(math.log2(10) / 2, rel=0.15), lengths


def test_appendix_d_with_zeros_never_converges():
    P, iterations = sinkhorn(appendix_d_matrix(0.0), tol=0.01, max_iters=500)
    assert int(iterations) == -1
    assert max(t.item() for t in constraint_error(P)) > 0.5


def test_gradients_flow():
    log_alpha = torch.randn(3, 5, 5, requires_grad=True)
    P = gumbel_sinkhorn(log_alpha, tau=0.5, noise=1.0, samples=2)
    (P * torch.randn(2, 3, 5, 5)).sum().backward()
    assert torch.isfinite(log_alpha.grad).all() and log_alpha.grad.abs().sum() > 0


def test_gumbel_sinkhorn_shapes_and_seed():
    log_alpha = torch.randn(3, 5, 5)
    a = gumbel_sinkhorn(log_alpha, noise=1.0, samples=4, generator=torch.Generator().manual_seed(3))
    b = gumbel_sinkhorn(log_alpha, noise=1.0, samples=4, generator=torch.Generator().manual_seed(3))
    assert a.shape == (4, 3, 5, 5) and torch.equal(a, b)


def test_constraint_error_by_hand():
    P = torch.tensor([[0.5, 0.2], [0.5, 0.3]])
    row, col = constraint_error(P)
    assert row.item() == pytest.approx(0.3)  # row sums 0.7, 0.8
    assert col.item() == pytest.approx(0.5)  # column sums 1.0, 0.5


def _plain_and_low_memory(log_alpha: torch.Tensor, weights: torch.Tensor, n_iters: int):
    """(P, dL/dlog_alpha) of both implementations for L = sum(weights * P)."""
    results = []
    for low_memory in (False, True):
        x = log_alpha.clone().requires_grad_(True)
        P = sinkhorn(x, n_iters=n_iters, low_memory=low_memory)
        (P * weights).sum().backward()
        results.append((P.detach(), x.grad))
    return results


@settings(max_examples=30, deadline=None)
@given(
    batch=st.integers(1, 3),
    rows=st.integers(1, 6),
    cols=st.integers(1, 6),
    n_iters=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_low_memory_backward_equals_plain_autograd(batch, rows, cols, n_iters, seed):
    generator = torch.Generator().manual_seed(seed)
    log_alpha = 3 * torch.randn(batch, rows, cols, generator=generator, dtype=torch.float64)
    weights = torch.randn(batch, rows, cols, generator=generator, dtype=torch.float64)
    (P_plain, grad_plain), (P_low, grad_low) = _plain_and_low_memory(log_alpha, weights, n_iters)
    torch.testing.assert_close(P_low, P_plain, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grad_low, grad_plain, rtol=1e-9, atol=1e-11)


def test_low_memory_handles_structural_zeros_and_many_blocks(monkeypatch):
    monkeypatch.setattr(sinkhorn_module, "BLOCK_ENTRIES", 20)  # 1 matrix per block
    log_alpha = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    log_alpha[..., 0, 1] = -math.inf
    weights = torch.randn_like(log_alpha)
    (P_plain, grad_plain), (P_low, grad_low) = _plain_and_low_memory(log_alpha, weights, 5)
    assert P_low.shape == (2, 3, 4, 4) and (P_low[..., 0, 1] == 0).all()
    torch.testing.assert_close(P_low, P_plain)
    torch.testing.assert_close(grad_low, grad_plain)
    assert (grad_low[..., 0, 1] == 0).all()


def test_low_memory_passes_gradcheck_and_refuses_double_backward():
    x = torch.randn(2, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: sinkhorn(z, n_iters=3), (x,))
    (grad,) = torch.autograd.grad(sinkhorn(x, n_iters=3).square().sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        grad.sum().backward()


def _subnormal_product() -> float:
    """1e-40 * 1 in float32: 1e-40 when subnormals are kept, 0 when they are flushed."""
    return (torch.tensor([1e-40], dtype=torch.float32) * 1.0).item()


def test_low_memory_path_flushes_subnormals_only_inside_itself():
    if not torch.set_flush_denormal(False):
        pytest.skip("this CPU cannot flush subnormals")
    with sinkhorn_module._denormals_flushed():
        assert _subnormal_product() == 0.0
    assert _subnormal_product() == pytest.approx(1e-40, rel=1e-3)
    x = (30 * torch.randn(4, 6, 6)).requires_grad_()
    sinkhorn(x, n_iters=20).square().sum().backward()
    assert _subnormal_product() == pytest.approx(1e-40, rel=1e-3)


def test_package_names_are_the_functions_even_after_their_modules_are_imported():
    """tracker.perm loads lazily: a public name must never resolve to a submodule."""
    import types

    import tracker.perm as perm
    import tracker.perm.sinkhorn_operator  # noqa: F401 (the submodule loaded first)

    for name in perm.__all__:
        value = getattr(perm, name)
        assert (name == "metrics") == isinstance(value, types.ModuleType), name
    assert perm.sinkhorn is tracker.perm.sinkhorn_operator.sinkhorn
