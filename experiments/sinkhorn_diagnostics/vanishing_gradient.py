"""Part 4 (Appendix A): gradients vanish as the temperature shrinks, except HSTE's.

Softmax with temperature: logits x = (c, 0, ..., 0) over K classes, sigma = softmax(x / tau).
The paper's approximation of the largest class's self-derivative is
    d sigma_m / d x_m = sigma_m (1 - sigma_m) / tau ~ (K - 1) / tau * exp(-c / tau),
measured here with autograd in float32 and float64 over a log grid of tau.

Sinkhorn: the norm of the Jacobian-vector product ||J v|| of X -> sinkhorn(X / tau, L) for a
random N x N matrix X ~ N(0, 1) and a random unit direction v (Frobenius norm), L fixed.
HSTE: the same for X -> hungarian_ste(X, tau); its backward is the identity scaled by the 1/tau of
its input, so ||J v|| = ||v|| / tau exactly: it never vanishes.

"Underflow tau" = the largest grid tau at which the measured derivative is exactly 0.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from experiments.sinkhorn_diagnostics.config import GradientConfig
from experiments.sinkhorn_diagnostics.figures import plt, save_figure, styled
from tracker.perm import hungarian_ste, sinkhorn

FLOOR = 1e-30
"""Lower edge of the softmax panel."""
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def tau_grid(config: GradientConfig) -> np.ndarray:
    """The temperatures, increasing, float64."""
    low, high, count = config.log10_tau
    return np.logspace(low, high, int(count))


def directional_derivative(
    function: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """J(x) v by autograd (the double-backward trick, so custom backward passes work too)."""
    _, tangent = torch.autograd.functional.jvp(function, x, v)
    return tangent


def largest_zero_tau(taus: np.ndarray, values: np.ndarray) -> float | None:
    """Largest tau whose measured derivative is exactly 0, or None."""
    zero = values == 0
    return float(taus[zero].max()) if zero.any() else None


def softmax_self_derivative(k: int, gap: float, taus: np.ndarray, dtype: torch.dtype) -> np.ndarray:
    """Measured d sigma_m / d x_m at x = (gap, 0, ..., 0), one value per tau: (T,) float64."""
    tau = torch.as_tensor(taus, dtype=dtype)[:, None]
    x = torch.zeros(len(taus), k, dtype=dtype)
    x[:, 0] = gap
    direction = torch.zeros_like(x)
    direction[:, 0] = 1.0
    tangent = directional_derivative(lambda z: torch.softmax(z / tau, dim=-1), x, direction)
    return tangent[:, 0].double().numpy()


def softmax_formula(k: int, gap: float, taus: np.ndarray) -> np.ndarray:
    """The paper's (K - 1) / tau * exp(-c / tau) in float64 (0 where it underflows)."""
    return (k - 1) / taus * np.exp(-gap / taus)


def softmax_exact(k: int, gap: float, taus: np.ndarray) -> np.ndarray:
    """sigma_m (1 - sigma_m) / tau in float64, with 1 - sigma_m formed without cancellation."""
    others = (k - 1) * np.exp(-gap / taus)
    return others / (1.0 + others) ** 2 / taus


def sinkhorn_jvp_norm(
    scores: torch.Tensor, direction: torch.Tensor, taus: np.ndarray, n_iters: int
) -> np.ndarray:
    """||J v|| of X -> sinkhorn(X / tau, n_iters) for each tau (batched): (T,) float64."""
    tau = torch.as_tensor(taus, dtype=scores.dtype)[:, None, None]
    batch = scores.expand(len(taus), *scores.shape)
    directions = direction.expand_as(batch)
    tangent = directional_derivative(
        lambda z: sinkhorn(z / tau, n_iters=n_iters, low_memory=False), batch, directions
    )
    return tangent.flatten(1).norm(dim=1).double().numpy()


def hste_jvp_norm(scores: torch.Tensor, direction: torch.Tensor, taus: np.ndarray) -> np.ndarray:
    """||J v|| of X -> hungarian_ste(X, tau) for each tau: (T,) float64."""
    norms = [
        directional_derivative(lambda z, t=float(t): hungarian_ste(z, tau=t), scores, direction)
        .norm()
        .item()
        for t in taus
    ]
    return np.array(norms)


