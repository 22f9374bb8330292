"""Association backends behind one interface (:mod:`tracker.association.base`).

``BACKENDS`` maps a backend name (``hste track --assoc NAME``) to the ``"module:factory"`` that
builds it; a backend's module is imported only when that backend is built.
A factory takes keyword options and returns an :class:`~tracker.association.base.Associator`:
the backends in ``MODEL_BACKENDS`` take ``model_path`` (a checkpoint), every other one takes
``config``, the scan priors of :class:`~tracker.association.gnn.GnnConfig` (gate probability;
``[gnn]`` in the tracker's TOML), and those in ``BACKEND_SETTINGS`` their own section as
``settings``. Adding a backend: its module
and one line here.
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
    "jpda": "tracker.association.jpda:build_jpda",
    "jpda-star": "tracker.association.jpda:build_jpda_star",
    "learned": "tracker.association.learned:build_learned",
    "mht": "tracker.association.mht:build_mht",
    "sinkhorn": "tracker.association.learned:build_sinkhorn",
}

MODEL_BACKENDS = ("learned", "sinkhorn")
"""Backends built from a trained checkpoint (``model_path``)."""

BACKEND_SETTINGS: dict[str, str] = {"mht": "mht"}
"""Classical backends that also take a section of the tracker's config of their own, as
``settings``: backend name -> :class:`tracker.pipeline.TrackerConfig` field (``[mht]``)."""


def build_associator(name: str, **options) -> Associator:
    """Build the backend registered as ``name`` with its keyword ``options``.

    Raises:
        InputError: unknown backend name (or whatever the backend's factory raises for bad input).
    """
    if name not in BACKENDS:
        raise InputError(f"unknown association backend {name!r}; choose one of {sorted(BACKENDS)}")
    module_name, attribute = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module_name), attribute)(**options)


__all__ = ["BACKENDS", "BACKEND_SETTINGS", "MISSED", "MODEL_BACKENDS", "AssociationInput",
           "Associator", "EvidenceSource", "build_associator", "check_assignment"]
