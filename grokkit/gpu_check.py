"""`python -m grokkit gpu-check`: does the GPU path compute what the CPU computes, and how fast is it?

One command, a few minutes on one GPU (budget: 10). Each check compares two ways of training the same runs,
field by field, against a stated tolerance (TOL); any disagreement makes the command exit 1:

1. cpu_vs_gpu: a short config (CHECK_CONFIG, d=4, width 400, N=2000, 300 steps) trained by `train` on the CPU
   and on the GPU, in float64 (the authors' dtype: tight tolerance) and in float32 (the default: looser).
2. eager_vs_graphed: the batched trainer's CUDA-graph self-test (`batched.graph_self_test`, GRAPH_RTOL), and
   three short runs trained batched with the eager step and with the graphed step.
3. batched_vs_single: three runs that differ in seed, γ, α, lr and N, trained by `train_batched` and one by
   one by `train`, on the GPU, in float64 (as tests/test_batched.py does on the CPU).

Then it measures (numbers, not checks): 16 depth-12 runs batched vs one after another (`bench_batched`; target
>= 10x the aggregate throughput), and projects the GPU time of the full paper grid (`sweep.paper_grid()`,
trained as `sweep.load_or_train_many` would: one batch per batch key) from measured step, evaluation and
snapshot times. Everything goes to bench/gpu_<gpu name>.json. Without CUDA it says so in one line, exit 2.

The tolerances were set before any GPU run (none was available when this was written): float64 runs differ
only by the order of floating-point sums (~1e-16 per operation, amplified over 300 steps of α=8 training),
float32 ones by ~1e-7 per operation; TF32 is off (train.set_precision), so a TF32 matmul (~1e-3) fails them.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch

from .config import RunConfig
from .folders import writable
from .records import atomic_write

CHECK_CONFIG = RunConfig(
    depth=4,
    width=400,
    n_train=2000,
    batch_size=200,
    steps=300,
    log_every=25,
    rank_every=100,
    probe_every=-1,
    checkpoint_every=0,
)
# field -> (relative tolerance, absolute tolerance) per dtype; ranks compared as |difference| <= the "rank" entry
TOL = {
    "float64": {"loss": 1e-7, "norm": 1e-9, "eff_rank": 1e-7, "acc_images": 1, "rank": 0},
    "float32": {"loss": 1e-3, "norm": 1e-4, "eff_rank": 1e-3, "acc_images": 5, "rank": 1},
}
LOSSES, NORMS = ("train_loss", "test_loss"), ("weight_norm", "last_layer_norm")
THROUGHPUT_TARGET = 10.0  # batched 16 x d12 vs one after another, aggregate run-steps/s (the GPU path's goal)


def compare_runs(a, b, dtype: str) -> dict:
    """Field-by-field comparison of two Runs of one config against TOL[dtype]: the largest relative difference
    of the losses, norms and effective ranks, the largest rank difference, the largest accuracy difference in
    images; "ok" when all are within tolerance (and the schedules and divergence agree)."""
    tol, ha, hb = TOL[dtype], a.history, b.history
    n_train, n_test = a.config.n_train, 10_000

    def rel(keys):
        out = 0.0
        for k in keys:
            x, y = np.asarray(ha[k], dtype=np.float64), np.asarray(hb[k], dtype=np.float64)
            if x.shape != y.shape:
                return math.inf
            scale = np.maximum(np.abs(x), np.finfo(np.float64).tiny)
            d = np.where(
                np.isfinite(x) & np.isfinite(y), np.abs(x - y) / scale, np.where(np.isnan(x) & np.isnan(y), 0, np.inf)
            )
            out = max(out, float(d.max()) if d.size else 0.0)
        return out

    same_schedule = all(np.array_equal(ha[k], hb[k]) for k in ("step", "rank_step"))
    out = {
        "same_schedule": same_schedule,
        "same_divergence": a.meta.get("diverged_at") == b.meta.get("diverged_at"),
        "loss_rel": rel(LOSSES),
        "norm_rel": rel(NORMS),
        "eff_rank_rel": rel(["eff_rank"]),
    }
    if same_schedule:
        out["rank_abs"] = int(np.abs(ha["rank"] - hb["rank"]).max())
        out["acc_images"] = float(
            max(
                np.abs(ha["train_acc"] - hb["train_acc"]).max() * n_train,
                np.abs(ha["test_acc"] - hb["test_acc"]).max() * n_test,
            )
        )
    out["ok"] = bool(
        same_schedule
        and out["same_divergence"]
        and out["loss_rel"] <= tol["loss"]
        and out["norm_rel"] <= tol["norm"]
        and out["eff_rank_rel"] <= tol["eff_rank"]
        and out["rank_abs"] <= tol["rank"]
        and out["acc_images"] <= tol["acc_images"] + 1e-9
    )
    return out


def _pairs(name, pairs, dtype) -> dict:
    """{"runs": [compare_runs per pair], "tolerance": TOL[dtype], "ok": all ok}, and one printed line."""
    rows = [dict(compare_runs(a, b, dtype), run=a.config.name) for a, b in pairs]
    ok = all(r["ok"] for r in rows)
    worst = {
        k: max(r.get(k, math.inf) for r in rows)
        for k in ("loss_rel", "norm_rel", "eff_rank_rel", "rank_abs", "acc_images")
    }
    print(
        f"  {'ok  ' if ok else 'FAIL'} {name} ({dtype}): loss {worst['loss_rel']:.1e} (tol {TOL[dtype]['loss']:g}), "
        f"norm {worst['norm_rel']:.1e} (tol {TOL[dtype]['norm']:g}), eff. rank {worst['eff_rank_rel']:.1e}, "
        f"rank +-{worst['rank_abs']}, accuracy {worst['acc_images']:g} image(s)"
    )
    return {"runs": rows, "tolerance": TOL[dtype], "ok": ok}


def check_cpu_vs_device(device: str) -> dict:
    """CHECK_CONFIG trained by `train` on the CPU and on `device`, in float64 and float32."""
    from .train import train

    out = {}
    for dtype in ("float64", "float32"):
        cfg = CHECK_CONFIG.replace(dtype=dtype)
        pair = (train(cfg.replace(device="cpu"), progress=False), train(cfg.replace(device=device), progress=False))
        out[dtype] = _pairs("cpu vs gpu", [pair], dtype)
    return out


def _three(device: str, dtype: str) -> list[RunConfig]:
    base = CHECK_CONFIG.replace(device=device, dtype=dtype)
    return [
        base,
        base.replace(seed=1, weight_decay=0.05, alpha=4.0),
        base.replace(seed=2, weight_decay=0.005, alpha=2.0, lr=2e-3, n_train=base.n_train - base.batch_size // 4),
    ]  # 1950 of 2000: a short last batch


def check_eager_vs_graphed(device: str) -> dict:
    """The graph self-test's measured difference, then three runs batched eager vs batched graphed (float32)."""
    from .batched import GRAPH_RTOL, GRAPH_TEST_STEPS, graph_self_test, make_step, plan, setup

    cfgs = _three(device, "float32")
    S = setup(cfgs)  # eager; the graphed step is built over the same state
    args = S["args"]
    diff = graph_self_test(
        make_step(*args, cuda_graph=False),
        make_step(*args, cuda_graph=True),
        [*args[0], *args[1], *args[2]],
        plan(cfgs, 0, GRAPH_TEST_STEPS, S["dtype"], device),
    )
    self_test = {
        "steps": GRAPH_TEST_STEPS,
        "rel_diff": diff,
        "tolerance": GRAPH_RTOL["float32"],
        "ok": diff <= GRAPH_RTOL["float32"],
    }
    print(
        f"  {'ok  ' if self_test['ok'] else 'FAIL'} graph self-test: {GRAPH_TEST_STEPS} steps eager vs graphed "
        f"differ by {diff:.1e} (tol {GRAPH_RTOL['float32']:g})"
    )
    del S
    from .batched import train_batched

    eager = train_batched(cfgs, progress=False)
    graphed = train_batched(cfgs, progress=False, cuda_graph=True)
    runs = _pairs("batched eager vs graphed", list(zip(eager, graphed)), "float32")
    used = graphed[0].meta["execution"]
    runs["execution"] = used
    runs["ok"] = runs["ok"] and used == "cuda_graph"
    if used != "cuda_graph":
        print(f"  FAIL the graphed trainer did not use the graph: {used}")
    return {"self_test": self_test, "training": runs, "ok": self_test["ok"] and runs["ok"]}


