"""The one way every command reads a scene file: :func:`sim.load`, then the detections with a
NaN or infinite position dropped (their count reported on stderr).

``track``, ``evaluate``, ``plot scenario|tracks`` and ``animate`` all read scenes through
:func:`load_scene`, so a scene one of them accepts the others draw and score alike.
"""

from __future__ import annotations

from pathlib import Path

import click

from common.errors import InputError
from sim import load
from tracker.pipeline import drop_invalid_detections


def load_scene(path: Path, require_frames: bool = True):
    """The scene at ``path`` without NaN or infinite detections (their count is reported on
    stderr).

    Raises:
        InputError: unreadable scene, or (``require_frames``) one without frames.
    """
    scenario = load(path)
    if require_frames and scenario.num_frames == 0:
        raise InputError(f"{path}: the scene has no frames")
    scenario, dropped = drop_invalid_detections(scenario)
    if dropped:
        click.echo(f"warning: {path}: dropped {dropped} detection(s) with NaN or infinite "
                   "position", err=True)
    return scenario
