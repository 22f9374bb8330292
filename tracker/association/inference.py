"""The association network's forward pass in numpy, for inference on one scan at a time.

:class:`~tracker.association.network.AssociationNetwork` computes the same function in torch,
batched over frames and differentiable, for training. A tracker scan is small (tens of tracks,
detections and gated pairs), so there every torch operation costs its fixed dispatch overhead
(2-10 us) many times over its arithmetic, and the ~120 operations of one forward dominated the
learned tracker's time per frame. :class:`NumpyScorer` runs the same layers on numpy arrays with
fewer, cheaper calls and no tensor conversions.

It reads the network's parameters through numpy views that share their memory, so in-place
updates (an optimizer step, ``load_state_dict``, a data-parallel broadcast) are seen at once. A
parameter replaced by another tensor after the scorer was built (``network.double()``, a new
``nn.Parameter``) is not: build a new scorer then (checking every parameter on every call would
cost about 20 us, a tenth of a small scan's forward). Results equal the torch forward's to
float32 rounding (a few 1e-7 relative; the matrix products and ``exp`` come from other
libraries), tested in ``tests/test_association_inference.py``.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from tracker.association.network import AssociationNetwork

_Mlp = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""``(W1^T, b1, W2^T, b2)`` views of an ``nn.Sequential(Linear, SiLU, Linear)``."""


def _view(parameter: nn.Parameter) -> np.ndarray:
    return parameter.detach().numpy()


def _mlp(block: nn.Sequential) -> _Mlp:
    first, last = block[0], block[-1]
    return _view(first.weight).T, _view(first.bias), _view(last.weight).T, _view(last.bias)


def _shared_eps(*norms: nn.LayerNorm) -> float:
    """The ``eps`` that the LayerNorms of one round share (ValueError if they differ)."""
    if len({norm.eps for norm in norms}) != 1:
        raise ValueError(f"LayerNorms of one round with different eps: "
                         f"{[norm.eps for norm in norms]}")
    return norms[0].eps


def _silu(values: np.ndarray) -> np.ndarray:
    """``x * sigmoid(x)``, in place on ``values`` (a temporary)."""
    denominator = np.exp(-values)
    denominator += 1.0
    values /= denominator
    return values


def _apply(mlp: _Mlp, values: np.ndarray) -> np.ndarray:
    """``Linear -> SiLU -> Linear`` of (K, F) ``values``: (K, out)."""
    first_weight, first_bias, last_weight, last_bias = mlp
    hidden = values @ first_weight
    hidden += first_bias
    result = _silu(hidden) @ last_weight
    result += last_bias
    return result


def _apply_stacked(mlps: tuple[_Mlp, ...], inputs: tuple[np.ndarray, ...],
                   blocks: tuple[slice, ...]) -> np.ndarray:
    """One MLP per block of rows: ``mlps[b]`` of ``inputs[b]`` (K_b, F_b) into rows ``blocks[b]``
    of one (sum K_b, out) array, with one SiLU over all blocks."""
    rows = blocks[-1].stop
    hidden = np.empty((rows, mlps[0][0].shape[1]), dtype=inputs[0].dtype)
    for (first_weight, first_bias, _, _), values, block in zip(mlps, inputs, blocks, strict=True):
        np.matmul(values, first_weight, out=hidden[block])
        hidden[block] += first_bias
    _silu(hidden)
    result = np.empty((rows, mlps[0][2].shape[1]), dtype=hidden.dtype)
    for (_, _, last_weight, last_bias), block in zip(mlps, blocks, strict=True):
        np.matmul(hidden[block], last_weight, out=result[block])
        result[block] += last_bias
    return result


def _layer_norm_stacked(values: np.ndarray, eps: float,
                        affine: tuple[tuple[np.ndarray, np.ndarray], ...],
                        blocks: tuple[slice, ...]) -> np.ndarray:
    """``nn.LayerNorm`` over the last axis (biased variance, as torch) of (K, H) ``values``, in
    place, with the weight and bias ``affine[b]`` in the rows ``blocks[b]``."""
    scale = np.float32(1.0 / values.shape[-1])
    values -= np.add.reduce(values, axis=-1, keepdims=True) * scale
    variance = np.add.reduce(values * values, axis=-1, keepdims=True) * scale
    variance += np.float32(eps)
    values /= np.sqrt(variance)
    for (weight, bias), block in zip(affine, blocks, strict=True):
        values[block] *= weight
        values[block] += bias
    return values


