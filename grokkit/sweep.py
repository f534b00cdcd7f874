"""Grids of configs: the paper's full-scale grid, run in priority order, skipping finished records.

Several `python -m grokkit sweep paper` processes can run at once: each config is claimed with a
non-blocking file lock, so two workers never train the same run, and an interrupted run resumes
from its checkpoint.

The book's side: `chapter_run` (the record a chapter shows, or a labelled smoke-scale stand-in),
`check_params` (papermill parameters of a chapter) and `run_chapter` (a chapter executed over a grid).
"""
from __future__ import annotations

import contextlib
import difflib
import itertools
import os
import tempfile
import types
from pathlib import Path

from .config import RunConfig, check, describe, env_path, parse_value, smoke, smoke_config
from .records import REPO, RecordError, Run, load, record_path, results_folder
from .train import load_or_train

# The paper's grid: width 400, α = 8, lr 1e-3, batch 200, 1e5 steps, and the records' evaluation schedule (rank at
# every log point, probes at the paper's 3335 steps): RunConfig's defaults, the one definition of the paper's run.
PAPER_BASE = RunConfig()


def paper_grid() -> list[RunConfig]:
    """Ordered by what the claims need first: Fig 2a-c, Fig 2d-f, Fig 1a and its float64 twin (the dtype decision
    of the speed issue), the d=12 weight-decay phases (claims 11-13), the seed bands at every depth (is the d=12
    N=7000 run's long stretch at a constant predictor one seed's accident?), the explorer's d=8/4 weight-decay runs,
    then a second seed of claim 5's runs (is the rank descent's lag the seed's or the setup's?)."""
    b = PAPER_BASE
    grid = [b.replace(depth=d, n_train=5000) for d in (12, 8, 4)]                               # Fig 2a-c, 3
    grid += [b.replace(depth=d, n_train=7000) for d in (12, 8, 4)]                              # Fig 2d-f, 4, 1c, 5
    grid += [b.replace(depth=12, n_train=2000, dtype=dt) for dt in ("float32", "float64")]      # Fig 1a, 6; dtype pair
    grid += [b.replace(depth=12, n_train=2000, weight_decay=wd) for wd in (0.005, 0.05)]         # Fig 6
    grid += [b.replace(depth=12, n_train=5000, weight_decay=wd) for wd in (0.005, 0.05)]         # Fig 7 (claim 12)
    grid += [b.replace(depth=d, n_train=7000, seed=s) for s in (1, 2) for d in (4, 8, 12)]       # seed bands
    grid += [b.replace(depth=d, n_train=5000, weight_decay=wd) for wd in (0.005, 0.05) for d in (8, 4)]  # Fig 7
    grid += [b.replace(depth=12, n_train=n, seed=1) for n in (2000, 5000)]                     # claim 5 on seed 1
    return grid


GRIDS = {"paper": paper_grid}


def missing(configs, results_dir=None) -> list[RunConfig]:
    return [c for c in configs if not record_path(c, results_dir).exists()]


# ---- how the book's chapters get their runs ----------------------------------------------------------------
# Run records are the source of truth: a fresh clone builds the HTML offline from results/; smoke mode sends its
# records to a temporary folder, never into results/.
def smoke_dir() -> Path:
    """Where smoke-scale runs live: $GROKKIT_SMOKE_DIR (relative: to the repository root), else <tmp>/grokkit-smoke
    -- never results/."""
    return env_path("GROKKIT_SMOKE_DIR") or Path(tempfile.gettempdir()) / "grokkit-smoke"


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


def paper_config(depth: int, n_train: int, weight_decay: float, steps: int = 100_000, seed: int = 0,
                 device: str = "auto") -> RunConfig:
    """A point of the paper's setup (PAPER_BASE): what the chapters ask chapter_run for."""
    return PAPER_BASE.replace(depth=depth, n_train=n_train, weight_decay=weight_decay, steps=steps, seed=seed,
                              device=device)


def is_stand_in(run: Run) -> bool:
    return bool(run.meta.get("stand_in"))


