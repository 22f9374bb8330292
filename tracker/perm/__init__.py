"""The permutation core: exact and soft permutation operators on batched score matrices.

Knows matrices, not tracking; imports nothing from the rest of the project.

- :func:`hungarian`, :func:`hungarian_augmented`: exact (partial) assignments, forward only.
- :func:`hungarian_numpy`, :func:`hungarian_many`, :func:`assignment_indices`: the same solver on
  numpy arrays (no torch round trip), for many small problems of any sizes in one call.
- :func:`hungarian_ste`: HSTE, Hungarian forward with a straight-through backward, Gumbel noise.
- :func:`sinkhorn`, :func:`gumbel_sinkhorn`: log-domain Sinkhorn, fixed L or to a tolerance.
- :func:`k_best_assignments`: the k best hard assignments (Murty), best first.
- :func:`gumbel_noise`, :func:`constraint_error`; metrics in :mod:`tracker.perm.metrics`.
"""

from __future__ import annotations

import importlib
import sys
import types

_EXPORTS = {
    "augmented_scores": "assignment", "hungarian": "assignment",
    "hungarian_augmented": "assignment", "k_best_assignments": "kbest",
    "assignment_indices": "lsap", "hungarian_many": "lsap", "hungarian_numpy": "lsap",
    "gumbel_noise": "noise", "constraint_error": "sinkhorn", "gumbel_sinkhorn": "sinkhorn",
    "sinkhorn": "sinkhorn", "hungarian_ste": "ste", "metrics": None,
}
"""Public name -> its submodule. Loaded on first use (PEP 562), so that numpy-only users of
:mod:`tracker.perm.lsap` (the gnn tracker) do not import torch."""


class _LazyPackage(types.ModuleType):
    """The package module: when the import system binds a submodule named like the function it
    exports (``tracker.perm.sinkhorn``), the package attribute stays the function, as it was
    with eager imports."""

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _LazyPackage


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tracker.perm' has no attribute {name!r}")
    module = importlib.import_module(f"tracker.perm.{_EXPORTS[name] or name}")
    return module if _EXPORTS[name] is None else getattr(module, name)


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
    "k_best_assignments",
    "metrics",
    "sinkhorn",
]
