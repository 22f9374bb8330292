"""Association backends behind one interface (:mod:`tracker.association.base`).

``BACKENDS`` maps a backend name (``hste track --assoc NAME``) to the ``"module:factory"`` that
builds it; a backend's module is imported only when that backend is built.
A factory takes keyword options (``model_path`` for learned backends) and returns an
:class:`~tracker.association.base.Associator`.
"""

from __future__ import annotations

import importlib

from common.errors import InputError
from tracker.association.base import (
    MISSED,
    AssociationInput,
    Associator,
    EvidenceSource,
    check_assignment,
)

# name -> "module:factory". One line per backend; keep sorted.
BACKENDS: dict[str, str] = {
    "gnn": "tracker.association.gnn:build_gnn",
    "learned": "tracker.association.learned:build_learned",
    "sinkhorn": "tracker.association.learned:build_sinkhorn",
}


def build_associator(name: str, **options) -> Associator:
    """Build the backend registered as ``name`` with its keyword ``options``.

    Raises:
        InputError: unknown backend name (or whatever the backend's factory raises for bad input).
    """
    if name not in BACKENDS:
        raise InputError(f"unknown association backend {name!r}; choose one of {sorted(BACKENDS)}")
    module_name, attribute = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module_name), attribute)(**options)


__all__ = ["BACKENDS", "MISSED", "AssociationInput", "Associator", "EvidenceSource",
           "build_associator", "check_assignment"]
