"""The CLI: `python -m grokkit run|list|sweep|bench|scoreboard|events|export|gpu-check ...` (see README)."""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import fields

from .config import RULES, RunConfig, checked, describe, parse_value


def _arg_type(kind: type, number: bool = False):
    """An argparse type that reads the text with config.parse_value (the parser of every entry point): a number
    flag gets the number (1e5 reads as 100000.0; config.coerce makes it the integer 100000), any other text as it
    is. Kinds and bounds are checked after parsing, by RunConfig (config.check) or `_counts`: one line naming the
    field, exit code 2. number: a text field that also takes a number (norm_clamp) gets the number."""
    def read(text: str):
        v = parse_value(text)
        if kind is str and not number:
            return text
        return v if isinstance(v, (int, float)) and not isinstance(v, bool) else text

    read.__name__ = kind.__name__
    return read


def _path(text: str) -> str:
    """A path flag as a shell would have expanded it (a quoted '~/out' too)."""
    return os.path.expanduser(text)


COUNTS = {"threads": "0 = torch's default", "workers": "0 = no worker comparison", "gpus_per_job": "",
          "cpus_per_job": "0 = the default", "runs_per_job": "0 = the default", "time": "minutes; 0 = one day"}


def _counts(a) -> None:
    """Every count flag given (threads, workers, the sweep's job sizes): an integer >= 0, a float that is exactly one
    (4.0, 1e1) taken as that integer; else a one-line ValueError naming it."""
    for name, note in COUNTS.items():
        v = getattr(a, name, None)
        if v is None:
            continue
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{name}: must be an integer >= 0{f' ({note})' if note else ''}, got {v!r}")
        setattr(a, name, v)


def _cfg_args(p: argparse.ArgumentParser) -> None:
    """One flag per RunConfig field (--n-train for n_train), its help from config.RULES, default RunConfig's."""
    d = RunConfig()
    for f in fields(RunConfig):
        rule = RULES[f.name]
        p.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=_arg_type(rule.kind, rule.number),
                       default=None, metavar=f.name.upper(),
                       help=f"{rule.help}; {describe(f.name)} (default: {getattr(d, f.name)})")


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
    folder = results_folder(a.results)
    try:
        run = load_or_train(cfg, folder, progress=not a.quiet)
    except KeyboardInterrupt:
        print(_stopped(cfg, folder), file=sys.stderr)
        return 130
    print(f"record: {run.path}")
    print(f"final train acc {run.final('train_acc'):.4f}  test acc {run.final('test_acc'):.4f}")
    if run.diverged:
        print(f"grokkit: run diverged at step {run.meta['diverged_at']} (NaN/inf in loss or weights)", file=sys.stderr)
        return 3
    return 0


def _stopped(cfg: RunConfig, folder) -> str:
    """The one line after Ctrl-C stopped `run`: how the same command goes on (from its last checkpoint)."""
    from .train import checkpoint_step

    if not cfg.checkpoint_every:
        return ("grokkit: training stopped; checkpoints are off (--checkpoint-every 0), so the same command starts "
                "it again from step 0")
    step = checkpoint_step(cfg, folder)
    if step is None:
        return (f"grokkit: training stopped before its first checkpoint (every {cfg.checkpoint_every:,} steps); the "
                f"same command starts it again from step 0")
    return (f"grokkit: training stopped; the same command resumes it from its last checkpoint (step {step:,} of "
            f"{cfg.steps:,})")


LABELS = {"format": "ANOTHER FORMAT", "config": "ANOTHER CONFIG", "owner": "ANOTHER USER'S"}  # records.ForeignRecord


