"""grokkit in a group-shared folder (issue 46, kind 5): a results folder whose .locks or .checkpoints another user made
under umask 022, an MNIST file this user may not read, another user's read-only lock file on NFS -- and their
siblings, every place grokkit creates or reads a file in a folder others share (records, checkpoints, locks, a
sweep's state, exports, a chapter's figure CSVs, MNIST).

Root ignores file modes (CI may run as root), so a folder of another user's is emulated at the os level: creating a
file or folder in it raises EACCES, as the kernel does for a user who may not write there. One test uses real modes
and runs only as a user other than root. Every run here is tiny and lives under pytest's tmp_path.
"""
import builtins
import errno
import fcntl
import os
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from test_user_input import _no_training, _one_line
from test_users import CLI_TINY, TINY, T, _deny

from grokkit import chapters, data, export, records, sweep
from grokkit.__main__ import main

CKPT = TINY.replace(checkpoint_every=50)  # a run that checkpoints (every 5,000 steps in a real run)
CLI_CKPT = [*CLI_TINY, "--checkpoint-every", "50"]


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.delenv("GROKKIT_SMOKE", raising=False)
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _readonly(monkeypatch, folder=None, files=()):
    """`folder` is another user's, made under umask 022: creating a file or folder in it raises EACCES, and so does
    opening one of `files` (another user's files, mode 0644) for writing. Reading is untouched."""
    folder, files = Path(folder or "/nonexistent/folder"), {str(f) for f in files}
    real_os_open, real_open, real_mkdir = os.open, builtins.open, os.mkdir

    def denied(p, creates: bool) -> bool:
        p = os.fsdecode(os.fspath(p))
        return (creates and Path(p).parent == folder and not os.path.exists(p)) or p in files

    def deny(p):
        raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(os.fspath(p)))

    def os_open(p, flags, *a, **k):
        if flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR) and denied(p, bool(flags & os.O_CREAT)):
            deny(p)
        return real_os_open(p, flags, *a, **k)

    def open_(p, mode="r", *a, **k):
        if isinstance(p, (str, os.PathLike)) and any(c in mode for c in "wax+") and denied(p, True):
            deny(p)
        return real_open(p, mode, *a, **k)

    def mkdir(p, *a, **k):
        if denied(p, True):
            deny(p)
        return real_mkdir(p, *a, **k)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(os, "mkdir", mkdir)


def _history(config=TINY) -> records.Run:
    """A record's worth of history without training."""
    h = {"step": np.array([0, 150]), "train_acc": np.array([0.1, 1.0]), "test_acc": np.array([0.1, 0.9])}
    return records.Run(config, h, {})


def _says(msg: str, folder, *words):
    """The message names `folder` and the setting, says it is a permission and what to do; never ENOENT."""
    assert str(folder) in msg and "Permission denied" in msg and "No such file" not in msg, msg
    assert all(w in msg for w in words), msg


TRAINERS = {  # every way grokkit trains a missing run, with the folders it writes in
    "run": lambda res: main(["run", *CLI_CKPT, "--results", str(res)]),
    "load_or_train": lambda res: T.load_or_train(CKPT, res, progress=False),
    "train_and_save": lambda res: T.train_and_save(CKPT, res, progress=False),
    "load_or_train_many (sweep jobs)": lambda res: sweep.load_or_train_many([CKPT], res, progress=False),
    "chapter_run train_missing": lambda res: chapters.chapter_run(CKPT, res, train_missing=True),
}
LOCKERS = ("run", "load_or_train", "chapter_run train_missing")  # those that take the run's lock


def _stops(trainer, res, capsys) -> str:
    """`trainer` over `res` stops before training: `run` with exit code 1 and one line, the others with an OSError;
    returns the message."""
    if trainer == "run":
        assert TRAINERS[trainer](res) == 1
        return _one_line(capsys.readouterr().err)
    with pytest.raises(PermissionError) as e:
        TRAINERS[trainer](res)
    assert "\n" not in str(e.value)
    return f"grokkit: {e.value.filename}: {e.value.strerror}"


