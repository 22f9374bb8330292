"""``hste evaluate``: score tracks files against a scene's ground truth, one comparison table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click
import numpy as np

from common.atomic import atomic_path, refuse_overwriting_inputs, write_text_atomic
from common.cli_types import FiniteFloatRange
from common.errors import InputError
from tracker.evaluation import (
    PER_FRAME_COLUMNS,
    Evaluation,
    EvaluationConfig,
    evaluate_many,
    format_table,
)
from tracker.hota import MISSING_NOTE, trackeval_metrics, trackeval_version
from tracker.scene_source import load_scene
from tracker.tracks_io import read_tracks
from tracker.truth_io import read_truth


def names_for(paths: list[Path]) -> list[str]:
    """Short unique names for tracks files: the file stems, or the full paths if stems repeat."""
    stems = [path.stem for path in paths]
    return stems if len(set(stems)) == len(stems) else [str(path) for path in paths]


def per_frame_paths(path: Path, names: list[str]) -> list[Path]:
    """Where each tracks file's per-frame CSV goes: ``path`` itself for one file, else
    ``<stem>_<tag><suffix>`` beside it, the tag being each name's file stem; where stems repeat
    (``a/gnn.csv``, ``b/gnn.csv``) its folder and stem (``a_gnn``), else its 1-based position."""
    if len(names) == 1:
        return [path]
    schemes = ([Path(name).stem for name in names],
               [f"{Path(name).parent.name}_{Path(name).stem}" for name in names],
               [f"{index}_{Path(name).stem}" for index, name in enumerate(names, start=1)])
    tags = next(tags for tags in schemes if len(set(tags)) == len(tags))
    return [path.with_name(f"{path.stem}_{tag}{path.suffix or '.csv'}") for tag in tags]


def write_per_frame(path: Path, evaluation: Evaluation) -> None:
    """One row per frame with the columns of ``PER_FRAME_COLUMNS``, atomically."""
    matrix = np.stack([evaluation.per_frame[c] for c in PER_FRAME_COLUMNS], axis=1)
    with atomic_path(path) as tmp:
        np.savetxt(tmp, matrix, delimiter=",", header=",".join(PER_FRAME_COLUMNS), comments="",
                   fmt=["%d", "%d", "%d", "%.4f", "%.4f", "%d", "%d", "%.4f", "%.4f"])


def _json_value(value: float) -> float | None:
    """JSON has no NaN: missing values become null."""
    return None if math.isnan(value) else value


@click.command("evaluate")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--truth", "truth_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Ground truth CSV in MOTChallenge layout (frame,id,x,y,...; "
                                 "1-based frames, m) instead of a scene: then every argument is "
                                 "a tracks file and every listed target is scored.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write the scores of every tracks file here (JSON).")
@click.option("--per-frame", "per_frame_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write per-frame GOSPA and association accuracy (CSV; "
                                 "with several tracks files one CSV each: PATH-STEM_TRACKS-STEM"
                                 ".csv).")
@click.option("--match-distance", type=FiniteFloatRange(min=0.0, min_open=True),
              default=EvaluationConfig.match_distance, show_default=True,
              help="Largest track-target distance (m) that counts as a match.")
@click.option("--gospa-cutoff", type=FiniteFloatRange(min=0.0, min_open=True),
              default=EvaluationConfig.gospa_cutoff, show_default=True, help="GOSPA c, m.")
@click.option("--all-tracks", is_flag=True, help="Score tentative tracks too (default: only "
                                                 "confirmed ones).")
@click.option("--all-targets", is_flag=True, help="Score targets outside every sensor's field "
                                                  "of view too (default: only visible ones).")
def evaluate_command(inputs: tuple[Path, ...], truth_path: Path | None, json_path: Path | None,
                     per_frame_path: Path | None, match_distance: float, gospa_cutoff: float,
                     all_tracks: bool, all_targets: bool) -> None:
    """Score tracks files (from ``hste track``) against a scene's ground truth.

    INPUTS is SCENE TRACKS... (a scene .npz, then tracks CSVs), or with --truth GT.csv only
    TRACKS... .

    Prints one table (a row per tracks file): MOTA, MOTP (mean matched distance, m), IDF1,
    ID switches, mostly tracked / lost, FP, FN (py-motmetrics), HOTA, DetA, AssA (TrackEval,
    the optional `hota` extra: similarity 1 - d / match distance, averaged over alpha = 0.05
    ... 0.95, i.e. match radii 0.95 to 0.05 match distances), mean GOSPA (p = 2, alpha = 2)
    and the paper's association metrics Prop. wrong and Prop. any wrong averaged over frames.
    Targets outside every sensor's field of view are not scored unless --all-targets is given.

    \b
    Example:
        hste evaluate scene.npz gnn.csv learned.csv --json scores.json --per-frame frames.csv
        hste evaluate --truth gt.csv tracks.csv --json scores.json
    """
    if truth_path is None and len(inputs) < 2:
        raise InputError("give SCENE TRACKS... (a scene and at least one tracks file), or "
                         "--truth GT.csv TRACKS...")
    scene, tracks = (truth_path, inputs) if truth_path else (inputs[0], inputs[1:])
    names = names_for(list(tracks))
    per_frame_outputs = per_frame_paths(per_frame_path, names) if per_frame_path else []
    refuse_overwriting_inputs([json_path, *per_frame_outputs], [scene, *tracks])
    tables = {name: read_tracks(path) for name, path in zip(names, tracks, strict=True)}
    if truth_path is not None:
        last = max(int(table.frame.max(initial=0)) for table in tables.values())
        scenario = read_truth(truth_path).with_frames(last)
        if len(scenario.id) == 0:
            raise InputError(f"{truth_path}: the truth file lists no targets")
    else:
        scenario = load_scene(scene)
        if len(scenario.truth_id) == 0:
            raise InputError(f"{scene}: the scene has no targets to score against")
    config = EvaluationConfig(match_distance, gospa_cutoff, not all_tracks, not all_targets,
                              hota=True)
    has_trackeval = trackeval_metrics() is not None
    results = evaluate_many(scenario, tables, config)
    document = {
        "scene" if truth_path is None else "truth": str(scene),
        "settings": {"match_distance_m": match_distance, "gospa_cutoff_m": gospa_cutoff,
                     "gospa_p": 2, "gospa_alpha": 2, "confirmed_only": not all_tracks,
                     "visible_targets_only": not all_targets,
                     "hota_similarity": "1 - d / match_distance (0 beyond); HOTA, DetA, AssA "
                                        "are means over alpha = 0.05, 0.10, ..., 0.95",
                     "trackeval_version": trackeval_version() if has_trackeval else None},
        "tracks": {name: {"path": str(path),
                          **{k: _json_value(v) for k, v in results[name].summary.items()}}
                   for name, path in zip(names, tracks, strict=True)},
    }
    if json_path is not None:
        write_text_atomic(json_path, json.dumps(document, indent=2) + "\n")
    if per_frame_path is not None:
        for name, path in zip(names, per_frame_outputs, strict=True):
            write_per_frame(path, results[name])
    click.echo(format_table(results))
    if not has_trackeval:
        click.echo(MISSING_NOTE, err=True)