# ---- chapter parameters (papermill) ---------------------------------------------------------------------------
# Every chapter has a literal-only cell tagged `parameters`; papermill injects an `injected-parameters` cell
# after it. The next cell calls check_params(globals(), NAMES) so a misspelled or out-of-range parameter fails
# at once, with one line, instead of silently running the defaults.
PARAMS = {  # chapter parameter -> (the RunConfig field whose RULES bound it, takes a list); None: True/False
    "depth": ("depth", True),
    "n_train": ("n_train", True),
    "weight_decay": ("weight_decay", True),
    "explore_depth": ("depth", True),          # the explorer's grid: depth x weight decay at explore_n_train
    "explore_weight_decay": ("weight_decay", True),
    "explore_n_train": ("n_train", False),
    "phase_depth": ("depth", False),           # multistage: the weight-decay phases (Fig 6/7)
    "phase_n_train": ("n_train", True),
    "phase_weight_decay": ("weight_decay", True),
    "band_depth": ("depth", True),             # multistage: the depths with extra seeds, and the seeds
    "band_seeds": ("seed", True),
    "steps": ("steps", False),
    "seed": ("seed", False),
    "device": ("device", False),
    "train_missing": (None, False),
}
_KERNEL_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}


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
        for x in items:
            check(field, x)
    except ValueError:
        raise ValueError(f"parameter {name}={value!r}: must be {describe(field, many)}") from None
    return items if many else items[0]


def check_params(namespace: dict, names) -> dict:
    """Validate a chapter's parameters (its globals right after the parameters cells): any other name is a
    misspelling, every value must be in range. Returns the normalised values (lists for the list kinds);
    the chapter does `globals().update(check_params(globals(), NAMES))`. Raises a one-line ValueError."""
    names = tuple(names)
    unknown = sorted(k for k, v in namespace.items() if k not in names and not k.startswith("_")
                     and k not in _KERNEL_NAMES and not isinstance(v, types.ModuleType))
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
    """book/<chapter>.ipynb: `book` if given, else ./book when it exists, else the repository's book/."""
    book = Path(book) if book else (Path("book") if Path("book").is_dir() else REPO / "book")
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


def execute_chapter(src, dest, parameters=None, results=None, threads=0) -> None:
    """Execute one chapter with papermill, in its folder, with this interpreter's kernel. `results`: the folder of
    run records the chapter reads (GROKKIT_RESULTS, absolute, for its kernel; it must exist); `threads`: the
    kernel's torch CPU threads (OMP_NUM_THREADS; 0 = torch's default). Raises papermill's PapermillExecutionError."""
    import papermill as pm

    env = {"GROKKIT_RESULTS": results_folder(results, must_exist=True) if results is not None else None,
           "OMP_NUM_THREADS": threads or None}
    with _environ(**env):
        pm.execute_notebook(str(src), str(dest), parameters=parameters or {}, cwd=str(Path(src).parent),
                            progress_bar=False, kernel_manager_class=current_env_kernel_manager())


def run_chapter(chapter: str, grid: dict, out="runs", params=None, book=None, progress=True, results=None,
                threads=0) -> tuple[list, list]:
    """Execute book/<chapter>.ipynb with papermill at every point of `grid` (plus the fixed `params`),
    into out/<chapter>_d{depth}_wd{weight_decay}.ipynb; a point whose output exists is skipped. A failed
    point leaves <name>.failed.ipynb for inspection. `results`, `threads`: see execute_chapter. Returns (written,
    failed) paths."""
    import papermill as pm
    from tqdm.auto import tqdm

    src = chapter_path(chapter, book)
    if results is not None:
        results_folder(results, must_exist=True)  # before any output is written
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    points = [dict(zip(grid, vals)) for vals in itertools.product(*grid.values())] if grid else [{}]
    written, failed = [], []
    bar = tqdm(points, desc=f"sweep {chapter}", unit="notebook", disable=not progress)
    for point in bar:
        dest = out / output_name(chapter, point)
        if dest.exists():
            bar.write(f"  {dest}: exists, skipped")
            continue
        tmp = dest.with_name(f".{dest.name}.tmp.ipynb")
        try:
            execute_chapter(src, tmp, {**(params or {}), **point}, results, threads)
        except pm.PapermillExecutionError as e:
            bad = dest.with_suffix(".failed.ipynb")
            os.replace(tmp, bad)
            bar.write(f"  {dest.name}: FAILED -- {e.ename}: {e.evalue} (see {bad})")
            failed.append(bad)
            continue
        os.replace(tmp, dest)
        written.append(dest)
    return written, failed
