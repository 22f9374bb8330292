"""Scenario container: determinism, per-frame views, save/load round trip, bad files, MOT export."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from common.errors import InputError
from sim.presets import PRESETS, get_preset
from sim.scenario import ARRAY_SPECS


def small(name: str = "default", frames: int = 20) -> sim.ScenarioConfig:
    return get_preset(name).replace(frames=frames)


def assert_same(a: sim.Scenario, b: sim.Scenario) -> None:
    for name in ARRAY_SPECS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.config == b.config and a.seed == b.seed and a.dt == b.dt


def test_seeded_runs_repeat_exactly_and_seeds_differ():
    config = small()
    assert_same(sim.generate(config, 3), sim.generate(config, 3))
    assert not np.array_equal(sim.generate(config, 3).det_xy, sim.generate(config, 4).det_xy)


def test_save_load_round_trip(tmp_path):
    scenario = sim.generate(small("crossing"), 5)
    scenario.save(tmp_path / "scene.npz")
    assert_same(sim.load(tmp_path / "scene.npz"), scenario)
    assert [p.name for p in tmp_path.iterdir()] == ["scene.npz"]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_runs_with_contract_dtypes(name):
    scenario = sim.generate(small(name, frames=3 if name == "large" else 20), 0)
    for field, (dtype, trailing) in ARRAY_SPECS.items():
        array = getattr(scenario, field)
        assert array.dtype == dtype and array.shape[1:] == trailing, field
    assert scenario.num_frames == scenario.config.frames
    assert len(scenario.det_target) > 0 and len(scenario.truth_id) > 0


def test_frame_views_partition_the_flat_arrays():
    scenario = sim.generate(small("crossing"), 2)
    views = [scenario.frame_detections(k) for k in range(scenario.num_frames)]
    np.testing.assert_array_equal(np.concatenate([v.xy for v in views]), scenario.det_xy)
    np.testing.assert_array_equal(np.concatenate([v.target for v in views]), scenario.det_target)
    assert sum(len(v) for v in views) == len(scenario.det_target)
    truth = scenario.frame_truth(7)
    assert truth.frame == 7 and truth.time == 7 * scenario.dt
    assert np.all(np.diff(truth.id) > 0) and truth.state.shape == (len(truth), 4)
    assert np.all(scenario.truth_frame[scenario.truth_offsets[7] : scenario.truth_offsets[8]] == 7)
    assert views[7].time == 7.0 and np.all(np.diff(views[7].azimuth) >= 0)  # scan order


def test_motchallenge_export_is_read_by_motmetrics(tmp_path):
    import motmetrics

    scenario = sim.generate(small("default"), 1)
    scenario.to_motchallenge(tmp_path / "gt.txt")
    table = motmetrics.io.loadtxt(str(tmp_path / "gt.txt"))
    assert len(table) == len(scenario.truth_id)
    frames = table.index.get_level_values("FrameId").to_numpy()
    np.testing.assert_array_equal(frames, scenario.truth_frame + 1)
    np.testing.assert_array_equal(table.index.get_level_values("Id"), scenario.truth_id)
    # motmetrics turns MOT's 1-based pixel boxes 0-based: X = bb_left - 1
    np.testing.assert_allclose(table["X"] + 1, scenario.truth_state[:, 0], atol=1e-3)
    np.testing.assert_allclose(table["Y"] + 1, scenario.truth_state[:, 1], atol=1e-3)


def rewrite(source, target, **changes) -> None:
    with np.load(source) as data:
        arrays = {name: data[name] for name in data.files}
    arrays.update(changes)
    np.savez(target, **{k: v for k, v in arrays.items() if v is not None})


def poisoned(source, target, name: str) -> None:
    """``source`` rewritten to ``target`` with the first value of array ``name`` set to NaN."""
    with np.load(source) as data:
        array = data[name].copy()
    array.reshape(-1)[0] = np.nan
    rewrite(source, target, **{name: array})


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("scene") / "scene.npz"
    sim.generate(small("default"), 0).save(path)
    return path


@pytest.mark.parametrize(
    "make_bad, message",
    [
        (lambda src, bad: None, "no such scenario file"),
        (lambda src, bad: bad.write_bytes(src.read_bytes()[:5000]), "not a readable scenario"),
        (lambda src, bad: bad.write_text("frame,id\n1,2\n"), "not a readable scenario"),
        (lambda src, bad: np.savez(bad, weights=np.ones(3)), "not an hste scenario file"),
        (lambda src, bad: rewrite(src, bad, version=np.array(2)), "format version 2"),
        (lambda src, bad: rewrite(src, bad, det_xy=None), "lacks det_xy"),
        (lambda src, bad: rewrite(src, bad, det_range=np.zeros(3, np.float32)), "inconsistent"),
        (lambda src, bad: rewrite(src, bad, truth_state=np.zeros((2, 3))), "truth_state has"),
        (lambda src, bad: rewrite(src, bad, config_json=np.array("{")), "bad stored config"),
        (lambda src, bad: poisoned(src, bad, "truth_state"), "truth_state holds NaN"),
        (lambda src, bad: poisoned(src, bad, "frame_times"), "frame_times holds NaN"),
        (lambda src, bad: poisoned(src, bad, "dt"), "dt is NaN"),
    ],
)
def test_bad_scenario_files_give_one_clear_input_error(saved, tmp_path, make_bad, message):
    bad = tmp_path / "bad.npz"
    make_bad(saved, bad)
    with pytest.raises(InputError) as error:
        sim.load(bad)
    assert message in str(error.value) and str(bad) in str(error.value)
    assert "\n" not in str(error.value)


def test_large_scenario_memory_per_frame_stays_small():
    scenario = sim.generate(get_preset("large").replace(frames=5), 0)
    per_frame = scenario.nbytes / scenario.num_frames
    assert per_frame < 200_000  # 1,000 frames: under 0.2 GB (the target is 1 GB)


@settings(max_examples=30)
@given(
    frames=st.integers(1, 8),
    initial=st.integers(0, 4),
    birth_rate=st.floats(0, 2),
    clutter=st.floats(0, 3),
    kinds=st.lists(st.sampled_from(["radar", "pointcloud"]), min_size=1, max_size=3),
    seed=st.integers(0, 2**31),
)
def test_any_small_scene_is_consistent_and_round_trips(
    tmp_path_factory, frames, initial, birth_rate, clutter, kinds, seed
):
    sensors = tuple(
        sim.RadarConfig(clutter_rate=clutter) if kind == "radar"
        else sim.PointCloudConfig(clutter_rate=clutter, max_range=3000.0)
        for kind in kinds
    )  # fmt: skip
    motion = sim.MotionConfig(initial_targets=initial, birth_rate=birth_rate, crossing_pairs=1)
    scenario = sim.generate(sim.ScenarioConfig(frames=frames, motion=motion, sensors=sensors), seed)
    for offsets, frame in ((scenario.truth_offsets, scenario.truth_frame),
                           (scenario.det_offsets, scenario.det_frame)):  # fmt: skip
        assert offsets[0] == 0 and offsets[-1] == len(frame) and np.all(np.diff(offsets) >= 0)
        assert np.array_equal(np.repeat(np.arange(frames), np.diff(offsets)), frame)
    alive = set(zip(scenario.truth_frame.tolist(), scenario.truth_id.tolist(), strict=True))
    made = scenario.det_target >= 0
    pairs = zip(scenario.det_frame[made].tolist(), scenario.det_target[made].tolist(), strict=True)
    assert set(pairs) <= alive
    assert set(scenario.det_sensor.tolist()) <= set(range(len(kinds)))
    path = tmp_path_factory.mktemp("any") / "scene.npz"
    scenario.save(path)
    assert_same(sim.load(path), scenario)


@pytest.mark.slow
def test_full_large_scenario_stays_under_one_gigabyte_in_ram_and_on_disk(tmp_path):
    scenario = sim.generate(get_preset("large"), 0)
    assert scenario.num_frames == 1000 and len(scenario.det_target) > 900_000
    scenario.save(tmp_path / "large.npz")
    assert scenario.nbytes < 1e9 and (tmp_path / "large.npz").stat().st_size < 1e9
