"""Fuzz test of the command line (issue 20): random truncations, bit flips and field edits of
real scene, tracks, checkpoint, per-frame metrics and config files (tiny ones, made here), each
given to the commands that read it.

Every case must end in exit 0, or in exit 2 with exactly one ``Error:`` line on stderr (after
any ``warning:`` lines); never a traceback, never a changed input, never a partial output (no
output file after a refusal, no temporary file ever). The default run tries ``DEFAULT_CASES``
cases, the slow one (``make test-slow``) ``SLOW_CASES``; each case is its own seed, so a
failure is reproduced by its number alone.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from learned_scans import single_thread  # noqa: F401 (autouse fixture)
from test_tracking_cli import tiny_scene

from tracker.cli import main

DEFAULT_CASES = 300
SLOW_CASES = 2400
TOKENS = ("nan", "inf", "-inf", "-1", "0", "3", "2.5", "1e19", "1e300", "-1e300", "",
          "abc", '"x"', "[1, 2]", "true", "1e-300", "10000000000000000000000")


@dataclass(frozen=True)
class Inputs:
    """The good files every case starts from (module fixture)."""

    folder: Path
    scene: Path
    tracks: Path
    checkpoint: Path
    per_frame: Path
    scenario_toml: Path
    tracker_toml: Path
    training_toml: Path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Inputs:
    folder = tmp_path_factory.mktemp("fuzz_inputs")
    scene, tracks, per_frame = folder / "scene.npz", folder / "tracks.csv", folder / "frames.csv"
    tiny_scene(frames=6).save(scene)
    assert invoke(["track", scene, "-o", tracks, "--quiet"]).exit_code == 0
    assert invoke(["evaluate", scene, tracks, "--per-frame", per_frame]).exit_code == 0
    run = folder / "run"
    result = invoke(["train", "--preset", "crossing", "--frames", "5", "--epochs", "1",
                     "--scenes-per-epoch", "1", "--batch-scenes", "1", "--passes", "1",
                     "--hidden", "4", "--rounds", "1", "--samples", "1",
                     "--validation-scenes", "0", "--out", run])
    assert result.exit_code == 0, result.output
    scenario_toml = folder / "scenario.toml"
    assert invoke(["simulate", "--preset", "crossing", "--frames", "3", "-o", folder / "c.npz",
                   "--save-config", scenario_toml]).exit_code == 0
    tracker_toml = folder / "tracker.toml"
    tracker_toml.write_text('motion_model = "cv"\nnoise_diff_coeff = 1.0\ncluster_distance = 3.0\n'
                            "[management]\nmax_misses = 3\nconfirm_score = 9.2\n"
                            "[gnn]\ngate_probability = 0.999\n")
    training_toml = folder / "training.toml"
    training_toml.write_text('preset = "crossing"\nframes = 5\nhidden = 4\nrounds = 1\n'
                             "samples = 1\nscenes_per_epoch = 2\nbatch_scenes = 1\nlr = 0.003\n"
                             'mode = "supervised"\nseed = 1\n')
    return Inputs(folder, scene, tracks, run / "checkpoint.pt", per_frame, scenario_toml,
                  tracker_toml, training_toml)


def invoke(args: list) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


# --- mutations: (original bytes, path, rng) -> mutated bytes, and a description ---

def truncate(data: bytes, rng: np.random.Generator, kind: str) -> tuple[bytes, str]:
    cut = int(rng.integers(0, max(len(data), 1)))
    return data[:cut], f"truncated to {cut} of {len(data)} bytes"


def flip_bits(data: bytes, rng: np.random.Generator, kind: str) -> tuple[bytes, str]:
    buffer = bytearray(data)
    positions = rng.integers(0, len(buffer) * 8, size=int(rng.integers(1, 9)))
    for bit in positions:
        buffer[bit // 8] ^= 1 << (bit % 8)
    return bytes(buffer), f"bits {sorted(positions.tolist())} flipped"


def _crafted_array(original: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """A plausible but wrong replacement for one .npz entry (None: remove it)."""
    choices: list[Callable[[], np.ndarray | None]] = [
        lambda: None,
        lambda: np.array("x"),
        lambda: np.array([1, 2]),
        lambda: np.array(1.5),
        lambda: np.array(np.nan),
        lambda: np.array(2**62),
        lambda: np.array(-1),
        lambda: original.astype(np.float32) if original.dtype.kind != "U" else np.array(1),
        lambda: original.astype(np.int64) if original.dtype.kind in "fiu" else np.array([]),
        lambda: original[: len(original) // 2] if original.ndim else original.reshape(1),
        lambda: -original if original.dtype.kind in "fi" else np.array("[1, 2]"),
        lambda: np.full_like(original, 7) if original.dtype.kind in "fiu" else np.array("{}"),
        lambda: (np.where(rng.random(original.shape) < 0.3, np.inf, original)
                 if original.dtype.kind == "f" else np.array(["a", "b"])),
        lambda: (np.full_like(original, 1e30) if original.dtype.kind == "f"
                 else original.reshape(-1)[::-1]),
    ]
    return choices[int(rng.integers(len(choices)))]()


def edit_npz(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    name = sorted(arrays)[int(rng.integers(len(arrays)))]
    replacement = _crafted_array(arrays[name], rng)
    if replacement is None:
        del arrays[name]
    else:
        arrays[name] = replacement
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    shown = "removed" if replacement is None else f"{replacement!r:.60}"
    return buffer.getvalue(), f"entry {name} -> {shown}"


def _random_value(rng: np.random.Generator) -> object:
    values = [None, "x", 1.5, -1, 0, 10**20, [1, 2], {}, {"a": 1}, torch.zeros(2),
              float("nan"), float("inf"), True, "1"]
    return values[int(rng.integers(len(values)))]


def edit_checkpoint(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    content = torch.load(io.BytesIO(data), weights_only=True)
    target, where = content, "checkpoint"
    nested = [key for key, value in content.items() if isinstance(value, dict) and value]
    if nested and rng.random() < 0.5:
        key = nested[int(rng.integers(len(nested)))]
        target, where = content[key], key
    key = sorted(target, key=str)[int(rng.integers(len(target)))]
    if rng.random() < 0.25:
        del target[key]
        change = f"{where}.{key} removed"
    else:
        target[key] = _random_value(rng)
        change = f"{where}.{key} -> {target[key]!r:.40}"
    buffer = io.BytesIO()
    torch.save(content, buffer)
    return buffer.getvalue(), change


def edit_csv(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    lines = data.decode("utf-8").splitlines()
    row = int(rng.integers(len(lines)))
    cells = lines[row].split(",")
    action = int(rng.integers(4))
    if action == 0:
        column = int(rng.integers(len(cells)))
        cells[column] = TOKENS[int(rng.integers(len(TOKENS)))]
        change = f"row {row} cell {column} -> {cells[column]!r}"
    elif action == 1:
        column = int(rng.integers(len(cells)))
        del cells[column]
        change = f"row {row} cell {column} removed"
    elif action == 2:
        lines.insert(row, lines[row])
        change = f"row {row} duplicated"
    else:
        cells = [TOKENS[int(rng.integers(len(TOKENS)))] for _ in cells]
        change = f"row {row} -> {cells}"
    lines[row] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode("utf-8"), change


def edit_toml(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    lines = data.decode("utf-8").splitlines()
    settings = [i for i, line in enumerate(lines) if " = " in line]
    row = settings[int(rng.integers(len(settings)))]
    key = lines[row].split(" = ")[0]
    action = int(rng.integers(4))
    if action == 0:
        del lines[row]
        change = f"{key} removed"
    elif action == 1:
        lines.insert(row, "unknown_setting = 1")
        change = "unknown setting added"
    else:
        token = TOKENS[int(rng.integers(len(TOKENS)))] or '""'
        lines[row] = f"{key} = {token}"
        change = f"{key} -> {token}"
    return ("\n".join(lines) + "\n").encode("utf-8"), change


def edit_fields(data: bytes, rng: np.random.Generator, kind: str) -> tuple[bytes, str]:
    editor = {"scene": edit_npz, "checkpoint": edit_checkpoint, "tracks": edit_csv,
              "per_frame": edit_csv}.get(kind, edit_toml)
    return editor(data, rng)


MUTATIONS = (truncate, flip_bits, edit_fields, edit_fields)


# --- the commands that read each kind of file: (mutated path, case folder) -> args ---

def _commands(kind: str, path: Path, case: Path, good: Inputs) -> list[tuple[list, list[Path]]]:
    """(arguments, output paths) of each command given the mutated file ``path``."""
    table = {
        "scene": [
            (["track", path, "-o", case / "t.csv", "--quiet"], [case / "t.csv"]),
            (["evaluate", path, good.tracks, "--json", case / "s.json"], [case / "s.json"]),
            (["plot", "scenario", path, "-o", case / "p.png", *SMALL], [case / "p.png"]),
        ],
        "tracks": [
            (["evaluate", good.scene, path, "--per-frame", case / "f.csv"], [case / "f.csv"]),
            (["plot", "tracks", good.scene, path, "-o", case / "p.png", *SMALL],
             [case / "p.png"]),
            (["animate", good.scene, path, "--frames", "2:2", "-o", case / "a.png", "--dpi",
              "20", "--panel-size", "2"], [case / "a.png"]),
        ],
        "checkpoint": [
            (["track", good.scene, "--assoc", "learned", "--model", path, "-o", case / "t.csv",
              "--quiet"], [case / "t.csv"]),
            (["train", "--resume", "--out", path.parent], []),
        ],
        "per_frame": [(["plot", "metrics", path, "--metric", "gospa", "-o", case / "m.png",
                        *SMALL], [case / "m.png"])],
        "scenario_toml": [(["simulate", "--config", path, "--frames", "3", "-o",
                            case / "s.npz"], [case / "s.npz"])],
        "tracker_toml": [(["track", good.scene, "--config", path, "-o", case / "t.csv",
                           "--quiet"], [case / "t.csv"])],
        "training_toml": [(["train", "--config", path, "--epochs", "0", "--validation-scenes",
                            "0", "--out", case / "run"], [])],
    }
    return table[kind]


SMALL = ("--dpi", "20")  # pictures are drawn after every check: small ones keep cases fast
KINDS = ("scene", "tracks", "checkpoint", "per_frame", "scenario_toml", "tracker_toml",
         "training_toml")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "absent"


def problems_of(result, outputs: list[Path], case: Path) -> list[str]:
    """What is wrong with one command's answer (empty: nothing)."""
    found = []
    if result.exit_code not in (0, 2):
        found.append(f"exit {result.exit_code}")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        found.append(f"exception {type(result.exception).__name__}: {result.exception}")
    if "Traceback" in result.output:
        found.append("traceback in the output")
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        errors = [line for line in lines if line.startswith("Error:")]
        others = [line for line in lines[:-1] if not line.startswith("warning:")]
        if len(errors) != 1 or not lines[-1].startswith("Error:") or others:
            found.append(f"not one Error: line: {lines}")
        written = [p.name for p in outputs if p.exists()]
        if written:
            found.append(f"refused, yet wrote {written}")
    temps = [p.name for p in case.rglob("*.tmp*")]
    if temps:
        found.append(f"temporary files left: {temps}")
    return found