def cmd_list(a) -> int:
    from .records import ForeignRecord, RecordError, list_records, load, results_folder

    folder = results_folder(a.results, must_exist=True)  # only a folder named explicitly is checked
    paths = list_records(folder)
    if not paths:
        return _no_records(folder)
    print(f"{'name':34s} {'id':10s} {'steps':>7s} {'train':>6s} {'test':>6s} {'wall':>7s}  device")
    for p in paths:
        try:
            r = load(p)
        except ForeignRecord as e:  # intact, not this grokkit's (another format version): not corrupt
            print(f"{p.name:34s} {LABELS[e.why]}: {e}")
            continue
        except RecordError as e:
            print(f"{p.name:34s} CORRUPT: {e}")
            continue
        except OSError as e:  # e.g. another user's record this user may not read: not corrupt
            print(f"{p.name:34s} UNREADABLE: {e.strerror or e} (the file is not corrupt)")
            continue
        flag = f"  DIVERGED@{r.meta['diverged_at']}" if r.diverged else ""
        if p.stem != f"{r.config.name}-{r.config.id}":  # renamed or copied by hand: `run` will not load it
            flag += f"  MISNAMED: its config's file is {r.config.name}-{r.config.id}.npz"
        print(f"{r.config.name:34s} {r.config.id:10s} {r.config.steps:7d} {r.final('train_acc'):6.3f} "
              f"{r.final('test_acc'):6.3f} {r.meta.get('wall_time_s', 0) / 60:6.1f}m  "
              f"{r.meta.get('device', '?')}{flag}")
    return 0


def _no_records(folder) -> int:
    """A command that needs records found none: one line with the fix, exit code 1."""
    print(f"grokkit: no run records in {folder}; give the folder that holds them with --results DIR (or "
          f"GROKKIT_RESULTS), or set GROKKIT_HOME to your clone of the grokkit repository", file=sys.stderr)
    return 1


def cmd_sweep(a) -> int:
    from .chapters import parse_grid, run_chapter
    from .config import check
    from .sweep import GRIDS

    if a.device is not None:
        check("device", a.device)  # before any work
    if a.what not in GRIDS:  # a chapter: execute book/<chapter>.ipynb over --grid with papermill
        _refuse(f"sweep {a.what}", a, {f"--{d.replace('_', '-')}": d for d in JOB_FLAGS},
                "to a chapter (they are for a grid of runs, e.g. sweep paper)")
        if a.executor != "local":
            raise ValueError(f"sweep {a.what}: --executor does not apply to a chapter (it runs here, with papermill)")
        params = {k: v[0] if len(v) == 1 else v for k, v in parse_grid(a.param).items()}
        grid = parse_grid(a.grid)
        if a.device is not None:
            if "device" in params or "device" in grid:
                raise ValueError(f"sweep {a.what}: device is given twice (--device and --param/--grid); give it once")
            params["device"] = a.device
        out = a.out or "runs"
        written, failed, skipped = run_chapter(a.what, grid, out, params, a.book, progress=not a.quiet,
                                               results=a.results, threads=a.threads)
        print(f"sweep {a.what}: {len(written)} written, {len(skipped)} already there, {len(failed)} failed "
              f"-> {out}/")
        return 1 if failed else 0
    _refuse(f"sweep {a.what}", a, {"--grid": "grid", "--param": "param", "--out": "out", "--book": "book"},
            f"to {a.what!r}, a fixed grid of runs (they are for chapters)")
    return _sweep_grid(a)


JOB_FLAGS = ("partition", "gpus_per_job", "cpus_per_job", "runs_per_job", "time", "slurm_param", "cuda_graph", "logs",
             "status", "no_wait")  # `sweep <grid>` only


