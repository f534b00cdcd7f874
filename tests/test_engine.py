"""Behaviour of the engine: data, model, metrics, training, records, CLI."""
import importlib
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

import grokkit
from grokkit import RunConfig
from grokkit.data import FILES, data_dir, mnist_arrays
from grokkit.metrics import covariance_spectrum, paper_rank, rank_of
from grokkit.rank import ROBUST_RTOL, paper_rtol, rank_at
from grokkit.records import record_path

# log_every=10: 13 evaluations of the 10,000 test images instead of one per step (the default for 120 steps)
TINY = dict(depth=4, width=32, n_train=400, batch_size=100, steps=120, log_every=10, probe_every=-1, checkpoint_every=0)


# ---- data --------------------------------------------------------------------------------------
def test_mnist_shapes_labels_and_first_n():
    xtr, ytr, xte, yte = grokkit.load_mnist(2000)
    assert xtr.shape == (2000, 784) and xte.shape == (10000, 784)
    assert xtr.dtype == torch.float32 and ytr.dtype == torch.int64
    assert float(xtr.min()) == 0.0 and float(xtr.max()) == 1.0
    # the official first training labels and first test labels (the paper takes the *first* N images)
    assert ytr[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert yte[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert torch.bincount(yte).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    # pixel / 255 exactly, and the first N of the full set
    raw = mnist_arrays()[0]
    assert torch.equal(xtr[1999], torch.from_numpy(raw[1999].reshape(-1).astype(np.float64) / 255).float())
    x64 = grokkit.load_mnist(5, dtype=torch.float64)[0]
    assert x64.dtype == torch.float64 and torch.equal(x64[:5].float(), xtr[:5])


def test_mnist_md5_verified():
    import gzip
    import hashlib

    for name, md5 in FILES.items():
        assert hashlib.md5(gzip.decompress((data_dir() / name).read_bytes())).hexdigest() == md5


@pytest.mark.parametrize("n", [0, -1, 60001, 2.5, "100", True])
def test_mnist_bad_n_train(n):
    with pytest.raises(ValueError, match="n_train"):
        grokkit.load_mnist(n)


# ---- model -------------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [2, 4, 12])
def test_depth_counts_linear_layers(depth):
    m = grokkit.make_mlp(depth, 16, 1.0, 0)
    linears = [mod for mod in m.modules() if isinstance(mod, torch.nn.Linear)]
    assert len(linears) == depth
    assert linears[0].in_features == 784 and linears[-1].out_features == 10
    assert all(lin.bias is not None for lin in linears)
    x = torch.rand(7, 784)
    feats = list(m.features(x))
    assert [f.shape for f in feats] == [(7, 16)] * (depth - 1) + [(7, 10)]
    assert torch.equal(m(x), feats[-1])  # no output activation
    assert torch.equal(feats[1], m.layers[1](torch.relu(feats[0])))  # features are pre-activations


@pytest.mark.parametrize("alpha", [8.0, 0.5, 3.0])
def test_alpha_scales_every_parameter_exactly(alpha):
    base = grokkit.make_mlp(5, 40, 1.0, seed=7, dtype=torch.float64)
    scaled = grokkit.make_mlp(5, 40, alpha, seed=7, dtype=torch.float64)
    for p0, p1 in zip(base.parameters(), scaled.parameters()):
        assert torch.equal(p1, p0 * alpha)  # biases too: "every parameter" (authors' code)
    n0, n1 = grokkit.weight_norms(base)[0], grokkit.weight_norms(scaled)[0]
    assert n1 / n0 == pytest.approx(alpha, rel=1e-14)  # the footnote: α = w / w0
    # same seed, same base init in every dtype; another seed, another init
    f32 = grokkit.make_mlp(5, 40, alpha, seed=7)
    assert torch.equal(f32.layers[2].weight, scaled.layers[2].weight.float())
    assert not torch.equal(grokkit.make_mlp(5, 40, alpha, seed=8).layers[0].weight, f32.layers[0].weight)


def test_default_init_is_pytorchs():
    m = grokkit.make_mlp(3, 400, 1.0, 0, dtype=torch.float64)
    w = m.layers[1].weight.detach()  # kaiming_uniform(a=sqrt(5)) -> U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert float(w.abs().max()) <= 1 / math.sqrt(400) and float(w.abs().max()) > 0.99 / math.sqrt(400)


# ---- metrics -----------------------------------------------------------------------------------
def test_rank_of_known_rank_and_dead_units():
    g = torch.Generator().manual_seed(0)
    n, d, k = 2000, 50, 17
    h = torch.randn(n, k, generator=g, dtype=torch.float64) @ torch.randn(k, d, generator=g, dtype=torch.float64)
    assert rank_of(h)[0] == k
    # dead units: constant columns add nothing after centring
    h2 = torch.cat([torch.randn(n, 30, generator=g, dtype=torch.float64),
                    torch.full((n, 20), 3.0, dtype=torch.float64)], 1)
    r, robust, eff = rank_of(h2)
    assert r == 30 and robust == 30 and 1 < eff <= 30


def test_paper_rank_equals_torch_matrix_rank():
    g = torch.Generator().manual_seed(1)
    for k in (1, 5, 40, 64):
        h = torch.randn(500, k, generator=g, dtype=torch.float64) @ torch.randn(k, 64, generator=g, dtype=torch.float64)
        cov = torch.cov(h.T)
        assert paper_rank(covariance_spectrum(h), 64) == int(torch.linalg.matrix_rank(cov)) == k


def test_feature_ranks_of_a_model_with_dead_units():
    m = grokkit.make_mlp(4, 20, 1.0, 0, dtype=torch.float64)
    with torch.no_grad():  # kill 6 units of layer 1: ReLU(-big) = 0 on every input
        m.layers[0].weight[:6] = 0
        m.layers[0].bias[:6] = -1.0
    x = grokkit.load_mnist(1)[2][:3000]
    out = dict(zip(("rank", "robust_rank", "eff_rank"), grokkit.snapshot(m, x)))
    assert out["rank"][0] == 14  # the dead units' pre-activations are constant
    assert out["rank"][1] == 14  # the next layer sees only 14 live inputs
    assert out["rank"][-1] == 10 and len(out["rank"]) == 4
    assert out["rank"].dtype == np.int64 and np.all(out["robust_rank"] <= out["rank"])


def test_feature_ranks_uses_float64_whatever_the_model_dtype():
    m32 = grokkit.make_mlp(3, 30, 8.0, 0)
    m64 = grokkit.make_mlp(3, 30, 8.0, 0, dtype=torch.float64)
    x = grokkit.load_mnist(1)[2][:1000]
    a, b = grokkit.snapshot(m32, x), grokkit.snapshot(m64, x)  # (rank, robust rank, effective rank, no probes)
    assert np.array_equal(a[0], b[0]) and np.allclose(a[2], b[2]) and a[3] is None
    assert next(m32.parameters()).dtype == torch.float32  # the model itself is untouched


def test_snapshot_keeps_spectra_that_give_back_every_rank_at_any_tolerance():
    m = grokkit.make_mlp(4, 20, 1.0, 0, dtype=torch.float64)
    with torch.no_grad():
        m.layers[0].weight[:6] = 0
        m.layers[0].bias[:6] = -1.0
    x = grokkit.load_mnist(1)[2][:3000]
    snap = grokkit.snapshot(m, x)
    assert snap.spectrum.shape == (4, 20) and snap.spectrum.dtype == np.float32 and snap.spectrum_max.shape == (4,)
    assert np.isnan(snap.spectrum[-1, 10:]).all() and not np.isnan(snap.spectrum[-1, :10]).any()  # 10-unit output
    assert np.allclose(snap.spectrum[:, 0], 1.0) and (np.diff(snap.spectrum[:-1], axis=1) <= 0).all()
    widths = np.array([20, 20, 20, 10])
    assert np.array_equal(rank_at(snap.spectrum, paper_rtol(widths)), snap.rank)
    assert np.array_equal(rank_at(snap.spectrum, ROBUST_RTOL), snap.robust_rank)
    assert rank_at(snap.spectrum, 1.0).tolist() == [0, 0, 0, 0]  # nothing lies above the largest value itself
    # a tolerance between two kept values counts exactly the values above it
    rel = snap.spectrum[1]
    assert rank_at(rel, float(rel[4]) * 0.999 + float(rel[5]) * 0.001) == 5


def test_tunnel_length():
    assert grokkit.tunnel_length([400, 380, 250, 120, 10]) == 3
    assert grokkit.tunnel_length([400, 380, 250, 120, 10], include_output=False) == 2
    assert grokkit.tunnel_length([400, 10], threshold=5) == 0


def test_loss_and_accuracy_match_definition():
    m = grokkit.make_mlp(3, 16, 1.0, 0)
    x, y = torch.rand(50, 784), torch.randint(0, 10, (50,))
    loss, acc = grokkit.loss_and_accuracy(m, x, y, chunk=7)
    with torch.no_grad():
        out = m(x)
    assert loss == pytest.approx(float(torch.nn.functional.mse_loss(out, torch.eye(10)[y])), rel=1e-6)
    assert acc == pytest.approx(float((out.argmax(1) == y).float().mean()))


def test_linear_probe_learns_separable_features():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 10, (1500,), generator=g)
    h = torch.nn.functional.one_hot(y, 10).double() * 5 + 0.1 * torch.randn(1500, 10, generator=g, dtype=torch.float64)
    noise = torch.randn(1000, 10, dtype=torch.float64, generator=g)
    # two "layers" probed at once: separable features, and noise (N, L, d)
    acc, chance = grokkit.linear_probes(torch.stack([h[:1000], noise], 1), y[:1000],
                                        torch.stack([h[1000:], h[1000:]], 1), y[1000:], seed=0, epochs=200)
    assert acc > 0.95 and chance < 0.5


# ---- config ------------------------------------------------------------------------------------
def test_reading_records_imports_no_torch():
    """The package's names load on first use: the modules that read records (and the CLI's list, scoreboard, events
    and export) run without importing torch, while every public name still resolves."""
    code = ("import sys, grokkit, grokkit.claims, grokkit.report, grokkit.export, grokkit.__main__\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n"
            "assert grokkit.RunConfig().depth == 12 and 'torch' not in sys.modules\n"
            "assert set(grokkit.__all__) <= set(dir(grokkit))\n"
            "try:\n    grokkit.no_such_name\nexcept AttributeError as e:\n    print(e)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "module 'grokkit' has no attribute 'no_such_name'"
    importlib.import_module("grokkit.train")  # the submodule of the same name leaves the package's function in place
    assert grokkit.train is importlib.import_module("grokkit.train").train and grokkit.MLP.__name__ == "MLP"


def test_config_defaults_are_the_papers():
    c = RunConfig()
    got = (c.depth, c.width, c.alpha, c.weight_decay, c.lr, c.batch_size, c.steps)
    assert got == (12, 400, 8.0, 0.01, 1e-3, 200, 100_000)
    # ceil(1e5/150); the records' rank at every log point; probes every 5 log points, the paper's cadence
    assert c.log_period == 667 and c.rank_period == 667 and c.probe_period == 3335
    logged = [s for s in range(c.steps + 1) if c.is_log_step(s)]
    assert logged[:31] == list(range(30)) + [30] and 140 in logged and 150 not in logged and 667 in logged
    probes = [s for s in range(c.steps) if c.is_probe_step(s)]
    assert len(probes) == 30 and probes[-1] == 96715  # "30 snapshots per run" (the authors' code)
    paper = RunConfig(rank_every=3335)  # the paper's own rank cadence
    assert [s for s in range(c.steps) if paper.is_rank_step(s)] == probes
    assert c.name == "d12_w400_n5000_a8_wd0.01_s0"
    assert c.id == RunConfig(device="cpu").id != RunConfig(seed=1).id  # device is not identity


@pytest.mark.parametrize("field,value", [
    ("depth", 0), ("depth", 1), ("depth", -3), ("depth", "12"), ("width", 0), ("alpha", 0.0), ("alpha", float("nan")),
    ("weight_decay", -0.01), ("lr", 0.0), ("n_train", 0), ("n_train", 60001), ("batch_size", 0), ("steps", 0),
    ("dtype", "float16"), ("device", "tpu"), ("seed", -1)])
def test_bad_config_field_names_the_field(field, value):
    with pytest.raises(ValueError, match=f"^{field}"):
        RunConfig(**{field: value})


# ---- training ----------------------------------------------------------------------------------
def test_same_seed_identical_history_and_loss_goes_down():
    cfg = RunConfig(**TINY)
    a, b = grokkit.train(cfg, progress=False), grokkit.train(cfg, progress=False)
    assert a.history.keys() == b.history.keys()
    for k in a.history:
        assert np.array_equal(a.history[k], b.history[k], equal_nan=a.history[k].dtype.kind == "f"), k
    h = a.history
    assert h["train_loss"][-1] < 0.5 * h["train_loss"][0]
    assert h["step"][0] == 0 and h["step"][-1] == cfg.steps
    assert len(h["step"]) == sum(cfg.is_log_step(s) for s in range(cfg.steps + 1))
    assert h["rank"].shape == (len(h["rank_step"]), cfg.depth)
    c = grokkit.train(cfg.replace(seed=1), progress=False)
    assert not np.array_equal(c.history["train_loss"], h["train_loss"])


def test_n_test_evaluates_on_the_first_test_images_only():
    """n_test (the smoke-scale stand-ins' evaluation set) changes what is evaluated, never the training; at its
    default (all 10k) it is absent from the identity and the name, so every earlier record keeps its id."""
    from grokkit.data import load_mnist
    from grokkit.metrics import loss_and_accuracy

    cfg = RunConfig(**TINY)
    assert "n_test" not in cfg.identity() and "test" not in cfg.name.split("_")[-1]
    few = cfg.replace(n_test=300)
    assert few.identity()["n_test"] == 300 and few.name.endswith("_test300") and few.id != cfg.id
    a, b = grokkit.train(cfg, progress=False), grokkit.train(few, progress=False)
    assert np.array_equal(a.history["train_loss"], b.history["train_loss"])   # the same training
    assert not np.array_equal(a.history["test_acc"], b.history["test_acc"])
    _, _, xte, yte = load_mnist(cfg.n_train)
    init = grokkit.make_mlp(cfg.depth, cfg.width, cfg.alpha, cfg.seed)  # step 0 is logged before the first update
    for run, n in ((a, 10_000), (b, 300)):
        loss, acc = loss_and_accuracy(init, xte[:n], yte[:n])
        assert (run.history["test_loss"][0], run.history["test_acc"][0]) == pytest.approx((loss, acc), rel=1e-6)


def test_probes_recorded_on_their_cadence():
    cfg = RunConfig(**dict(TINY, steps=40, probe_every=20, rank_every=10, probe_epochs=2))
    h = grokkit.train(cfg, progress=False).history
    assert h["rank_step"].tolist() == [0, 10, 20, 30, 40]
    assert h["probe_step"].tolist() == [0, 20, 40] and h["probe_acc"].shape == (3, 4)
    assert np.all((h["probe_acc"] >= 0) & (h["probe_acc"] <= 1))


def test_weight_decay_shrinks_norm():
    cfg = RunConfig(**dict(TINY, steps=60))
    lo = grokkit.train(cfg.replace(weight_decay=0.0), progress=False).history["weight_norm"][-1]
    hi = grokkit.train(cfg.replace(weight_decay=50.0), progress=False).history["weight_norm"][-1]
    assert hi < lo


# ---- records -----------------------------------------------------------------------------------
def test_record_round_trip_and_load_or_train(tmp_path):
    cfg = RunConfig(**TINY)
    run = grokkit.load_or_train(cfg, tmp_path, progress=False)
    path = record_path(cfg, tmp_path)
    assert path.exists() and path.name == f"{cfg.name}-{cfg.id}.npz"
    back = grokkit.load(path)
    assert back.config.identity() == cfg.identity() and back.config.id == cfg.id
    for k in run.history:
        same = np.array_equal(run.history[k], back.history[k], equal_nan=run.history[k].dtype.kind == "f")
        assert same and back.history[k].dtype == run.history[k].dtype, k  # the spectra are NaN-padded
    for key in ("versions", "device", "dtype", "wall_time_s"):
        assert key in back.meta
    assert back.meta["versions"]["torch"] == torch.__version__
    again = grokkit.load_or_train(cfg, tmp_path, progress=False)  # loaded, not retrained
    assert again.meta["wall_time_s"] == back.meta["wall_time_s"]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [path.name]


# ---- CLI ---------------------------------------------------------------------------------------
def test_cli_run_and_list(tmp_path):
    args = [sys.executable, "-m", "grokkit", "run", "--depth", "3", "--width", "16", "--n-train", "300",
            "--batch-size", "100", "--steps", "50", "--probe-every", "-1", "--results", str(tmp_path), "--quiet"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    assert "record:" in out and "final train acc" in out
    listing = subprocess.run([sys.executable, "-m", "grokkit", "list", "--results", str(tmp_path)],
                             capture_output=True, text=True, check=True).stdout
    assert "d3_w16_n300_a8_wd0.01_s0_t50" in listing
    bad = subprocess.run(args[:4] + ["--depth", "0", "--results", str(tmp_path / "x")], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "depth" in bad.stderr
    assert not (tmp_path / "x").exists()


# ---- the benchmark: numbers are measured, never asserted as speeds -------------------------------
def test_step_flops_counts_every_matmul_but_the_first_input_gradient():
    from importlib import import_module

    bench = import_module("grokkit.bench")
    cfg = RunConfig(depth=3, width=16, batch_size=2)  # 784 -> 16 -> 16 -> 10
    forward = 2 * 2 * (784 * 16 + 16 * 16 + 16 * 10)
    assert bench.step_flops(cfg) == 3 * forward - 2 * 2 * 784 * 16


def test_bench_measures_all_three_loops_and_profiles_the_step():
    from importlib import import_module

    bench = import_module("grokkit.bench")
    r = bench.bench(depth=2, n_train=400, steps=3, memory=False)
    for loop in ("reference", "grokkit"):
        assert all(r[loop][k] > 0 for k in ("step", "eval", "rank")), r[loop]
    assert r["floor_step_s"] > 0 and r["roofline_fraction"] == r["floor_step_s"] / r["grokkit"]["step"]
    assert r["speedup_full_run"] == r["full_run_s"]["reference"] / r["full_run_s"]["grokkit"]
    p = r["profile"]
    assert p["matmul_s"] > 0 and p["adamw_s"] > 0
    assert math.isclose(p["matmul_s"] + p["adamw_s"] + p["other_s"], p["total_s"], rel_tol=1e-9)
    text = bench.report(r)
    assert "speed-up (b)/(a)" in text and "of the matmul roofline" in text and "matmuls" in text
    iv = r["interventions"]  # each intervention's step, the rank penalties on both scales, beside the paper step
    assert set(iv["step_s"]) == {"paper", "norm_clamp", "nuclear_over_frobenius", "neg_spectral_entropy",
                                 "nuclear_over_frobenius_gradient", "neg_spectral_entropy_gradient"}
    assert all(v > 0 for v in iv["step_s"].values()) and iv["ratio"]["paper"] == 1.0
    # a full run of each: 1e5 of its own steps, and the same evaluations and rank snapshots as the paper's run
    evals = {k: iv["full_run_s"][k] - 100_000 * v for k, v in iv["step_s"].items()}
    assert set(evals) == set(iv["step_s"]) and all(v > 0 for v in evals.values())
    assert max(evals.values()) - min(evals.values()) < 1e-6 * max(evals.values())
    assert math.isclose(evals["paper"], r["full_run_s"]["grokkit_grid_schedule"] - 100_000 * r["grokkit"]["step"])
    assert f"rank every {RunConfig().rank_period:,} steps" in text  # each full run's hours, at the grid's rank period
    assert all(f"{k} {v / 3600:.1f} h" in text for k, v in iv["full_run_s"].items())
    assert "neg_spectral_entropy_gradient" in text


def test_bench_workers_times_both_layouts_over_one_shared_window():
    from importlib import import_module

    bench = import_module("grokkit.bench")
    # every worker warms up, says it is ready, and starts timing at one wall-clock moment sent to all of them
    r = bench.bench_workers(cores=2, depth=2, n_train=400, seconds=0.5)
    assert r["one_process_steps_per_s"] > 0 and len(r["single_thread_workers_steps_per_s"]) == 2
    assert all(v > 0 for v in r["single_thread_workers_steps_per_s"])
    assert all(late <= bench.LATE_MAX * 0.5 for late in r["workers_late_s"])  # the two windows overlapped
    with pytest.raises(RuntimeError, match="did not overlap"):  # a start already past: the timings would not overlap
        bench._run_workers(2, 1, 2, 400, 0.5, margin=-1.0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_hand_written_step_equals_autograd_and_torch_adamw_bit_for_bit(dtype):
    """train.py's _step_fn (buffers, out= matmuls, per-layer fused AdamW) against the plain loop: autograd through
    the MLP, nn.MSELoss, torch.optim.AdamW(fused=True).step() -- same batches, same bits, every step."""
    from importlib import import_module

    import torch.nn.functional as F

    T = import_module("grokkit.train")
    g = torch.Generator().manual_seed(0)
    x, labels = torch.rand(120, 784, generator=g, dtype=dtype), torch.randint(0, 10, (120,), generator=g)
    y = F.one_hot(labels, 10).to(dtype)
    models = [grokkit.make_mlp(4, 32, 8.0, 0, dtype=dtype) for _ in range(2)]
    opts = [torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.05, fused=True) for m in models]
    step = T._step_fn(models[0], opts[0], x, y, 40)
    for s in range(12):
        idx = torch.randperm(120, generator=g)[:40] if s % 4 else torch.arange(100, 120)  # short batches too
        loss = step(idx)
        out = models[1](x[idx])
        ref = torch.nn.MSELoss()(out, y[idx])
        opts[1].zero_grad()
        ref.backward()
        opts[1].step()
        assert torch.equal(loss, ref.detach()), s
        for p, q in zip(models[0].parameters(), models[1].parameters()):
            assert torch.equal(p, q), s
