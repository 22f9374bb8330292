"""Scenario configuration: frozen dataclasses for motion, sensors and the scene, loadable from TOML.

Units: metres, seconds, radians, m/s; SNR values in dB. Angles in the world frame are measured from
the +x axis towards +y. A sensor's azimuth is measured from its boresight (``orientation``).

TOML layout (every key optional, defaults below)::

    frames = 100
    dt = 1.0
    [motion]
    initial_targets = 10
    birth_region = [-2000.0, 2000.0, -2000.0, 2000.0]
    [[sensors]]
    kind = "radar"
    position = [0.0, -3000.0]
    orientation = 1.5708
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

from common.config import build_config, read_toml, require, toml_lines
from common.errors import InputError
from common.limits import check_number, require_memory

MAX_DB = 300.0
"""Largest magnitude of a radar SNR, threshold or CNR in dB (10**30 in power)."""
MAX_DISTANCE = 1e9
"""Largest distance setting, m (beyond it the radar equation's 4th powers overflow)."""
MAX_PATCHES = 10_000
"""Most clutter patches of one sensor."""

# Working memory of generation (float64 intermediates, sorting copies), bytes per item; the
# saved arrays take about 40 bytes per truth row and 38 per detection.
_BYTES_PER_FRAME, _BYTES_PER_TRUTH_ROW, _BYTES_PER_DETECTION = 64.0, 256.0, 256.0


def _finite(name: str, *values: float) -> None:
    require(all(math.isfinite(v) for v in values), f"{name} must be finite, got {values}")


@dataclass(frozen=True)
class MotionConfig:
    """Target motion, births, deaths and scripted hard-association patterns.

    Free targets move by the nearly-constant-velocity model (a fraction ``turn_fraction`` by the
    coordinated-turn model instead, turn rate uniform in +-``turn_rate_max`` rad/s), driven by
    piecewise-constant white acceleration of std ``accel_std`` m/s^2 per axis and frame.
    ``initial_targets`` start at frame 0; then Poisson(``birth_rate``) new targets per frame. Each
    target survives from one frame to the next with probability ``survival_prob``. Births are
    uniform in ``birth_region`` (xmin, xmax, ymin, ymax) m, or, when ``birth_points`` is given,
    Gaussian (std ``birth_point_std`` m) around a uniformly chosen birth point. Heading uniform,
    speed uniform in ``speed_range`` m/s.

    Scripted targets (no process noise, never die) make association hard: ``crossing_pairs`` pairs
    meeting at one point at frame ``pattern_frame`` (default: the middle frame) with headings
    30-150 deg apart; ``parallel_groups`` groups of ``parallel_size`` targets side by side,
    ``pattern_separation`` m apart, same velocity; ``split_targets`` targets each of which splits
    at ``pattern_frame`` into two (a new id starts at the parent's position, heading turned by
    ``split_angle`` rad).
    """

    initial_targets: int = 10
    birth_rate: float = 0.1
    birth_region: tuple[float, float, float, float] = (-2000.0, 2000.0, -2000.0, 2000.0)
    birth_points: tuple[tuple[float, float], ...] = ()
    birth_point_std: float = 100.0
    survival_prob: float = 0.995
    speed_range: tuple[float, float] = (5.0, 30.0)
    accel_std: float = 0.5
    turn_fraction: float = 0.0
    turn_rate_max: float = 0.05
    crossing_pairs: int = 0
    parallel_groups: int = 0
    parallel_size: int = 3
    split_targets: int = 0
    pattern_separation: float = 30.0
    split_angle: float = 0.5
    pattern_frame: int | None = None

    def __post_init__(self) -> None:
        for name in ("initial_targets", "crossing_pairs", "parallel_groups", "split_targets"):
            require(getattr(self, name) >= 0, f"motion.{name} must be >= 0")
        require(self.parallel_size >= 1, "motion.parallel_size must be >= 1")
        _finite("motion.birth_region", *self.birth_region)
        xmin, xmax, ymin, ymax = self.birth_region
        require(
            xmin <= xmax and ymin <= ymax, "motion.birth_region must be (xmin, xmax, ymin, ymax)"
        )
        for point in self.birth_points:
            require(len(point) == 2, "motion.birth_points must be a list of [x, y] pairs")
            _finite("motion.birth_points", *point)
        _finite("motion.speed_range", *self.speed_range)
        require(
            0 <= self.speed_range[0] <= self.speed_range[1],
            "motion.speed_range must be 0 <= min <= max",
        )
        for name in (
            "birth_rate",
            "birth_point_std",
            "accel_std",
            "turn_rate_max",
            "pattern_separation",
        ):
            value = getattr(self, name)
            require(math.isfinite(value) and value >= 0, f"motion.{name} must be finite and >= 0")
        _finite("motion.split_angle", self.split_angle)
        for name in ("survival_prob", "turn_fraction"):
            require(0.0 <= getattr(self, name) <= 1.0, f"motion.{name} must be in [0, 1]")
        require(
            self.pattern_frame is None
            or (isinstance(self.pattern_frame, int) and self.pattern_frame >= 0),
            "motion.pattern_frame must be >= 0",
        )


@dataclass(frozen=True)
class SensorConfig:
    """What every sensor has: pose, field of view, polar measurement noise, Pd and clutter.

    The sensor sits at ``position`` (x, y) m with boresight ``orientation`` rad (world frame); it
    sees ranges in [``min_range``, ``max_range``] m and azimuths within +-``azimuth_span``/2 rad of
    boresight (2*pi: all around). Measurements get Gaussian noise ``range_std`` m and
    ``azimuth_std`` rad. ``detection_prob`` is the probability that a target inside the field of
    view is detected in a frame; ``clutter_rate`` is the mean number of clutter detections per
    frame (Poisson), uniform in range and azimuth over the field of view.

    Inhomogeneous clutter (sea / ground clutter): ``clutter_patches`` patches, each a Gaussian
    blob of standard deviation ``patch_radius`` m around a centre that starts uniform in the
    field of view and drifts at ``patch_speed`` m/s in a random direction; each patch adds
    Poisson(``patch_rate``) clutter detections per frame (those outside the view are lost).
    ``mean_clutter_rate`` is the expected clutter per frame of both kinds together.
    """

    kind: ClassVar[str] = "sensor"
    position: tuple[float, float] = (0.0, 0.0)
    orientation: float = 0.0
    azimuth_span: float = 2 * math.pi
    min_range: float = 50.0
    max_range: float = 5000.0
    range_std: float = 7.5
    azimuth_std: float = math.radians(0.3)
    detection_prob: float = 0.9
    clutter_rate: float = 10.0
    clutter_patches: int = 0
    patch_rate: float = 30.0
    patch_radius: float = 150.0
    patch_speed: float = 3.0

    @property
    def mean_clutter_rate(self) -> float:
        """Expected clutter detections per frame, uniform and patch clutter together."""
        return self.clutter_rate + self.clutter_patches * self.patch_rate

    def __post_init__(self) -> None:
        name = self.kind
        _finite(f"{name}.position", *self.position)
        require(len(self.position) == 2, f"{name}.position must be [x, y]")
        _finite(f"{name}.orientation", self.orientation)
        require(0 < self.azimuth_span <= 2 * math.pi, f"{name}.azimuth_span must be in (0, 2*pi]")
        require(
            0 <= self.min_range < self.max_range < math.inf,
            f"{name}: need 0 <= min_range < max_range",
        )
        for attr in ("range_std", "azimuth_std", "clutter_rate"):
            value = getattr(self, attr)
            require(math.isfinite(value) and value >= 0, f"{name}.{attr} must be finite and >= 0")
        require(0.0 <= self.detection_prob <= 1.0, f"{name}.detection_prob must be in [0, 1]")
        check_number(f"{name}.clutter_patches", self.clutter_patches, 0, MAX_PATCHES, integer=True)
        for attr in ("patch_rate", "patch_radius", "patch_speed"):
            check_number(f"{name}.{attr}", getattr(self, attr), 0.0, MAX_DISTANCE)


@dataclass(frozen=True)
class RadarConfig(SensorConfig):
    """A Doppler radar: range, azimuth, range-rate and amplitude per detection.

    Amplitudes are return power over noise power in dB. A target's mean SNR is ``snr_db`` at
    ``snr_ref_range`` m and falls with range^4 (radar equation); its power fluctuates from frame to
    frame as Swerling I (exponential power, mean 1 + SNR in noise units, square-law detector).
    Clutter power is exponential (Rayleigh amplitude) with mean 1 + CNR, ``clutter_cnr_db``.

    ``pd_model = "constant"``: a target in view is detected with probability ``detection_prob``.
    ``pd_model = "snr"``: detected when its power exceeds ``threshold_db`` (so Pd = exp(-T/(1+SNR))
    and ``detection_prob`` is unused); clutter powers are then those above the threshold.
    Clutter range-rates are uniform in +-``max_range_rate`` m/s (the unambiguous Doppler interval).
    """

    kind: ClassVar[str] = "radar"
    range_rate_std: float = 0.5
    max_range_rate: float = 40.0
    pd_model: str = "constant"
    snr_db: float = 30.0
    snr_ref_range: float = 2000.0
    threshold_db: float = 13.0
    clutter_cnr_db: float = 5.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.pd_model in ("constant", "snr"), 'radar.pd_model must be "constant" or "snr"')
        for attr in ("snr_db", "threshold_db", "clutter_cnr_db"):  # powers of 10**(dB/10)
            check_number(f"radar.{attr}", getattr(self, attr), -MAX_DB, MAX_DB)
        for attr in ("range_rate_std", "max_range_rate", "snr_ref_range"):
            value = getattr(self, attr)
            require(math.isfinite(value) and value >= 0, f"radar.{attr} must be finite and >= 0")
        # the radar equation takes (snr_ref_range / range)**4
        check_number("radar.snr_ref_range", self.snr_ref_range, 0.0, MAX_DISTANCE)


