"""Training the association network on freshly simulated scenes (``hste train``).

One plain loop, nanoGPT style. Per epoch: simulate ``scenes_per_epoch`` new scenes (each rank its
share), record every association problem a gnn tracker meets on them
(:mod:`tracker.training_data`), then ``passes`` passes over them in batches of ``batch_scenes``
scenes: network -> augmented matrix -> HSTE or Gumbel-Sinkhorn -> the mode's loss (plus, in
supervised mode, the detection evidence model's cross-entropy on the scenes' detections) -> AdamW
step (gradients averaged over ranks by DDP). At the end of every epoch rank 0 tracks the validation
scenes with the network, scores them (MOTA, IDF1 against gnn on the same scenes), appends a row to
``log.csv`` and writes ``checkpoint.pt`` (model, config, optimiser state; atomically) and, when
validation MOTA improved, ``best.pt``. The untrained network is exactly the gnn tracker (its
output layers start at zero), and it is the first ``best.pt`` (log row epoch 0), so a model
that validation does not show to be better than gnn is never preferred.

Seeds: scene ``i`` of epoch ``e`` is simulated with the seed derived from ``(seed, e, i)``,
validation scenes from ``(seed, validation, i)``, Gumbel noise per rank and step from
``(seed, e, pass, step, rank)``; so a run is reproducible, resumes exactly, and its scenes do not
depend on the number of ranks. Batch sizes are global (see :mod:`tracker.distributed`).

With ``unroll`` = K > 0 (end-to-end and unsupervised) a step does not use recorded problems: the
batch's fresh scenes are tracked by the network being trained, unrolled over windows of K frames
(:mod:`tracker.unroll`), and the window losses' gradients accumulate into one AdamW step.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import math
import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from common.atomic import write_text_atomic
from common.config import build_config, option
from common.errors import InputError
from common.torch_files import restore_state
from tracker.association.evidence import evidence_loss
from tracker.association.features import collate
from tracker.association.gnn import GnnAssociator, GnnConfig
from tracker.association.learned import (
    AssociationModel,
    LearnedAssociator,
    model_from_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from tracker.association.losses import (
    MODES,
    OPERATORS,
    FrameTargets,
    OperatorConfig,
    association_loss,
)
from tracker.association.network import AssociationNetwork, NetworkConfig, augmented_layout
from tracker.distributed import RankContext, barrier, mean_over_ranks, sum_over_ranks, wrap
from tracker.evaluation import evaluate_many, scene_scoring
from tracker.pipeline import TrackerConfig
from tracker.run_folder import saved_progress
from tracker.scene_source import PRESETS, ScenarioConfig, generate, get_preset, track_scene
from tracker.training_data import (
    EvidenceExamples,
    RecordedScene,
    TrainingFrame,
    record_scene,
)
from tracker.unroll import UNROLL_MODES, UnrollConfig, unroll_backward

LOG_COLUMNS = ("epoch", "steps", "scenes", "loss", "val_mota", "val_idf1", "gnn_val_mota",
               "gnn_val_idf1", "seconds", "scenes_per_s")
_TRAIN_STREAM, _VALIDATION_STREAM, _NOISE_STREAM = 1, 2, 3


@dataclass(frozen=True)
class TrainingConfig:
    """Everything a training run depends on; loadable from a flat TOML file, and every setting
    an ``hste train`` option of the same name (:func:`common.config.cli_options`).

    HSTE learns only from sampled assignments that differ from the labels, so the Gumbel noise
    must be comparable to the score margins (3 beat 1 on both presets, docs/results/learned).
    The detection evidence loss needs target/clutter labels, so supervised mode only; weight 0
    leaves the evidence at 0, the kinematic track score alone. ``scenes_per_epoch`` and
    ``batch_scenes`` are global, divisible by the number of ranks. ``behaviour = "model"``
    tracks the training scenes with the network being trained, DAgger style, so it learns on
    the tracks it makes itself. ``unroll`` = 0 trains on the per-frame problems (every mode; the
    default, and what checkpoints without this setting were trained with); K >= 1
    (``end-to-end`` and ``unsupervised`` only) trains through the tracker itself, unrolled over
    windows of K frames on the network's own tracks (:mod:`tracker.unroll`; ``samples``
    rollouts per scene, ``behaviour`` unused, one rank).

    Attributes:
        preset: Scene preset to simulate training scenes from (a sim.presets name), or several
            joined by + (a mixture: scene i of every epoch and validation scene i from preset
            i mod n).
        scenario_config: Scenario TOML to simulate from instead of the preset.
        frames: Frames per training scene.
        mode: supervised (true association), end-to-end (true positions only), unsupervised.
        operator: hste (Hungarian + straight-through), sinkhorn (Gumbel-Sinkhorn), perturbed,
            blackbox or hste-softmax (tracker.perm.OPERATORS).
        tau: Temperature of the permutation operator.
        noise: Gumbel noise scale.
        samples: Gumbel samples per association problem.
        sinkhorn_iters: Sinkhorn iterations of the sinkhorn operator.
        evidence_weight: Weight of the detection evidence loss (supervised only; 0: no
            evidence).
        hidden: Width of the network.
        rounds: Message-passing rounds across pairs.
        context_features: Give the network the neighbourhood features (nearest other track /
            detection and how many lie within 3 sigma; tracker.association.features).
        epochs: Epochs; each simulates fresh scenes.
        scenes_per_epoch: Scenes simulated per epoch (global, over all ranks).
        batch_scenes: Scenes per optimiser step (global batch; divisible by the ranks).
        passes: Passes over each epoch's scenes.
        lr: AdamW learning rate (cosine decay to lr/10); for the global batch.
        evidence_lr: AdamW learning rate of the detection evidence model (same schedule).
        grad_clip: Largest gradient norm of a step (clipped above).
        validation_scenes: Scenes scored (MOTA, IDF1 vs gnn) after every epoch.
        gate_probability: Chi-square gate probability of the gate and the gnn priors (it
            replaces the tracker config's gnn.gate_probability).
        behaviour: Who tracks the training scenes: gnn, or the model being trained (DAgger).
        seed: Seed of scenes, initial weights and noise.
        unroll: 0: per-frame problems (default); K: train through the tracker unrolled over
            windows of K frames (end-to-end, unsupervised; one rank).
        tracker_config: Tracker settings TOML (as hste track --config: motion model, process
            noise, [management], ...) of the tracker that training and validation run.
    """

    preset: str = field(default="crossing",
                        metadata=option(choices=tuple(sorted(PRESETS)), joined=True))
    scenario_config: str = field(default="", metadata=option(path=True))
    frames: int = field(default=60, metadata=option(minimum=1))
    mode: str = field(default="supervised", metadata=option(choices=MODES))
    operator: str = field(default="hste", metadata=option(choices=OPERATORS))
    tau: float = field(default=1.0, metadata=option(minimum=0.0, open_minimum=True))
    noise: float = field(default=3.0, metadata=option(minimum=0.0))
    samples: int = field(default=4, metadata=option(minimum=1))
    sinkhorn_iters: int = field(default=20, metadata=option(minimum=1))
    evidence_weight: float = field(default=1.0, metadata=option(minimum=0.0))
    hidden: int = field(default=32, metadata=option(minimum=1))
    rounds: int = field(default=2, metadata=option(minimum=0))
    context_features: bool = False
    epochs: int = field(default=6, metadata=option(minimum=0))
    scenes_per_epoch: int = field(default=8, metadata=option(minimum=1))
    batch_scenes: int = field(default=2, metadata=option(minimum=1))
    passes: int = field(default=4, metadata=option(minimum=1))
    lr: float = field(default=3e-3, metadata=option(minimum=0.0, open_minimum=True))
    evidence_lr: float = field(default=3e-2, metadata=option(minimum=0.0, open_minimum=True))
    grad_clip: float = field(default=5.0, metadata=option(minimum=0.0, open_minimum=True))
    validation_scenes: int = field(default=3, metadata=option(minimum=0))
    gate_probability: float = 0.999
    behaviour: str = field(default="gnn", metadata=option(choices=("gnn", "model")))
    seed: int = 0
    unroll: int = field(default=0, metadata=option(minimum=0))
    tracker_config: str = field(default="", metadata=option(path=True))

    def __post_init__(self) -> None:
        checks = [
            (self.mode in MODES, f"mode must be one of {', '.join(MODES)}"),
            (self.operator in OPERATORS, f"operator must be one of {', '.join(OPERATORS)}"),
            (0 < self.tau < math.inf, "tau must be finite and > 0"),
            (0 <= self.noise < math.inf, "noise must be finite and >= 0"),
            (self.noise > 0 or self.operator != "perturbed", "operator perturbed needs noise > 0"),
            (0 <= self.evidence_weight < math.inf, "evidence_weight must be finite and >= 0"),
            (min(self.samples, self.sinkhorn_iters, self.hidden, self.frames) >= 1,
             "samples, sinkhorn_iters, hidden and frames must be >= 1"),
            (min(self.rounds, self.epochs, self.validation_scenes) >= 0,
             "rounds, epochs and validation_scenes must be >= 0"),
            (min(self.scenes_per_epoch, self.batch_scenes, self.passes) >= 1,
             "scenes_per_epoch, batch_scenes and passes must be >= 1"),
            (self.scenes_per_epoch % self.batch_scenes == 0,
             "scenes_per_epoch must be a multiple of batch_scenes"),
            (0 < self.lr < math.inf and 0 < self.evidence_lr < math.inf and self.grad_clip > 0,
             "lr and evidence_lr must be finite and > 0, grad_clip > 0"),
            (0 < self.gate_probability < 1, "gate_probability must be in (0, 1)"),
            (self.behaviour in ("gnn", "model"), "behaviour must be gnn or model"),
            (self.seed >= 0, "seed must be >= 0"),
            (self.unroll >= 0, "unroll must be >= 0"),
            (self.unroll == 0 or self.mode in UNROLL_MODES,
             f"unroll needs mode {' or '.join(UNROLL_MODES)} (no association labels)"),
        ]
        for ok, message in checks:
            if not ok:
                raise InputError(f"training config: {message}")

    def replace(self, **changes: Any) -> TrainingConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingConfig:
        """Build from plain values (:func:`common.config.build_config`, the one loader of every
        config); InputError for unknown keys, wrong types or bad values."""
        return build_config(cls, data, "training config")

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> TrainingConfig:
        """Read a flat TOML file of settings; InputError if missing, not TOML or invalid."""
        try:
            with open(path, "rb") as handle:
                return cls.from_dict(tomllib.load(handle))
        except FileNotFoundError:
            raise InputError(f"{path}: no such training config file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise InputError(f"{path}: not valid TOML ({error})") from None

    def presets(self) -> tuple[str, ...]:
        """The preset names of ``preset`` (one, or a ``+``-joined mixture)."""
        return tuple(self.preset.split("+"))

    def scenario(self, index: int = 0) -> ScenarioConfig:
        """The config of training (or validation) scene ``index`` of an epoch: the TOML file if
        given, else preset ``index`` mod n of the mixture; ``frames`` long."""
        if self.scenario_config:
            base = ScenarioConfig.from_toml(self.scenario_config)
        else:
            presets = self.presets()
            base = get_preset(presets[index % len(presets)])
        return base.replace(frames=self.frames)

    def tracker(self) -> TrackerConfig:
        """The tracker settings of training and validation: ``tracker_config``'s (the defaults
        without one) with this ``gate_probability``; InputError for a bad file."""
        base = (TrackerConfig.from_toml(self.tracker_config) if self.tracker_config
                else TrackerConfig())
        return dataclasses.replace(base, gnn=GnnConfig(gate_probability=self.gate_probability))

    def operator_config(self) -> OperatorConfig:
        """The permutation operator's settings (operator, tau, noise, samples, Sinkhorn iters)."""
        return OperatorConfig(self.operator, self.tau, self.noise, self.samples,
                              self.sinkhorn_iters)

    def unroll_config(self) -> UnrollConfig:
        """The unroll's settings (mode, window, operator, tracker); only for ``unroll`` > 0."""
        return UnrollConfig(self.mode, self.unroll, self.operator_config(), self.tracker())

    def network(self) -> NetworkConfig:
        """The association network's shape (hidden width, message-passing rounds, context)."""
        return NetworkConfig.sized(self.hidden, self.rounds, self.context_features)