@pytest.mark.parametrize("trainer", LOCKERS)
def test_locks_folder_of_another_user_stops_before_training(trainer, tmp_path, monkeypatch, capsys):
    """Case 1: .locks made by another user under umask 022: training stops before its first step with one line naming
    .locks and GROKKIT_RESULTS and the fix, not "[Errno 2] No such file or directory"."""
    (tmp_path / ".locks").mkdir()
    _readonly(monkeypatch, tmp_path / ".locks")
    _no_training(monkeypatch)
    msg = _stops(trainer, tmp_path, capsys)
    _says(msg, tmp_path / ".locks", "GROKKIT_RESULTS", "chmod")
    assert not records.record_path(CKPT, tmp_path).exists()


def test_lock_in_a_locks_folder_of_another_user_names_the_folder(tmp_path, monkeypatch):
    """Case 1, at the lock itself (sweep --status, any caller of records.lock): no lock file yet and .locks not
    writable is a permission error naming .locks, not ENOENT from the read-only fallback."""
    (tmp_path / ".locks").mkdir()
    _readonly(monkeypatch, tmp_path / ".locks")
    with pytest.raises(PermissionError) as e:
        with records.lock(TINY, tmp_path):
            pass
    _says(f"{e.value.filename}: {e.value.strerror}", tmp_path / ".locks", "GROKKIT_RESULTS")


@pytest.mark.parametrize("trainer", list(TRAINERS))
def test_checkpoints_folder_of_another_user_stops_before_the_first_step(trainer, tmp_path, monkeypatch, capsys):
    """Case 1, checkpoint variant: .checkpoints made by another user stopped the run only when it wrote its first
    checkpoint (5,000 steps into a real run). Now every trainer stops before training, with one line naming it."""
    (tmp_path / ".checkpoints").mkdir()
    _readonly(monkeypatch, tmp_path / ".checkpoints")
    _no_training(monkeypatch)
    msg = _stops(trainer, tmp_path, capsys)
    _says(msg, tmp_path / ".checkpoints", "GROKKIT_RESULTS")


@pytest.mark.parametrize("trainer", list(TRAINERS))
def test_results_folder_of_another_user_stops_before_training(trainer, tmp_path, monkeypatch, capsys):
    """Sibling: the results folder itself is another user's (mode 0755): the record could be written only after the
    whole run had trained (hours); every trainer now stops before its first step, naming the folder."""
    res = tmp_path / "shared"
    res.mkdir()
    _readonly(monkeypatch, res)
    _no_training(monkeypatch)
    msg = _stops(trainer, res, capsys)
    _says(msg, res, "GROKKIT_RESULTS")


def test_checkpointing_run_in_a_writable_folder_still_trains(tmp_path, capsys):
    """The checks stop nothing that can work: a checkpointing run in a folder of this user's trains and saves, and the
    check leaves no probe file behind."""
    assert main(["run", *CLI_CKPT, "--results", str(tmp_path)]) == 0
    assert records.load(records.record_path(CKPT, tmp_path), CKPT)
    assert not [p for p in tmp_path.rglob("*") if "probe" in p.name]


def test_a_record_in_a_folder_of_another_user_is_still_read(tmp_path, monkeypatch, capsys):
    """Reading needs no write: `run` of a config whose record is in another user's folder loads it, exit 0."""
    path = records.save(_history(CKPT), tmp_path)
    _readonly(monkeypatch, tmp_path)
    _no_training(monkeypatch)
    assert main(["run", *CLI_CKPT, "--results", str(tmp_path)]) == 0, capsys.readouterr().err
    assert f"record: {path}" in capsys.readouterr().out


def _modes_enforced(tmp_path) -> bool:
    """Whether the kernel holds this user to file modes (not for root, unless it has dropped CAP_DAC_OVERRIDE)."""
    folder = tmp_path / "modes"
    folder.mkdir(mode=0o555)
    try:
        (folder / "probe").touch()
        return False
    except PermissionError:
        return True
    finally:
        folder.chmod(0o755)


def test_real_read_only_locks_folder(tmp_path, capsys):
    """Case 1 with real modes (as a user the kernel holds to them): .locks mode 0555."""
    if not _modes_enforced(tmp_path):
        pytest.skip("this user ignores file modes (root)")
    (tmp_path / ".locks").mkdir(mode=0o555)
    try:
        assert main(["run", *CLI_CKPT, "--results", str(tmp_path)]) == 1
    finally:
        (tmp_path / ".locks").chmod(0o755)
    _says(_one_line(capsys.readouterr().err), tmp_path / ".locks", "GROKKIT_RESULTS")