def measure(config: GradientConfig, seed: int) -> dict:
    """Softmax, Sinkhorn and HSTE derivatives over the tau grid, float32 and float64."""
    taus = tau_grid(config)
    softmax = []
    for k in config.ks:
        entry = {
            "k": k,
            "formula": softmax_formula(k, config.gap, taus).tolist(),
            "exact": softmax_exact(k, config.gap, taus).tolist(),
        }
        for name, dtype in DTYPES.items():
            values = softmax_self_derivative(k, config.gap, taus, dtype)
            entry[name] = values.tolist()
            entry[f"underflow_tau_{name}"] = largest_zero_tau(taus, values)
        softmax.append(entry)
    generator = torch.Generator().manual_seed(seed)
    n = config.sinkhorn_size
    scores = torch.randn(n, n, generator=generator, dtype=torch.float64)
    direction = torch.randn(n, n, generator=generator, dtype=torch.float64)
    direction = direction / direction.norm()
    permutation = {}
    for name, dtype in DTYPES.items():
        x, v = scores.to(dtype), direction.to(dtype)
        sinkhorn_norm = sinkhorn_jvp_norm(x, v, taus, config.sinkhorn_iters)
        hste_norm = hste_jvp_norm(x, v, taus)
        permutation[name] = {
            "sinkhorn": sinkhorn_norm.tolist(),
            "hste": hste_norm.tolist(),
            "underflow_tau_sinkhorn": largest_zero_tau(taus, sinkhorn_norm),
            "hste_times_tau_min": float((hste_norm * taus).min()),
            "hste_times_tau_max": float((hste_norm * taus).max()),
        }
    return {
        "gap": config.gap,
        "taus": taus.tolist(),
        "softmax": softmax,
        "sinkhorn_size": n,
        "sinkhorn_iters": config.sinkhorn_iters,
        "permutation": permutation,
    }


def positive(values: list[float]) -> np.ndarray:
    """Values with zeros as NaN, so a log axis leaves gaps where a derivative is exactly 0."""
    array = np.array(values, dtype=np.float64)
    return np.where(array > 0, array, np.nan)


@styled
def draw(result: dict, out: Path) -> list[Path]:
    """Left: softmax self-derivative against the formula. Right: Sinkhorn and HSTE ||J v||."""
    taus = np.array(result["taus"])
    figure, (left, right) = plt.subplots(1, 2, figsize=(12.0, 4.8))
    draw_softmax(left, result, taus)
    draw_permutation(right, result, taus)
    return [save_figure(figure, out / "vanishing_gradient.png")]


def draw_softmax(ax, result: dict, taus: np.ndarray) -> None:
    """Softmax self-derivative: autograd in both dtypes, the formula, the exact value."""
    for index, entry in enumerate(result["softmax"]):
        colour = f"C{index}"
        ax.plot(
            taus, positive(entry["formula"]), "-", color=colour, label=f"K={entry['k']}: formula"
        )
        ax.plot(taus, positive(entry["exact"]), "--", lw=0.8, color=colour, label="exact")
        ax.plot(taus, positive(entry["float64"]), "o", ms=3, color=colour, label="float64")
        ax.plot(taus, positive(entry["float32"]), "x", ms=4, color=colour, label="float32")
        if entry["underflow_tau_float32"] is not None:
            ax.axvline(entry["underflow_tau_float32"], color=colour, linestyle=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(FLOOR, 1e3)
    shown = np.array(result["softmax"][-1]["exact"]) > FLOOR
    ax.set_xlim(taus[shown.argmax()], taus[-1])
    ax.set_xlabel(f"temperature tau (gap c = {result['gap']:g})")
    ax.set_ylabel("d sigma_m / d x_m")
    ax.set_title(
        "softmax: autograd (markers) vs (K-1)/tau exp(-c/tau)\n"
        "dotted: largest tau where float32 autograd gives exactly 0"
    )
    ax.legend(ncol=len(result["softmax"]), fontsize=7, loc="lower right")


def draw_permutation(ax, result: dict, taus: np.ndarray) -> None:
    """||J v|| of Sinkhorn and HSTE in both dtypes, with Sinkhorn's float32 underflow."""
    lines = (("float64", "o-", "C0", "C3"), ("float32", "x--", "C2", "C1"))
    for name, marker, sinkhorn_colour, hste_colour in lines:
        entry = result["permutation"][name]
        sinkhorn_label = f"Sinkhorn L={result['sinkhorn_iters']}, {name}"
        ax.plot(
            taus,
            positive(entry["sinkhorn"]),
            marker,
            ms=3,
            color=sinkhorn_colour,
            label=sinkhorn_label,
        )
        ax.plot(
            taus, positive(entry["hste"]), marker, ms=3, color=hste_colour, label=f"HSTE, {name}"
        )
    underflow = result["permutation"]["float32"]["underflow_tau_sinkhorn"]
    if underflow is not None:
        label = f"float32 Sinkhorn: exactly 0 for tau <= {underflow:.3g}"
        ax.axvline(underflow, color="C2", linestyle=":", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("temperature tau")
    ax.set_ylabel("||J v||  (random unit direction v)")
    n = result["sinkhorn_size"]
    ax.set_title(f"{n}x{n} random N(0,1) scores X, map X -> op(X / tau)\nHSTE: ||J v|| = 1 / tau")
    ax.legend(fontsize=7)
