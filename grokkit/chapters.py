"""How the book's chapters get their runs (a record, a run trained on request, or a smoke-scale stand-in), their
parameters (papermill's `parameters` cell, checked in one line), and a chapter executed over a grid of parameters
with papermill (`python -m grokkit sweep <chapter> --grid ...`)."""
from __future__ import annotations

import contextlib
import difflib
import itertools
import os
import tempfile
import types
from pathlib import Path

from .config import RunConfig, checked, describe, env_path, home, parse_value, smoke, smoke_config
from .folders import writable
from .records import RecordError, Run, load, record_path, results_folder
from .sweep import GRIDS, PAPER_BASE, load_or_train_many
from .train import load_or_train


# ---- how the book's chapters get their runs ----------------------------------------------------------------
# Run records are the source of truth: a fresh clone builds the HTML offline from results/; smoke mode sends its
# records to a temporary folder, never into results/.
def smoke_dir() -> Path:
    """Where smoke-scale runs live: $GROKKIT_SMOKE_DIR (relative: to the project folder), else
    <tmp>/grokkit-smoke-<user>, each user's own (a shared one would hold another user's locks) -- never results/."""
    return env_path("GROKKIT_SMOKE_DIR") or Path(tempfile.gettempdir()) / f"grokkit-smoke-{_user()}"


def _user() -> str:
    """This user's login name (getpass), else the numeric user id; only letters, digits, '.', '_', '-' kept."""
    import getpass
    import re

    try:
        name = getpass.getuser()
    except (OSError, KeyError, ImportError):
        name = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) or "user"


def stand_in(config: RunConfig) -> Run:
    """The smoke-scale version of `config` (smoke_config: seconds on a CPU), loaded or trained in smoke_dir().
    Its meta says so: stand_in=True, stands_for=<the full-scale name> (and its config), for titles and prose."""
    run = load_or_train(smoke_config(config), smoke_dir(), progress=False)
    run.meta.update(stand_in=True, stands_for=config.name, stands_for_config=config.identity())
    return run


def chapter_run(config: RunConfig, results_dir=None, train_missing: bool = False) -> Run:
    """The run a chapter shows for `config`.

    GROKKIT_SMOKE=1: always the smoke-scale stand-in. Otherwise the full-scale record from `results_dir`
    (default: records.results_folder(): $GROKKIT_RESULTS, else the repository's results/) when present; else train
    it when `train_missing`; else the stand-in, marked run.meta['stand_in'] = True ("smoke-scale stand-in -- the
    full-scale record is not shipped yet"). A folder named explicitly that does not exist is a FileNotFoundError
    naming its absolute path, never a stand-in.
    """
    if smoke():
        return stand_in(config)
    folder = results_folder(results_dir, must_exist=True)
    if train_missing:
        return load_or_train(config, folder, progress=True)
    path = record_path(config, folder)
    if path.exists():
        try:
            return load(path)
        except RecordError as e:  # never retrain a full-scale run behind the reader's back
            print(f"grokkit: {e}; showing the smoke-scale stand-in")
    return stand_in(config)


def chapter_runs(configs, results_dir=None, train_missing: bool = False) -> list[Run]:
    """`chapter_run` for each of `configs`; with `train_missing` (and not in smoke mode) the missing full-scale runs
    are trained by load_or_train_many, so on a GPU the missing runs of one depth train together (batched)."""
    if train_missing and not smoke():
        return load_or_train_many(configs, results_folder(results_dir, must_exist=True))
    return [chapter_run(c, results_dir) for c in configs]


def paper_config(depth: int, n_train: int, weight_decay: float, steps: int = 100_000, seed: int = 0,
                 device: str = "auto") -> RunConfig:
    """A point of the paper's setup (PAPER_BASE): what the chapters ask chapter_run for."""
    return PAPER_BASE.replace(depth=depth, n_train=n_train, weight_decay=weight_decay, steps=steps, seed=seed,
                              device=device)


# ---- chapter parameters (papermill) ---------------------------------------------------------------------------
# Every chapter has a literal-only cell tagged `parameters`; papermill injects an `injected-parameters` cell
# after it. The next cell calls check_params(globals(), NAMES) so a misspelled or out-of-range parameter fails
# at once, with one line, instead of silently running the defaults.
PARAMS = {  # chapter parameter -> (the RunConfig field whose RULES bound it, takes a list); None: True/False
    "depth": ("depth", True),
    "n_train": ("n_train", True),
    "weight_decay": ("weight_decay", True),
    "explore_depth": ("depth", True),          # the explorer's grid: two of these three hold several values
    "explore_weight_decay": ("weight_decay", True),
    "explore_n_train": ("n_train", True),
    "phase_depth": ("depth", False),           # multistage: the weight-decay phases (Fig 6/7)
    "phase_n_train": ("n_train", True),
    "phase_weight_decay": ("weight_decay", True),
    "band_depth": ("depth", True),             # multistage: the depths with extra seeds, and the seeds
    "band_seeds": ("seed", True),
    "seeds": ("seed", True),                   # interventions: the intervention runs' seeds
    "steps": ("steps", False),
    "seed": ("seed", False),
    "device": ("device", False),
    "train_missing": (None, False),
}
_KERNEL_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}
PAPERMILL_PREFIX = "PAPERMILL_"  # papermill's own parameters: `--inject-paths` etc. add PAPERMILL_INPUT_PATH, ...


