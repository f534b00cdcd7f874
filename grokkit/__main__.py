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

    from .sweep import GRIDS, missing, parse_grid, run_chapter
    from .train import load_or_train

    if a.what not in GRIDS:  # a chapter: execute book/<chapter>.ipynb over --grid with papermill
        params = {k: v[0] if len(v) == 1 else v for k, v in parse_grid(a.param).items()}
        if a.device != "auto":
            params.setdefault("device", a.device)
        written, failed = run_chapter(a.what, parse_grid(a.grid), a.out, params, a.book, progress=not a.quiet)
        print(f"sweep {a.what}: {len(written)} written, {len(failed)} failed -> {a.out}/")
        return 1 if failed else 0
    if a.grid or a.param:
        print(f"sweep {a.what}: --grid/--param are for chapters; {a.what!r} is a fixed grid of runs", file=sys.stderr)
        return 2
    _threads(a.threads)
    grid = GRIDS[a.what]()
    todo = missing(grid, a.results)
    print(f"sweep {a.what}: {len(grid)} runs, {len(grid) - len(todo)} done, {len(todo)} to run")
    skipped = 0
    for cfg in tqdm(todo, desc=f"sweep {a.what}", unit="run"):
        run = load_or_train(cfg.replace(device=a.device), a.results, progress=not a.quiet, wait=False)
        if run is None:
            skipped += 1
            print(f"  {cfg.name}: another worker is training it; skipped")
        else:
            print(f"  {cfg.name}: train {run.final('train_acc'):.4f} test {run.final('test_acc'):.4f} -> {run.path}")
    return 0


def cmd_bench(a) -> int:
    from .bench import main as bench_main

    bench_main(depth=a.depth, n_train=a.n_train, steps=a.steps, threads=a.threads, json_out=a.json,
               workers=a.workers)
    return 0


def cmd_export(a) -> int:
    """The data behind the figures: one long-format file per record (grokkit.export)."""
    from .export import export_records

    written, problems = export_records(a.results, a.out, a.format)
    for msg in problems:
        print(f"grokkit: skipped {msg}", file=sys.stderr)
    print(f"export: {len(written)} record(s) -> {a.out}/ ({a.format})")
    return 1 if problems else 0


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
    p = sub.add_parser("sweep", help="run the missing part of a grid of runs (several workers may run at once), "
                                     "or execute a book chapter over a grid of parameters")
    p.add_argument("what", metavar="grid|chapter",
                   help="'paper': the full-scale grid of PAPER.md; or a chapter of book/ (e.g. depth), run with papermill")
    p.add_argument("--grid", nargs="+", default=[], metavar="NAME=V1,V2",
                   help="chapter parameters to sweep, e.g. depth=4,8,12 weight_decay=0.005,0.05")
    p.add_argument("--param", nargs="+", default=[], metavar="NAME=VALUE",
                   help="chapter parameters fixed for every grid point, e.g. train_missing=True")
    p.add_argument("--out", default="runs", help="folder of the executed chapters: <chapter>_d{depth}_wd{weight_decay}.ipynb")
    p.add_argument("--book", default=None, help="folder of the chapters (default: ./book, else the repository's)")
    p.add_argument("--results", default="results")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(fn=cmd_sweep)
    p = sub.add_parser("bench", help="grokkit vs an authors'-style loop vs the matmul roofline (ratios)")
    p.add_argument("--depth", type=int, default=12)
    p.add_argument("--n-train", type=int, default=5000)
    p.add_argument("--steps", type=int, default=200, help="training steps timed per loop")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", default=None, help="also write the numbers here")
    p.add_argument("--workers", type=int, default=0, metavar="P",
                   help="instead: P single-thread processes vs one process with P threads, aggregate training "
                        "steps/s over one shared 20 s window (--threads and --steps do not apply)")
    p.set_defaults(fn=cmd_bench)
    p = sub.add_parser("export", help="the records as long tables (one row per run, step, quantity, layer): "
                                      "one CSV or JSON file per record")
    p.add_argument("--results", default="results")
    p.add_argument("--format", default="csv", choices=["csv", "json"])
    p.add_argument("--out", default="export", help="folder of the files, named like the records")
    p.set_defaults(fn=cmd_export)
    a = ap.parse_args(argv)
    try:
        return a.fn(a)
    except (ValueError, FileNotFoundError) as e:  # bad parameters or data: one line, no traceback
        print(f"grokkit: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