def derived_seed(*keys: int) -> int:
    """A 32-bit seed derived from integer keys (numpy SeedSequence hashing)."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0])


def scene_seed(seed: int, epoch: int, index: int) -> int:
    """Seed of global training scene ``index`` in ``epoch``."""
    return derived_seed(seed, _TRAIN_STREAM, epoch, index)


def validation_seed(seed: int, index: int) -> int:
    """Seed of validation scene ``index`` (a stream training scenes never use)."""
    return derived_seed(seed, _VALIDATION_STREAM, index)


@dataclass
class Batch:
    """Training frames of a batch's scenes concatenated, with each group's scene (0..scenes-1),
    and the scenes' evidence examples."""

    frames: list[TrainingFrame]
    group_scene: torch.Tensor
    scenes: int
    evidence: EvidenceExamples


def make_batch(scenes: list[RecordedScene]) -> Batch:
    """One batch of the recorded ``scenes``, each association group labelled with the index of
    the scene it came from."""
    groups = torch.tensor([sum(frame.graph.num_groups for frame in scene.frames)
                           for scene in scenes])
    return Batch([frame for scene in scenes for frame in scene.frames],
                 torch.repeat_interleave(torch.arange(len(scenes)), groups), len(scenes),
                 EvidenceExamples.concatenate([scene.evidence for scene in scenes]))


