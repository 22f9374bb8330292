"""Learning to sort numbers (paper section 4.2, Table 5; Mena et al. 2018, section 5.1).

The task: ``x_hat`` holds N numbers from U(0, 1) in increasing order and ``x`` is a random
shuffle of it. Every element of ``x`` goes alone through ``g = g2(ReLU(g1(.)))`` (g1: 1 -> 32,
g2: 32 -> N, both affine); stacking the N outputs gives an N x N score matrix ``X`` whose row i
scores input element i against output position j. A permutation operator of
:func:`tracker.perm.permute` (the paper's Sinkhorn and Hungarian straight-through estimator, each
optionally with Gumbel noise, and the other estimators beside them) turns ``X`` into ``P``,
the reconstruction is ``x_tilde = P^T x`` and the loss is the mean squared error to ``x_hat``.
At test time every method uses the exact Hungarian on the noise-free scores.

Sequences are drawn as N i.i.d. U(0, 1) numbers: such a vector already is a uniformly random
shuffle of its sorted version, so ``x`` is the draw itself and ``x_hat = sort(x)``.

One run = one (method, N, seed); :func:`run_sorting` trains and evaluates it and returns a flat
dict of the config, metrics and timing. Sweeps over many runs live in
:mod:`experiments.sorting_sweep`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from common.errors import InputError
from common.limits import check_number, require_memory
from experiments.config_io import load_flat_toml, require_at_least_one
from tracker.perm import constraint_error, hungarian, permute
from tracker.perm.metrics import (
    kendall_tau_list,
    kendall_tau_pairs,
    l1_error,
    l2_error,
    perm_to_indices,
    prop_any_wrong,
    prop_wrong,
)

BLACKBOX_LAMBDA = {"blackbox": 0.5, "blackbox-gumbel": 5.0}
"""Blackbox lambda of the sorting methods, for the loss summed over samples, sequences and
positions: the loss is their mean, whose dL/dP per entry shrinks like 1 / (S B N), so the
operator gets ``lam * S * B * N``. Chosen on seed 0 from 0.5 / 5 / 50 at N = 20 and 100 with 100
and 150 epochs (the best of the three in both), docs/results/operators."""


@dataclass(frozen=True)
class Method:
    """A permutation operator used in training, with its noise.

    ``operator`` is a name of :data:`tracker.perm.OPERATORS`. ``noisy`` adds noise (Gumbel, or
    ``noise_type`` for ``perturbed``) with several samples per sequence. The paper's four methods
    use the config's settings unchanged; a variant may set: ``noise_end`` / ``lr_end``, to anneal
    the noise scale / learning rate geometrically from the config's ``noise`` / ``lr`` at the
    first epoch to these values at the last; ``samples``, to override the config's sample count;
    ``lam``, the blackbox interpolation strength (for the summed loss, see
    :data:`BLACKBOX_LAMBDA`); ``noise_type`` (``perturbed`` only).
    """

    name: str
    operator: str
    noisy: bool
    noise_end: float | None = None
    lr_end: float | None = None
    samples: int | None = None
    lam: float = 20.0
    noise_type: str = "gumbel"


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("sinkhorn", "sinkhorn", noisy=False),
        Method("gumbel-sinkhorn", "sinkhorn", noisy=True),
        Method("hste", "hste", noisy=False),
        Method("hste-gumbel", "hste", noisy=True),
        # Beyond the paper: HSTE + Gumbel with the noise scale and the learning rate annealed
        # geometrically (1 -> 0.05 and 0.1 -> 0.001 with the default config): early steps explore
        # with strong noise and large steps, late steps refine the score margins that large N needs.
        Method("hste-gumbel-plus", "hste", noisy=True, noise_end=0.05, lr_end=0.001),
        # Beyond the paper, issue 21: the other estimators around the same exact solver. Noise
        # scale and samples are the config's (the budget of hste-gumbel); ``perturbed`` averages
        # its samples into one matrix per sequence, the others average the samples' losses.
        Method("perturbed", "perturbed", noisy=True, noise_type="normal"),
        Method("perturbed-gumbel", "perturbed", noisy=True),
        Method("blackbox", "blackbox", noisy=False, lam=BLACKBOX_LAMBDA["blackbox"]),
        Method("blackbox-gumbel", "blackbox", noisy=True, lam=BLACKBOX_LAMBDA["blackbox-gumbel"]),
        Method("hste-softmax", "hste-softmax", noisy=False),
        Method("hste-softmax-gumbel", "hste-softmax", noisy=True),
    )
}
PAPER_METHODS: tuple[str, ...] = ("sinkhorn", "gumbel-sinkhorn", "hste", "hste-gumbel")
PAPER_SIZES: tuple[int, ...] = (5, 10, 15, 80, 100, 120, 150, 200, 250, 400)


@dataclass(frozen=True)
class SortingConfig:
    """Settings of one sorting run; the defaults are the paper's (section 4.2, Table 3).

    Attributes:
        n: numbers per sequence (N).
        method: a key of :data:`METHODS`.
        seed: seeds the data, the initial weights and the Gumbel noise (each its own stream).
        epochs: optimiser steps; the training set is one batch, so one epoch is one step.
        lr: Adam learning rate.
        train_sequences: sequences in the (single) training batch.
        test_sequences: fresh sequences for evaluation.
        samples: Gumbel noise samples per sequence and step (noisy methods only).
        noise: scale of the Gumbel noise added to the scores (noisy methods only).
        tau: temperature; scores (plus noise) are divided by it before the operator.
        sinkhorn_iters: Sinkhorn iterations L (Sinkhorn methods only).
        hidden: width of the hidden layer g1.
    """

    n: int = 5
    method: str = "hste-gumbel"
    seed: int = 0
    epochs: int = 500
    lr: float = 0.1
    train_sequences: int = 10
    test_sequences: int = 10
    samples: int = 10
    noise: float = 1.0
    tau: float = 1.0
    sinkhorn_iters: int = 20
    hidden: int = 32

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"unknown method {self.method!r}; choose from {', '.join(METHODS)}")
        require_at_least_one(self, ("n", "epochs", "train_sequences", "test_sequences",
                                    "samples", "sinkhorn_iters", "hidden"))
        for name in ("lr", "tau"):
            check_number(name, getattr(self, name), 0.0, low_open=True)
        check_number("noise", self.noise, 0.0)
        # scores, noise and operator outputs of every sample, plus Sinkhorn's autograd copies
        matrices = self.train_sequences * self.samples * (8 + self.sinkhorn_iters)
        require_memory(f"sorting N = {self.n}", 4.0 * matrices * float(self.n) ** 2)
        if METHODS[self.method].operator == "perturbed" and not self.noise > 0:
            raise InputError(f"method {self.method} needs noise > 0")

    @classmethod
    def from_toml(cls, path: str | Path, **overrides) -> SortingConfig:
        """Read a config from a TOML file of top-level ``key = value`` lines, then apply
        ``overrides``."""
        return load_flat_toml(cls, path, **overrides)


class SortingScorer(nn.Module):
    """The per-element network g = g2(ReLU(g1(.))) of Mena et al. (2018).

    Maps a batch of sequences ``x`` of shape (..., N) to scores of shape (..., N, N): row i holds
    element i's score for every output position.
    """

    def __init__(self, n: int, hidden: int = 32, generator: torch.Generator | None = None):
        super().__init__()
        self.g1 = nn.Linear(1, hidden)
        self.g2 = nn.Linear(hidden, n)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """PyTorch's default ``nn.Linear`` initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
        drawn from ``generator`` so that a seed fixes the initial weights."""
        with torch.no_grad():
            for layer in (self.g1, self.g2):
                bound = layer.in_features ** -0.5
                for parameter in (layer.weight, layer.bias):
                    parameter.uniform_(-bound, bound, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.g2(torch.relu(self.g1(x.unsqueeze(-1))))


@dataclass(frozen=True)
class SortingData:
    """Sequences to sort: ``x`` (B, N) shuffled, ``x_sorted`` (B, N), ``order`` (B, N) with
    ``order[b, j]`` = index in ``x[b]`` of the j-th smallest number (so ``x_sorted = x[order]``)."""

    x: torch.Tensor
    x_sorted: torch.Tensor
    order: torch.Tensor


def make_sequences(count: int, n: int, generator: torch.Generator) -> SortingData:
    """Draw ``count`` sequences of ``n`` i.i.d. U(0, 1) numbers (float32)."""
    x = torch.rand(count, n, generator=generator)
    x_sorted, order = torch.sort(x, dim=-1)
    return SortingData(x=x, x_sorted=x_sorted, order=order)


def reconstruct(perm: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``x_tilde = P^T x``: perm (..., B, N, N) with P[i, j] = input i at position j; x (B, N)."""
    return torch.einsum("...ij,...i->...j", perm, x)