def check_batched_vs_single(device: str) -> dict:
    """Three runs trained batched and one by one on `device`, float64."""
    from .batched import train_batched
    from .train import train

    cfgs = _three(device, "float64")
    return _pairs(
        "batched vs single",
        list(zip(train_batched(cfgs, progress=False), [train(c, progress=False) for c in cfgs])),
        "float64",
    )


def _timed(fn, device, repeat: int = 1) -> float:
    """Seconds per call of fn() (after one warm-up call), synchronised."""
    fn()
    torch.cuda.synchronize(device) if device.startswith("cuda") else None
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    torch.cuda.synchronize(device) if device.startswith("cuda") else None
    return (time.perf_counter() - t) / repeat


def measure_group(configs, device: str, cuda_graph: bool, steps: int = 50) -> dict:
    """Measured costs of training `configs` (one batch) on `device`: seconds per batched step, per evaluation
    (train and test loss/accuracy and norms of all M runs), per rank snapshot and per rank+probe snapshot of one
    run (at the largest N)."""
    from .batched import loss_and_accuracy, plan, setup, unstack, weight_norms
    from .model import make_mlp
    from .train import RunLog

    cfgs = [c.replace(device=device) for c in configs]
    S = setup(cfgs, cuda_graph)
    batches = plan(cfgs, 0, steps + 1, S["dtype"], device)
    k = iter(range(steps + 1))

    def one_step():
        i = next(k)
        return S["step"](*(b[i] for b in batches))

    step = _timed(one_step, device, steps)
    x_tr, y_tr, x_te, y_te = S["data"]
    M, n = len(cfgs), S["n"]

    def evaluate():
        loss_and_accuracy(S["params"], x_tr, y_tr, n)
        loss_and_accuracy(S["params"], x_te, y_te, [len(x_te)] * M)
        weight_norms(S["params"])

    model = unstack(S["params"], 0, make_mlp(cfgs[0].depth, cfgs[0].width, dtype=S["dtype"], device=device))
    log = RunLog(cfgs[0])
    c0 = cfgs[0]
    # a step with a rank snapshot only, and one with probes too (None: the schedule has none; costs 0)
    s_rank = next((s for s in range(c0.steps + 1) if c0.is_rank_step(s) and not c0.is_probe_step(s)), None)
    s_probe = next((s for s in range(c0.steps + 1) if c0.is_probe_step(s)), None)
    x64, xt64 = x_tr.double(), x_te.double()

    def snap(s):
        return 0.0 if s is None else _timed(lambda: log.snapshot(s, model, xt64, y_te, x64, y_tr), device)

    out = {
        "M": M,
        "depth": c0.depth,
        "dtype": c0.dtype,
        "execution": S["execution"],
        "step_s": step,
        "eval_s": _timed(evaluate, device),
        "rank_s": snap(s_rank),
        "probe_s": snap(s_probe),
    }
    S = None  # free the batch (GPU memory) before the next measurement
    return out


