"""The ``learned`` and ``sinkhorn`` backends: the association network scores the gated pairs and
exact Hungarian (per connected component of the gate graph) picks the assignment at inference.

Both backends run the same network; they differ in how it was trained (``learned``: any operator
with an exact Hungarian forward, HSTE and its variants, ``sinkhorn``: Gumbel-Sinkhorn), which the
checkpoint records. Checkpoints are one ``torch.save`` dict of plain values and tensors, loaded
with ``weights_only=True``: ``format``, ``version``, ``operator`` (a :data:`tracker.perm.OPERATORS`
name), ``network`` (NetworkConfig as a dict), ``gnn`` (the GnnConfig the priors and gate use),
``state_dict``, and whatever training state the trainer adds (``training`` config, ``optimizer``,
``epoch``).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from common.atomic import atomic_path
from common.errors import InputError
from common.torch_files import load_weights_only, restore_state
from tracker.association.base import AssociationInput
from tracker.association.evidence import evidence_features
from tracker.association.features import detection_features, pair_features, track_features
from tracker.association.gating import gate, solve_gated
from tracker.association.gnn import GnnConfig, gnn_scores
from tracker.association.inference import NumpyScorer
from tracker.association.network import AssociationNetwork, NetworkConfig

CHECKPOINT_FORMAT = "hste-track association checkpoint"
CHECKPOINT_VERSION = 2
BACKEND_OPERATORS: dict[str, tuple[str, ...]] = {
    "learned": ("hste", "blackbox", "perturbed", "hste-softmax"),
    "sinkhorn": ("sinkhorn",),
}
"""Backend name -> the training operators its checkpoints may come from: the exact-forward
operators for ``learned``, Gumbel-Sinkhorn for ``sinkhorn``."""


@dataclass
class AssociationModel:
    """A network with the settings it was trained under: ``operator`` and the gnn ``gnn_config``
    whose gate and scores it builds on."""

    network: AssociationNetwork
    operator: str
    gnn_config: GnnConfig


def checkpoint_dict(model: AssociationModel, **training_state: Any) -> dict[str, Any]:
    """The checkpoint content of ``model`` plus extra ``training_state`` entries."""
    return {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "operator": model.operator,
        "network": model.network.config.to_dict(),
        "gnn": dataclasses.asdict(model.gnn_config),
        "state_dict": model.network.state_dict(),
        **training_state,
    }


def save_checkpoint(path: str | os.PathLike, model: AssociationModel,
                    **training_state: Any) -> None:
    """Write a checkpoint atomically (a crash never leaves a half-written file at ``path``)."""
    with atomic_path(path) as tmp:
        torch.save(checkpoint_dict(model, **training_state), tmp)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The raw checkpoint dict, checked for format and version.

    Raises:
        InputError: missing file, not a checkpoint (any other file), or another format version.
    """
    content = load_weights_only(path, "an hste-track checkpoint")
    if not isinstance(content, dict) or content.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{path}: not an hste-track association checkpoint")
    if content.get("version") != CHECKPOINT_VERSION:
        raise InputError(f"{path}: checkpoint version {content.get('version')!r}, "
                         f"this hste-track reads version {CHECKPOINT_VERSION}")
    return content


def model_from_checkpoint(content: dict[str, Any], path: str | os.PathLike) -> AssociationModel:
    """Rebuild the model of a checkpoint dict (see :func:`read_checkpoint`).

    Raises:
        InputError: a network config or weights that do not fit this code's model, or weights
            that are not all finite.
    """
    try:
        config = NetworkConfig(**content["network"])
        gnn_config = GnnConfig.from_checkpoint(content["gnn"])
        operator = str(content["operator"])
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(f"{path}: checkpoint of another model config ({error})") from None
    if config != NetworkConfig.sized(config.hidden, config.rounds, config.context):
        raise InputError(f"{path}: checkpoint of another model config (feature counts "
                         f"{content['network']} differ from this code's)")
    network = AssociationNetwork(config)
    restore_state(network, content.get("state_dict"), path, "checkpoint of another model config")
    if not all(torch.isfinite(weights).all() for weights in network.state_dict().values()):
        raise InputError(f"{path}: checkpoint weights hold NaN or infinite values "
                         "(a diverged training run?)")
    network.eval()
    return AssociationModel(network, operator, gnn_config)


def load_model(path: str | os.PathLike,
               operators: tuple[str, ...] | None = None) -> AssociationModel:
    """Load a checkpoint's model; with ``operators``, require that it was trained with one.

    Raises:
        InputError: see :func:`read_checkpoint` and :func:`model_from_checkpoint`; a checkpoint
            trained with an operator not in ``operators``.
    """
    model = model_from_checkpoint(read_checkpoint(path), path)
    if operators is not None and model.operator not in operators:
        backend = next((name for name, allowed in BACKEND_OPERATORS.items()
                        if model.operator in allowed), None)
        hint = f"; use --assoc {backend}" if backend else ""
        raise InputError(f"{path}: trained with {model.operator}{hint}")
    return model


class LearnedAssociator:
    """Association by the network's scores and exact Hungarian on the augmented matrix; also an
    :class:`~tracker.association.base.EvidenceSource` (the network's detection evidence).

    The network runs through :class:`~tracker.association.inference.NumpyScorer` (the same
    function as its torch forward, without torch's per-operation overhead on small scans); it
    sees the model's weights as they change in place during training.
    """

    def __init__(self, model: AssociationModel) -> None:
        self.model = model
        self.scorer = NumpyScorer(model.network)
        self.context = model.network.config.context

    def associate(self, inputs: AssociationInput) -> np.ndarray:
        """(T,) detection index per track, -1 for a missed track."""
        pairs = gate(inputs, self.model.gnn_config.gate_probability)
        baseline = gnn_scores(inputs, pairs, self.model.gnn_config)
        if pairs.track_index.size == 0:
            return np.full(inputs.num_tracks, -1, dtype=np.int64)
        pair, missed, clutter = self.scorer.scores(
            pair_features(inputs, pairs, baseline), track_features(inputs, self.context),
            detection_features(inputs, self.context), pairs.track_index, pairs.detection_index,
            baseline.pair, baseline.missed, baseline.clutter)
        return solve_gated(pairs, pair, missed, clutter)

    def detection_evidence(self, inputs: AssociationInput) -> np.ndarray:
        """(D,) learned log-likelihood ratio, target against clutter, of each detection."""
        return self.scorer.evidence(evidence_features(inputs))


def _build(backend: str, model_path: str | os.PathLike | None) -> LearnedAssociator:
    if model_path is None:
        raise InputError(f"--assoc {backend} needs a trained model: --model MODEL.pt "
                         "(make one with `hste train`)")
    return LearnedAssociator(load_model(model_path, BACKEND_OPERATORS[backend]))


def build_learned(model_path: str | os.PathLike | None = None) -> LearnedAssociator:
    """Registry factory for ``--assoc learned`` (a checkpoint trained with HSTE or another
    exact-forward operator)."""
    return _build("learned", model_path)


def build_sinkhorn(model_path: str | os.PathLike | None = None) -> LearnedAssociator:
    """Registry factory for ``--assoc sinkhorn`` (a Gumbel-Sinkhorn-trained checkpoint)."""
    return _build("sinkhorn", model_path)
