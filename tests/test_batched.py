"""grokkit.batched.train_batched against M single grokkit.train runs."""
import numpy as np
import pytest
import torch

import grokkit
from grokkit import RunConfig
from grokkit.batched import train_batched
from grokkit.records import ForeignRecord

# ~100 steps, a rank snapshot at 0/50/100 (probes too in float64); the schedule logs every step below 30
TINY = dict(depth=4, width=16, n_train=400, batch_size=100, steps=100, log_every=10, rank_every=50,
            checkpoint_every=0, device="cpu")
# Measured on CPU (torch 2.13, 100 steps, runs differing in seed, γ, α, lr and N): float64 max rel diff
# 5e-16 on losses and norms, 1.2e-15 on eff_rank; float32 5e-8 on losses, 7e-9 on norms, 2e-8 on eff_rank,
# one test image of 10k flipped once. Asserted with margin for other BLAS builds:
RTOL = {"float64": 1e-13, "float32": 1e-6}
FLOATS = ("train_loss", "test_loss", "weight_norm", "last_layer_norm", "eff_rank")
EXACT = ("step", "rank_step", "rank", "robust_rank", "probe_step")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matmuls: threads only add contention
    yield
    torch.set_num_threads(n)


def configs(dtype, **kw):
    base = RunConfig(**TINY, dtype=dtype, **kw)
    return [base,
            base.replace(seed=1, weight_decay=0.05, alpha=4.0),
            base.replace(seed=2, weight_decay=0.005, alpha=2.0, lr=2e-3, n_train=350)]  # 350: a short last batch


@pytest.fixture(scope="module", params=["float64", "float32"])
def pair(request):
    kw = dict(probe_every=50, probe_epochs=1) if request.param == "float64" else dict(probe_every=-1)
    cfgs = configs(request.param, **kw)
    return request.param, train_batched(cfgs, progress=False), [grokkit.train(c, progress=False) for c in cfgs]


def test_batched_matches_single_runs(pair):
    dtype, batched, singles = pair
    for b, s in zip(batched, singles):
        assert b.config == s.config and b.meta["batched"] == 3 and b.meta["diverged_at"] is None
        assert set(b.history) == set(s.history)
        for k, v in s.history.items():
            assert b.history[k].dtype == v.dtype and b.history[k].shape == v.shape, k
        for k in EXACT:
            if k in s.history:
                np.testing.assert_array_equal(b.history[k], s.history[k], err_msg=k)
        for k in FLOATS:
            np.testing.assert_allclose(b.history[k], s.history[k], rtol=RTOL[dtype], atol=0, err_msg=k)
        # accuracies: equal in float64; in float32 an output near a tie may flip one image
        n_test, n_train = 10_000, b.config.n_train
        slack = 0 if dtype == "float64" else 1.5
        np.testing.assert_allclose(b.history["test_acc"], s.history["test_acc"], rtol=0, atol=slack / n_test)
        np.testing.assert_allclose(b.history["train_acc"], s.history["train_acc"], rtol=0, atol=slack / n_train)
        if "probe_acc" in s.history:
            np.testing.assert_array_equal(b.history["probe_acc"], s.history["probe_acc"])


def test_records_round_trip(pair, tmp_path):
    _, batched, _ = pair
    for run in batched:
        path = grokkit.save(run, tmp_path)
        back = grokkit.load(path, run.config)
        assert back.meta["batched"] == 3 and back.meta["diverged_at"] is None
        assert set(back.history) == set(run.history)
        for k, v in run.history.items():
            np.testing.assert_array_equal(back.history[k], v)


def test_divergence_is_per_run():
    """A run that blows up stops logging at the step train() stops; its neighbour is untouched."""
    base = RunConfig(depth=3, width=16, n_train=200, batch_size=100, steps=20, rank_every=5, probe_every=-1,
                     checkpoint_every=0, device="cpu", dtype="float64")
    cfgs = [base, base.replace(seed=1, lr=1e8, alpha=1e6)]  # diverges at step 8
    batched = train_batched(cfgs, progress=False)
    singles = [grokkit.train(c, progress=False) for c in cfgs]
    assert batched[0].meta["diverged_at"] is None and singles[1].meta["diverged_at"] is not None
    for b, s in zip(batched, singles):
        assert b.meta["diverged_at"] == s.meta["diverged_at"]
        for k, v in s.history.items():
            np.testing.assert_allclose(b.history[k], v, rtol=1e-13, atol=0, equal_nan=True, err_msg=k)


@pytest.mark.parametrize("field,value", [("depth", 3), ("width", 32), ("steps", 50), ("dtype", "float64"),
                                         ("batch_size", 50), ("log_every", 7)])
def test_shared_fields_checked(field, value):
    base = RunConfig(**TINY)
    with pytest.raises(ValueError, match=field):
        train_batched([base, base.replace(**{field: value})], progress=False)


def test_batches_are_train_py_batches_across_blocks():
    """plan() is refilled every PLAN_STEPS steps: any split of the steps gives train.py's batches."""
    import math

    from grokkit.batched import run_batches
    from grokkit.train import epoch_order

    cfg = RunConfig(n_train=350, batch_size=100, seed=3)  # 4 batches per epoch, the last one of 50
    per = math.ceil(350 / 100)
    for s0, k in [(0, 9), (3, 5), (7, 1), (8, 13)]:
        idx, valid = run_batches(cfg, s0, k)
        for i, s in enumerate(range(s0, s0 + k)):
            epoch, j = divmod(s, per)
            want = epoch_order(cfg.seed, epoch, 350)[j * 100:(j + 1) * 100]
            assert int(valid[i].sum()) == len(want)
            assert torch.equal(idx[i][valid[i]], want)


def test_batch_resumes_from_its_checkpoint_bit_for_bit(tmp_path):
    """A batch stopped after a checkpoint (as a preempted GPU job is) and resumed gives the uninterrupted history."""
    from grokkit.batched import batch_id

    cfgs = [c.replace(checkpoint_every=30) for c in configs("float64", probe_every=-1)]
    ckpt = tmp_path / f"batch-{batch_id(cfgs)}.pt"
    assert train_batched(cfgs, progress=False, checkpoint_path=ckpt, stop_after=70) is None and ckpt.exists()
    resumed = train_batched(cfgs, progress=False, checkpoint_path=ckpt)
    whole = train_batched(cfgs, progress=False)
    for r, w in zip(resumed, whole):
        assert r.meta["resumed_from"] == 60 and w.meta["resumed_from"] is None
        assert r.meta["threads"] == w.meta["threads"] == torch.get_num_threads()  # one count on both stretches
        for k, v in w.history.items():
            np.testing.assert_array_equal(r.history[k], v, err_msg=k)
    other = [cfgs[0], cfgs[1]]  # another batch stops at it in one line, and leaves it as it was
    before = ckpt.read_bytes()
    with pytest.raises(ForeignRecord, match="a checkpoint of another run"):
        train_batched(other, progress=False, checkpoint_path=ckpt)
    assert ckpt.read_bytes() == before
