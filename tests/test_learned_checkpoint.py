"""Checkpoints of the association network: round trip, and every kind of bad file refused with
one InputError line (through ``hste track`` too: exit 2, no output file)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from learned_scans import random_scan, single_thread  # noqa: F401 (autouse fixture)

from common.errors import InputError
from sim import generate
from sim.config import MotionConfig, RadarConfig, ScenarioConfig
from tracker.association import build_associator
from tracker.association.gnn import GnnConfig
from tracker.association.learned import (
    AssociationModel,
    LearnedAssociator,
    checkpoint_dict,
    load_model,
    save_checkpoint,
)
from tracker.association.network import AssociationNetwork, NetworkConfig
from tracker.cli import main


def trained_looking_model(operator: str = "hste", hidden: int = 16,
                          context: bool = False) -> AssociationModel:
    torch.manual_seed(0)
    network = AssociationNetwork(NetworkConfig.sized(hidden, 1, context))
    with torch.no_grad():
        for head in (network.pair_head, network.missed_head, network.clutter_head):
            head.weight.normal_(0.0, 2.0)
    return AssociationModel(network, operator, GnnConfig(gate_probability=0.995))


@pytest.mark.parametrize("context", [False, True])
def test_round_trip_gives_the_same_associations(tmp_path, context):
    model = trained_looking_model(context=context)
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, epoch=3)
    loaded = load_model(path, ("hste",))
    assert loaded.gnn_config == model.gnn_config and loaded.operator == "hste"
    assert loaded.network.config.context is context
    rng = np.random.default_rng(0)
    for _ in range(3):
        scan = random_scan(rng, 10, 8, 12, spacing=25.0)
        np.testing.assert_array_equal(LearnedAssociator(loaded).associate(scan),
                                      LearnedAssociator(model).associate(scan))


def test_the_registry_builds_both_backends_from_their_checkpoints(tmp_path):
    for backend, operator in (("learned", "hste"), ("sinkhorn", "sinkhorn")):
        path = tmp_path / f"{operator}.pt"
        save_checkpoint(path, trained_looking_model(operator))
        assert isinstance(build_associator(backend, model_path=path), LearnedAssociator)
    with pytest.raises(InputError, match="trained with sinkhorn; use --assoc sinkhorn"):
        build_associator("learned", model_path=tmp_path / "sinkhorn.pt")
    for operator in ("blackbox", "perturbed", "hste-softmax"):  # exact forward: the learned backend
        path = tmp_path / f"{operator}.pt"
        save_checkpoint(path, trained_looking_model(operator))
        assert isinstance(build_associator("learned", model_path=path), LearnedAssociator)
        with pytest.raises(InputError, match=f"trained with {operator}; use --assoc learned"):
            build_associator("sinkhorn", model_path=path)
    with pytest.raises(InputError, match="needs a trained model"):
        build_associator("learned")


def bad_files(tmp_path):
    """name -> (path, expected message) of files that are not usable checkpoints."""
    good = checkpoint_dict(trained_looking_model())
    files = {
        "text": b"frame,id,x,y\n1,1,0,0\n",
        "random": np.random.default_rng(1).bytes(300),
        "empty": b"",
        "junk line": b"junk\n",  # torch.load raises KeyError on this one
    }
    paths = {}
    for name, content in files.items():
        paths[name] = (tmp_path / f"{name}.pt", "not an hste-track checkpoint")
        paths[name][0].write_bytes(content)
    truncated = tmp_path / "truncated.pt"
    torch.save(good, truncated)
    truncated.write_bytes(truncated.read_bytes()[:200])
    paths["truncated"] = (truncated, "not an hste-track checkpoint")
    variants = {
        "foreign": ({"format": "other", "state_dict": good["state_dict"]},
                    "not an hste-track association checkpoint"),
        "version": ({**good, "version": 99}, "version 99"),
        "other config": ({**good, "network": {**good["network"], "hidden": 8}},
                         "another model config"),
        "unknown key": ({**good, "network": {**good["network"], "width": 8}},
                        "another model config"),
        "feature count": ({**good, "network": {**good["network"], "pair_features": 3}},
                          "another model config"),
        "context without its columns": ({**good, "network": {**good["network"], "context": True}},
                                        "another model config"),
        "nan weights": ({**good, "state_dict": {name: torch.full_like(weights, torch.nan)
                                                for name, weights in good["state_dict"].items()}},
                        "weights hold NaN or infinite values"),
    }
    for name, (content, message) in variants.items():
        path = tmp_path / f"{name.replace(' ', '_')}.pt"
        torch.save(content, path)
        paths[name] = (path, message)
    paths["missing"] = (tmp_path / "missing.pt", "no such checkpoint file")
    return paths


def test_a_context_network_needs_its_feature_columns():
    with pytest.raises(ValueError, match="context features need"):
        NetworkConfig(hidden=8, rounds=1, context=True)
    assert NetworkConfig.sized(8, 1, True).det_features == NetworkConfig().det_features + 2


def test_checkpoints_written_before_context_features_load_without_them(tmp_path):
    content = checkpoint_dict(trained_looking_model())
    del content["network"]["context"]
    path = tmp_path / "old.pt"
    torch.save(content, path)
    assert load_model(path).network.config.context is False


def test_bad_checkpoints_raise_input_error(tmp_path):
    for name, (path, message) in bad_files(tmp_path).items():
        with pytest.raises(InputError, match=message):
            load_model(path)
        assert name


def test_a_pickled_object_is_refused_without_being_run(tmp_path):
    path = tmp_path / "pickle.pt"
    torch.save({"format": "x", "code": np.random.default_rng(0)}, path)
    with pytest.raises(InputError, match="not an hste-track checkpoint"):
        load_model(path)


def test_hste_track_refuses_bad_checkpoints_in_one_line(tmp_path):
    motion = MotionConfig(initial_targets=2, birth_rate=0.0, survival_prob=1.0,
                          birth_region=(-500.0, 500.0, 800.0, 1500.0))
    scene = tmp_path / "scene.npz"
    generate(ScenarioConfig(frames=5, motion=motion, sensors=(RadarConfig(clutter_rate=2.0),)),
             1).save(scene)
    out = tmp_path / "tracks.csv"
    for path, message in bad_files(tmp_path).values():
        result = CliRunner().invoke(main, ["track", str(scene), "--assoc", "learned", "--model",
                                           str(path), "-o", str(out)])
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], result.stderr
        assert not out.exists()