def evidence_weight(config: TrainingConfig) -> float:
    """Weight of the evidence loss: ``config.evidence_weight`` in supervised mode, else 0."""
    return config.evidence_weight if config.mode == "supervised" else 0.0


def batch_loss(network: torch.nn.Module, batch: Batch, config: TrainingConfig,
               generator: torch.Generator | None) -> torch.Tensor:
    """The mean over the batch's scenes of the mode's loss (0 for a batch without problems), plus
    the weighted evidence loss over the batch's detections."""
    if not batch.frames:
        return sum(p.sum() * 0.0 for p in network.parameters())
    graph = collate([frame.graph for frame in batch.frames])
    targets = FrameTargets.concatenate([frame.targets for frame in batch.frames])
    scores = network(graph, batch.evidence.features)
    loss = association_loss(config.mode, scores, graph, augmented_layout(graph), targets,
                            batch.group_scene, batch.scenes, config.operator_config(), generator)
    return loss + evidence_weight(config) * evidence_loss(scores.evidence, batch.evidence.labels)


def simulate_scenes(config: TrainingConfig, seeds: list[int], indices: list[int],
                    model: AssociationModel | None = None) -> list[RecordedScene]:
    """The recorded association problems and evidence examples of one simulated scene per seed
    (scene ``indices[i]`` of the epoch: its preset in a mixture), tracked by gnn or, with
    ``behaviour = "model"``, by ``model``."""
    tracker_config = config.tracker()
    behaviour = (LearnedAssociator(model) if config.behaviour == "model" and model is not None
                 else GnnAssociator(tracker_config.gnn))
    return [record_scene(generate(config.scenario(index), seed), tracker_config, behaviour,
                         config.context_features)
            for seed, index in zip(seeds, indices, strict=True)]


