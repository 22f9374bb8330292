"""Label-free losses of the unrolled tracker (:mod:`tracker.unroll`), on differentiable tracks.

Every track carries a position (from its differentiable state) and an *existence weight* w, which
is exactly 1 in the forward pass (the tracker's hard decisions) and whose gradient is the credit
of keeping the track alive (:mod:`tracker.unroll`); both losses are their usual definitions at
w = 1.

- :func:`gospa_loss` (end-to-end, true positions only): squared GOSPA (p = 2, alpha = 2, cut-off
  c) between the reported tracks and the true target positions of a frame, with the optimal
  track-to-truth matching by the Hungarian (on the detached distances). With weights:
  ``sum_matched [w d^2 + (1 - w) c^2/2] + sum_unmatched tracks w c^2/2 + unmatched truths c^2/2``,
  so a matched track's weight trades its error against a missed target and a false track's
  weight costs c^2/2; at w = 1 it is ``min over assignments of sum d^2 + c^2/2 (missed + false)``,
  what :func:`tracker.evaluation.gospa` reports (squared). Unreported (tentative) tracks enter
  through :func:`candidate_loss` against the truths left unmatched, with report weights that are
  0 in the forward (so the value stays GOSPA) and whose gradient says whether reporting the
  track sooner would have helped.
- :func:`detection_nll` (unsupervised, no truth): the negative log-likelihood ratio of a scan's
  detections under a Poisson model whose intensity is clutter plus the predicted tracks, against
  clutter alone: ``sum_i w_i Pd_i - sum_j log(1 + sum_i w_i Pd_i N(z_j; H x_i, S_ij) / lambda_j)``
  (lambda_j the clutter density per m^2 at detection j). Tracks that predict where the next
  detections fall lower it; a track where none fall costs its Pd. The auto-encoding tracker's
  idea (Kawachi & Suzuki 2020): the tracks are the code, the next scan is what they must explain.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment


def gospa_loss(estimates: torch.Tensor, weights: torch.Tensor, truth: np.ndarray,
               cutoff: float) -> torch.Tensor:
    """Weighted squared GOSPA (m^2) of one frame (module docstring).

    Args:
        estimates: (M, 2) track positions, m (differentiable).
        weights: (M,) existence weights (1 in the forward).
        truth: (N, 2) true positions, m.
        cutoff: c, m.
    Returns:
        A scalar tensor, m^2.
    """
    return gospa_terms(estimates, weights, truth, cutoff)[0]


def candidate_loss(estimates: torch.Tensor, weights: torch.Tensor, truth: np.ndarray,
                   cutoff: float) -> torch.Tensor:
    """The change of the weighted squared GOSPA (m^2) if unreported tracks ``estimates`` (M, 2)
    with report weights ``weights`` (M,) (0 in the forward, so the value is 0 there) were matched
    to the ``truth`` (N, 2) that the reported tracks left unmatched: each matched one would trade
    ``c^2/2`` of a missed target for ``w d^2 + (1 - w) c^2/2``, each unmatched one cost
    ``w c^2/2``."""
    return gospa_loss(estimates, weights, truth, cutoff) - cutoff**2 / 2.0 * len(truth)


def gospa_terms(estimates: torch.Tensor, weights: torch.Tensor, truth: np.ndarray,
                cutoff: float) -> tuple[torch.Tensor, np.ndarray]:
    """:func:`gospa_loss` and the (N,) bool mask of the truths the matching assigns."""
    truth_t = torch.as_tensor(np.asarray(truth, dtype=np.float64).reshape(-1, 2),
                              dtype=estimates.dtype)
    half = cutoff**2 / 2.0
    squared = ((estimates[:, None, :] - truth_t[None, :, :]) ** 2).sum(-1)
    capped = np.minimum(squared.detach().cpu().numpy(), cutoff**2)
    rows, cols = linear_sum_assignment(capped)
    inside = capped[rows, cols] < cutoff**2
    rows, cols = torch.as_tensor(rows[inside]), torch.as_tensor(cols[inside])
    matched = torch.zeros(estimates.shape[0], dtype=torch.bool)
    matched[rows] = True
    matched_w = weights[rows]
    truth_matched = np.zeros(truth_t.shape[0], dtype=bool)
    truth_matched[cols.numpy()] = True
    return ((matched_w * squared[rows, cols] + (1.0 - matched_w) * half).sum()
            + half * weights[~matched].sum() + half * (truth_t.shape[0] - rows.numel()),
            truth_matched)


def _inverse_2x2(matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse and determinant of symmetric (..., 2, 2) matrices, in closed form."""
    a, b, d = matrices[..., 0, 0], matrices[..., 0, 1], matrices[..., 1, 1]
    det = a * d - b * b
    inverse = np.stack([np.stack([d, -b], -1), np.stack([-b, a], -1)], -2) / det[..., None, None]
    return inverse, det


def detection_nll(positions: torch.Tensor, weights: torch.Tensor,
                  position_covariances: np.ndarray, detection_probability: np.ndarray,
                  detections: np.ndarray, detection_covariances: np.ndarray,
                  clutter_density: np.ndarray) -> torch.Tensor:
    """Negative log-likelihood ratio of one scan's detections, tracks plus clutter against clutter
    alone (module docstring).

    Args:
        positions: (T, 2) predicted track positions H x, m (differentiable).
        weights: (T,) existence weights.
        position_covariances: (T, 2, 2) H P H^T, m^2.
        detection_probability: (T,) Pd of each track.
        detections: (D, 2) positions z, m; detection_covariances: (D, 2, 2) R, m^2.
        clutter_density: (D,) lambda per m^2.
    Returns:
        A scalar tensor (dimensionless).
    """
    dtype = positions.dtype
    rate = weights * torch.as_tensor(detection_probability, dtype=dtype)
    if detections.shape[0] == 0 or positions.shape[0] == 0:
        return rate.sum()
    inverse, det = _inverse_2x2(position_covariances[:, None] + detection_covariances[None])
    innovation = torch.as_tensor(detections, dtype=dtype)[None] - positions[:, None]
    squared = torch.einsum("tdi,tdij,tdj->td", innovation, torch.as_tensor(inverse, dtype=dtype),
                           innovation)
    log_ratio = (-0.5 * squared - torch.as_tensor(0.5 * np.log(det) + math.log(2.0 * math.pi)
                                                  + np.log(clutter_density)[None], dtype=dtype))
    explained = (rate[:, None] * torch.exp(log_ratio)).sum(0)
    return rate.sum() - torch.log1p(explained).sum()
