"""Target motion: births, survival, process noise, coordinated turns and scripted patterns."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_sim_stats import assert_fraction, assert_gaussian_noise, assert_poisson

from common.errors import InputError
from sim.config import MotionConfig
from sim.motion import Truth, segment_cumsum, simulate_truth

QUIET = dict(initial_targets=0, birth_rate=0.0, survival_prob=1.0)


def run(frames: int = 50, dt: float = 1.0, seed: int = 0, **motion) -> Truth:
    return simulate_truth(MotionConfig(**motion), frames, dt, np.random.default_rng(seed))


def consecutive(truth: Truth) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (earlier, later) of rows of the same target in consecutive frames."""
    order = np.lexsort((truth.frame, truth.id))
    same = truth.id[order][1:] == truth.id[order][:-1]
    return order[:-1][same], order[1:][same]


def test_truth_is_sorted_by_frame_then_id_with_one_row_per_target_and_frame():
    truth = run(frames=80, initial_targets=20, birth_rate=0.5, survival_prob=0.97)
    key = truth.frame.astype(np.int64) * 10**6 + truth.id
    assert np.all(np.diff(key) > 0)
    assert truth.id.min() == 1 and truth.frame.min() == 0 and truth.frame.max() == 79
    earlier, later = consecutive(truth)
    assert np.all(truth.frame[later] == truth.frame[earlier] + 1)  # alive without gaps


def test_births_per_frame_are_poisson_with_the_birth_rate():
    truth = run(frames=3000, **{**QUIET, "birth_rate": 2.5, "survival_prob": 0.0})
    assert len(np.unique(truth.id)) == len(truth.id)  # survival 0: every target lives one frame
    assert_poisson(np.bincount(truth.frame, minlength=3000)[1:], 2.5)


def test_initial_targets_and_survival_probability():
    truth = run(frames=40, **{**QUIET, "initial_targets": 3000, "survival_prob": 0.9})
    alive = np.bincount(truth.frame, minlength=40)
    assert alive[0] == 3000
    assert_fraction(alive[1:].sum(), alive[:-1].sum(), 0.9)  # survivors over those at risk


def test_cv_accelerations_match_the_process_noise_and_the_transition():
    dt, accel_std = 0.5, 0.7
    truth = run(frames=150, dt=dt, **{**QUIET, "initial_targets": 200, "accel_std": accel_std})
    earlier, later = consecutive(truth)
    accel = (truth.state[later, 2:] - truth.state[earlier, 2:]) / dt
    assert_gaussian_noise(accel[:, 0], accel_std)
    assert_gaussian_noise(accel[:, 1], accel_std)
    assert abs(np.corrcoef(accel.T)[0, 1]) < 5 / np.sqrt(len(accel))
    predicted = truth.state[earlier, :2] + truth.state[earlier, 2:] * dt + accel * dt**2 / 2
    np.testing.assert_allclose(truth.state[later, :2], predicted, atol=1e-6)


def test_coordinated_turn_targets_keep_speed_and_circle_their_centre():
    truth = run(frames=300, **{**QUIET, "initial_targets": 50, "accel_std": 0.0,
                               "turn_fraction": 1.0, "turn_rate_max": 0.1})  # fmt: skip
    earlier, later = consecutive(truth)
    v0 = truth.state[earlier, 2] + 1j * truth.state[earlier, 3]
    v1 = truth.state[later, 2] + 1j * truth.state[later, 3]
    np.testing.assert_allclose(np.abs(v1), np.abs(v0), rtol=1e-9)
    turn = np.angle(v1 / v0)  # radians per frame, constant per target
    assert np.all(np.abs(turn) <= 0.1 + 1e-12) and np.std(turn) > 0.02
    position = truth.state[earlier, 0] + 1j * truth.state[earlier, 1]
    centre = position + 1j * v0 / turn  # the turn centre lies left of v for positive rates
    for target in np.unique(truth.id):
        rows = truth.id[earlier] == target
        np.testing.assert_allclose(centre[rows], centre[rows][0], atol=1e-6)


