"""``hste simulate``: generate a scenario from a preset or a TOML config and save it as .npz."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from common.atomic import refuse_overwriting_inputs, write_text_atomic
from common.cli_types import SEED
from common.errors import InputError
from sim.config import ScenarioConfig
from sim.export import write_detections_csv, write_sensor_toml, write_truth_csv
from sim.generator import generate
from sim.presets import PRESETS, get_preset
from sim.scenario import Scenario


def describe(scenario: Scenario, output: Path) -> str:
    """The end-of-run summary: targets, detections per sensor, clutter ratio."""
    summary = scenario.summary()
    config = scenario.config
    per_sensor = ", ".join(
        f"sensor {i} {sensor.kind}: {count}"
        for i, (sensor, count) in enumerate(
            zip(scenario.sensors, summary["detections_per_sensor"], strict=True)
        )
    )
    return "\n".join(
        [
            f"wrote {output} ({config.name}, seed {scenario.seed}, "
            f"{summary['frames']} frames of {config.dt:g} s)",
            f"targets:    {summary['targets']} "
            f"({summary['mean_targets_per_frame']:.1f} alive per frame on average)",
            f"detections: {summary['detections']} ({per_sensor})",
            f"clutter:    {summary['clutter']} ({summary['clutter_ratio']:.1%} of detections)",
        ]
    )


@click.command("simulate")
@click.option(
    "--preset",
    type=click.Choice(sorted(PRESETS)),
    default="default",
    show_default=True,
    help="Named scene (ignored when --config is given).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML scenario config (layout: sim/config.py); replaces the preset.",
)
@click.option(
    "--frames", type=click.IntRange(min=1), help="Number of frames (default: the config's)."
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Random seed.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Scenario file to write (.npz).",
)
@click.option(
    "--mot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the ground truth as MOTChallenge text to this file.",
)
@click.option(
    "--detections-csv",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write every detection as a detections CSV (frame, time s, sensor, x, y m, "
    "range m, azimuth rad, range_rate m/s, amplitude dB, target) for hste track.",
)
@click.option(
    "--sensor-toml",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the sensors as the tracker's sensor TOML (hste track --sensor).",
)
@click.option(
    "--truth-csv",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the truth as a MOTChallenge-layout CSV (frame,id,x,y,vx,vy; 1-based "
    "frames, m, m/s) for hste evaluate --truth.",
)
@click.option(
    "--save-config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the config used as TOML (a starting point for --config).",
)
def simulate_command(
    preset: str,
    config_path: Path | None,
    frames: int | None,
    seed: int,
    output: Path,
    mot: Path | None,
    detections_csv: Path | None,
    sensor_toml: Path | None,
    truth_csv: Path | None,
    save_config: Path | None,
) -> None:
    """Simulate a multi-target RADAR or point-cloud scene and save it as one .npz file.

    The file holds the true states and ids per frame and every detection with its sensor, values
    and the id of the target that made it (-1 for clutter). A summary is printed at the end.

    \b
    Examples:
        hste simulate --preset default --frames 100 --seed 0 -o scene.npz
        hste simulate --preset large --seed 1 -o large.npz --mot large_gt.txt
        hste simulate --preset crossing -o x.npz --save-config my_scene.toml
        hste simulate --config my_scene.toml --seed 2 -o mine.npz
        hste simulate --seed 3 -o s.npz --detections-csv d.csv --sensor-toml sensor.toml \
            --truth-csv gt.csv
    """
    if output.suffix != ".npz":
        raise InputError(f"{output}: the scenario file name must end in .npz")
    refuse_overwriting_inputs([output, mot, save_config], [config_path])
    config = ScenarioConfig.from_toml(config_path) if config_path else get_preset(preset)
    if frames is not None:
        config = config.replace(frames=frames)
    steps = 3 if mot else 2
    with tqdm(total=steps, desc="simulate", file=sys.stderr, leave=False, disable=None) as bar:
        bar.set_postfix_str("generating")
        scenario = generate(config, seed)
        bar.update()
        bar.set_postfix_str("saving")
        try:
            scenario.save(output)
            bar.update()
            if mot:
                scenario.to_motchallenge(mot)
                bar.update()
            if detections_csv:
                write_detections_csv(detections_csv, scenario)
            if sensor_toml:
                write_sensor_toml(sensor_toml, scenario)
            if truth_csv:
                write_truth_csv(truth_csv, scenario)
            if save_config:
                write_text_atomic(save_config, config.to_toml())
        except OSError as error:
            raise InputError(f"cannot write output: {error}") from None
    click.echo(describe(scenario, output))