def validation_scores(associator, config: TrainingConfig, prefix: str) -> dict[str, float]:
    """Mean MOTA and IDF1 of ``associator`` on the validation scenes, keys ``{prefix}_mota`` and
    ``{prefix}_idf1``, each scene scored as it wants (:func:`~tracker.evaluation.scene_scoring`:
    5 m on point clouds)."""
    tracker_config = config.tracker()
    summaries = []
    for index in range(config.validation_scenes):
        scenario = generate(config.scenario(index), validation_seed(config.seed, index))
        table = track_scene(associator, scenario, tracker_config)
        summaries.append(evaluate_many(scenario, {prefix: table}, scene_scoring(scenario))[
            prefix].summary)
    return {f"{prefix}_{metric.lower()}": float(np.mean([s[metric] for s in summaries]))
            for metric in ("MOTA", "IDF1")}


@functools.lru_cache(maxsize=4)
def gnn_validation_scores(config: TrainingConfig) -> dict[str, float]:
    """The gnn baseline's validation scores (computed once per config)."""
    return validation_scores(GnnAssociator(config.tracker().gnn), config, "gnn_val")


@dataclass
class TrainingState:
    """What a checkpoint restores: model, optimiser, the next epoch, the log so far."""

    model: AssociationModel
    optimizer: torch.optim.Optimizer
    epoch: int
    log: list[dict[str, float]]
    best_mota: float


