"""The CLI: `python -m grokkit run|list|sweep|scoreboard ...` (see README)."""
from __future__ import annotations

import argparse
import sys
from dataclasses import fields

from .config import RULES, RunConfig, describe, parse_value


def _arg_type(kind: type):
    """An argparse type that reads the text with config.parse_value (the parser of every entry point) and
    checks only its type; bounds are RunConfig's (one line naming the field, exit code 2)."""
    def read(text: str):
        v = parse_value(text)
        if kind is str:
            return text
        if isinstance(v, bool) or not isinstance(v, int if kind is int else (int, float)):
            raise argparse.ArgumentTypeError(f"must be {'an integer' if kind is int else 'a number'}, got {text!r}")
        return kind(v)

    read.__name__ = kind.__name__
    return read


def _cfg_args(p: argparse.ArgumentParser) -> None:
    """One flag per RunConfig field (--n-train for n_train), its help from config.RULES, default RunConfig's."""
    d = RunConfig()
    for f in fields(RunConfig):
        rule = RULES[f.name]
        p.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=_arg_type(rule.kind), default=None,
                       metavar=f.name.upper(), help=f"{rule.help}; {describe(f.name)} (default: {getattr(d, f.name)})")


def _config(a) -> RunConfig:
    """The flags given; every other field keeps RunConfig's default."""
    return RunConfig(**{f.name: getattr(a, f.name) for f in fields(RunConfig) if getattr(a, f.name) is not None})


def _refuse(cmd: str, a, flags: dict, why: str) -> None:
    given = [flag for flag, dest in flags.items() if getattr(a, dest) not in (None, [], 0, False)]
    if given:
        raise ValueError(f"{cmd}: {', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply {why}")


def _threads(n: int) -> None:
    if n:
        import torch

        torch.set_num_threads(n)


def cmd_run(a) -> int:
    from .config import resolve_device
    from .records import results_folder
    from .train import load_or_train

    cfg = _config(a)
    resolve_device(cfg.device)  # fail before any work when CUDA is asked for and absent
    _threads(a.threads)
    run = load_or_train(cfg, results_folder(a.results), progress=not a.quiet)
    print(f"record: {run.path}")
    print(f"final train acc {run.final('train_acc'):.4f}  test acc {run.final('test_acc'):.4f}")
    if run.diverged:
        print(f"grokkit: run diverged at step {run.meta['diverged_at']} (NaN/inf in loss or weights)", file=sys.stderr)
        return 3
    return 0


def cmd_list(a) -> int:
    from .records import RecordError, list_records, load, results_folder

    folder = results_folder(a.results, must_exist=True)  # only a folder named explicitly is checked
    paths = list_records(folder)
    if not paths:
        print(f"no records in {folder}")
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
              f"{r.final('test_acc'):6.3f} {r.meta.get('wall_time_s', 0) / 60:6.1f}m  "
              f"{r.meta.get('device', '?')}{flag}")
    return 0


def cmd_sweep(a) -> int:
    from tqdm.auto import tqdm

    from .config import check
    from .records import results_folder
    from .sweep import GRIDS, missing, parse_grid, run_chapter
    from .train import load_or_train

    if a.device is not None:
        check("device", a.device)  # before any work
    if a.what not in GRIDS:  # a chapter: execute book/<chapter>.ipynb over --grid with papermill
        params = {k: v[0] if len(v) == 1 else v for k, v in parse_grid(a.param).items()}
        grid = parse_grid(a.grid)
        if a.device is not None:
            if "device" in params or "device" in grid:
                raise ValueError(f"sweep {a.what}: device is given twice (--device and --param/--grid); give it once")
            params["device"] = a.device
        out = a.out or "runs"
        written, failed = run_chapter(a.what, grid, out, params, a.book, progress=not a.quiet, results=a.results,
                                      threads=a.threads)
        print(f"sweep {a.what}: {len(written)} written, {len(failed)} failed -> {out}/")
        return 1 if failed else 0
    _refuse(f"sweep {a.what}", a, {"--grid": "grid", "--param": "param", "--out": "out", "--book": "book"},
            f"to {a.what!r}, a fixed grid of runs (they are for chapters)")
    _threads(a.threads)
    grid = GRIDS[a.what]()
    results = results_folder(a.results)
    todo = missing(grid, results)
    print(f"sweep {a.what}: {len(grid)} runs, {len(grid) - len(todo)} done, {len(todo)} to run")
    skipped = 0
    for cfg in tqdm(todo, desc=f"sweep {a.what}", unit="run"):
        run = load_or_train(cfg.replace(device=a.device or cfg.device), results, progress=not a.quiet, wait=False)
        if run is None:
            skipped += 1
            print(f"  {cfg.name}: another worker is training it; skipped")
        else:
            print(f"  {cfg.name}: train {run.final('train_acc'):.4f} test {run.final('test_acc'):.4f} -> {run.path}")
    return 0