def run_cases(inputs: Inputs, root: Path, cases: range) -> tuple[dict, list[str]]:
    """Run the fuzz cases; returns (counts by exit status, failure descriptions)."""
    shared = {path: _digest(path) for path in inputs.folder.rglob("*") if path.is_file()}
    counts: dict[str, int] = {}
    failures = []
    for number in cases:
        rng = np.random.default_rng(number)
        kind = KINDS[number % len(KINDS)]
        source = getattr(inputs, kind)
        mutate = MUTATIONS[int(rng.integers(len(MUTATIONS)))]
        data, change = mutate(source.read_bytes(), rng, kind)
        case = root / f"case{number}"
        target = case / "run" / source.name if kind == "checkpoint" else case / source.name
        target.parent.mkdir(parents=True)
        if kind == "checkpoint":  # resume needs the rest of the run folder as well
            (target.parent / "log.csv").write_bytes((source.parent / "log.csv").read_bytes())
        target.write_bytes(data)
        commands = _commands(kind, target, case, inputs)
        args, outputs = commands[int(rng.integers(len(commands)))]
        before = _digest(target)
        result = invoke(args)
        found = problems_of(result, outputs, case)
        if _digest(target) != before:
            found.append("the mutated input changed")
        counts[f"exit {result.exit_code}"] = counts.get(f"exit {result.exit_code}", 0) + 1
        if found:
            failures.append(f"case {number} ({kind}, {change}; hste "
                            f"{' '.join(str(a) for a in args)}): {'; '.join(found)}")
    changed = [str(p) for p, digest in shared.items() if _digest(p) != digest]
    if changed:
        failures.append(f"good input files changed: {changed}")
    return counts, failures


def test_fuzzed_inputs_never_give_a_traceback(inputs, tmp_path):
    counts, failures = run_cases(inputs, tmp_path, range(DEFAULT_CASES))
    assert sum(counts.values()) == DEFAULT_CASES
    assert counts.get("exit 2", 0) > DEFAULT_CASES // 3, counts  # most mutations are refused
    assert not failures, f"{len(failures)} of {DEFAULT_CASES} cases failed:\n" + "\n".join(
        failures[:20])


@pytest.mark.slow
def test_many_fuzzed_inputs_never_give_a_traceback(inputs, tmp_path):
    counts, failures = run_cases(inputs, tmp_path, range(DEFAULT_CASES,
                                                         DEFAULT_CASES + SLOW_CASES))
    assert sum(counts.values()) == SLOW_CASES
    assert not failures, f"{len(failures)} of {SLOW_CASES} cases failed:\n" + "\n".join(
        failures[:20])