def new_state(config: TrainingConfig) -> TrainingState:
    """A fresh run: the network initialised from ``config.seed`` (its output layers at zero, so
    it scores exactly as gnn), AdamW at ``config.lr``, epoch 0, an empty log."""
    torch.manual_seed(derived_seed(config.seed, 0))
    network = AssociationNetwork(config.network())
    model = AssociationModel(network, config.operator, config.tracker().gnn)
    return TrainingState(model, make_optimizer(network, config), 0, [], -math.inf)


def make_optimizer(network: AssociationNetwork, config: TrainingConfig) -> torch.optim.AdamW:
    """AdamW with two parameter groups: the association network at ``lr`` and the evidence model
    at ``evidence_lr``; each group's ``scale`` (its lr over ``lr``) rides the common schedule."""
    evidence = list(network.evidence.parameters())
    ids = {id(p) for p in evidence}
    rest = [p for p in network.parameters() if id(p) not in ids]
    return torch.optim.AdamW([
        {"params": rest, "lr": config.lr, "scale": 1.0},
        {"params": evidence, "lr": config.evidence_lr, "scale": config.evidence_lr / config.lr},
    ])


def resume_state(path: Path, config: TrainingConfig) -> TrainingState:
    """The training state of checkpoint ``path``; its config must equal ``config`` up to
    ``epochs`` (a run may be extended). InputError otherwise."""
    content = read_checkpoint(path)
    saved = content.get("training")
    if not isinstance(saved, dict) or "optimizer" not in content:
        raise InputError(f"{path}: a model checkpoint without training state; cannot resume")
    saved_config = TrainingConfig.from_dict(saved)
    if saved_config.replace(epochs=config.epochs) != config:
        saved_values = saved_config.to_dict()
        changed = sorted(k for k, v in config.to_dict().items()
                         if k != "epochs" and saved_values[k] != v)
        raise InputError(f"{path}: checkpoint of another training config (differs in "
                         f"{', '.join(changed)}); resume with the same settings")
    model = model_from_checkpoint(content, path)
    model.network.train()
    optimizer = make_optimizer(model.network, config)
    restore_state(optimizer, content["optimizer"], path, "optimiser state does not fit this run")
    epoch, log, best_mota = saved_progress(content, path)
    return TrainingState(model, optimizer, epoch + 1, log, best_mota)


def learning_rate(config: TrainingConfig, progress: float) -> float:
    """Cosine decay from ``lr`` to ``lr / 10`` as ``progress`` goes from 0 to 1."""
    return config.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0))))