def _check_one(name: str, value):
    field, many = PARAMS[name]
    v = parse_value(value)
    if field is None:
        if not isinstance(v, bool):
            raise ValueError(f"parameter {name}={value!r}: must be True or False")
        return v
    items = list(v) if many and isinstance(v, (list, tuple)) else [v]
    try:
        if not items:
            raise ValueError("empty")
        items = [checked(field, x) for x in items]  # 1e5 -> 100000: the chapter's variable holds the int
    except ValueError:
        raise ValueError(f"parameter {name}={value!r}: must be {describe(field, many)}") from None
    return items if many else items[0]


def check_params(namespace: dict, names) -> dict:
    """Validate a chapter's parameters (its globals right after the parameters cells): any other name is a
    misspelling (except papermill's own PAPERMILL_* parameters, e.g. from `papermill --inject-paths`), every value
    must be in range. Returns the normalised values (lists for the list kinds);
    the chapter does `globals().update(check_params(globals(), NAMES))`. Raises a one-line ValueError."""
    names = tuple(names)
    unknown = sorted(k for k, v in namespace.items() if k not in names and not k.startswith("_")
                     and not k.startswith(PAPERMILL_PREFIX) and k not in _KERNEL_NAMES
                     and not isinstance(v, types.ModuleType))
    if unknown:
        close = difflib.get_close_matches(unknown[0], names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown parameter {unknown[0]!r}{hint}; this chapter takes: {', '.join(names)}")
    missing_ = [k for k in names if k not in namespace]
    if missing_:
        raise ValueError(f"parameter {missing_[0]!r} is not set; this chapter takes: {', '.join(names)}")
    return {k: _check_one(k, namespace[k]) for k in names}


# ---- executing a chapter over a grid (python -m grokkit sweep <chapter> --grid depth=4,8,12 ...) ---------------
ABBREV = {"depth": "d", "weight_decay": "wd", "n_train": "n", "seed": "s", "steps": "t"}


def chapter_path(chapter: str, book=None) -> Path:
    """book/<chapter>.ipynb: `book` if given, else ./book when it exists, else the project's book/ (config.home)."""
    book = Path(book) if book else (Path("book") if Path("book").is_dir() else home() / "book")
    path = book / f"{chapter}.ipynb"
    if not path.exists():
        have = sorted(p.stem for p in book.glob("*.ipynb"))
        raise ValueError(f"sweep: no chapter {chapter!r} in {book}/; chapters: {', '.join(have)}; "
                         f"grids: {', '.join(GRIDS)}")
    return path


def parse_grid(items) -> dict:
    """['depth=4,8,12', 'weight_decay=0.005,0.05'] -> {'depth': [4, 8, 12], 'weight_decay': [0.005, 0.05]}"""
    grid = {}
    for item in items or ():
        key, sep, vals = item.partition("=")
        if not sep or not key or not vals:
            raise ValueError(f"--grid: expected name=v1,v2,..., got {item!r}")
        v = parse_value(vals)
        grid[key] = v if isinstance(v, list) else [v]
    return grid


def output_name(chapter: str, point: dict) -> str:
    """runs/<chapter>_d{depth}_wd{weight_decay}.ipynb, in the grid's key order."""
    tags = "".join(f"_{ABBREV.get(k, k)}{v:g}" if isinstance(v, float) else f"_{ABBREV.get(k, k)}{v}"
                   for k, v in point.items())
    return f"{chapter}{tags}.ipynb"


def current_env_kernel_manager():
    """A jupyter_client kernel manager class whose kernel runs in this interpreter (sys.executable), whatever
    'python3' kernelspec comes first on the Jupyter path (what nbval's --nbval-current-env does for pytest)."""
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager
    from traitlets import default

    class ThisInterpreter(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return self.kernel_spec_class(resource_dir=RESOURCES, **get_kernel_dict())

    class CurrentEnvKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _this_interpreter(self):
            return ThisInterpreter()

    return CurrentEnvKernelManager


@contextlib.contextmanager
def _environ(**kv):
    """os.environ with `kv` set (None: left alone) while the block runs: what a kernel started in it inherits."""
    kv = {k: str(v) for k, v in kv.items() if v is not None}
    old = {k: os.environ.get(k) for k in kv}
    os.environ.update(kv)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute_chapter(src, dest, parameters=None, results=None, threads=0, static=None) -> None:
    """Execute one chapter with papermill, in its folder, with this interpreter's kernel. `results`: the folder of
    run records the chapter reads (GROKKIT_RESULTS, absolute, for its kernel; it must exist); `threads`: the
    kernel's torch CPU threads (OMP_NUM_THREADS; 0 = torch's default); `static`: where the chapter writes the CSVs
    behind its figures (GROKKIT_BOOK_STATIC; default grokkit.export.static_dir(), i.e. the book's _static when the
    chapter is in a book). Raises papermill's PapermillExecutionError."""
    import papermill as pm

    env = {"GROKKIT_RESULTS": results_folder(results, must_exist=True) if results is not None else None,
           "OMP_NUM_THREADS": threads or None, "GROKKIT_BOOK_STATIC": Path(static).absolute() if static else None}
    with _environ(**env):
        pm.execute_notebook(str(src), str(dest), parameters=parameters or {}, cwd=str(Path(src).parent),
                            progress_bar=False, kernel_manager_class=current_env_kernel_manager())


def run_chapter(chapter: str, grid: dict, out="runs", params=None, book=None, progress=True, results=None,
                threads=0) -> tuple[list, list]:
    """Execute book/<chapter>.ipynb with papermill at every point of `grid` (plus the fixed `params`),
    into out/<chapter>_d{depth}_wd{weight_decay}.ipynb; a point whose output exists is skipped when that notebook
    was made with the same parameters, and failed (left as it is) when it was made with others. A failed point
    leaves <name>.failed.ipynb for inspection. The CSVs behind each point's figures go to
    out/<name>_static/data/ (never into the book's _static: outputs go only where the user said). `results`,
    `threads`: see execute_chapter. Returns (written, failed, skipped) paths."""
    import papermill as pm

    from .train import progress_bar

    src = chapter_path(chapter, book)
    if results is not None:
        results_folder(results, must_exist=True)  # before any output is written
    out = writable(out, "--out")  # before any chapter runs (its outputs are written after it)
    points = [dict(zip(grid, vals)) for vals in itertools.product(*grid.values())] if grid else [{}]
    written, failed, skipped = [], [], []
    bar = progress_bar(total=len(points), desc=f"sweep {chapter}", unit="notebook", disable=not progress)
    tick = bar.update if bar is not None else (lambda k: None)
    for point in points:
        dest = out / output_name(chapter, point)
        if dest.exists():
            other = made_with_other(dest, {**(params or {}), **point})
            if other is None:
                print(f"  {dest}: exists with these parameters, skipped")
                skipped.append(dest)
            else:  # another user's or another sweep's notebook: never replaced, never counted as this sweep's
                print(f"  {dest}: FAILED -- exists, made with other parameters ({other}); move it aside or give "
                      f"another --out")
                failed.append(dest)
            tick(1)
            continue
        tmp = dest.with_name(f".{dest.name}.tmp.ipynb")
        try:
            execute_chapter(src, tmp, {**(params or {}), **point}, results, threads,
                            static=out / f"{dest.stem}_static")
        except pm.PapermillExecutionError as e:
            bad = dest.with_suffix(".failed.ipynb")
            os.replace(tmp, bad)
            print(f"  {dest.name}: FAILED -- {e.ename}: {e.evalue} (see {bad})")
            failed.append(bad)
            tick(1)
            continue
        os.replace(tmp, dest)
        written.append(dest)
        tick(1)
    if bar is not None:
        bar.close()
    return written, failed, skipped


def made_with_other(notebook, parameters: dict) -> str | None:
    """None when the executed chapter `notebook` was made with exactly `parameters` (papermill keeps them in its
    metadata); else where they differ, e.g. "steps = 100000 there, 2000 asked" (a notebook papermill did not make:
    "no parameters recorded")."""
    import json

    try:
        there = json.loads(Path(notebook).read_text(encoding="utf-8"))["metadata"]["papermill"]["parameters"]
    except (OSError, ValueError, KeyError, TypeError):
        return "no parameters recorded"
    asked = json.loads(json.dumps(parameters))  # as papermill stored them: tuples as lists
    keys = sorted(there.keys() | asked.keys())
    diff = [f"{k} = {there.get(k, 'unset')} there, {asked.get(k, 'unset')} asked" for k in keys
            if there.get(k) != asked.get(k)]
    return "; ".join(diff) or None