def anneal(start: float, end: float | None, epoch: int, epochs: int) -> float:
    """Geometric schedule from ``start`` (epoch 0) to ``end`` (epoch ``epochs - 1``); constant
    ``start`` when ``end`` is None."""
    if end is None or epochs == 1 or start == 0:
        return start
    return start * (end / start) ** (epoch / (epochs - 1))


def noise_scale(config: SortingConfig, method: Method, epoch: int) -> float:
    """Gumbel noise scale at ``epoch`` (0-based); 0 for noise-free methods."""
    return anneal(config.noise, method.noise_end, epoch, config.epochs) if method.noisy else 0.0


def learning_rate(config: SortingConfig, method: Method, epoch: int) -> float:
    """Adam learning rate at ``epoch`` (0-based)."""
    return anneal(config.lr, method.lr_end, epoch, config.epochs)


def training_permutations(
    scores: torch.Tensor,
    config: SortingConfig,
    method: Method,
    noise: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """Training-time permutation of a batch of scores (B, N, N) -> (S, B, N, N) (S = 1 when
    noise-free or ``perturbed``): every sample and sequence goes through one batched operator
    call of :func:`tracker.perm.permute`."""
    samples = (method.samples or config.samples) if method.noisy else 1
    lam = method.lam * samples * scores.shape[-3] * scores.shape[-1]  # see BLACKBOX_LAMBDA
    return permute(scores, method.operator, tau=config.tau, noise=noise, samples=samples,
                   generator=generator, sinkhorn_iters=config.sinkhorn_iters, lam=lam,
                   noise_type=method.noise_type)


def evaluate(model: SortingScorer, data: SortingData) -> dict[str, float]:
    """Test metrics with the exact Hungarian on noise-free scores, each the mean over sequences,
    in the paper's units: Kendall tau (ours over pairs, and the paper's list form), Prop. wrong,
    Prop. any wrong, 100 x l1, 1000 x l2."""
    with torch.no_grad():
        perm = hungarian(model(data.x))
    predicted = perm_to_indices(perm)
    x_rec = reconstruct(perm, data.x)
    return {
        # Two taus (tracker.perm.metrics): ``kendall_tau`` over the pairs of numbers put in the
        # wrong relative order (ours, input-order independent), ``kendall_tau_list`` the paper's,
        # of the position -> input index vectors (depends on the order the inputs are listed in).
        "kendall_tau": kendall_tau_pairs(predicted, data.order).mean().item(),
        "kendall_tau_list": kendall_tau_list(predicted, data.order).mean().item(),
        "prop_wrong": prop_wrong(predicted, data.order).mean().item(),
        "prop_any_wrong": prop_any_wrong(predicted, data.order).mean().item(),
        "l1_x100": 100.0 * l1_error(x_rec, data.x_sorted).mean().item(),
        "l2_x1000": 1000.0 * l2_error(x_rec, data.x_sorted).mean().item(),
    }


def training_step(
    model: SortingScorer,
    optimiser: torch.optim.Optimizer,
    train: SortingData,
    config: SortingConfig,
    epoch: int,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One epoch (= one Adam step on the single training batch) of ``config.method``: scores,
    permutation of every sample and sequence in one operator call, MSE of ``P^T x`` to the sorted
    sequence. Returns (loss, detached permutations (S, B, N, N))."""
    method = METHODS[config.method]
    for group in optimiser.param_groups:
        group["lr"] = learning_rate(config, method, epoch)
    noise = noise_scale(config, method, epoch)
    perm = training_permutations(model(train.x), config, method, noise, generator)
    loss = (reconstruct(perm, train.x) - train.x_sorted).square().mean()
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    return loss.detach(), perm.detach()


@dataclass
class RunState:
    """Everything a run needs before its first epoch; see :func:`start_run`."""

    model: SortingScorer
    optimiser: torch.optim.Optimizer
    train: SortingData
    test: SortingData
    noise: torch.Generator


def start_run(config: SortingConfig) -> RunState:
    """Data, initial model, Adam and the noise generator of a run. Data, weights and noise come
    from independent streams that depend on the seed and N but not on the method, so all methods
    of a seed see the same data and start from the same weights."""
    base = 1_000_003 * config.seed + config.n
    data_gen, init_gen, noise_gen = (torch.Generator().manual_seed(base * 3 + k) for k in range(3))
    train = make_sequences(config.train_sequences, config.n, data_gen)
    test = make_sequences(config.test_sequences, config.n, data_gen)
    model = SortingScorer(config.n, config.hidden, generator=init_gen)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    return RunState(model, optimiser, train, test, noise_gen)


@dataclass
class TrainedRun:
    """A run after its last epoch: the state, the last step's loss and training permutations
    (S, B, N, N), and the wall time of the training loop in seconds."""

    state: RunState
    loss: torch.Tensor
    perm: torch.Tensor
    train_seconds: float


def train_run(config: SortingConfig) -> TrainedRun:
    """Train one model for ``config.epochs`` steps; deterministic given the config."""
    run = start_run(config)
    start = time.perf_counter()
    for epoch in range(config.epochs):
        loss, perm = training_step(run.model, run.optimiser, run.train, config, epoch, run.noise)
    return TrainedRun(run, loss, perm, time.perf_counter() - start)


def run_sorting(config: SortingConfig) -> dict[str, float | int | str]:
    """Train one model and evaluate it. Returns the config's fields plus: ``train_seconds`` (wall
    time of the training loop), ``seconds_per_epoch``, ``final_loss`` (training MSE at the last
    step), ``constraint_error_row`` / ``constraint_error_col`` (mean over the last step's
    training matrices of the paper's Err_r / Err_c; exactly 0 for Hungarian forwards) and the
    test metrics of :func:`evaluate`."""
    trained = train_run(config)
    row_error, col_error = constraint_error(trained.perm)
    return {
        **asdict(config),
        "train_seconds": trained.train_seconds,
        "seconds_per_epoch": trained.train_seconds / config.epochs,
        "final_loss": trained.loss.item(),
        "constraint_error_row": row_error.mean().item(),
        "constraint_error_col": col_error.mean().item(),
        **evaluate(trained.state.model, trained.state.test),
    }