def project(configs, costs: dict) -> dict:
    """Projected seconds to train `configs` as batches (sweep.load_or_train_many's grouping): per batch, its
    steps x step_s + evaluations x eval_s + M x (rank snapshots x rank_s + probe snapshots x probe_s), with
    costs[batch index] from measure_group. Returns {"batches": [...], "total_s"}."""
    from .batched import group_batches

    rows = []
    for i, group in enumerate(group_batches(configs)):
        c, m = group[0], costs[i]
        n_log = sum(c.is_log_step(s) for s in range(c.steps + 1))
        n_probe = sum(c.is_probe_step(s) for s in range(c.steps + 1))
        n_rank = sum(c.is_rank_step(s) for s in range(c.steps + 1)) - n_probe
        sec = c.steps * m["step_s"] + n_log * m["eval_s"] + len(group) * (n_rank * m["rank_s"] + n_probe * m["probe_s"])
        rows.append(
            {
                "runs": len(group),
                "depth": c.depth,
                "dtype": c.dtype,
                "n_train": sorted({g.n_train for g in group}),
                "steps": c.steps,
                "evaluations": n_log,
                "rank_snapshots": n_rank,
                "probe_snapshots": n_probe,
                "projected_s": sec,
            }
        )
    return {"batches": rows, "total_s": sum(r["projected_s"] for r in rows)}


