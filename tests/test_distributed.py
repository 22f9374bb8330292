"""Data-parallel training: 2 gloo ranks on this machine hold identical parameters after a few
steps, equal to one process trained on the same total batch (slow: it starts two processes;
``make test-slow``)."""

from __future__ import annotations

import pytest
import torch

from common.errors import InputError
from tracker.distributed import RankContext, init_process_group, spawn
from tracker.training import TrainingConfig, new_state, train

CONFIG = TrainingConfig(preset="crossing", frames=6, epochs=1, scenes_per_epoch=4,
                        batch_scenes=4, passes=2, noise=0.0, samples=1, validation_scenes=0,
                        hidden=8, rounds=1)


def _train_and_save(out, parameters_dir) -> None:
    context = init_process_group()
    state = train(CONFIG, out, context=context, progress=False)
    torch.save(state.model.network.state_dict(), parameters_dir / f"rank{context.rank}.pt")


@pytest.mark.slow
def test_two_gloo_ranks_match_each_other_and_a_single_process(tmp_path):
    torch.set_num_threads(1)
    single = train(CONFIG, tmp_path / "single", progress=False).model.network.state_dict()
    spawn(2, _train_and_save, (tmp_path / "ddp", tmp_path), threads=1)
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    initial = new_state(CONFIG).model.network.state_dict()
    assert not torch.equal(single["pair_head.weight"], initial["pair_head.weight"])
    for name in single:
        assert torch.equal(rank0[name], rank1[name]), name
        torch.testing.assert_close(rank0[name], single[name], rtol=1e-4, atol=1e-5)
    assert (tmp_path / "ddp" / "checkpoint.pt").is_file()


def test_a_rank_takes_its_contiguous_share_of_the_global_batch():
    assert list(RankContext(1, 2).share(6)) == [3, 4, 5]
    assert list(RankContext(0, 1).share(5)) == [0, 1, 2, 3, 4]
    with pytest.raises(InputError, match="divisible"):
        RankContext(0, 2).share(5)
