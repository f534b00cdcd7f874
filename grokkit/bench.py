"""`python -m grokkit bench`: grokkit's loop against a loop in the authors' style and against the matmul
roofline, measured side by side in one process, projected to a full 1e5-step run.

(a) reference: the authors' style [DG-code] -- float64 default dtype, a DataLoader (batch 200, shuffle)
    under an infinite cycle(), `model.to(device)` every step, four batch-50 DataLoader passes for train/test
    loss and accuracy at each log point, the rank by forward hooks over the test set in batches of 256;
(b) grokkit.train's pieces on the same work (its training step, its evaluation, its rank snapshot);
(c) the floor: the FLOPs of one training step at the matmul throughput measured on the same shapes;
and a profile of (b)'s training step (matmuls / AdamW / the rest), which says what keeps it off the floor.
`--workers P` measures instead how to spend P cores on a grid: one process with P threads against P single-thread
processes timed over the same wall-clock window (aggregate steps/s).
Linear probes are left out of both (the same protocol in both; they cost the same order in each).
"""
from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from .config import RunConfig
from .data import load_mnist
from .metrics import loss_and_accuracy, snapshot, weight_norms
from .model import make_mlp
from .train import make_step


def _timeit(fn, reps: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


# ---- (a) the authors' style -------------------------------------------------------------------------
def reference_pieces(cfg: RunConfig, steps: int, device="cpu") -> dict:
    """Seconds per training step, per evaluation and per rank snapshot of an authors'-style loop."""
    from torch.utils.data import DataLoader, TensorDataset

    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # set_seed() in the authors' code
    try:
        xtr, ytr, xte, yte = load_mnist(cfg.n_train, dtype=torch.float64)
        train_ds, test_ds = TensorDataset(xtr, ytr), TensorDataset(xte, yte)
        layers = [nn.Flatten()]
        dims = [784] + [cfg.width] * (cfg.depth - 1) + [10]
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.pop()  # no activation on the output
        mlp = nn.Sequential(*layers).to(device)
        with torch.no_grad():
            for p in mlp.parameters():
                p.data = cfg.alpha * p.data
        opt = torch.optim.AdamW(mlp.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        one_hots = torch.eye(10, 10).to(device)
        loader = itertools.cycle(DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True))

        def step():
            x, labels = next(loader)
            mlp.to(device)
            mlp.train()
            loss = nn.MSELoss()(mlp(x.to(device)), one_hots[labels.to(device)])
            opt.zero_grad()
            loss.backward()
            opt.step()

        def evaluate():
            mlp.eval()
            with torch.no_grad():
                for ds in (train_ds, test_ds):  # loss pass and accuracy pass on each set, batch 50
                    total = 0.0
                    for x, labels in DataLoader(ds, batch_size=50, shuffle=False):
                        total += nn.MSELoss(reduction="sum")(mlp(x.to(device)), one_hots[labels.to(device)]).item()
                    correct = 0
                    for x, labels in DataLoader(ds, batch_size=50, shuffle=False):
                        correct += (mlp(x.to(device)).argmax(1) == labels.to(device)).sum().item()
                sum(p.pow(2).sum() for p in mlp.parameters()).sqrt().item()

        def rank():
            feats = {}
            hooks = [m.register_forward_hook(lambda m, i, o, k=k: feats.setdefault(k, []).append(o.detach()))
                     for k, m in enumerate(mlp) if isinstance(m, nn.Linear)]
            mlp.eval()
            with torch.no_grad():
                for x, _ in DataLoader(test_ds, batch_size=256, shuffle=False):
                    mlp(x.to(device))
            for h in hooks:
                h.remove()
            return [torch.linalg.matrix_rank(torch.cov(torch.cat(v).flatten(1).T)).item() for v in feats.values()]

        return {"step": _timeit(step, steps), "eval": _timeit(evaluate, 2, 1), "rank": _timeit(rank, 1, 1)}
    finally:
        torch.set_default_dtype(prev)


# ---- (b) grokkit ------------------------------------------------------------------------------------
def _grokkit_setup(cfg: RunConfig, device="cpu"):
    """grokkit.train's model, data and training step (train.make_step: _step_fn for a paper run, with the norm clamp
    or the penalised autograd step for an intervention) for cfg, cycling over one epoch."""
    dtype = getattr(torch, cfg.dtype)
    x_train, y_train, x_test, y_test = load_mnist(cfg.n_train, device=device, dtype=dtype)
    targets = F.one_hot(y_train, 10).to(dtype)
    model = make_mlp(cfg.depth, cfg.width, cfg.alpha, cfg.seed, dtype=dtype, device=device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
    train_step = make_step(cfg, model, opt, x_train, targets)  # the very step train() runs (a paper run: _step_fn)
    order = torch.randperm(cfg.n_train)
    state = {"j": 0}

    def step():
        j = state["j"] = (state["j"] + 1) % (cfg.n_train // cfg.batch_size)
        train_step(order[j * cfg.batch_size:(j + 1) * cfg.batch_size])

    return model, step, (x_train, y_train, x_test, y_test)


def grokkit_pieces(cfg: RunConfig, steps: int, device="cpu") -> dict:
    """The same three pieces as grokkit.train runs them (same code: train.py's _step_fn, metrics.py)."""
    model, step, (x_train, y_train, x_test, y_test) = _grokkit_setup(cfg, device)
    x_test64 = x_test.double()

    def evaluate():
        loss_and_accuracy(model, x_train, y_train)
        loss_and_accuracy(model, x_test, y_test)
        weight_norms(model)

    return {"step": _timeit(step, steps), "eval": _timeit(evaluate, 3, 1),
            "rank": _timeit(lambda: snapshot(model, x_test64), 2, 1)}


# ---- (c) the matmul roofline ------------------------------------------------------------------------
def step_flops(cfg: RunConfig) -> float:
    """Matmul FLOPs of one training step: forward 2*B*in*out per layer, backward twice that (grad of the
    weights, grad of the inputs), except the first layer's input gradient, which is not needed."""
    dims = [784] + [cfg.width] * (cfg.depth - 1) + [10]
    f = sum(2 * cfg.batch_size * a * b for a, b in zip(dims[:-1], dims[1:]))
    first = 2 * cfg.batch_size * dims[0] * dims[1]
    return 3 * f - first


def matmul_floor(cfg: RunConfig, reps: int = 50) -> float:
    """Seconds of one step's matmuls alone, each shape timed at its measured throughput."""
    dtype = getattr(torch, cfg.dtype)
    dims = [784] + [cfg.width] * (cfg.depth - 1) + [10]
    B, total = cfg.batch_size, 0.0
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        x, w, gy = torch.rand(B, a, dtype=dtype), torch.rand(b, a, dtype=dtype), torch.rand(B, b, dtype=dtype)
        total += _timeit(lambda x=x, w=w: x @ w.T, reps)        # forward
        total += _timeit(lambda x=x, gy=gy: gy.T @ x, reps)     # grad of the weights
        if i > 0:
            total += _timeit(lambda w=w, gy=gy: gy @ w, reps)   # grad of the inputs
    return total


MATMUL_OPS = ("aten::mm", "aten::addmm")
ADAMW_OPS = ("aten::_fused_adamw_",)


def step_profile(cfg: RunConfig, steps: int = 50, device="cpu") -> dict:
    """Where grokkit's training step spends its time: self CPU time per op (torch.profiler) over `steps`
    steps, per step, grouped into the matmuls, the AdamW kernel and everything else."""
    from torch.profiler import profile

    _, step, _ = _grokkit_setup(cfg, device)
    for _ in range(5):
        step()
    with profile() as prof:
        for _ in range(steps):
            step()
    ops = {e.key: e.self_cpu_time_total / 1e6 / steps for e in prof.key_averages()}
    matmul = sum(v for k, v in ops.items() if k in MATMUL_OPS)
    adamw = sum(v for k, v in ops.items() if k in ADAMW_OPS)
    total = sum(ops.values())
    top = sorted(ops.items(), key=lambda kv: -kv[1])[:8]
    return {"total_s": total, "matmul_s": matmul, "adamw_s": adamw, "other_s": total - matmul - adamw, "top": top}


# ---- the interventions' step-time cost (issue 26) ---------------------------------------------------------------
def variant_name(kind: str, scale: str) -> str:
    """The benchmark's name for a rank penalty `kind` on `scale` (RunConfig.rank_penalty_scale): the kind, with the
    suffix "_gradient" on the gradient scale."""
    return kind + ("_gradient" if scale == "gradient" else "")


def intervention_variants(cfg: RunConfig) -> dict:
    """cfg and its interventions, for timing: the paper step, the norm clamp, and each rank penalty, added to the loss
    and scaled to the fit's gradient (key suffix "_gradient"), at the strength of the full-scale grid (grokkit.sweep's
    RANK_DOWN_STRENGTH / RANK_UP_STRENGTH; the strength does not change the work of a step)."""
    from .sweep import RANK_DOWN_STRENGTH, RANK_UP_STRENGTH

    out = {"paper": cfg, "norm_clamp": cfg.replace(norm_clamp="init")}
    for kind, lam in (("nuclear_over_frobenius", RANK_DOWN_STRENGTH), ("neg_spectral_entropy", RANK_UP_STRENGTH)):
        for scale in ("loss", "gradient"):  # the gradient scale takes a second backward pass
            out[variant_name(kind, scale)] = cfg.replace(
                rank_penalty=lam, rank_penalty_kind=kind, rank_penalty_scale=scale)
    return out


def intervention_costs(cfg: RunConfig, steps: int = 50, rounds: int = 3, device="cpu") -> dict:
    """Seconds per training step of cfg without and with each intervention (`intervention_variants`), timed side by
    side in one process: `rounds` rounds, each timing `steps` steps of every variant in turn, so a load that changes
    during the bench falls on all of them; the median round per variant, and its ratio to the paper step."""
    fns = {k: _grokkit_setup(c, device)[1] for k, c in intervention_variants(cfg).items()}
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            times[k].append(_timeit(fn, steps))
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    return {"config": cfg.name, "steps": steps, "rounds": rounds, "step_s": med,
            "ratio": {k: v / med["paper"] for k, v in med.items()}}


def peak_rss_mib(depth: int = 12, n_train: int = 7000) -> float:
    """Peak RSS of a short run with a rank snapshot over the 10k test set, measured in a fresh process."""
    code = (f"import grokkit,resource;grokkit.train(grokkit.RunConfig(depth={depth},n_train={n_train},steps=20,"
            f"probe_every=0,probe_epochs=1,checkpoint_every=0),progress=False);"
            f"print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return int(out.split()[-1]) / 1024


def projection(p: dict, cfg: RunConfig) -> float:
    """Seconds of a full run: every step, every evaluation and every rank snapshot of cfg's schedule."""
    n_eval = sum(cfg.is_log_step(s) for s in range(cfg.steps + 1))
    n_rank = sum(cfg.is_rank_step(s) for s in range(cfg.steps + 1))
    return cfg.steps * p["step"] + n_eval * p["eval"] + n_rank * p["rank"]


def bench(depth=12, n_train=5000, steps=200, device="cpu", memory=True, profile=True, interventions=True) -> dict:
    grid = RunConfig(depth=depth, n_train=n_train)          # the shipped records' schedule: rank every log point
    paper = grid.replace(rank_every=5 * grid.log_period)    # the paper's: rank every 5 log points (3335 steps)
    ref = reference_pieces(paper, steps, device)
    ours = grokkit_pieces(paper, steps, device)
    floor = matmul_floor(paper)
    gflop = step_flops(paper) / 1e9
    res = {"config": paper.name, "threads": torch.get_num_threads(), "reference": ref, "grokkit": ours,
           "floor_step_s": floor, "step_gflop": gflop,
           "roofline_fraction": floor / ours["step"],
           "full_run_s": {"reference": projection(ref, paper), "grokkit": projection(ours, paper),
                          "grokkit_grid_schedule": projection(ours, grid),
                          "floor": paper.steps * floor}}
    res["speedup_full_run"] = res["full_run_s"]["reference"] / res["full_run_s"]["grokkit"]
    res["speedup_step"] = ref["step"] / ours["step"]
    if profile:
        res["profile"] = step_profile(paper, device=device)
        res["profile"]["matmul_vs_floor"] = floor / res["profile"]["matmul_s"]  # the matmuls in situ vs alone
    if interventions:
        iv = res["interventions"] = intervention_costs(paper, max(steps // 4, 5), device=device)
        # a full-scale intervention run on the shipped schedule (sweep.INTERVENTION_BASE): its own step, the same
        # evaluations and rank snapshots as a paper run (neither the clamp nor a penalty acts on them)
        iv["full_run_s"] = {k: projection({**ours, "step": v}, grid) for k, v in iv["step_s"].items()}
    if memory:
        res["peak_rss_mib_d12_n7000"] = peak_rss_mib(12, 7000)
    return res


# ---- how to spend the cores: one process with P threads, or P single-thread processes ----------------
_WORKER = """
import sys, time, torch
from grokkit.bench import _grokkit_setup
from grokkit.config import RunConfig
threads, depth, n_train, seconds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
torch.set_num_threads(threads)
_, step, _ = _grokkit_setup(RunConfig(depth=depth, n_train=n_train))
for _ in range(3):
    step()
print("ready", flush=True)
start = float(sys.stdin.readline())         # the shared start, sent once every worker is warm
time.sleep(max(0.0, start - time.time()))
late = time.time() - start                  # > 0: it was still busy at the shared start, so the windows overlap less
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < seconds:
    step()
    n += 1
print(n / (time.perf_counter() - t0), late)
"""
LATE_MAX = 0.1  # a worker may start at most 10 % of the window after the shared start, or the timing is refused
GO_MARGIN = 0.05  # s between sending the shared start and the start itself: enough for every worker to read it


def _run_workers(n_proc: int, threads: int, depth: int, n_train: int, seconds: float, margin: float = GO_MARGIN):
    """(steps/s of each worker, how late each started timing, in s). Each worker loads MNIST and warms up, says
    it is ready, and waits; once all are ready they get one shared wall-clock start, `margin` s ahead."""
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, str(threads), str(depth), str(n_train), str(seconds)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(n_proc)]
    try:
        for p in procs:
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError(f"bench worker failed before timing (exit code {p.wait()})")
        start = time.time() + margin
        for p in procs:
            p.stdin.write(f"{start!r}\n")
            p.stdin.flush()
        rates, lates = [], []
        for p in procs:
            out, _ = p.communicate()
            if p.returncode:
                raise RuntimeError(f"bench worker failed with exit code {p.returncode}")
            rate, late = (float(v) for v in out.split()[-2:])
            rates.append(rate)
            lates.append(late)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    if max(lates) > LATE_MAX * seconds:
        raise RuntimeError(f"bench workers: one started timing {max(lates):.2f} s after the others' start (allowed: "
                           f"{LATE_MAX * seconds:.2f} s), so their windows did not overlap")
    return rates, lates


def bench_workers(cores: int = 2, depth: int = 12, n_train: int = 5000, seconds: float = 20.0) -> dict:
    """Aggregate training steps/s of grokkit's step (train.py's _step_fn) run as one process with `cores`
    threads against `cores` single-thread processes timed over the same wall-clock window -- the choice
    between `sweep paper --threads P` and P workers of `sweep paper --threads 1`. Measured back to back in
    one call; training steps only (evaluation and rank snapshots are not timed). RuntimeError when a worker
    fails or starts timing more than LATE_MAX of the window late."""
    (one,), _ = _run_workers(1, cores, depth, n_train, seconds)
    many, lates = _run_workers(cores, 1, depth, n_train, seconds)
    out = {"config": RunConfig(depth=depth, n_train=n_train).name, "cores": cores, "seconds": seconds,
           "one_process_steps_per_s": one, "single_thread_workers_steps_per_s": many,
           "workers_late_s": lates, "ratio": sum(many) / one}
    print(f"bench workers {out['config']}: 1 process x {cores} threads {one:.1f} steps/s; {cores} processes x "
          f"1 thread {' + '.join(f'{r:.1f}' for r in many)} = {sum(many):.1f} steps/s -> {out['ratio']:.2f}x "
          f"aggregate throughput")
    return out


def report(r: dict) -> str:
    f = r["full_run_s"]
    lines = [
        f"bench {r['config']} on {r['threads']} CPU thread(s); 1e5-step projections use the paper's schedule "
        f"(192 evaluations, 31 rank snapshots)",
        f"{'':14s} {'step ms':>9s} {'eval s':>8s} {'rank s':>8s} {'full run min':>13s}",
        f"{'(a) reference':14s} {r['reference']['step'] * 1e3:9.2f} {r['reference']['eval']:8.3f} "
        f"{r['reference']['rank']:8.3f} {f['reference'] / 60:13.1f}",
        f"{'(b) grokkit':14s} {r['grokkit']['step'] * 1e3:9.2f} {r['grokkit']['eval']:8.3f} "
        f"{r['grokkit']['rank']:8.3f} {f['grokkit'] / 60:13.1f}",
        f"{'(c) floor':14s} {r['floor_step_s'] * 1e3:9.2f} {'':8s} {'':8s} {f['floor'] / 60:13.1f}",
        f"speed-up (b)/(a): {r['speedup_full_run']:.2f}x over a full run, {r['speedup_step']:.2f}x per training step",
        f"grokkit step = {r['roofline_fraction'] * 100:.0f}% of the matmul roofline "
        f"({r['step_gflop']:.2f} GFLOP/step at {r['step_gflop'] / r['floor_step_s']:.0f} GFLOP/s measured)",
        f"grokkit full run with the grid's rank every {RunConfig().rank_period:,} steps: "
        f"{f['grokkit_grid_schedule'] / 60:.1f} min",
    ]
    if "profile" in r:
        p = r["profile"]
        lines.append(f"profile of grokkit's step (torch.profiler, self CPU per step): {p['total_s'] * 1e3:.2f} ms = "
                     f"matmuls {p['matmul_s'] * 1e3:.2f} ({p['matmul_s'] / p['total_s']:.0%}; in situ at "
                     f"{p['matmul_vs_floor']:.0%} of their isolated throughput) + AdamW {p['adamw_s'] * 1e3:.2f} "
                     f"({p['adamw_s'] / p['total_s']:.0%}) + other ops {p['other_s'] * 1e3:.2f} "
                     f"({p['other_s'] / p['total_s']:.0%})")
        lines.append("  top ops: " + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in p["top"][:5]))
    if "interventions" in r:
        iv = r["interventions"]
        lines.append(f"interventions (issue 26), step cost side by side ({iv['rounds']} rounds of {iv['steps']} steps, "
                     f"median): " + ", ".join(f"{k} {iv['step_s'][k] * 1e3:.2f} ms ({iv['ratio'][k]:.2f}x)"
                                              for k in iv["step_s"]))
        if "full_run_s" in iv:
            runs = ", ".join(f"{k} {v / 3600:.1f} h" for k, v in iv["full_run_s"].items())
            lines.append(f"  a full run of each, with the grid's rank every {RunConfig().rank_period:,} steps: {runs}")
    if "peak_rss_mib_d12_n7000" in r:
        lines.append(f"peak RSS, depth 12, N=7000, rank over 10k test images: {r['peak_rss_mib_d12_n7000']:.0f} MiB")
    return "\n".join(lines)


def main(depth=12, n_train=5000, steps=200, threads=0, json_out=None, workers=0) -> None:
    if json_out:  # before the benchmark, not after it
        from pathlib import Path

        from .folders import writable

        writable(Path(json_out).absolute().parent, "--json")
    if workers:
        r = bench_workers(workers, depth, n_train)
    else:
        if threads:
            torch.set_num_threads(threads)
        r = bench(depth, n_train, steps)
        print(report(r))
    if json_out:
        from pathlib import Path

        from .records import atomic_write

        blob = json.dumps(r, indent=1).encode()
        atomic_write(Path(json_out), lambda f: f.write(blob))  # whole file or none; the umask's mode