def gpu_name_slug(name: str) -> str:
    """'NVIDIA H200' -> 'nvidia_h200' (the JSON's file name)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "gpu"


def main(out_dir="bench", device: str = "cuda") -> int:
    """Run every check and measurement on `device`; write <out_dir>/gpu_<name>.json. Exit code: 0 when every
    check agrees, 1 on any disagreement, 2 without CUDA."""
    if not torch.cuda.is_available():
        print(
            "gpu-check: no CUDA GPU is visible (torch.cuda.is_available() is False); nothing to check", file=sys.stderr
        )
        return 2
    writable(out_dir, "--out")  # before minutes of checks, not after them
    from .batched import bench_batched, group_batches
    from .sweep import paper_grid
    from .train import _versions, set_precision

    set_precision()
    t0 = time.perf_counter()
    name = torch.cuda.get_device_name(device)
    print(f"gpu-check on {name} (torch {torch.__version__}, CUDA {torch.version.cuda})")
    report = {
        "gpu": name,
        "versions": _versions(),
        "matmul_precision": torch.get_float32_matmul_precision(),
        "check_config": CHECK_CONFIG.identity(),
        "checks": {},
        "errors": {},
    }
    for key, fn in (
        ("cpu_vs_gpu", check_cpu_vs_device),
        ("eager_vs_graphed", check_eager_vs_graphed),
        ("batched_vs_single", check_batched_vs_single),
    ):
        try:
            report["checks"][key] = fn(device)
        except Exception as e:  # noqa: BLE001 -- a check that cannot run is a failed check, recorded
            report["errors"][key] = f"{type(e).__name__}: {e}"
            print(f"  FAIL {key}: {type(e).__name__}: {e}")
    ok = not report["errors"] and all(_all_ok(v) for v in report["checks"].values())
    try:
        t = {g: bench_batched(M=16, depth=12, steps=200, device=device, cuda_graph=g) for g in (False, True)}
        report["throughput_16x_d12"] = {
            "eager": t[False],
            "graphed": t[True],
            "target_ratio": THROUGHPUT_TARGET,
            "meets_target": max(t[False]["ratio"], t[True]["ratio"]) >= THROUGHPUT_TARGET,
        }
        grid = paper_grid()
        costs = [measure_group(g, device, cuda_graph=True) for g in group_batches(grid)]
        report["paper_grid_projection"] = dict(project(grid, costs), costs=costs)
        p = report["paper_grid_projection"]
        print(
            f"  paper grid ({len(grid)} runs, {len(p['batches'])} batches): projected {p['total_s'] / 3600:.2f} h "
            f"on one {name}"
        )
    except Exception as e:  # noqa: BLE001
        report["errors"]["measurements"] = f"{type(e).__name__}: {e}"
        print(f"  measurements failed: {type(e).__name__}: {e}")
    report["ok"], report["wall_s"] = ok, time.perf_counter() - t0
    path = Path(out_dir) / f"gpu_{gpu_name_slug(name)}.json"
    blob = (json.dumps(report, indent=1, default=str) + "\n").encode()
    atomic_write(path, lambda f: f.write(blob))  # whole file or none; the umask's mode
    print(
        f"gpu-check: {'all checks agree' if ok else 'DISAGREEMENT (see above)'}; {report['wall_s']:.0f} s; wrote {path}"
    )
    return 0 if ok else 1


def _all_ok(check: dict) -> bool:
    return all(v["ok"] for v in check.values()) if "ok" not in check else bool(check["ok"])
