"""The Scenario: ground truth and detections of a whole scene as flat, frame-sorted arrays.

File format (one .npz written by :meth:`Scenario.save`, read by :func:`load`), version 1. Every
array, with K truth rows, L detections and T frames:

=================  ===========  ==============================================================
key                dtype/shape  meaning
=================  ===========  ==============================================================
format             str          ``"hste-scenario"`` (foreign files are refused)
version            int          format version, 1
config_json        str          the ScenarioConfig as JSON (``ScenarioConfig.to_dict``)
seed               int64        the seed the scene was generated with
dt                 float64      frame interval, s
frame_times        (T,) f8      time of each frame, s (frame k at k * dt)
truth_frame        (K,) i4      0-based frame of each truth row (sorted)
truth_id           (K,) i4      target id >= 1 (sorted by id within a frame)
truth_state        (K,4) f8     [x, y, vx, vy] m, m/s, world frame
truth_offsets      (T+1,) i8    frame k is rows truth_offsets[k]:truth_offsets[k+1]
det_frame          (L,) i4      0-based frame of each detection (sorted; then sensor, azimuth)
det_sensor         (L,) i2      index into ``config.sensors``
det_target         (L,) i4      id of the target that made it, -1 for clutter
det_xy             (L,2) f4     world position m, converted from the measured polar values
det_range          (L,) f4      measured range m from the sensor
det_azimuth        (L,) f4      measured azimuth rad from the sensor boresight, in [-pi, pi)
det_range_rate     (L,) f4      measured range-rate m/s (+ = receding); NaN without Doppler
det_amplitude      (L,) f4      return power over noise, dB; NaN where the sensor gives none
det_offsets        (T+1,) i8    frame k is rows det_offsets[k]:det_offsets[k+1]
=================  ===========  ==============================================================
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from common.atomic import atomic_path
from common.errors import InputError
from sim.config import ScenarioConfig, SensorConfig

FORMAT_NAME = "hste-scenario"
FORMAT_VERSION = 1

# name -> (dtype, trailing shape); the leading dimension is checked by _check_lengths.
ARRAY_SPECS: dict[str, tuple[type, tuple[int, ...]]] = {
    "frame_times": (np.float64, ()),
    "truth_frame": (np.int32, ()),
    "truth_id": (np.int32, ()),
    "truth_state": (np.float64, (4,)),
    "truth_offsets": (np.int64, ()),
    "det_frame": (np.int32, ()),
    "det_sensor": (np.int16, ()),
    "det_target": (np.int32, ()),
    "det_xy": (np.float32, (2,)),
    "det_range": (np.float32, ()),
    "det_azimuth": (np.float32, ()),
    "det_range_rate": (np.float32, ()),
    "det_amplitude": (np.float32, ()),
    "det_offsets": (np.int64, ()),
}


@dataclass(frozen=True)
class FrameTruth:
    """The true targets of one frame: ``id`` (N,) int32, ``state`` (N, 4) [x, y, vx, vy]."""

    frame: int
    time: float
    id: np.ndarray
    state: np.ndarray

    def __len__(self) -> int:
        return len(self.id)


@dataclass(frozen=True)
class FrameDetections:
    """The detections of one frame (array views, M rows): sensor (M,), target (M,) (-1 = clutter),
    xy (M, 2) m, range (M,) m, azimuth (M,) rad, range_rate (M,) m/s, amplitude (M,) dB."""

    frame: int
    time: float
    sensor: np.ndarray
    target: np.ndarray
    xy: np.ndarray
    range: np.ndarray
    azimuth: np.ndarray
    range_rate: np.ndarray
    amplitude: np.ndarray

    def __len__(self) -> int:
        return len(self.target)


@dataclass(frozen=True)
class Scenario:
    """Ground truth and detections of a scene; field meanings in the module docstring."""

    config: ScenarioConfig
    seed: int
    dt: float
    frame_times: np.ndarray
    truth_frame: np.ndarray
    truth_id: np.ndarray
    truth_state: np.ndarray
    truth_offsets: np.ndarray
    det_frame: np.ndarray
    det_sensor: np.ndarray
    det_target: np.ndarray
    det_xy: np.ndarray
    det_range: np.ndarray
    det_azimuth: np.ndarray
    det_range_rate: np.ndarray
    det_amplitude: np.ndarray
    det_offsets: np.ndarray

    @property
    def sensors(self) -> tuple[SensorConfig, ...]:
        """The scene's sensors; ``det_sensor`` indexes this tuple."""
        return self.config.sensors

    @property
    def num_frames(self) -> int:
        return len(self.frame_times)

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        return sum(getattr(self, name).nbytes for name in ARRAY_SPECS)

    def frame_truth(self, k: int) -> FrameTruth:
        """The true targets of 0-based frame ``k`` (array views, no copy)."""
        rows = slice(self.truth_offsets[k], self.truth_offsets[k + 1])
        return FrameTruth(
            k, float(self.frame_times[k]), self.truth_id[rows], self.truth_state[rows]
        )

    def frame_detections(self, k: int) -> FrameDetections:
        """The detections of 0-based frame ``k`` (array views, no copy)."""
        rows = slice(self.det_offsets[k], self.det_offsets[k + 1])
        return FrameDetections(
            k,
            float(self.frame_times[k]),
            *(getattr(self, f"det_{f.name}")[rows] for f in fields(FrameDetections)[2:]),
        )

    def summary(self) -> dict[str, Any]:
        """Counts for a report: frames, targets, detections, clutter ratio, per-sensor counts."""
        clutter = int(np.count_nonzero(self.det_target < 0))
        return {
            "frames": self.num_frames,
            "targets": int(len(np.unique(self.truth_id))),
            "mean_targets_per_frame": len(self.truth_id) / self.num_frames,
            "detections": len(self.det_target),
            "clutter": clutter,
            "clutter_ratio": clutter / max(len(self.det_target), 1),
            "detections_per_sensor": np.bincount(
                self.det_sensor, minlength=len(self.sensors)
            ).tolist(),
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write the versioned .npz (uncompressed, for fast loading) atomically."""
        arrays = {name: getattr(self, name) for name in ARRAY_SPECS}
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:  # a handle: no ".npz" appended
            np.savez(
                handle,
                format=np.array(FORMAT_NAME),
                version=np.array(FORMAT_VERSION),
                config_json=np.array(json.dumps(self.config.to_dict())),
                seed=np.array(self.seed, np.int64),
                dt=np.array(self.dt),
                **arrays,
            )

    def to_motchallenge(self, path: str | os.PathLike, box_size: float = 1.0) -> None:
        """Ground truth as MOTChallenge text: frame (1-based), id, bb_left=x, bb_top=y, bb_width,
        bb_height (= box_size m), conf=1, x, y, z=0. Readable by ``motmetrics.io.loadtxt``."""
        count = len(self.truth_id)
        x, y = self.truth_state[:, 0], self.truth_state[:, 1]
        columns = [
            self.truth_frame + 1,
            self.truth_id,
            x,
            y,
            np.full(count, box_size),
            np.full(count, box_size),
            np.ones(count),
            x,
            y,
            np.zeros(count),
        ]
        with atomic_path(path) as tmp:
            np.savetxt(
                tmp,
                np.stack(columns, axis=1),
                delimiter=",",
                fmt=["%d", "%d", "%.3f", "%.3f", "%g", "%g", "%d", "%.3f", "%.3f", "%d"],
            )


def frame_offsets(frame: np.ndarray, frames: int) -> np.ndarray:
    """(T+1,) int64 row offsets of each frame in a frame-sorted index array (N,)."""
    return np.searchsorted(frame, np.arange(frames + 1)).astype(np.int64)


_READ_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    KeyError,
    zipfile.BadZipFile,
    struct.error,
    zlib.error,
)


# scalar entry -> (numpy dtype kinds it may have, what it is called in messages)
_SCALAR_KINDS: dict[str, tuple[str, str]] = {
    "format": ("U", "string"),
    "version": ("iu", "integer"),
    "config_json": ("U", "string"),
    "seed": ("iu", "integer"),
    "dt": ("fiu", "number"),
}


def _scalar(path: Path, stored: dict[str, np.ndarray], name: str) -> Any:
    """The single (0-d) entry ``name`` of a scenario file as a Python str, int or float.

    Every scalar field goes through here, so a crafted file (a string or array ``version``, an
    array ``seed``) is one InputError line, never a traceback. Raises InputError if it is
    missing, not 0-d or of another kind than ``_SCALAR_KINDS`` says.
    """
    if name not in stored:
        raise InputError(f"{path}: scenario file lacks {name}")
    kinds, what = _SCALAR_KINDS[name]
    value = stored[name]
    if value.shape != () or value.dtype.kind not in kinds:
        raise InputError(f"{path}: {name} must be a single {what}, got dtype {value.dtype} "
                         f"shape {value.shape}")
    return value.item()


def _stored_config(path: Path, stored: dict[str, np.ndarray]) -> ScenarioConfig:
    """The ScenarioConfig of the file's ``config_json``; InputError if it is not a JSON object
    of valid settings."""
    text = _scalar(path, stored, "config_json")
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise InputError(f"a JSON {type(data).__name__}, not an object of settings")
        return ScenarioConfig.from_dict(data)
    except (json.JSONDecodeError, InputError) as error:
        raise InputError(f"{path}: bad stored config: {error}") from None


def _read_entries(path: Path) -> dict[str, np.ndarray]:
    """Every entry of the .npz at ``path``; InputError for a missing or unreadable file."""
    if not path.is_file():
        raise InputError(f"{path}: no such scenario file")
    if not zipfile.is_zipfile(path):  # np.load would take it for a .npy or pickle
        raise InputError(f"{path}: not a readable scenario .npz (not a zip archive: truncated, "
                         "or another kind of file)")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except _READ_ERRORS as error:
        raise InputError(
            f"{path}: not a readable scenario .npz (truncated or foreign?): {error}"
        ) from None


def load(path: str | os.PathLike) -> Scenario:
    """Read a scenario written by :meth:`Scenario.save`; InputError for a missing, truncated,
    foreign or wrong-version file, for fields of the wrong kind, for inconsistent arrays,
    sensor indices outside the config's sensors, or for NaN / infinite times or true states
    (detections may hold NaN: the tracker drops those with a warning)."""
    path = Path(path)
    stored = _read_entries(path)
    if "format" not in stored or _scalar(path, stored, "format") != FORMAT_NAME:
        raise InputError(f"{path}: not an hste scenario file (no format = {FORMAT_NAME!r} entry)")
    version = _scalar(path, stored, "version")
    if version != FORMAT_VERSION:
        raise InputError(
            f"{path}: scenario format version {version}, this code reads version {FORMAT_VERSION}"
        )
    missing = sorted(set(ARRAY_SPECS) - set(stored))
    if missing:
        raise InputError(f"{path}: scenario file lacks {', '.join(missing)}")
    config = _stored_config(path, stored)
    seed, dt = _scalar(path, stored, "seed"), float(_scalar(path, stored, "dt"))
    for name, (dtype, trailing) in ARRAY_SPECS.items():
        array = stored[name]
        if array.dtype != dtype or array.shape[1:] != trailing or array.ndim != 1 + len(trailing):
            raise InputError(
                f"{path}: {name} has dtype {array.dtype} shape {array.shape}, "
                f"expected {np.dtype(dtype)} (n, {', '.join(map(str, trailing))})"
            )
    arrays = {name: stored[name] for name in ARRAY_SPECS}
    _check_lengths(path, arrays)
    for name in ("frame_times", "truth_state"):
        if not np.isfinite(arrays[name]).all():
            raise InputError(f"{path}: {name} holds NaN or infinite values")
    if not math.isfinite(dt):
        raise InputError(f"{path}: dt is NaN or infinite")
    if not 0 <= seed < 2**63:
        raise InputError(f"{path}: seed {seed} is outside 0..2**63-1")
    _check_ids(path, arrays, len(config.sensors))
    return Scenario(config, seed, dt, **arrays)


def _check_ids(path: Path, arrays: dict[str, np.ndarray], sensors: int) -> None:
    """InputError for sensor indices outside 0..sensors-1, truth ids < 1 or targets < -1."""
    if np.any((arrays["det_sensor"] < 0) | (arrays["det_sensor"] >= sensors)):
        raise InputError(f"{path}: det_sensor holds indices outside the {sensors} sensor(s) of "
                         "the stored config")
    if np.any(arrays["truth_id"] < 1) or np.any(arrays["det_target"] < -1):
        raise InputError(f"{path}: truth_id must be >= 1 and det_target >= -1 (clutter)")


def _check_lengths(path: Path, arrays: dict[str, np.ndarray]) -> None:
    frames = len(arrays["frame_times"])
    for prefix in ("truth", "det"):
        group = {
            n: a for n, a in arrays.items() if n.startswith(prefix) and n != f"{prefix}_offsets"
        }
        lengths = {len(a) for a in group.values()}
        offsets = arrays[f"{prefix}_offsets"]
        frame = arrays[f"{prefix}_frame"]
        consistent = (
            len(lengths) == 1
            and np.all(np.diff(frame) >= 0)
            and (len(frame) == 0 or (frame[0] >= 0 and frame[-1] < frames))
            and len(offsets) == frames + 1
            and np.array_equal(offsets, frame_offsets(frame, frames))
            and offsets[-1] == len(frame)
        )
        if not consistent:
            raise InputError(f"{path}: {prefix} arrays are inconsistent (lengths or frame offsets)")