def _nfs(monkeypatch):
    """NFS: flock is a POSIX byte-range lock there, and an exclusive one needs a file open for writing (EBADF on
    one open read-only) -- emulated with fcntl.lockf, which has that rule on every filesystem."""
    monkeypatch.setattr(fcntl, "flock", lambda f, op: fcntl.lockf(f, op))


def test_read_only_lock_file_of_another_user_on_nfs_is_one_line(tmp_path, monkeypatch, capsys):
    """Case 3: another user's lock file (mode 0644), opened read-only here, gave "[Errno 9] Bad file descriptor" on
    NFS. Now one line naming the lock file, why, and what to do; nothing trains."""
    path = records.lock_path(CKPT, tmp_path)
    path.parent.mkdir()
    path.touch()
    _readonly(monkeypatch, files=[path])  # in a group-writable .locks
    monkeypatch.setattr(os, "getuid", lambda: path.stat().st_uid + 1)  # the file is another user's
    _nfs(monkeypatch)
    _no_training(monkeypatch)
    assert main(["run", *CLI_CKPT, "--results", str(tmp_path)]) == 1
    msg = _one_line(capsys.readouterr().err)
    assert msg.startswith(f"grokkit: {path}: ") and "read-only" in msg and "NFS" in msg, msg
    assert "Bad file descriptor" in msg and "GROKKIT_RESULTS" in msg and "chmod g+w" in msg, msg


def test_another_users_lock_file_in_their_locks_folder_still_locks_locally(tmp_path, monkeypatch, capsys):
    """The check asks no more than locking needs: .locks is another user's, but this run's lock file is there (they
    trained it once); on a local filesystem a lock needs only to read it, so the run trains and saves."""
    path = records.lock_path(CKPT, tmp_path)
    path.parent.mkdir()
    path.touch()
    _readonly(monkeypatch, path.parent, files=[path])
    assert main(["run", *CLI_CKPT, "--results", str(tmp_path)]) == 0, capsys.readouterr().err
    assert records.load(records.record_path(CKPT, tmp_path), CKPT)


def test_writable_lock_file_on_nfs_still_locks(tmp_path, monkeypatch):
    """The same emulated NFS with a lock file this user may write: the lock is taken (open for writing)."""
    _nfs(monkeypatch)
    with records.lock(TINY, tmp_path) as held:
        assert held


def test_sweep_status_with_an_unlockable_lock_file_says_so(tmp_path, monkeypatch):
    """Sibling: `sweep --status` tries each unfinished run's lock (is someone training it by hand?); on NFS another
    user's read-only lock file made it fail with EBADF. Now the run's row says its lock cannot be checked."""
    path = records.lock_path(TINY, tmp_path)
    path.parent.mkdir()
    path.touch()
    _readonly(monkeypatch, path.parent, files=[path])
    _nfs(monkeypatch)
    (row,) = sweep.sweep_status([TINY], tmp_path, tmp_path / "logs")
    assert row["state"] == "pending" and "lock" in row["detail"] and "cannot be checked" in row["detail"], row


def test_unreadable_mnist_file_is_a_permission_error_not_corrupt(tmp_path, monkeypatch, capsys):
    """Case 2: an MNIST file this user may not read was "not a valid gzip file ... the file is corrupt -- replace
    it". Now: it cannot be read (Permission denied), naming the file and GROKKIT_DATA; `run` says it in one line."""
    for name in data.FILES:
        (tmp_path / name).write_bytes(b"the official file, of another user's")
    path = tmp_path / next(iter(data.FILES))
    _deny(monkeypatch, path)
    monkeypatch.setenv("GROKKIT_DATA", str(tmp_path))
    with pytest.raises(PermissionError) as e:
        data.mnist_arrays()
    assert e.value.filename == str(path) and "cannot be read" in e.value.strerror, e.value
    assert main(["run", *CLI_TINY, "--results", str(tmp_path / "res")]) == 1
    msg = _one_line(capsys.readouterr().err)
    assert msg.startswith(f"grokkit: {path}: ") and "Permission denied" in msg and "GROKKIT_DATA" in msg, msg
    assert "corrupt --" not in msg and "gzip" not in msg and "replace it" not in msg, msg


