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


def _layer_norm(values: np.ndarray, norm: nn.LayerNorm, views: tuple[np.ndarray, np.ndarray]
                ) -> np.ndarray:
    """``nn.LayerNorm`` over the last axis of (K, H) ``values`` (biased variance, as torch)."""
    weight, bias = views
    scale = np.float32(1.0 / values.shape[-1])
    centred = values - np.add.reduce(values, axis=-1, keepdims=True) * scale
    variance = np.add.reduce(centred * centred, axis=-1, keepdims=True) * scale
    variance += np.float32(norm.eps)
    centred /= np.sqrt(variance)
    centred *= weight
    centred += bias
    return centred


def _pool(values: np.ndarray, logits: np.ndarray, segment: np.ndarray, size: int) -> np.ndarray:
    """Attention pooling of pair embeddings (P, H) into (size, H) by ``segment`` (P,): softmax
    of ``logits`` (P,) within each segment (:func:`network.segment_softmax`), weighted sums."""
    top = np.full(size, -np.inf, dtype=logits.dtype)
    np.maximum.at(top, segment, logits)
    weights = np.exp(logits - top[segment])
    total = np.zeros(size, dtype=logits.dtype)
    np.add.at(total, segment, weights)
    weights /= total[segment]
    pooled = np.zeros((size, values.shape[-1]), dtype=values.dtype)
    np.add.at(pooled, segment, weights[:, None] * values)
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
            tuple((norm, (_view(norm.weight), _view(norm.bias))) for norm in
                  (layer.pair_norm, layer.track_norm, layer.det_norm)),
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
        pair_embed, track_embed, det_embed = self._embed
        track = _apply(track_embed, track_features.astype(dtype))
        det = _apply(det_embed, det_features.astype(dtype))
        pair = _apply(pair_embed, pair_features.astype(dtype))
        pair += track[pair_track]
        pair += det[pair_det]
        num_tracks, num_dets = len(track), len(det)
        for row_logit, col_logit, updates, norms in self._rounds:
            row = _pool(pair, pair @ row_logit[0] + row_logit[1], pair_track, num_tracks)
            col = _pool(pair, pair @ col_logit[0] + col_logit[1], pair_det, num_dets)
            pair_update, track_update, det_update = updates
            message = np.concatenate([pair, row[pair_track], col[pair_det]], axis=-1)
            pair = _layer_norm(pair + _apply(pair_update, message), *norms[0])
            track = _layer_norm(track + _apply(track_update, np.concatenate([track, row], -1)),
                                *norms[1])
            det = _layer_norm(det + _apply(det_update, np.concatenate([det, col], -1)),
                              *norms[2])
        corrections = (embedding @ weight + bias for embedding, (weight, bias) in
                       zip((pair, track, det), self._heads, strict=True))
        pair_score, missed, clutter = (
            (prior.astype(dtype) + correction).astype(np.float64)
            for prior, correction in zip(priors, corrections, strict=True))
        return pair_score, missed, clutter

    def evidence(self, features: np.ndarray) -> np.ndarray:
        """(D,) float64 log-likelihood ratio, target against clutter, of evidence features
        (D, F): :meth:`DetectionEvidence.log_likelihood_ratio`."""
        with np.errstate(over="ignore"):
            logits = _apply(self._evidence, features.astype(self._dtype))[:, 0]
        return (logits - self.network.evidence.prior_log_odds()).astype(np.float64)