def cmd_bench(a) -> int:
    from .bench import main as bench_main

    if a.workers:
        _refuse("bench --workers", a, {"--threads": "threads", "--steps": "steps"},
                "(each worker runs one thread over a fixed 20 s window)")
    bench_main(depth=a.depth, n_train=a.n_train, steps=200 if a.steps is None else a.steps, threads=a.threads,
               json_out=a.json,
               workers=a.workers)
    return 0


def cmd_scoreboard(a) -> int:
    from . import claims, records, report

    folder = records.results_folder(a.results, must_exist=True)
    runs = records.load_all(folder, warn=lambda m: print(m, file=sys.stderr))
    verdicts = claims.evaluate(runs)
    print(report.as_json(verdicts) if a.json else f"{len(runs)} record(s) in {folder}\n\n"
          + report.summary(verdicts) + "\n\n" + report.scoreboard(verdicts))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m grokkit", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    results_help = ("folder of run records (relative: to the current folder; default: $GROKKIT_RESULTS, relative to "
                    "the repository root, else the repository's results/)")
    p = sub.add_parser("run", help="train one config (or load its record) and print the result")
    _cfg_args(p)
    p.add_argument("--results", default=None, help=results_help)
    p.add_argument("--threads", type=_arg_type(int), default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("list", help="table of the run records")
    p.add_argument("--results", default=None, help=results_help)
    p.set_defaults(fn=cmd_list)
    p = sub.add_parser("sweep", help="run the missing part of a grid of runs (several workers may run at once), "
                                     "or execute a book chapter over a grid of parameters")
    p.add_argument("what", metavar="grid|chapter",
                   help="'paper': the paper's full-scale grid (sweep.paper_grid); or a chapter of book/ (e.g. depth), "
                        "run with papermill")
    p.add_argument("--grid", nargs="+", default=[], metavar="NAME=V1,V2",
                   help="chapter parameters to sweep, e.g. depth=4,8,12 weight_decay=0.005,0.05")
    p.add_argument("--param", nargs="+", default=[], metavar="NAME=VALUE",
                   help="chapter parameters fixed for every grid point, e.g. train_missing=True")
    p.add_argument("--out", default=None, help="chapters: folder of the executed chapters (default: runs/): "
                                                "<chapter>_d{depth}_wd{weight_decay}.ipynb")
    p.add_argument("--book", default=None, help="chapters: their folder (default: ./book, else the repository's)")
    p.add_argument("--results", default=None, help=results_help + "; a chapter reads its records from it")
    p.add_argument("--device", type=_arg_type(str), default=None, help=RULES["device"].help + "; " + describe("device"))
    p.add_argument("--threads", type=_arg_type(int), default=0, help="torch CPU threads (of a chapter's kernel too)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(fn=cmd_sweep)
    p = sub.add_parser("bench", help="grokkit vs an authors'-style loop vs the matmul roofline (ratios)")
    p.add_argument("--depth", type=_arg_type(int), default=12)
    p.add_argument("--n-train", type=_arg_type(int), default=5000)
    p.add_argument("--steps", type=_arg_type(int), default=None, help="training steps timed per loop (default 200)")
    p.add_argument("--threads", type=_arg_type(int), default=0)
    p.add_argument("--json", default=None, help="also write the numbers here")
    p.add_argument("--workers", type=_arg_type(int), default=0, metavar="P",
                   help="instead: P single-thread processes vs one process with P threads, aggregate training "
                        "steps/s over one shared 20 s window (--threads and --steps do not apply)")
    p.set_defaults(fn=cmd_bench)
    p = sub.add_parser("scoreboard", help="the 15 claims graded on the run records (robustness-checked, all seeds)")
    p.add_argument("--results", default=None, help=results_help)
    p.add_argument("--json", action="store_true",
                   help="one JSON object per claim: claim, grade, robust, text, measures")
    p.set_defaults(fn=cmd_scoreboard)
    a = ap.parse_args(argv)
    try:
        return a.fn(a)
    except (ValueError, FileNotFoundError) as e:  # bad parameters or data: one line, no traceback
        print(f"grokkit: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