def _sweep_job_args(p: argparse.ArgumentParser) -> None:
    """`sweep <grid>`'s executor flags (local processes or a SLURM job array, grokkit.sweep.run_grid)."""
    g = p.add_argument_group("running a grid of runs (sweep paper)")
    g.add_argument("--executor", choices=("local", "slurm"), default="local",
                   help="local: one process per core (submitit's LocalExecutor); slurm: a job array (submitit)")
    g.add_argument("--partition", default=None, help="SLURM partition (required with --executor slurm)")
    g.add_argument("--gpus-per-job", type=_arg_type(int), default=None,
                   help="GPUs per job (default: 1 on slurm; locally 1 when CUDA is visible, else 0)")
    g.add_argument("--cpus-per-job", type=_arg_type(int), default=0, help="CPUs per SLURM job (default 4)")
    g.add_argument("--runs-per-job", type=_arg_type(int), default=0,
                   help="runs per job (default: slurm 1 on CPU, all runs of a batch on GPU; local: spread over the "
                        "cores)")
    g.add_argument("--time", type=_arg_type(int), default=0, metavar="MIN",
                   help="time limit per job in minutes (default 1 day)")
    g.add_argument("--slurm-param", nargs="+", default=[], metavar="KEY=VALUE",
                   help="extra #SBATCH options, e.g. account=abc qos=normal")
    g.add_argument("--cuda-graph", action="store_true", help="GPU jobs: the CUDA-graph step after its self-test")
    g.add_argument("--logs", type=_path, default=None,
                   help="the sweep's folder: job logs and run states (default: the project's logs/sweep_<grid>, from "
                        "whatever folder you are in)")
    g.add_argument("--status", action="store_true",
                   help="list the grid's runs: pending, running (in a job or outside the sweep), done, failed")
    g.add_argument("--no-wait", action="store_true", help="local executor: return once the jobs are started")


def _sweep_grid(a) -> int:
    """`sweep paper`: status, or submit the missing runs as fixed shards and (local) wait for them."""
    import math
    import os

    from .config import home
    from .sweep import GRIDS, make_executor, run_grid, sweep_status

    if a.executor == "slurm" and not a.partition and not a.status:
        raise ValueError("--partition: the SLURM partition to submit to is required with --executor slurm")
    grid = [c.replace(device=a.device or c.device) for c in GRIDS[a.what]()]
    logs = a.logs or home() / "logs" / f"sweep_{a.what}"  # the project's, from any folder, as results/ is
    from .records import results_folder

    results = results_folder(a.results)
    status = sweep_status(grid, results, logs)
    counts = {k: sum(r["state"] == k for r in status) for k in ("done", "running", "pending", "failed")}
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    if a.status:
        print(f"sweep {a.what}: {len(grid)} runs: {summary}  (records: {results}, logs: {logs})")
        for r in status:
            print(f"  {r['state']:8s} {r['name']:34s} {r['detail']}")
        return 1 if counts["failed"] else 0
    # runs a live job holds (running, or queued in it) are not submitted again: no two jobs train one run
    busy = [c for c, r in zip(grid, status) if r["state"] == "running" or (r["state"] == "pending" and r["job_id"])]
    import torch

    gpus = a.gpus_per_job if a.gpus_per_job is not None else (
        1 if a.executor == "slurm" or torch.cuda.is_available() else 0)
    todo = [c for c, r in zip(grid, status) if r["state"] != "done" and c not in busy]
    print(f"sweep {a.what}: {len(grid)} runs: {summary}; submitting {len(todo)} ({a.executor}, logs in {logs}/)")
    if not todo:
        return 0
    k = a.runs_per_job
    if not k:  # defaults: a GPU job batches its runs; local CPU jobs spread over the cores
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        k = len(todo) if gpus else (math.ceil(len(todo) / cores) if a.executor == "local" else 1)
    params = dict(kv.split("=", 1) for kv in a.slurm_param if "=" in kv)
    if len(params) != len(a.slurm_param):
        raise ValueError(f"--slurm-param: expected KEY=VALUE, got {a.slurm_param}")
    ex = make_executor(a.executor, logs, a.partition, gpus, a.time, a.cpus_per_job, params)
    threads = a.threads or (1 if a.executor == "local" and not gpus else 0)
    jobs = run_grid(grid, ex, k, results, logs, threads, a.cuda_graph, skip=busy, by_batch=bool(gpus))
    print(f"submitted {len(jobs)} job(s): {', '.join(str(j.job_id) for j in jobs)}")
    if a.executor == "slurm" or a.no_wait:
        print(f"python -m grokkit sweep {a.what} --status --logs {logs}   # follow them")
        return 0
    failed = 0
    for j in jobs:
        try:
            names = j.result()
            print(f"  job {j.job_id}: done ({len(names)} runs)")
        except Exception as e:  # noqa: BLE001 -- one line per failed job; its log folder has the traceback
            failed += 1
            why = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
            print(f"  job {j.job_id}: FAILED ({why}); "
                  f"log: {logs}/jobs/{j.job_id}/", file=sys.stderr)
    return 1 if failed else 0


