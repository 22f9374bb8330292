"""The permutation core: exact and soft permutation operators on batched score matrices.

Knows matrices, not tracking; imports nothing from the rest of the project.

- :func:`hungarian`, :func:`hungarian_augmented`: exact (partial) assignments, forward only.
- :func:`hungarian_numpy`, :func:`hungarian_many`, :func:`assignment_indices`: the same solver on
  numpy arrays (no torch round trip), for many small problems of any sizes in one call.
- :func:`hungarian_torch`: the same contract solved by torch ops on the tensor's own device.
- :func:`hungarian_ste`: HSTE, Hungarian forward with a straight-through backward, Gumbel noise.
- :func:`sinkhorn`, :func:`gumbel_sinkhorn`: log-domain Sinkhorn, fixed L or to a tolerance.
- :func:`k_best_assignments`: the k best hard assignments (Murty), best first.
- :func:`perturbed_hungarian` (Berthet et al. 2020), :func:`blackbox_hungarian` (Vlastelica et
  al. 2020), :func:`hungarian_ste_softmax`: exact solvers in the forward, other backwards.
- :func:`permute`: the one dispatch between all of them by operator name (:data:`OPERATORS`).
- :func:`gumbel_noise`, :func:`constraint_error`; metrics in :mod:`tracker.perm.metrics`.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "augmented_scores": "assignment", "hungarian": "assignment",
    "hungarian_augmented": "assignment", "k_best_assignments": "kbest",
    "assignment_indices": "lsap", "hungarian_many": "lsap", "hungarian_numpy": "lsap",
    "gumbel_noise": "noise", "constraint_error": "sinkhorn_operator",
    "gumbel_sinkhorn": "sinkhorn_operator",
    "sinkhorn": "sinkhorn_operator", "hungarian_ste": "ste", "hungarian_ste_softmax": "ste",
    "blackbox_hungarian": "blackbox", "perturbed_hungarian": "perturbed",
    "OPERATORS": "operators", "canonical_operator": "operators", "permute": "operators",
    "hungarian_torch": "torch_solver", "metrics": None,
}
"""Public name -> its submodule. Loaded on first use (PEP 562), so that numpy-only users of
:mod:`tracker.perm.lsap` (the gnn tracker) do not import torch."""


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tracker.perm' has no attribute {name!r}")
    module = importlib.import_module(f"tracker.perm.{_EXPORTS[name] or name}")
    return module if _EXPORTS[name] is None else getattr(module, name)


__all__ = [
    "assignment_indices",
    "OPERATORS",
    "augmented_scores",
    "blackbox_hungarian",
    "canonical_operator",
    "constraint_error",
    "gumbel_noise",
    "gumbel_sinkhorn",
    "hungarian",
    "hungarian_augmented",
    "hungarian_many",
    "hungarian_numpy",
    "hungarian_ste",
    "hungarian_torch",
    "k_best_assignments",
    "hungarian_ste_softmax",
    "metrics",
    "permute",
    "perturbed_hungarian",
    "sinkhorn",
]