class _Segments:
    """The pairs' entries of both poolings grouped by target row, sorted once per scan.

    Entry e < P is pair e in the row pooling (target: its track's node row), entry P + e pair e
    in the column pooling (target: its detection's node row). Sorted stably by target, each
    non-empty segment is a contiguous run, so segment maxima and sums are single ``reduceat``
    calls (far cheaper here than ``np.add.at``).

    Attributes:
        order: (2P,) entries in segment order; ``pair``: (2P,) the pair of each sorted entry;
        starts: (S,) first sorted entry of each non-empty segment; ``target``: (S,) its node
        row; ``group``: (2P,) the segment (0..S-1) of each sorted entry; ``size``: node rows.
    """

    def __init__(self, segment: np.ndarray, size: int) -> None:
        self.order = np.argsort(segment, kind="stable")
        ordered = segment[self.order]
        first = np.empty(ordered.size, dtype=bool)
        first[:1] = True
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        self.starts = np.flatnonzero(first)
        self.target = ordered[self.starts]
        self.group = np.cumsum(first) - 1
        self.pair = self.order % max(segment.size // 2, 1)
        self.size = size

    def pool(self, values: np.ndarray, logits: np.ndarray) -> np.ndarray:
        """Attention pooling of pair embeddings (P, H) into (size, H) node rows: softmax of the
        entries' ``logits`` (2P,) within each segment (:func:`network.segment_softmax`), then
        the weighted sums of the pairs' embeddings; rows without pairs stay zero."""
        ordered = logits[self.order]
        weights = np.exp(ordered - np.maximum.reduceat(ordered, self.starts)[self.group])
        weights /= np.add.reduceat(weights, self.starts)[self.group]
        pooled = np.zeros((self.size, values.shape[-1]), dtype=values.dtype)
        pooled[self.target] = np.add.reduceat(weights[:, None] * values[self.pair], self.starts)
        return pooled


class NumpyScorer:
    """Inference forward of an :class:`AssociationNetwork` and of its detection evidence.

    Inputs are the numpy features of :mod:`tracker.association.features` and
    :mod:`tracker.association.evidence` (any float dtype; converted to the network's float32 as
    ``build_graph`` does), outputs float64 arrays of the float32 results.
    """

    def __init__(self, network: AssociationNetwork) -> None:
        self.network = network
        self._dtype = _view(next(network.parameters())).dtype
        self._embed = tuple(_mlp(block) for block in
                            (network.pair_embed, network.track_embed, network.det_embed))
        self._rounds = [(
            (_view(layer.row_logit.weight)[0], _view(layer.row_logit.bias)),
            (_view(layer.col_logit.weight)[0], _view(layer.col_logit.bias)),
            tuple(_mlp(block) for block in
                  (layer.pair_update, layer.track_update, layer.det_update)),
            (_shared_eps(layer.pair_norm, layer.track_norm, layer.det_norm),
             tuple((_view(norm.weight), _view(norm.bias)) for norm in
                   (layer.pair_norm, layer.track_norm, layer.det_norm))),
        ) for layer in network.rounds]
        self._heads = tuple((_view(head.weight)[0], _view(head.bias)) for head in
                            (network.pair_head, network.missed_head, network.clutter_head))
        self._evidence = _mlp(network.evidence.classifier)

    def scores(self, pair_features: np.ndarray, track_features: np.ndarray,
               det_features: np.ndarray, pair_track: np.ndarray, pair_det: np.ndarray,
               pair_prior: np.ndarray, track_prior: np.ndarray, det_prior: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pair (P,), missed (T,) and clutter (D,) scores of one scan, as
        :meth:`AssociationNetwork.forward` gives them for its :class:`PairGraph`.

        Args:
            pair_features: (P, Fp); track_features: (T, Ft); det_features: (D, Fd).
            pair_track, pair_det: (P,) int track and detection of each pair.
            pair_prior: (P,), track_prior: (T,), det_prior: (D,) the gnn baseline scores.
        Returns:
            float64 ``(pair, missed, clutter)``: each prior plus the network's correction.
        """
        with np.errstate(over="ignore"):  # exp(-x) = inf in SiLU for x < -88: silu(x) = -0
            return self._scores(pair_features, track_features, det_features, pair_track,
                                pair_det, (pair_prior, track_prior, det_prior))

    def _scores(self, pair_features: np.ndarray, track_features: np.ndarray,
                det_features: np.ndarray, pair_track: np.ndarray, pair_det: np.ndarray,
                priors: tuple[np.ndarray, np.ndarray, np.ndarray]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dtype = self._dtype
        num_pairs, num_tracks, num_dets = len(pair_track), len(track_features), len(det_features)
        # One array of embeddings, rows [pairs; tracks; detections]; ``segment`` (2P,) points
        # every pair at its track's node row, then at its detection's (nodes: tracks, dets).
        blocks = (slice(0, num_pairs), slice(num_pairs, num_pairs + num_tracks),
                  slice(num_pairs + num_tracks, num_pairs + num_tracks + num_dets))
        node_blocks = (slice(0, num_tracks), slice(num_tracks, num_tracks + num_dets))
        segment = np.concatenate([pair_track, num_tracks + np.asarray(pair_det)])
        segments = _Segments(segment, num_tracks + num_dets)
        embedding = _apply_stacked(self._embed, tuple(
            features.astype(dtype) for features in (pair_features, track_features, det_features)),
            blocks)
        pair, nodes = embedding[blocks[0]], embedding[num_pairs:]
        pair += nodes[segment[:num_pairs]]
        pair += nodes[segment[num_pairs:]]
        for (row_weight, row_bias), (col_weight, col_bias), updates, norms in self._rounds:
            logits = np.concatenate([pair @ row_weight + row_bias, pair @ col_weight + col_bias])
            pooled = segments.pool(pair, logits)
            pair_message = np.concatenate(
                [pair, pooled[segment[:num_pairs]], pooled[segment[num_pairs:]]], axis=-1)
            node_message = np.concatenate([nodes, pooled], axis=-1)
            update = _apply_stacked(updates, (pair_message, *(node_message[block] for block in
                                                              node_blocks)), blocks)
            update += embedding
            embedding = _layer_norm_stacked(update, *norms, blocks)
            pair, nodes = embedding[blocks[0]], embedding[num_pairs:]
        pair_score, missed, clutter = (
            (prior.astype(dtype) + (embedding[block] @ weight + bias)).astype(np.float64)
            for prior, (weight, bias), block in zip(priors, self._heads, blocks, strict=True))
        return pair_score, missed, clutter

    def evidence(self, features: np.ndarray) -> np.ndarray:
        """(D,) float64 log-likelihood ratio, target against clutter, of evidence features
        (D, F): :meth:`DetectionEvidence.log_likelihood_ratio`."""
        with np.errstate(over="ignore"):
            logits = _apply(self._evidence, features.astype(self._dtype))[:, 0]
        return (logits - self.network.evidence.prior_log_odds()).astype(np.float64)