def cmd_gpu_check(a) -> int:
    from .gpu_check import main as gpu_check_main

    return gpu_check_main(out_dir=a.out)


def cmd_bench(a) -> int:
    from .bench import main as bench_main

    if a.workers:
        _refuse("bench --workers", a, {"--threads": "threads", "--steps": "steps"},
                "(each worker runs one thread over a fixed 20 s window)")
    bench_main(depth=checked("depth", a.depth), n_train=checked("n_train", a.n_train),
               steps=200 if a.steps is None else checked("steps", a.steps), threads=a.threads, json_out=a.json,
               workers=a.workers)
    return 0


def cmd_scoreboard(a) -> int:
    from . import claims, records, report

    folder = records.results_folder(a.results, must_exist=True)
    if not records.list_records(folder):
        return _no_records(folder)
    runs, skipped = _read_all(folder)
    verdicts = claims.evaluate(runs)
    print(report.as_json(verdicts) if a.json else f"{len(runs)} record(s) in {folder}\n\n"
          + report.tally_md(verdicts) + "\n" + report.scoreboard(verdicts))
    _not_read(runs)
    return _skipped_status(skipped)


def _read_all(folder) -> tuple[list, list[str]]:
    """Every readable record of `folder`, and a line (also printed on stderr) for each one skipped: corrupt, not
    this grokkit's, or not readable by this user."""
    from . import records

    skipped = []

    def warn(m):
        skipped.append(m)
        print(m, file=sys.stderr)

    return records.load_all(folder, warn=warn), skipped


def _skipped_status(skipped) -> int:
    """Exit status 1 when records were skipped (each named above on stderr), as `export` does; else 0."""
    if skipped:
        print(f"grokkit: {len(skipped)} record(s) skipped (named above); the output above was computed without them",
              file=sys.stderr)
    return 1 if skipped else 0


def _not_read(runs) -> None:
    """Name on stderr each record the verdicts do not read: one that is not exactly a paper run (another steps,
    batch size, schedule...: where it differs), and the count of intervention runs (the interventions chapter's)."""
    from . import records
    from .fmt import field_value

    others = [r for r in runs if not records.paper_run(r)]
    for r in others:
        if not records.intervened(r):
            diff = "; ".join(f"{k} {field_value(v)}, the paper's {field_value(p)}" for k, (v, p) in
                             records.off_paper_fields(r).items())
            print(f"grokkit: not read by the verdicts: {records.record_id(r)} (not the paper's setup: {diff})",
                  file=sys.stderr)
    if n := sum(map(records.intervened, others)):
        print(f"grokkit: not read by the verdicts: {n} intervention record(s) (the interventions chapter reads them)",
              file=sys.stderr)


def cmd_events(a) -> int:
    """Every run's events (grokkit.events at the claims' default thresholds): a block per run, or --json."""
    import json

    from . import claims, records
    from .events import as_dict, events, unit
    from .fmt import num

    folder = records.results_folder(a.results, must_exist=True)
    if not records.list_records(folder):
        return _no_records(folder)
    runs, skipped = _read_all(folder)
    det = claims.detector()
    if a.json:
        out = [{"id": records.record_id(r), "label": events(r, det).label, "config": records.config_fields(r),
                **as_dict(events(r, det))} for r in runs]
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return _skipped_status(skipped)
    print(f"{len(runs)} record(s) in {folder}")
    for r in runs:
        d = as_dict(events(r, det))
        print(f"\n{events(r, det).label}: {d['phase']}")
        for name, ev in d["events"].items():
            v, u = ev["value"], unit(name)
            text = f"step {v:,}" if u == "step" and v is not None else num(v, u)
            print(f"  {name.replace('_', ' ')}: {text}")
    return _skipped_status(skipped)