def test_turn_fraction_selects_the_share_of_turning_targets():
    truth = run(frames=3, **{**QUIET, "initial_targets": 4000, "accel_std": 0.0,
                             "turn_fraction": 0.25})  # fmt: skip
    earlier, later = consecutive(truth)
    turning = ~np.isclose(truth.state[later, 2:], truth.state[earlier, 2:]).all(axis=1)
    assert_fraction(int(turning[truth.frame[earlier] == 0].sum()), 4000, 0.25)


def test_births_start_in_the_region_or_around_the_birth_points():
    box = run(frames=1, **{**QUIET, "initial_targets": 1000, "birth_region": (10, 20, -5, 5),
                           "speed_range": (3.0, 4.0)})  # fmt: skip
    x, y, vx, vy = box.state.T
    assert x.min() >= 10 and x.max() <= 20 and y.min() >= -5 and y.max() <= 5
    assert np.all((np.hypot(vx, vy) >= 3.0) & (np.hypot(vx, vy) <= 4.0))
    points = ((0.0, 0.0), (1000.0, 0.0))
    around = run(frames=1, **{**QUIET, "initial_targets": 1000, "birth_points": points,
                              "birth_point_std": 10.0})  # fmt: skip
    distance = np.min(np.abs(around.state[:, :1] - np.array([[0.0, 1000.0]])), axis=1)
    assert distance.max() < 60 and 300 < np.sum(around.state[:, 0] > 500) < 700


def test_crossing_pairs_meet_at_the_pattern_frame():
    truth = run(frames=60, **{**QUIET, "crossing_pairs": 4, "pattern_frame": 25})
    at = truth.state[truth.frame == 25]
    np.testing.assert_allclose(at[:4, :2], at[4:8, :2], atol=1e-6)
    heading_gap = np.abs(np.angle((at[:4, 2] + 1j * at[:4, 3]) / (at[4:8, 2] + 1j * at[4:8, 3])))
    assert np.all((heading_gap >= math.radians(30) - 1e-9) & (heading_gap <= math.radians(150)))
    before = truth.state[truth.frame == 15]
    assert np.all(np.hypot(*(before[:4, :2] - before[4:8, :2]).T) > 1.0)


def test_parallel_groups_keep_their_separation_and_velocity():
    truth = run(frames=30, **{**QUIET, "parallel_groups": 2, "parallel_size": 3,
                              "pattern_separation": 25.0})  # fmt: skip
    for frame in (0, 29):
        groups = truth.state[truth.frame == frame].reshape(2, 3, 4)
        gaps = np.hypot(*np.moveaxis(np.diff(groups[:, :, :2], axis=1), -1, 0))
        np.testing.assert_allclose(gaps, 25.0, rtol=1e-9)
        np.testing.assert_allclose(groups[:, :, 2:], groups[:, :1, 2:].repeat(3, axis=1))


def test_split_children_start_at_the_parent_with_the_turned_heading():
    truth = run(frames=40, **{**QUIET, "split_targets": 3, "split_angle": 0.4})
    assert np.array_equal(np.unique(truth.id[truth.frame == 19]), [1, 2, 3])
    at = truth.state[truth.frame == 20]
    parents, children = at[:3], at[3:]
    np.testing.assert_allclose(children[:, :2], parents[:, :2], atol=1e-6)
    turned = np.angle((children[:, 2] + 1j * children[:, 3]) / (parents[:, 2] + 1j * parents[:, 3]))
    np.testing.assert_allclose(turned, 0.4, atol=1e-9)


@given(st.lists(st.integers(1, 6), min_size=1, max_size=8), st.integers(0, 2**32 - 1))
def test_segment_cumsum_equals_a_cumsum_per_segment(lengths, seed):
    values = np.random.default_rng(seed).normal(size=sum(lengths))
    starts = np.cumsum(lengths) - lengths
    expected = np.concatenate([np.cumsum(part) for part in np.split(values, starts[1:])])
    np.testing.assert_allclose(segment_cumsum(values, starts), expected, atol=1e-12)


@pytest.mark.parametrize(
    "bad",
    [{"survival_prob": 1.2}, {"birth_rate": -1.0}, {"speed_range": (10.0, 5.0)},
     {"birth_region": (1.0, 0.0, 0.0, 1.0)}, {"accel_std": float("nan")}],
)  # fmt: skip
def test_bad_motion_settings_raise_input_error(bad):
    with pytest.raises(InputError):
        MotionConfig(**bad)