@dataclass(frozen=True)
class PointCloudConfig(SensorConfig):
    """A LIDAR-like sensor seeing extended targets as several points.

    A detected target (probability ``detection_prob``) gives Poisson(``points_per_target``) points
    uniform inside its ellipse with semi-axes ``extent`` = (along heading, across) m, each then
    measured in range/azimuth with the polar noise. Points carry no range-rate or amplitude (NaN).
    """

    kind: ClassVar[str] = "pointcloud"
    min_range: float = 1.0
    max_range: float = 150.0
    range_std: float = 0.05
    azimuth_std: float = math.radians(0.1)
    detection_prob: float = 0.95
    clutter_rate: float = 20.0
    extent: tuple[float, float] = (2.5, 1.0)
    points_per_target: float = 8.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            len(self.extent) == 2 and min(self.extent) >= 0, "pointcloud.extent must be [a, b] >= 0"
        )
        _finite("pointcloud.extent", *self.extent)
        require(
            math.isfinite(self.points_per_target) and self.points_per_target >= 0,
            "pointcloud.points_per_target must be finite and >= 0",
        )


SENSOR_KINDS: dict[str, type[SensorConfig]] = {"radar": RadarConfig, "pointcloud": PointCloudConfig}


@dataclass(frozen=True)
class ScenarioConfig:
    """A whole scene: ``frames`` frames ``dt`` s apart, target motion and one or more sensors."""

    name: str = "custom"
    frames: int = 100
    dt: float = 1.0
    motion: MotionConfig = field(default_factory=MotionConfig)
    sensors: tuple[SensorConfig, ...] = field(default_factory=lambda: (RadarConfig(),))

    def __post_init__(self) -> None:
        require(self.frames >= 1, "frames must be >= 1")
        require(math.isfinite(self.dt) and self.dt > 0, "dt must be finite and > 0")
        require(len(self.sensors) >= 1, "a scenario needs at least one sensor")
        require(len(self.sensors) < 2**15, "too many sensors")
        require_memory(f"a scene of {self.frames} frames with these targets and sensors",
                       self.estimated_bytes())

    def estimated_bytes(self) -> float:
        """Memory (bytes) that generating this scene is expected to need: mean truth rows
        (free targets living ``1 / (1 - survival_prob)`` frames, scripted ones all frames)
        and detections (every truth row detected, point clouds ``points_per_target`` points
        each, plus clutter), at generation's working size per item. Huge values give inf."""
        motion = self.motion
        try:
            frames = float(self.frames)
            life = (frames if motion.survival_prob >= 1.0
                    else min(frames, 1.0 / (1.0 - motion.survival_prob)))
            scripted = (2 * motion.crossing_pairs + motion.parallel_groups * motion.parallel_size
                        + 2 * motion.split_targets)
            rows = (motion.initial_targets + motion.birth_rate * frames) * life + scripted * frames
            detections = sum(frames * sensor.mean_clutter_rate
                             + rows * getattr(sensor, "points_per_target", 1.0)
                             for sensor in self.sensors)
            return (_BYTES_PER_FRAME * frames + _BYTES_PER_TRUTH_ROW * rows
                    + _BYTES_PER_DETECTION * detections)
        except OverflowError:  # an int too large for a float
            return math.inf

    def replace(self, **changes: Any) -> ScenarioConfig:
        """A copy with some top-level fields changed (e.g. ``frames``)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (lists, numbers, strings) that :meth:`from_dict` reads back exactly."""
        data = dataclasses.asdict(self)
        data["sensors"] = [{"kind": s.kind, **dataclasses.asdict(s)} for s in self.sensors]
        return data

    def to_toml(self) -> str:
        """TOML text that :meth:`from_toml` reads back exactly (unset optional values omitted)."""
        data = self.to_dict()
        motion, sensors = data.pop("motion"), data.pop("sensors")
        lines = toml_lines(data) + ["", "[motion]"] + toml_lines(motion)
        for sensor in sensors:
            lines += ["", "[[sensors]]"] + toml_lines(sensor)
        return "\n".join(lines) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScenarioConfig:
        """Build from a plain dict (TOML or :meth:`to_dict`); unknown keys raise InputError."""
        data = dict(data)
        motion = build_config(MotionConfig, data.pop("motion", {}), "motion")
        sensors_data = data.pop("sensors", None)
        if sensors_data is None:
            sensors = ScenarioConfig().sensors
        elif isinstance(sensors_data, list | tuple):
            sensors = tuple(_build_sensor(s) for s in sensors_data)
        else:
            raise InputError("sensors must be an array of tables ([[sensors]])")
        return build_config(cls, {**data, "motion": motion, "sensors": sensors}, "scenario")

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> ScenarioConfig:
        """Read a TOML file (layout in the module docstring); InputError if missing or invalid."""
        data = read_toml(path)
        try:
            return cls.from_dict(data)
        except InputError as error:
            raise InputError(f"{path}: {error}") from None


def _build_sensor(data: Any) -> SensorConfig:
    if not isinstance(data, dict) or data.get("kind") not in SENSOR_KINDS:
        raise InputError(f"each sensor needs kind = one of {', '.join(SENSOR_KINDS)}")
    data = dict(data)
    kind = data.pop("kind")
    return build_config(SENSOR_KINDS[kind], data, kind)
