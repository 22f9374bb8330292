"""The MNIST jigsaw experiment (paper section 4.1, Table 3): cut, shuffle, learn to reassemble.

An image is cropped to the central ``M * s`` square with ``s = floor(28 / M)`` (the leftover
``28 - M * s`` border rows and columns, at most 4, are dropped: half on each side, the odd pixel on
the bottom/right) and cut into ``N = M * M`` pieces of ``s x s`` pixels, position ``j = row * M +
col``. The pieces are shuffled; a network scores every (piece, position) pair, giving an N x N
matrix; a permutation operator of :func:`tracker.perm.permute` (the paper's HSTE and
Gumbel-Sinkhorn, or the estimators beside them) turns it into P; the image is rebuilt as
``P^T pieces`` and the loss is the mean squared pixel error to the original (pixels in [0, 1]).
Evaluation uses the exact Hungarian assignment of the noise-free scores.

Two scorers: :class:`PaperScorer` is the paper's (each piece scored alone); :class:`ContextScorer`
is ours (a deeper piece encoder followed by self-attention across all pieces of the image, so a
piece's scores depend on the other pieces).

Checkpoints (one per run, rewritten atomically after every epoch) hold the config, the model and
optimiser states and the per-epoch history; every epoch's randomness comes from a generator
seeded by (seed, epoch), so a resumed run continues exactly as an uninterrupted one would.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from common.atomic import atomic_path
from common.errors import InputError
from common.limits import check_number
from common.torch_files import load_weights_only, restore_state
from experiments.config_io import load_flat_toml, require_at_least_one
from experiments.mnist import IMAGE_SIDE
from tracker.perm import (
    OPERATORS,
    canonical_operator,
    constraint_error,
    hungarian,
    permute,
    sinkhorn,
)
from tracker.perm.metrics import (
    kendall_tau_list,
    kendall_tau_pairs,
    l1_error,
    l2_error,
    perm_to_indices,
    prop_any_wrong,
    prop_wrong,
)

METHODS = tuple(OPERATORS)
MODELS = ("paper", "ours")
EVAL_BATCH = 500
EVAL_SEED_OFFSET = 1_000_003  # the fixed shuffles of the evaluation sets never match training's


@dataclass
class JigsawConfig:
    """One training run. Defaults are the paper's (Table 3) for the paper's model.

    size: M, pieces per side (N = M^2 pieces). method: the permutation operator, a name of
    :data:`tracker.perm.OPERATORS` (the paper's: "hste" and "sinkhorn", which with the noise is
    Gumbel-Sinkhorn; the old spelling "gumbel_sinkhorn" of the committed results is read as
    "sinkhorn"). lam: blackbox lambda for the loss summed over samples, images and positions
    (sorting's noise-free value; not tuned for the jigsaw).
    model: "paper" (the paper's scorer) or "ours" (:class:`ContextScorer`).
    samples: Gumbel noise samples per image, losses averaged. noise: Gumbel scale; tau: temperature.
    sinkhorn_iters: L for Gumbel-Sinkhorn. train_subset / eval_subset: first n images (0 = all).
    train_eval_limit: training-set metrics are measured on the first this-many training images.
    width, layers, heads: size of :class:`ContextScorer` (ignored by the paper's model).
    """

    size: int = 3
    method: str = "hste"
    model: str = "paper"
    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-4
    samples: int = 10
    noise: float = 1.0
    tau: float = 1.0
    sinkhorn_iters: int = 20
    train_subset: int = 0
    eval_subset: int = 0
    train_eval_limit: int = 10_000
    seed: int = 0
    width: int = 128
    layers: int = 2
    heads: int = 4
    lam: float = 0.5

    def __post_init__(self) -> None:
        if not 2 <= self.size <= IMAGE_SIDE // 2:
            raise InputError(f"jigsaw size M={self.size} must be in 2..{IMAGE_SIDE // 2}")
        try:
            self.method = canonical_operator(self.method)
        except ValueError:
            raise InputError(f"unknown method {self.method!r}; choose from "
                             f"{', '.join(METHODS)}") from None
        if self.model not in MODELS:
            raise InputError(f"unknown model {self.model!r}; choose from {', '.join(MODELS)}")
        require_at_least_one(
            self, ("epochs", "batch_size", "samples", "sinkhorn_iters", "layers", "heads"))
        for name in ("lr", "tau", "lam"):
            check_number(name, getattr(self, name), 0.0, low_open=True)
        check_number("noise", self.noise, 0.0)
        if self.method == "perturbed" and not self.noise > 0:
            raise InputError("method perturbed needs noise > 0")

    @classmethod
    def from_toml(cls, path: str | Path) -> JigsawConfig:
        """Read a config from a TOML file whose top-level keys are field names."""
        return load_flat_toml(cls, path)

    @property
    def label(self) -> str:
        """The method as reported: "hste", "sinkhorn", ..., or "ours_hste" for our model."""
        return self.method if self.model == "paper" else f"{self.model}_{self.method}"

    @property
    def run_name(self) -> str:
        return f"M{self.size}_{self.label}_seed{self.seed}"


# --- pieces -------------------------------------------------------------------------------------


def piece_side(size: int) -> int:
    """Side in pixels of one piece of an M x M cut of a 28 x 28 image: floor(28 / M)."""
    return IMAGE_SIDE // size


def cut_pieces(images: Tensor, size: int) -> Tensor:
    """Crop the centre ``M*s`` square and cut it into pieces.

    Args:
        images: (B, 28, 28) float.
        size: M.

    Returns:
        (B, M*M, s, s), piece j = row * M + col of the grid.
    """
    side = piece_side(size)
    start = (IMAGE_SIDE - size * side) // 2
    crop = images[:, start : start + size * side, start : start + size * side]
    grid = crop.reshape(-1, size, side, size, side).permute(0, 1, 3, 2, 4)
    return grid.reshape(-1, size * size, side, side)


def assemble(pieces: Tensor, size: int) -> Tensor:
    """Inverse of :func:`cut_pieces` without the crop: (..., M*M, s, s) -> (..., M*s, M*s)."""
    side = pieces.shape[-1]
    lead = pieces.shape[:-3]
    grid = pieces.reshape(*lead, size, size, side, side).transpose(-3, -2)
    return grid.reshape(*lead, size * side, size * side)


def shuffle_pieces(pieces: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Shuffle the pieces of every image independently.

    Args:
        pieces: (B, N, s, s).
        generator: source of the random permutations.

    Returns:
        (shuffled, true_idx): shuffled (B, N, s, s); true_idx (B, N) int64 with ``true_idx[b, j]``
        = the input index holding the piece of position j (the tracker.perm.metrics convention).
    """
    batch, n = pieces.shape[:2]
    order = torch.rand(batch, n, generator=generator).argsort(dim=-1)
    shuffled = pieces[torch.arange(batch)[:, None], order]
    return shuffled, order.argsort(dim=-1)


def reconstruct(P: Tensor, shuffled: Tensor) -> Tensor:
    """Rebuild the pieces ``P^T x``: P (..., N, N), shuffled (B, N, s, s) -> (..., N, s*s)."""
    return P.transpose(-1, -2) @ shuffled.flatten(-2)


# --- scorers ------------------------------------------------------------------------------------


class PaperScorer(nn.Module):
    """The paper's network (Table 3): each piece scored for every position on its own.

    g1: Conv2d(1, 64, 5, padding 2) + ReLU + MaxPool(2), flattened; g2: Linear without bias to N.
    Input (B, N, s, s) pieces; output (B, N, N) scores, row = piece, column = position.
    """

    def __init__(self, size: int):
        super().__init__()
        side = piece_side(size)
        self.g1 = nn.Sequential(
            nn.Conv2d(1, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()
        )
        self.g2 = nn.Linear(64 * (side // 2) ** 2, size * size, bias=False)

    def forward(self, pieces: Tensor) -> Tensor:
        batch, n, side, _ = pieces.shape
        features = self.g1(pieces.reshape(batch * n, 1, side, side))
        return self.g2(features).reshape(batch, n, n)


class ContextScorer(nn.Module):
    """Ours: a piece encoder, then self-attention across the pieces of one image.

    Encoder: two 3x3 convolutions (32, 64 channels, ReLU) keeping the piece's full resolution (its
    border pixels are what neighbouring pieces must continue), flattened to ``width`` features.
    Context: a Transformer encoder over the N piece tokens without positional encoding, so the
    scorer is permutation-equivariant: shuffling the input pieces shuffles the score rows alike.
    Head: Linear(width, N). Input (B, N, s, s); output (B, N, N) scores.
    """

    def __init__(self, size: int, width: int = 128, layers: int = 2, heads: int = 4):
        super().__init__()
        side = piece_side(size)
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(64 * side * side, width), nn.ReLU(),
        )
        layer = nn.TransformerEncoderLayer(
            width, heads, dim_feedforward=2 * width, dropout=0.0, batch_first=True, norm_first=True
        )
        self.context = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(width, size * size)

    def forward(self, pieces: Tensor) -> Tensor:
        batch, n, side, _ = pieces.shape
        tokens = self.encoder(pieces.reshape(batch * n, 1, side, side)).reshape(batch, n, -1)
        return self.head(self.context(tokens))


def build_scorer(config: JigsawConfig) -> nn.Module:
    """The scorer the config names, initialised from ``torch.manual_seed(config.seed)``."""
    torch.manual_seed(config.seed)
    if config.model == "paper":
        return PaperScorer(config.size)
    return ContextScorer(config.size, config.width, config.layers, config.heads)


# --- training and evaluation --------------------------------------------------------------------


def permutation_samples(scores: Tensor, config: JigsawConfig, generator: torch.Generator) -> Tensor:
    """The method's noisy permutations for training: (B, N, N) scores -> (S, B, N, N) (S = 1
    for ``perturbed``, which averages its samples)."""
    lam = config.lam * config.samples * scores.shape[-3] * scores.shape[-1]  # summed-loss lambda
    return permute(scores, config.method, config.tau, config.noise, config.samples, generator,
                   sinkhorn_iters=config.sinkhorn_iters, lam=lam)


def content_truth(shuffled: Tensor, true_idx: Tensor, pred_idx: Tensor) -> Tensor:
    """The ground truth closest to ``pred_idx`` among those equal in content to ``true_idx``.

    Pieces with identical pixels (typically blank corners) are interchangeable: the input
    carries no information about which of them came from which position, so any ordering of
    them is an equally right answer. This returns the valid ordering (each position gets a piece
    identical to its true one) that agrees with the prediction at the most positions, found by one
    batched Hungarian call. Metrics against it are the "content" metrics; against ``true_idx``
    they are the paper's.

    Args:
        shuffled: (B, N, s, s) input pieces. true_idx, pred_idx: (B, N) input index per position.

    Returns:
        (B, N) int64 indices.
    """
    flat = shuffled.flatten(-2)
    same = (flat.unsqueeze(-2) == flat.unsqueeze(-3)).all(dim=-1)  # (B, N, N) piece i == piece k
    allowed = same.gather(-1, true_idx.unsqueeze(-2).expand_as(same))  # piece i fits position j
    agrees = pred_idx.unsqueeze(-2) == torch.arange(same.shape[-1]).unsqueeze(-1)
    scores = torch.where(allowed, 1.0 + agrees.float(), torch.tensor(-math.inf))
    return perm_to_indices(hungarian(scores))


def to_unit(images: Tensor) -> Tensor:
    """uint8 (B, 28, 28) -> float32 in [0, 1]."""
    return images.to(torch.float32) / 255.0


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator of one epoch's data order, shuffles and noise."""
    return torch.Generator().manual_seed(seed * 1_000_033 + epoch)


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: Tensor,
    config: JigsawConfig,
    epoch: int,
    progress: Callable[[int], None] | None = None,
) -> dict[str, float]:
    """One pass over ``images`` (uint8 (n, 28, 28)) in random order.

    Returns the mean training loss (pixel MSE), the mean and max constraint error
    max(Err_r, Err_c) of the training permutations over all samples of the epoch, and the
    epoch's wall time in seconds. ``progress`` is called with the number of images done per step.
    """
    generator = epoch_generator(config.seed, epoch)
    order = torch.randperm(len(images), generator=generator)
    model.train()
    loss_sum, error_sum, error_max, count = 0.0, 0.0, 0.0, 0
    start = time.perf_counter()
    for begin in range(0, len(images), config.batch_size):
        batch = to_unit(images[order[begin : begin + config.batch_size]])
        pieces = cut_pieces(batch, config.size)
        shuffled, _ = shuffle_pieces(pieces, generator)
        P = permutation_samples(model(shuffled), config, generator)
        loss = (reconstruct(P, shuffled) - pieces.flatten(-2)).square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            error = torch.maximum(*constraint_error(P.detach()))
        loss_sum += loss.item() * len(batch)
        error_sum += error.mean().item() * len(batch)
        error_max = max(error_max, error.max().item())
        count += len(batch)
        if progress is not None:
            progress(len(batch))
    return {
        "loss": loss_sum / count,
        "step_constraint_error_mean": error_sum / count,
        "step_constraint_error_max": error_max,
        "epoch_time_s": time.perf_counter() - start,
    }


@torch.no_grad()
def evaluate(model: nn.Module, images: Tensor, config: JigsawConfig, seed: int) -> dict[str, float]:
    """Table 4 metrics on ``images`` (uint8 (n, 28, 28)), each image shuffled once from ``seed``.

    The permutation is the exact Hungarian assignment of the noise-free scores. Kendall tau
    (``kendall_tau``: ours, over misordered pairs of positions) and the proportions wrong are
    given twice: against the sampled shuffle (the paper's numbers) and with identical pieces
    interchangeable (``_content`` suffix, see :func:`content_truth`); ``kendall_tau_list`` is the
    paper's list-form tau against the sampled shuffle (see :mod:`tracker.perm.metrics`).
    l1 / l2: mean absolute / squared pixel error of the rebuilt crop (pixels in [0, 1]). The
    constraint error is that of the method's own operator on the noise-free scores (Sinkhorn with
    L iterations; 0 for the others, whose forward passes are exact assignments or their means),
    mean and max over images.
    """
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    sums: dict[str, float] = {}
    error_max = 0.0
    for begin in range(0, len(images), EVAL_BATCH):
        pieces = cut_pieces(to_unit(images[begin : begin + EVAL_BATCH]), config.size)
        shuffled, true_idx = shuffle_pieces(pieces, generator)
        scores = model(shuffled)
        P = hungarian(scores)
        pred_idx = perm_to_indices(P)
        rebuilt = reconstruct(P, shuffled).flatten(-2)
        target = pieces.flatten(-3)
        if config.method == "sinkhorn":
            soft = sinkhorn(scores / config.tau, n_iters=config.sinkhorn_iters)
            error = torch.maximum(*constraint_error(soft))
        else:  # exact permutations, or (perturbed) a mean of them: doubly stochastic
            error = torch.zeros(len(scores))
        content_idx = content_truth(shuffled, true_idx, pred_idx)
        values = {
            "kendall_tau": kendall_tau_pairs(pred_idx, true_idx),
            "kendall_tau_list": kendall_tau_list(pred_idx, true_idx),
            "prop_wrong": prop_wrong(pred_idx, true_idx),
            "prop_any_wrong": prop_any_wrong(pred_idx, true_idx),
            "kendall_tau_content": kendall_tau_pairs(pred_idx, content_idx),
            "prop_wrong_content": prop_wrong(pred_idx, content_idx),
            "prop_any_wrong_content": prop_any_wrong(pred_idx, content_idx),
            "l1": l1_error(rebuilt, target),
            "l2": l2_error(rebuilt, target),
            "constraint_error_mean": error,
        }
        for name, per_image in values.items():
            sums[name] = sums.get(name, 0.0) + per_image.sum().item()
        error_max = max(error_max, error.max().item())
    metrics = {name: total / len(images) for name, total in sums.items()}
    metrics["constraint_error_max"] = error_max
    return metrics


@torch.no_grad()
def tie_bound(images: Tensor, size: int, seed: int) -> dict[str, float]:
    """The paper-metric values of a solver that is right up to identical pieces.

    Identical pieces (blank corners) cannot be told apart, so even a perfect solver places them
    in input order, which is random: its expected Kendall tau, Prop. wrong and Prop. any wrong
    against the sampled shuffle are the best any model can reach in expectation. Measured here
    by such a solver (ties broken by input order) on ``images`` shuffled from ``seed``.
    """
    generator = torch.Generator().manual_seed(seed)
    sums = {"kendall_tau": 0.0, "kendall_tau_list": 0.0, "prop_wrong": 0.0, "prop_any_wrong": 0.0}
    for begin in range(0, len(images), EVAL_BATCH):
        pieces = cut_pieces(to_unit(images[begin : begin + EVAL_BATCH]), size)
        shuffled, true_idx = shuffle_pieces(pieces, generator)
        flat = shuffled.flatten(-2)
        true_flat = pieces.flatten(-2)
        fits = (flat.unsqueeze(-2) == true_flat.unsqueeze(-3)).all(dim=-1)  # input i at pos j
        pred_idx = perm_to_indices(hungarian(fits.float()))
        sums["kendall_tau"] += kendall_tau_pairs(pred_idx, true_idx).sum().item()
        sums["kendall_tau_list"] += kendall_tau_list(pred_idx, true_idx).sum().item()
        sums["prop_wrong"] += prop_wrong(pred_idx, true_idx).sum().item()
        sums["prop_any_wrong"] += prop_any_wrong(pred_idx, true_idx).sum().item()
    return {name: total / len(images) for name, total in sums.items()}


# --- checkpointed runs --------------------------------------------------------------------------


def comparable(config: JigsawConfig) -> dict:
    """The config fields a checkpoint must match to be resumed (all but ``epochs``)."""
    values = dataclasses.asdict(config)
    values.pop("epochs")
    return values


def save_checkpoint(path: Path, config: JigsawConfig, model: nn.Module,
                    optimizer: torch.optim.Optimizer, history: list[dict]) -> None:
    """Write the run's state atomically (config, model, optimiser, per-epoch history)."""
    state = {
        "config": dataclasses.asdict(config),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "history": history,
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path, config: JigsawConfig, model: nn.Module,
                    optimizer: torch.optim.Optimizer) -> list[dict]:
    """Restore model and optimiser from ``path`` and return its history.

    Raises:
        InputError: unreadable file, or a checkpoint of a different config.
    """
    state = _read_state(path, config)
    restore_state(model, state.get("model"), path, "model state does not fit this run")
    restore_state(optimizer, state.get("optimizer"), path, "optimiser state does not fit this run")
    return list(state["history"])


def finished_history(path: Path, config: JigsawConfig) -> list[dict] | None:
    """The history of a run that has finished all ``config.epochs`` epochs, else None (no
    checkpoint, or fewer epochs so far).

    Raises:
        InputError: unreadable file, or a checkpoint of a different config.
    """
    if not path.exists():
        return None
    history = list(_read_state(path, config)["history"])
    done = len(history) == config.epochs and "train_kendall_tau" in history[-1]
    return history if done else None


def epochs_done(path: Path, config: JigsawConfig) -> int:
    """How many epochs the checkpoint at ``path`` holds (0 if there is none).

    Raises:
        InputError: unreadable file, a checkpoint of a different config, or one holding more
            than ``config.epochs`` epochs.
    """
    held = len(_read_state(path, config)["history"]) if path.exists() else 0
    _refuse_beyond(path, held, config)
    return held


def _refuse_beyond(path: Path, held: int, config: JigsawConfig) -> None:
    if held > config.epochs:
        raise InputError(f"checkpoint {path} holds {held} epochs, more than the "
                         f"{config.epochs} asked for; ask for {held} or use another --out")


def _read_state(path: Path, config: JigsawConfig) -> dict:
    """The checkpoint dict at ``path``, checked to belong to ``config`` (up to its epochs)."""
    state = load_weights_only(path, "a readable jigsaw checkpoint")
    if not isinstance(state, dict) or not isinstance(state.get("history"), list):
        raise InputError(f"{path}: not a jigsaw checkpoint (no training history)")
    try:
        stored = JigsawConfig(**state["config"])
    except (KeyError, TypeError) as error:
        raise InputError(f"{path}: not a jigsaw checkpoint (no valid config: {error})") from None
    if comparable(stored) != comparable(config):
        changed = sorted(k for k, v in comparable(config).items() if comparable(stored)[k] != v)
        raise InputError(
            f"checkpoint {path} was made with a different config ({', '.join(changed)}); "
            "use another --out folder or delete it"
        )
    return state


def subset(images: Tensor, n: int) -> Tensor:
    """The first ``n`` images (all if ``n`` is 0 or larger than the set)."""
    return images if n <= 0 else images[:n]


def run(
    config: JigsawConfig,
    train_images: np.ndarray,
    eval_images: np.ndarray,
    checkpoint: Path,
    on_epoch: Callable[[dict], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[dict]:
    """Train one run to ``config.epochs`` epochs, resuming from ``checkpoint`` if it exists.

    Each epoch appends a history row: epoch, train loss, training constraint errors, epoch time,
    the evaluation-set metrics (``eval_`` prefix) and, after the last epoch, the training-set
    metrics (``train_`` prefix). The checkpoint is rewritten after every epoch. A checkpoint with
    fewer epochs is continued (so a run can be extended), one with more is refused.

    Args:
        train_images, eval_images: uint8 (n, 28, 28) arrays.
        on_epoch: called with each new history row.
        progress: called with the number of training images done per step.

    Returns:
        The full history, one dict per epoch.
    """
    train = subset(torch.from_numpy(train_images), config.train_subset)
    held_out = subset(torch.from_numpy(eval_images), config.eval_subset)
    if len(train) == 0 or len(held_out) == 0:
        raise InputError("empty training or evaluation set")
    model = build_scorer(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    history = load_checkpoint(checkpoint, config, model, optimizer) if checkpoint.exists() else []
    _refuse_beyond(checkpoint, len(history), config)
    for epoch in range(len(history) + 1, config.epochs + 1):
        row = {"epoch": epoch, **train_epoch(model, optimizer, train, config, epoch, progress)}
        eval_metrics = evaluate(model, held_out, config, config.seed + EVAL_SEED_OFFSET)
        row.update({f"eval_{name}": value for name, value in eval_metrics.items()})
        if epoch == config.epochs:
            row.update(training_set_metrics(model, train, config))
        history.append(row)
        save_checkpoint(checkpoint, config, model, optimizer, history)
        if on_epoch is not None:
            on_epoch(row)
    if "train_kendall_tau" not in history[-1]:  # a run stopped early and then accepted as done
        history[-1].update(training_set_metrics(model, train, config))
        save_checkpoint(checkpoint, config, model, optimizer, history)
    return history


def training_set_metrics(model: nn.Module, train: Tensor, config: JigsawConfig) -> dict:
    """:func:`evaluate` on the first ``train_eval_limit`` training images, ``train_`` prefixed."""
    metrics = evaluate(model, train[: config.train_eval_limit], config, config.seed)
    return {f"train_{name}": value for name, value in metrics.items()}


def train_size(config: JigsawConfig, n_train: int) -> int:
    """Images per epoch when the full training set has ``n_train`` images."""
    return n_train if config.train_subset <= 0 else min(n_train, config.train_subset)
