"""The CLI: `python -m grokkit run|list|sweep ...` (see README)."""
from __future__ import annotations

import argparse
import sys

from .config import RunConfig


def _cfg_args(p: argparse.ArgumentParser) -> None:
    d = RunConfig()
    p.add_argument("--depth", type=int, default=d.depth, help="number of Linear layers (paper: 4, 8, 12)")
    p.add_argument("--width", type=int, default=d.width)
    p.add_argument("--n-train", type=int, default=d.n_train, help="first N MNIST training images")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--alpha", type=float, default=d.alpha, help="initialization scale")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--dtype", default=d.dtype, help="float32 | float64")
    p.add_argument("--device", default=d.device, help="auto | cpu | cuda | cuda:N")
    p.add_argument("--log-every", type=int, default=0, help="0 = the paper's ceil(steps/150)")
    p.add_argument("--rank-every", type=int, default=0, help="0 = the paper's 5*log_every")
    p.add_argument("--probe-every", type=int, default=0, help="0 = rank cadence, -1 = no probes")
    p.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every)


def _config(a) -> RunConfig:
    return RunConfig(depth=a.depth, width=a.width, n_train=a.n_train, weight_decay=a.weight_decay, alpha=a.alpha,
                     lr=a.lr, batch_size=a.batch_size, steps=a.steps, seed=a.seed, dtype=a.dtype, device=a.device,
                     log_every=a.log_every, rank_every=a.rank_every, probe_every=a.probe_every,
                     checkpoint_every=a.checkpoint_every)


def _threads(n: int) -> None:
    if n:
        import torch

        torch.set_num_threads(n)


def cmd_run(a) -> int:
    from .config import resolve_device
    from .train import load_or_train

    cfg = _config(a)
    resolve_device(cfg.device)  # fail before any work when CUDA is asked for and absent
    _threads(a.threads)
    run = load_or_train(cfg, a.results, progress=not a.quiet)
    print(f"record: {run.path}")
    print(f"final train acc {run.final('train_acc'):.4f}  test acc {run.final('test_acc'):.4f}")
    if run.diverged:
        print(f"grokkit: run diverged at step {run.meta['diverged_at']} (NaN/inf in loss or weights)", file=sys.stderr)
        return 3
    return 0


def cmd_list(a) -> int:
    from .records import RecordError, list_records, load

    paths = list_records(a.results)
    if not paths:
        print(f"no records in {a.results}")
        return 0
    print(f"{'name':34s} {'id':10s} {'steps':>7s} {'train':>6s} {'test':>6s} {'wall':>7s}  device")
    for p in paths:
        try:
            r = load(p)
        except RecordError as e:
            print(f"{p.name:34s} CORRUPT: {e}")
            continue
        flag = f"  DIVERGED@{r.meta['diverged_at']}" if r.diverged else ""
        print(f"{r.config.name:34s} {r.config.id:10s} {r.config.steps:7d} {r.final('train_acc'):6.3f} "
              f"{r.final('test_acc'):6.3f} {r.meta.get('wall_time_s', 0) / 60:6.1f}m  {r.meta.get('device', '?')}{flag}")
    return 0


def cmd_sweep(a) -> int:
    from tqdm.auto import tqdm

    from .sweep import GRIDS, missing
    from .train import load_or_train

    if a.grid not in GRIDS:
        print(f"sweep: unknown grid {a.grid!r}; allowed: {sorted(GRIDS)}", file=sys.stderr)
        return 2
    _threads(a.threads)
    grid = GRIDS[a.grid]()
    todo = missing(grid, a.results)
    print(f"sweep {a.grid}: {len(grid)} runs, {len(grid) - len(todo)} done, {len(todo)} to run")
    skipped = 0
    for cfg in tqdm(todo, desc=f"sweep {a.grid}", unit="run"):
        run = load_or_train(cfg.replace(device=a.device), a.results, progress=not a.quiet, wait=False)
        if run is None:
            skipped += 1
            print(f"  {cfg.name}: another worker is training it; skipped")
        else:
            print(f"  {cfg.name}: train {run.final('train_acc'):.4f} test {run.final('test_acc'):.4f} -> {run.path}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m grokkit", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run", help="train one config (or load its record) and print the result")
    _cfg_args(p)
    p.add_argument("--results", default="results")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("list", help="table of the run records")
    p.add_argument("--results", default="results")
    p.set_defaults(fn=cmd_list)
    p = sub.add_parser("sweep", help="run the missing part of a grid (several workers may run at once)")
    p.add_argument("grid", help="'paper': the full-scale grid of PAPER.md")
    p.add_argument("--results", default="results")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(fn=cmd_sweep)
    a = ap.parse_args(argv)
    try:
        return a.fn(a)
    except ValueError as e:  # bad parameters: one line, no traceback
        print(f"grokkit: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