def write_log(path: Path, rows: list[dict[str, float]]) -> None:
    """Write the training log CSV (columns ``LOG_COLUMNS``, one row per epoch) atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LOG_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())


def train(config: TrainingConfig, out_dir: str | os.PathLike, resume: bool = False,
          context: RankContext | None = None, progress: bool = True) -> TrainingState:
    """Run (or resume) training; rank 0 writes ``out_dir``/{checkpoint.pt, best.pt, log.csv}.

    Returns the final training state (on every rank; identical models).
    """
    context = context or RankContext()
    out = Path(out_dir)
    checkpoint_path = out / "checkpoint.pt"
    if resume and not checkpoint_path.is_file():
        raise InputError(f"{checkpoint_path}: nothing to resume (no checkpoint)")
    if config.unroll and context.distributed:
        raise InputError("unrolled training (unroll > 0) runs on one rank; use --nproc 1")
    state = resume_state(checkpoint_path, config) if resume else new_state(config)
    network = wrap(state.model.network, context)
    if state.epoch == 0 and context.is_main and config.validation_scenes:
        start_best(state, config, out)
    steps_per_epoch = config.passes * config.scenes_per_epoch // config.batch_scenes
    total_steps = max(1, config.epochs * steps_per_epoch)
    for epoch in range(state.epoch, config.epochs):
        started = time.perf_counter()
        mine = [[start + i for i in context.share(config.batch_scenes)]
                for start in range(0, config.scenes_per_epoch, config.batch_scenes)]
        indices = [i for share in mine for i in share]
        seeds = [scene_seed(config.seed, epoch, i) for i in indices]
        if config.unroll:  # scenes to unroll the tracker over, with the network being trained
            recorded = {i: generate(config.scenario(i), seed)
                        for i, seed in zip(indices, seeds, strict=True)}
        else:
            recorded = dict(zip(indices, simulate_scenes(config, seeds, indices, state.model),
                                strict=True))
        if evidence_weight(config) > 0:  # every rank's detections count towards the prior
            labels = torch.cat([scene.evidence.labels for scene in recorded.values()])
            target = float(labels.sum())
            state.model.network.evidence.observe(
                *sum_over_ranks([labels.numel() - target, target], context))
        losses = []
        bar = tqdm(total=steps_per_epoch, desc=f"epoch {epoch + 1}/{config.epochs}",
                   unit="step", disable=not (progress and context.is_main), leave=False)
        for step in range(steps_per_epoch):
            lr = learning_rate(config, (epoch * steps_per_epoch + step) / total_steps)
            for group in state.optimizer.param_groups:
                group["lr"] = lr * group["scale"]
            share = mine[step % len(mine)]
            generator = torch.Generator().manual_seed(
                derived_seed(config.seed, _NOISE_STREAM, epoch, step, context.rank))
            state.optimizer.zero_grad(set_to_none=True)
            if config.unroll:
                loss = unroll_backward(state.model, [recorded[i] for i in share],
                                       config.unroll_config(), generator)
            else:
                loss_tensor = batch_loss(network, make_batch([recorded[i] for i in share]),
                                         config, generator)
                loss_tensor.backward()
                loss = float(loss_tensor.detach())
            torch.nn.utils.clip_grad_norm_(state.model.network.parameters(), config.grad_clip)
            state.optimizer.step()
            losses.append(loss)
            bar.update()
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
        bar.close()
        epoch_loss = mean_over_ranks(float(np.mean(losses)), context)
        seconds = time.perf_counter() - started
        state.epoch = epoch
        if context.is_main:
            finish_epoch(state, config, out, epoch_loss, steps_per_epoch, seconds)
        barrier(context)
    return state


def start_best(state: TrainingState, config: TrainingConfig, out: Path) -> None:
    """Before training: the untrained network (exactly the gnn tracker) is the first best.pt,
    scored with gnn's validation MOTA, so training only replaces it with a validated gain."""
    scores = gnn_validation_scores(config)
    state.best_mota = scores["gnn_val_mota"]
    state.log.append({"epoch": 0, "steps": 0, "scenes": 0, "loss": math.nan,
                      "val_mota": scores["gnn_val_mota"], "val_idf1": scores["gnn_val_idf1"],
                      **scores, "seconds": 0.0, "scenes_per_s": math.nan})
    save_checkpoint(out / "best.pt", state.model, training=config.to_dict(), epoch=-1,
                    log=state.log, best_mota=state.best_mota)


def finish_epoch(state: TrainingState, config: TrainingConfig, out: Path, loss: float,
                 steps: int, seconds: float) -> None:
    """Rank 0's end of an epoch: validate, log, checkpoint (and best.pt when MOTA improved)."""
    scores = {key: math.nan for key in LOG_COLUMNS[4:8]}
    if config.validation_scenes:
        state.model.network.eval()
        scores = {**validation_scores(LearnedAssociator(state.model), config, "val"),
                  **gnn_validation_scores(config)}
        state.model.network.train()
    row = {"epoch": state.epoch + 1, "steps": steps, "scenes": config.scenes_per_epoch,
           "loss": loss, **scores, "seconds": seconds,
           "scenes_per_s": config.scenes_per_epoch / seconds}
    state.log.append(row)
    improved = not config.validation_scenes or scores["val_mota"] > state.best_mota
    if improved and config.validation_scenes:
        state.best_mota = scores["val_mota"]
    extra = {"training": config.to_dict(), "optimizer": state.optimizer.state_dict(),
             "epoch": state.epoch, "log": state.log, "best_mota": state.best_mota}
    save_checkpoint(out / "checkpoint.pt", state.model, **extra)
    if improved:
        save_checkpoint(out / "best.pt", state.model, **extra)
    write_log(out / "log.csv", state.log)
    tqdm.write(f"epoch {state.epoch + 1}: loss {loss:.4f}  val MOTA {scores['val_mota']:.3f} "
               f"(gnn {scores['gnn_val_mota']:.3f})  IDF1 {scores['val_idf1']:.3f} "
               f"(gnn {scores['gnn_val_idf1']:.3f})  {seconds:.0f} s")
