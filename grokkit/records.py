"""Run records: one `.npz` per config (histories, not weights), keyed by the config's stable id.

`results/<name>-<id>.npz` holds every history array plus `__meta__` (JSON: config, library versions,
device, dtype, wall time, divergence) and `__checksum__` (sha256 over all of it). Writes are atomic
(temp file + os.replace) and give new files the mode the umask gives (as `touch` does), so a group-shared results
folder works; loads use `allow_pickle=False` and verify the checksum and format version. A file this user may
not read raises PermissionError, never RecordError: it is not corrupt, and is never retrained or replaced. A record
that is not this user's to replace (ForeignRecord: another format version, a valid record of another config under
this config's file name, another user's damaged record) is skipped by readers and never retrained over or replaced
by writers (`check_replaceable`, called by `save` and before any training).
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import RunConfig, env_path, home, user_path
from .folders import RESULTS, lock_unusable, other_owner, unusable

FORMAT = 1  # bump when the layout changes; older records then get a clear message


def results_folder(folder=None, must_exist: bool = False) -> Path:
    """The folder of run records, absolute: `folder` when given (a path the caller typed: relative to the current
    folder), else $GROKKIT_RESULTS (relative to the project folder, config.home(), so that it means the same folder
    from the project's root and from book/, where the chapters run), else the project's results/. With neither a
    folder named nor a project folder found, FileNotFoundError (config.home: one line, with the fix).

    A folder named explicitly (`folder` or $GROKKIT_RESULTS) that does not exist raises FileNotFoundError naming
    its absolute path when `must_exist` (readers: a typo must not pass as "no record shipped")."""
    if folder is not None:  # `~` expanded as a shell would (a quoted '~/res', a chapter's results_dir)
        path, named = user_path(folder, "--results"), f"results folder {folder}"
    elif env_path("GROKKIT_RESULTS"):
        path, named = env_path("GROKKIT_RESULTS"), f"GROKKIT_RESULTS={os.environ['GROKKIT_RESULTS']}"
    else:
        return home() / "results"
    if path.exists() and not path.is_dir():
        raise ValueError(f"{named}: {path} is not a folder; name the folder that holds the records")
    if must_exist and not path.is_dir():
        raise FileNotFoundError(f"{named}: {path} does not exist (GROKKIT_RESULTS is relative to the project "
                                f"folder, GROKKIT_HOME or the clone you are in; --results to the current folder)")
    return path


class RecordError(ValueError):
    """A record that is corrupt, truncated, of another format version, or not for this config."""


class ForeignRecord(RecordError):
    """A record that is not this user's to replace: `why` is "format" (written by a grokkit of another record format,
    older or newer), "config" (a valid record of another config under this config's file name) or "owner" (another
    user's damaged record). Readers skip it like any RecordError; writers stop: it is never retrained over or
    replaced (`check_replaceable`)."""

    def __init__(self, message: str, why: str):
        super().__init__(message)
        self.why = why


@dataclass
class Run:
    config: RunConfig
    history: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def diverged(self) -> bool:
        return self.meta.get("diverged_at") is not None

    def final(self, key: str) -> float:
        return float(self.history[key][-1])


def record_path(config: RunConfig, results_dir=None) -> Path:
    """results_dir/<name>-<id>.npz (results_dir: default results_folder())."""
    return results_folder(results_dir) / f"{config.name}-{config.id}.npz"


def same_name(config: RunConfig, results_dir=None) -> list[tuple[Path, dict | OSError]]:
    """Records in `results_dir` with `config`'s name but another id (other configs' files), each with the fields that
    differ: {field: (the record's value, config's value)} over the resolved identity (the name omits the schedule);
    one this user may not read comes with its OSError instead (it is another config's file: it blocks nothing).
    Damaged records are left out."""
    mine, out = config.identity(), []
    for path in sorted(results_folder(results_dir).glob(f"{config.name}-*.npz")):
        if path.name == record_path(config, results_dir).name:
            continue
        try:
            theirs = load(path).config.identity()
        except RecordError:
            continue
        except OSError as e:  # another user's record, or gone since the listing
            if not isinstance(e, FileNotFoundError):
                out.append((path, e))
            continue
        out.append((path, {k: (theirs.get(k), v) for k, v in mine.items() if theirs.get(k) != v}))
    return out


def _checksum(arrays: dict[str, np.ndarray], meta_json: str) -> str:
    h = hashlib.sha256(meta_json.encode())
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode())
        h.update(str(a.dtype).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def umask() -> int:
    """The process's umask (read without changing it where /proc says it; else set and restored at once)."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open("/proc/self/status") as f:
            return int(next(line for line in f if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write) -> None:
    """write(f) into a temp file beside `path`, fsync, then os.replace: readers see the old file or the
    whole new one, never half of it; the temp file is removed if anything fails. The new file gets the mode a
    plain `open(path, "w")` gives it (0666 less the umask), not mkstemp's private 0600. An OSError (a full disk,
    no permission) is raised naming `path` (e.filename), whatever call failed."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            if os.name == "posix":
                os.fchmod(f.fileno(), 0o666 & ~umask())
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if isinstance(e, OSError) and e.errno is not None and e.filename != str(path):
            raise OSError(e.errno, e.strerror, str(path)) from e  # the subclass by errno: PermissionError, ...
        raise


def save(run: Run, results_dir=None) -> Path:
    """Write `run`'s record atomically to record_path; a file there that is not this user's to replace raises
    (`check_replaceable`) and is left as it is."""
    path = record_path(run.config, results_dir)
    check_replaceable(path, run.config)
    meta = dict(run.meta, format=FORMAT, config=run.config.identity(), config_id=run.config.id,
                name=run.config.name)
    meta_json = json.dumps(meta, sort_keys=True)
    arrays = {k: np.asarray(v) for k, v in run.history.items()}
    atomic_write(path, lambda f: np.savez(f, __meta__=np.array(meta_json),
                                          __checksum__=np.array(_checksum(arrays, meta_json)), **arrays))
    run.path, run.meta = path, meta
    return path


def load(path, config: RunConfig | None = None) -> Run:
    """Load and verify one record; any damage raises RecordError naming the file (and so does a record
    that is not for `config`, when given). A file that cannot be opened (PermissionError: another user's record;
    FileNotFoundError) raises that OSError: it says nothing about the record's content."""
    path = Path(path)
    with open(path, "rb") as fh:
        try:
            with np.load(fh, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except OSError:  # the file could not be read (an I/O or permission error), not a damaged record
            raise
        except Exception as e:  # BadZipFile, truncated member, zlib error, pickled content...
            raise RecordError(f"{path}: unreadable record ({type(e).__name__}: {e})") from None
    if "__meta__" not in data or "__checksum__" not in data:
        raise RecordError(f"{path}: not a grokkit record (no __meta__/__checksum__)")
    meta_json = str(data.pop("__meta__"))
    stored = str(data.pop("__checksum__"))
    try:
        meta = json.loads(meta_json)
        fmt = meta.get("format")
    except (ValueError, AttributeError):
        meta, fmt = None, None
    if meta is not None and fmt != FORMAT:  # before the checksum: another format may checksum differently
        raise ForeignRecord(f"{path}: written by another grokkit version (record format {fmt}; this grokkit reads "
                            f"format {FORMAT}); read it with that version -- grokkit never retrains over it",
                            "format")
    if _checksum(data, meta_json) != stored or meta is None:
        raise RecordError(f"{path}: checksum mismatch -- the record is corrupt; delete it to retrain")
    try:
        run_config = RunConfig.from_dict(dict(meta["config"]))
    except (KeyError, TypeError, ValueError) as e:
        raise RecordError(f"{path}: invalid config in record ({type(e).__name__}: {e})") from None
    if config is not None and run_config.id != config.id:  # e.g. a file renamed or copied by hand
        raise ForeignRecord(f"{path}: a valid record, but it is for config {run_config.id}, not {config.id}; "
                            f"rename it to {run_config.name}-{run_config.id}.npz -- grokkit never retrains over it",
                            "config")
    return Run(config=run_config, history=data, meta=meta, path=path)


def check_replaceable(path, config: RunConfig) -> None:
    """Raise ForeignRecord when the file at `path` is a record that is not this user's to replace: of another format
    version, a valid record of another config, or another user's damaged record. Nothing there, this config's own
    valid record and this user's damaged one pass; a file this user may not read raises its OSError (never
    replaced)."""
    try:
        load(path, config)
    except FileNotFoundError:
        return
    except ForeignRecord:
        raise
    except RecordError as e:
        who = other_owner(path)
        if who is not None:
            raise ForeignRecord(f"{path}: a damaged record of another user ({who}): {str(e).split(': ', 1)[-1]}; "
                                f"ask them to delete it, or give another results folder -- grokkit never replaces "
                                f"it", "owner") from None


def list_records(results_dir=None) -> list[Path]:
    return sorted(results_folder(results_dir).glob("*.npz"))


def lock_path(config: RunConfig, results_dir=None) -> Path:
    """The file `lock` locks: <results>/.locks/<id>.lock (on POSIX left in place after the lock is released; on
    Windows the filelock library removes it)."""
    return results_folder(results_dir) / ".locks" / f"{config.id}.lock"


@contextlib.contextmanager
def lock(config: RunConfig, results_dir=None, blocking: bool = True):
    """An inter-process lock per config id: one trainer per config. Yields True when held; with
    blocking=False yields False at once if another process holds it. POSIX: fcntl.flock on
    <results>/.locks/<id>.lock (released by the kernel when the process dies; the lock file is created with the
    umask's mode and opened read-only when it is another user's); where there is no fcntl (Windows), the
    `filelock` library's lock on the same file. A lock that cannot be taken (.locks not writable and no lock file
    yet; on NFS, another user's lock file that is read-only here) is one OSError line naming the file and the fix."""
    path = lock_path(config, results_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise unusable(path.parent, RESULTS, e) from None
    try:
        import fcntl
    except ImportError:  # Windows
        fcntl = None
    if fcntl is None:
        import filelock

        flock = filelock.FileLock(str(path), timeout=-1 if blocking else 0)
        try:
            flock.acquire()
        except filelock.Timeout:
            yield False
            return
        try:
            yield True
        finally:
            flock.release()
        return
    try:
        f = open(path, "a")
    except OSError as e:  # another user's lock file, or a read-only folder: a local flock needs only a readable one
        if not path.exists():  # .locks is not writable here: say so, not "No such file or directory"
            raise unusable(path.parent, RESULTS, e) from None
        f = open(path)
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        except OSError as e:  # NFS: an exclusive lock on a file open read-only is EBADF
            raise lock_unusable(path, e) from None
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# ---- record selection: which record stands for which paper configuration ------------------------------------
def load_all(results_dir=None, warn=print) -> list[Run]:
    """Every readable record in results_dir; a corrupt one, or one this user may not read, is skipped with a
    one-line warning that says which."""
    runs = []
    for p in list_records(results_dir):
        try:
            runs.append(load(p))
        except RecordError as e:
            warn(f"grokkit: skipping {e}")
        except OSError as e:
            warn(f"grokkit: skipping {p}: {e.strerror or e} (not read; the file is not corrupt)")
    return runs


def stands_for(run: Run) -> dict:
    """The config (identity dict) a run stands for: a smoke-scale stand-in records it in
    meta['stands_for_config'] (its own n_train and width are shrunk); a record stands for itself."""
    return run.meta.get("stands_for_config") or run.config.identity()


def record_id(run: Run) -> str:
    """The run's unique name: its record's file name without ".npz", "<name>-<id>" (e.g.
    "d12_w400_n5000_a8_wd0.01_s0_t10000-bf39eb7ccc", a 10,000-step pilot, which the book labels like the full-scale
    run "d12_w400_n5000_a8_wd0.01_s0-2ac5723cc6"); for a run not loaded from a file, the name record_path would
    give it."""
    return run.path.stem if run.path is not None else f"{run.config.name}-{run.config.id}"


def config_fields(run: Run) -> dict:
    """Every RunConfig field that decides the run, in field order, of the config it stands for (`stands_for`): the
    fields of RunConfig.identity() (all but device and checkpoint_every, which a record does not keep; the schedules
    resolved, e.g. log_every 667 at 10⁵ steps), with the fields identity() leaves out at their defaults written out
    (n_test, norm_clamp "none", rank_penalty 0.0, rank_penalty_kind "none", rank_penalty_scale "loss")."""
    from dataclasses import fields

    from .config import LATER_DEFAULTS

    c = {**LATER_DEFAULTS, **stands_for(run)}
    return {f.name: c[f.name] for f in fields(RunConfig) if f.name in c}


def is_stand_in(run: Run) -> bool:
    """A smoke-scale stand-in (grokkit.chapters.stand_in): its meta says so and names the config it stands for."""
    return bool(run.meta.get("stand_in"))


def full_scale(run: Run) -> bool:
    from .config import FULL_STEPS, FULL_WIDTH

    c = run.config
    return c.steps == FULL_STEPS and c.width == FULL_WIDTH and not is_stand_in(run)


def intervened(run: Run) -> bool:
    """A run with an intervention beyond the paper: a norm clamp, a rank penalty, a reset of the output scale or a
    rank cut (its identity names the intervention fields, which a paper run's identity leaves out), or another
    initialization scale α than the paper's (the second round's low start)."""
    from .config import INTERVENTION_DEFAULTS

    c = stands_for(run)
    return any(k in c for k in INTERVENTION_DEFAULTS) or c.get("alpha", RunConfig.alpha) != RunConfig.alpha


@functools.cache
def paper_id(depth: int, n_train: int, weight_decay: float, dtype: str, seed: int) -> str:
    """The config id of one point of the paper's setup (RunConfig's defaults: width 400, α = 8, lr 1e-3, batch 200,
    10⁵ steps, the records' evaluation schedule) with this depth, N, γ, dtype and seed."""
    return RunConfig(depth=depth, n_train=n_train, weight_decay=weight_decay, dtype=dtype, seed=seed).id


def stands_for_id(run: Run) -> str:
    """The config id of what the run stands for (`stands_for`): its own id, or for a stand-in the id of the
    full-scale config it stands for. Kept on the run (record selection asks for it thousands of times)."""
    i = run.__dict__.get("_stands_for_id")
    if i is None:
        c = run.meta.get("stands_for_config")
        i = run.config.id if c is None else hashlib.sha1(json.dumps(c, sort_keys=True).encode()).hexdigest()[:10]
        run.__dict__["_stands_for_id"] = i
    return i


def paper_run(run: Run) -> bool:
    """Is the run (or what a stand-in stands for) exactly a point of the paper's setup (`paper_id`)? The only runs
    the verdicts read."""
    c = run.meta.get("stands_for_config") or run.config.identity()
    return stands_for_id(run) == paper_id(c["depth"], c["n_train"], c["weight_decay"], c["dtype"], c["seed"])


def off_paper_fields(run: Run) -> dict[str, tuple]:
    """Where a run that is not a paper run differs from the paper's setup with its depth, N, γ, dtype and seed:
    {field: (its value, the paper's)}, steps and α included (grokkit.config.off_paper); {} for a paper run."""
    from .config import FULL_STEPS, off_paper

    c = stands_for(run)
    paper = RunConfig()
    out = {k: (c[k], v) for k, v in (("steps", FULL_STEPS), ("alpha", paper.alpha)) if c[k] != v}
    return out | off_paper(c)


def seeds_of(runs, depth: int, n_train: int, weight_decay: float = 0.01, dtype: str = "float32") -> list[Run]:
    """Every recorded seed of one paper configuration, in seed order: the runs whose config is exactly the paper's
    (`paper_id`: every field that decides the run, so never an intervention, a shorter pilot, another batch size or
    evaluation schedule) with this depth, N, γ and dtype; one per seed, a full-scale record before a smoke-scale
    stand-in of the same config."""
    best = {}
    for r in runs:
        c = r.meta.get("stands_for_config") or r.config
        seed = c["seed"] if isinstance(c, dict) else c.seed
        if stands_for_id(r) != paper_id(depth, n_train, weight_decay, dtype, seed):
            continue
        key = (not full_scale(r), r.diverged)
        if seed not in best or key < best[seed][0]:
            best[seed] = (key, r)
    return [best[s][1] for s in sorted(best)]


def pick(runs, depth: int, n_train: int, weight_decay: float = 0.01, dtype: str = "float32", seed: int = 0):
    """The record of one paper configuration and seed, or None."""
    return next((r for r in seeds_of(runs, depth, n_train, weight_decay, dtype) if stands_for(r)["seed"] == seed),
                None)


# ---- the shipped records as the book reads them -----------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def loaded(folder: str) -> tuple:
    """Every readable record of `folder` (load_all), loaded once per process: `loaded.cache_clear()` forgets them."""
    return tuple(load_all(folder))


def paper_records() -> list:
    """Every shipped full-scale record ($GROKKIT_RESULTS or the repository's results/), loaded once per kernel."""
    return list(loaded(str(results_folder(must_exist=True))))


def with_seeds(runs) -> list:
    """For each run, every recorded seed of its configuration (a list of Runs, seed order): a figure of a
    configuration with several seeds draws all of them. Only a shipped seed is replaced by its siblings (its config
    id is among theirs); a stand-in, a reader's own run (other steps, seed, ...) or a run without other seeds stays
    alone."""
    out = []
    for r in runs:
        c = stands_for(r)
        same = [] if is_stand_in(r) else seeds_of(paper_records(), c["depth"], c["n_train"], c["weight_decay"],
                                                  c["dtype"])
        shipped = len(same) > 1 and r.config.id in {s.config.id for s in same}
        out.append(same if shipped else [r])
    return out