def test_mnist_download_into_a_folder_of_another_user_is_one_line(tmp_path, monkeypatch):
    """Sibling: GROKKIT_DATA names another user's folder with a file missing: grokkit would download into it. It
    says at once that it cannot write there (naming the folder, the missing file and GROKKIT_DATA), without
    touching the network or reporting "could not be downloaded"."""
    names = list(data.FILES)
    for name in names[1:]:
        (tmp_path / name).write_bytes(b"x")
    _readonly(monkeypatch, tmp_path)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("downloaded"))
    monkeypatch.setenv("GROKKIT_DATA", str(tmp_path))
    with pytest.raises(PermissionError) as e:
        data.mnist_arrays()
    assert e.value.filename == str(tmp_path) and names[0] in e.value.strerror, e.value
    assert "GROKKIT_DATA" in e.value.strerror and "could not be downloaded" not in e.value.strerror


class _Executor:
    def submit(self, job):
        pytest.fail("submitted a job whose files have nowhere to go")


@pytest.mark.parametrize("where", ["logs", "logs/runs", "results"])
def test_sweep_into_a_folder_of_another_user_submits_nothing(where, tmp_path, monkeypatch):
    """Sibling: a sweep's folder (--logs: submissions.jsonl, runs/<name>-<id>.json) or its results folder is another
    user's: every job would fail at its first write (a cluster's worth of failed jobs). run_grid submits nothing and
    says which folder and setting; a job's load_or_train_many does not train."""
    logs, res = tmp_path / "logs", tmp_path / "results"
    (logs / "runs").mkdir(parents=True)
    res.mkdir()
    _readonly(monkeypatch, tmp_path / where)
    _no_training(monkeypatch)
    setting = "GROKKIT_RESULTS" if where == "results" else "--logs"
    with pytest.raises(PermissionError) as e:
        sweep.run_grid([TINY], _Executor(), results_dir=res, sweep_dir=logs)
    assert e.value.filename == str(tmp_path / where) and setting in e.value.strerror, e.value
    with pytest.raises(PermissionError):
        sweep.load_or_train_many([TINY], res, progress=False, sweep_dir=logs)


def test_export_into_a_folder_of_another_user_is_one_line(tmp_path, monkeypatch, capsys):
    """Sibling: `export --out` names another user's folder: one line naming it and --out, exit 1, no file."""
    records.save(_history(), tmp_path / "res")
    out = tmp_path / "out"
    out.mkdir()
    _readonly(monkeypatch, out)
    assert main(["export", "--results", str(tmp_path / "res"), "--out", str(out)]) == 1
    msg = _one_line(capsys.readouterr().err)
    assert msg.startswith(f"grokkit: {out}: ") and "--out" in msg and "Permission denied" in msg, msg
    assert list(out.iterdir()) == []


def test_figure_csv_in_a_static_folder_of_another_user_names_the_setting(tmp_path, monkeypatch):
    """Sibling: a chapter in a shared clone writes its figures' CSVs to book/_static/data, another user's folder:
    the error names that folder and GROKKIT_BOOK_STATIC (where to send them instead)."""
    (tmp_path / "data").mkdir()
    _readonly(monkeypatch, tmp_path / "data")
    with pytest.raises(PermissionError) as e:
        export.figure_download([_history()], "fig", static=tmp_path)
    assert e.value.filename == str(tmp_path / "data") and "GROKKIT_BOOK_STATIC" in e.value.strerror, e.value


def _refuse_unlink(monkeypatch, path) -> None:
    """Deleting `path` fails as in a folder with the sticky bit (another user's file); every other unlink works."""
    real = Path.unlink

    def unlink(self, *a, **k):
        if self == path:
            raise PermissionError(errno.EPERM, "Operation not permitted", str(self))
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "unlink", unlink)


def test_another_users_stale_temp_file_does_not_stop_training(tmp_path, monkeypatch):
    """Sibling: a temp file another user's killed process left beside the record, in a folder with the sticky bit
    (it cannot be removed here): train_and_save used to stop on it; it trains and saves."""
    path = records.record_path(TINY, tmp_path)
    stale = path.parent / f".{path.name}.abc.tmp"
    stale.write_bytes(b"half a record")
    _refuse_unlink(monkeypatch, stale)
    assert T.train_and_save(TINY, tmp_path, progress=False).path == path
    assert stale.read_bytes() == b"half a record"


