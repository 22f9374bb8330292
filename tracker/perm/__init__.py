"""The permutation core: exact and soft permutation operators on batched score matrices.

Knows matrices, not tracking; imports nothing from the rest of the project.

- :func:`hungarian`, :func:`hungarian_augmented`: exact (partial) assignments, forward only.
- :func:`hungarian_numpy`, :func:`hungarian_many`, :func:`assignment_indices`: the same solver on
  numpy arrays (no torch round trip), for many small problems of any sizes in one call.
- :func:`hungarian_torch`: the same contract solved by torch ops on the tensor's own device.
- :func:`hungarian_ste`: HSTE, Hungarian forward with a straight-through backward, Gumbel noise.
- :func:`sinkhorn`, :func:`gumbel_sinkhorn`: log-domain Sinkhorn, fixed L or to a tolerance.
- :func:`gumbel_noise`, :func:`constraint_error`; metrics in :mod:`tracker.perm.metrics`.
"""

from tracker.perm import metrics
from tracker.perm.assignment import augmented_scores, hungarian, hungarian_augmented
from tracker.perm.lsap import assignment_indices, hungarian_many, hungarian_numpy
from tracker.perm.noise import gumbel_noise
from tracker.perm.sinkhorn import constraint_error, gumbel_sinkhorn, sinkhorn
from tracker.perm.ste import hungarian_ste
from tracker.perm.torch_solver import hungarian_torch

__all__ = [
    "assignment_indices",
    "augmented_scores",
    "constraint_error",
    "gumbel_noise",
    "gumbel_sinkhorn",
    "hungarian",
    "hungarian_augmented",
    "hungarian_many",
    "hungarian_numpy",
    "hungarian_ste",
    "hungarian_torch",
    "metrics",
    "sinkhorn",
]