def cmd_export(a) -> int:
    """The data behind the figures: one long-format file per record (grokkit.export)."""
    from .export import export_records
    from .records import list_records, results_folder

    folder = results_folder(a.results, must_exist=True)
    if not list_records(folder):
        return _no_records(folder)
    written, problems = export_records(folder, a.out, a.format, a.bom)
    for msg in problems:
        print(f"grokkit: skipped {msg}", file=sys.stderr)
    print(f"export: {len(written)} record(s) -> {a.out}/ ({a.format})")
    return 1 if problems else 0


def main(argv=None) -> int:
    """The command line. Exit codes: 0 done; 1 failed (a run or a job, a file that could not be read or written,
    a record that is not this user's to replace, no records found); 2 bad parameters or a folder that is not there;
    3 a diverged run; 130 stopped by Ctrl-C. Every error is one line on stderr. A reader that closes the pipe
    (`| head`) ends any command quietly, with exit code 0."""
    try:
        try:
            return _main(argv)
        finally:
            sys.stdout.flush()  # here, not at exit (also after argparse's --help): a closed pipe is ours to handle
    except BrokenPipeError:
        _silence_stdout()
        return 0


def _silence_stdout() -> None:
    """After the reader closed stdout: point it at devnull, so the interpreter's last flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m grokkit", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    results_help = ("folder of run records (relative: to the current folder; default: $GROKKIT_RESULTS, relative to "
                    "the project folder, else the project's results/; the project: $GROKKIT_HOME, else the clone "
                    "of grokkit you are in)")
    p = sub.add_parser("run", help="train one config (or load its record) and print the result")
    _cfg_args(p)
    p.add_argument("--results", type=_path, default=None, help=results_help)
    p.add_argument("--threads", type=_arg_type(int), default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("list", help="table of the run records")
    p.add_argument("--results", type=_path, default=None, help=results_help)
    p.set_defaults(fn=cmd_list)
    p = sub.add_parser("sweep", help="run the missing part of a grid of runs (several workers may run at once), "
                                     "or execute a book chapter over a grid of parameters")
    p.add_argument("what", metavar="grid|chapter",
                   help="a grid of runs: 'paper' (the paper's full-scale grid, sweep.paper_grid), 'interventions' "
                        "(the interventions chapter's eight runs, sweep.interventions_grid), "
                        "'pilots' (the runs that choose the penalty strengths, sweep.pilot_grid), "
                        "'pilots_gradient' (their second round, the penalty scaled to the fit's gradient); or a "
                        "chapter of book/ (e.g. depth), run with papermill")
    p.add_argument("--grid", nargs="+", default=[], metavar="NAME=V1,V2",
                   help="chapter parameters to sweep, e.g. depth=4,8,12 weight_decay=0.005,0.05")
    p.add_argument("--param", nargs="+", default=[], metavar="NAME=VALUE",
                   help="chapter parameters fixed for every grid point, e.g. train_missing=True")
    p.add_argument("--out", type=_path, default=None,
                   help="chapters: folder of the executed chapters (default: runs/): "
                        "<chapter>_d{depth}_wd{weight_decay}.ipynb, and the CSVs behind their figures in "
                        "<chapter>_d{depth}_wd{weight_decay}_static/")
    p.add_argument("--book", type=_path, default=None,
                   help="chapters: their folder (default: ./book, else the project's book/)")
    p.add_argument("--results", type=_path, default=None, help=results_help + "; a chapter reads its records from it")
    p.add_argument("--device", type=_arg_type(str), default=None, help=RULES["device"].help + "; " + describe("device"))
    p.add_argument("--threads", type=_arg_type(int), default=0, help="torch CPU threads (of a chapter's kernel too)")
    p.add_argument("--quiet", action="store_true")
    _sweep_job_args(p)
    p.set_defaults(fn=cmd_sweep)
    p = sub.add_parser("bench", help="grokkit vs an authors'-style loop vs the matmul roofline (ratios)")
    p.add_argument("--depth", type=_arg_type(int), default=12)
    p.add_argument("--n-train", type=_arg_type(int), default=5000)
    p.add_argument("--steps", type=_arg_type(int), default=None, help="training steps timed per loop (default 200)")
    p.add_argument("--threads", type=_arg_type(int), default=0)
    p.add_argument("--json", type=_path, default=None, help="also write the numbers here")
    p.add_argument("--workers", type=_arg_type(int), default=0, metavar="P",
                   help="instead: P single-thread processes vs one process with P threads, aggregate training "
                        "steps/s over one shared 20 s window (--threads and --steps do not apply)")
    p.set_defaults(fn=cmd_bench)
    p = sub.add_parser("scoreboard", help="the 15 claims graded on the run records (robustness-checked, all seeds)")
    p.add_argument("--results", type=_path, default=None, help=results_help)
    p.add_argument("--json", action="store_true",
                   help="one JSON object per claim: claim, grade, robust, text, measures, robustness")
    p.set_defaults(fn=cmd_scoreboard)
    p = sub.add_parser("events", help="every run's measured events (onsets, surges, rank descents, tunnel), "
                                      "each with its unit")
    p.add_argument("--results", type=_path, default=None, help=results_help)
    p.add_argument("--json", action="store_true",
                   help="a list of objects, one per record: id (its file name without .npz, unique), label (the "
                        "book's name, shared by a 10,000-step pilot and its full-scale run), config (every field "
                        "that decides the run: steps, dtype, norm_clamp, rank_penalty, ...), events "
                        "(name -> {value, unit})")
    p.set_defaults(fn=cmd_events)
    p = sub.add_parser("gpu-check", help="check the GPU path against the CPU (CPU vs GPU, eager vs graphed, batched "
                                         "vs single) and time it; writes bench/gpu_<name>.json; exit 2 without CUDA")
    p.add_argument("--out", type=_path, default="bench", help="folder of the JSON report")
    p.set_defaults(fn=cmd_gpu_check)
    p = sub.add_parser("export", help="the records as long tables (one row per run, step, quantity, layer): "
                                      "one CSV or JSON file per record")
    p.add_argument("--results", type=_path, default=None, help=results_help)
    p.add_argument("--format", default="csv", choices=["csv", "json"])
    p.add_argument("--out", type=_path, default="export", help="folder of the files, named like the records")
    p.add_argument("--bom", action="store_true",
                   help="CSV: start each file with a UTF-8 byte-order mark, so spreadsheets (Excel) read γ correctly")
    p.set_defaults(fn=cmd_export)
    a = ap.parse_args(argv)
    try:
        _counts(a)
        return a.fn(a)
    except KeyboardInterrupt:  # Ctrl-C: one line, no traceback (`run` says how it resumes, cmd_run)
        print(f"grokkit: {a.cmd} stopped (Ctrl-C)", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError) as e:  # bad parameters or data: one line, no traceback
        print(f"grokkit: {e}", file=sys.stderr)
        from .records import RecordError

        return 1 if isinstance(e, RecordError) else 2  # a record that could not be used is a file, not a parameter
    except BrokenPipeError:
        raise
    except OSError as e:  # a full disk, no permission: one line naming the file (atomic writes leave no partial one)
        print(f"grokkit: {e.filename}: {e.strerror}" if e.filename and e.strerror else f"grokkit: {e}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