def _fails(what):
    def fail(*a, **k):
        pytest.fail(f"{what} ran although its output has nowhere to go")

    return fail


@pytest.mark.parametrize("trainer", ["train", "train_batched"])
def test_checkpoint_path_in_a_folder_of_another_user_stops_before_the_first_step(trainer, tmp_path, monkeypatch):
    """Sibling: train() and batched.train_batched() called with a checkpoint_path of their own (the Python API, a
    GPU batch) checked it only at the first checkpoint; now before loading anything, naming the folder."""
    from grokkit import batched

    folder = tmp_path / "theirs"
    folder.mkdir()
    _readonly(monkeypatch, folder)
    monkeypatch.setattr(T, "load_mnist", _fails("training"))
    monkeypatch.setattr(batched, "setup", _fails("training"))
    with pytest.raises(PermissionError) as e:
        if trainer == "train":
            T.train(CKPT, progress=False, checkpoint_path=folder / "c.pt")
        else:
            batched.train_batched([CKPT, CKPT.replace(seed=1)], progress=False, checkpoint_path=folder / "b.pt")
    assert e.value.filename == str(folder) and "checkpoint_path" in e.value.strerror, e.value


def test_sweep_chapter_into_a_folder_of_another_user_runs_no_chapter(tmp_path, monkeypatch, capsys):
    """Sibling: `sweep <chapter> --out` naming another user's folder executed the whole chapter (minutes, or hours with
    train_missing) before papermill failed to write it. Now one line naming the folder and --out, exit 1."""
    out = tmp_path / "runs"
    out.mkdir()
    _readonly(monkeypatch, out)
    monkeypatch.setattr(chapters, "execute_chapter", _fails("the chapter"))
    assert main(["sweep", "depth", "--grid", "depth=4", "--out", str(out), "--quiet"]) == 1
    msg = _one_line(capsys.readouterr().err)
    assert msg.startswith(f"grokkit: {out}: ") and "--out" in msg and "Permission denied" in msg, msg


def test_bench_json_into_a_folder_of_another_user_is_checked_first(tmp_path, monkeypatch, capsys):
    """Sibling: `bench --json` wrote its file only after the benchmark; a folder of another user's now stops it before,
    in one line naming the folder and --json."""
    from grokkit import bench

    folder = tmp_path / "bench"
    folder.mkdir()
    _readonly(monkeypatch, folder)
    monkeypatch.setattr(bench, "bench", _fails("the benchmark"))
    assert main(["bench", "--steps", "1", "--json", str(folder / "b.json")]) == 1
    msg = _one_line(capsys.readouterr().err)
    assert msg.startswith(f"grokkit: {folder}: ") and "--json" in msg, msg


def test_gpu_check_into_a_folder_of_another_user_is_checked_first(tmp_path, monkeypatch, capsys):
    """Sibling: `gpu-check` wrote bench/gpu_<name>.json after minutes of checks; a folder of another user's now stops it
    first (CUDA is pretended here: the check comes before any CUDA call)."""
    folder = tmp_path / "bench"
    folder.mkdir()
    _readonly(monkeypatch, folder)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert main(["gpu-check", "--out", str(folder)]) == 1
    msg = _one_line(capsys.readouterr().err)
    assert msg.startswith(f"grokkit: {folder}: ") and "--out" in msg, msg


def test_another_users_checkpoint_left_after_the_record_is_saved_is_no_failure(tmp_path, monkeypatch):
    """Sibling: a run resumed from another user's checkpoint and finished before its next checkpoint leaves their file;
    in a folder with the sticky bit it cannot be removed. The record is saved, so the run succeeds (it failed after
    saving); the checkpoint of a recorded run is never read again."""
    ckpt = T._checkpoint_path(CKPT, tmp_path)
    _refuse_unlink(monkeypatch, ckpt)
    run = T.train_and_save(CKPT, tmp_path, progress=False)
    assert run.path == records.record_path(CKPT, tmp_path) and records.load(run.path, CKPT)
    assert ckpt.exists()  # left where it was
    assert T.load_or_train(CKPT, tmp_path, progress=False).path == run.path  # the record is what is read
