"""grokkit as its users type it (issue 46): records that are not this user's to replace (kind 1), path settings as a
shell user writes them (kind 3), and values as users type them, Ctrl-C included (kind 6).

Every record here is tiny (a few history points, or TINY's 150 steps) and lives under pytest's tmp_path: full-scale
runs may be training into results/ at the same time. A test that must not train replaces train.train with a function
that fails the test.
"""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from test_users import CLI_TINY, ROOT, TINY, T, _deny

from grokkit import chapters, data, records, sweep
from grokkit.__main__ import main
from grokkit.config import RunConfig, checked, home, parse_value, user_path

PATH_VARS = ("GROKKIT_HOME", "GROKKIT_RESULTS", "GROKKIT_DATA", "GROKKIT_SMOKE_DIR")


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _fake(config=TINY) -> records.Run:
    """A record's worth of history without training: three log points."""
    h = {"step": np.array([0, 100, config.steps]), "train_acc": np.array([0.1, 0.5, 1.0]),
         "test_acc": np.array([0.1, 0.3, 0.9])}
    return records.Run(config, h, {"wall_time_s": 1.0, "device": "cpu"})


def _save(folder, config=TINY, fmt=None, monkeypatch=None) -> Path:
    """The record of `config` in `folder`, written by a grokkit of record format `fmt` (default: this one's)."""
    if fmt is not None:
        monkeypatch.setattr(records, "FORMAT", fmt)
    path = records.save(_fake(config), folder)
    if fmt is not None:
        monkeypatch.setattr(records, "FORMAT", 1)
    return path


def _state(path: Path):
    return path.read_bytes(), path.stat().st_mtime_ns


def _no_training(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("trained over a record that is not this user's to replace")

    monkeypatch.setattr(T, "train", refuse)


def _one_line(err: str) -> str:
    err = err.strip()
    assert err.startswith("grokkit: ") and "\n" not in err and "Traceback" not in err, err
    return err


# ---- kind 1: a record someone else wrote is never retrained over or replaced ---------------------------------------
WRITERS = {  # every way grokkit trains and saves a missing run
    "run": lambda res: main(["run", *CLI_TINY, "--results", str(res)]),
    "load_or_train": lambda res: T.load_or_train(TINY, res, progress=False),
    "load_or_train_many (sweep jobs)": lambda res: sweep.load_or_train_many([TINY], res, progress=False),
    "chapter_run train_missing": lambda res: chapters.chapter_run(TINY, res, train_missing=True),
    "chapter_runs train_missing": lambda res: chapters.chapter_runs([TINY], res, train_missing=True),
    "train_and_save": lambda res: T.train_and_save(TINY, res, progress=False),
    "save": lambda res: records.save(_fake(), res),
}


def _refused(writer, res, capsys, *words):
    """`writer` over `res` stops: `run` with exit code 1 and one line, the others with records.ForeignRecord; the
    message names the record's file and says each of `words`."""
    if writer == "run":
        assert WRITERS[writer](res) == 1
        msg = _one_line(capsys.readouterr().err)
    else:
        with pytest.raises(records.ForeignRecord) as e:
            WRITERS[writer](res)
        msg = str(e.value)
        assert "\n" not in msg
    assert str(records.record_path(TINY, res)) in msg and all(w in msg for w in words), msg


@pytest.mark.parametrize("fmt", [2, 0], ids=["newer format", "older format"])
@pytest.mark.parametrize("writer", list(WRITERS))
def test_record_of_another_format_is_never_retrained_over(writer, fmt, tmp_path, monkeypatch, capsys):
    """Case 1: a record written by another grokkit (format 2, or an older 0) in a shared results folder: `run`, sweep
    jobs and chapters with train_missing=True stop with one line naming it; the file is untouched."""
    monkeypatch.delenv("GROKKIT_SMOKE", raising=False)
    path = _save(tmp_path, fmt=fmt, monkeypatch=monkeypatch)
    before = _state(path)
    _no_training(monkeypatch)
    _refused(writer, tmp_path, capsys, "another grokkit version", f"format {fmt}")
    assert _state(path) == before and records.list_records(tmp_path) == [path]


def test_batched_training_never_saves_over_another_formats_record(tmp_path, monkeypatch):
    """Sibling: the GPU path of sweep jobs (train_batched, forced here on the CPU) trains a batch, then saves each
    run; the save of a run whose file holds another format's record raises and leaves that file untouched."""
    path = _save(tmp_path, fmt=2, monkeypatch=monkeypatch)
    before = _state(path)
    with pytest.raises(records.ForeignRecord, match="another grokkit version"):
        sweep.load_or_train_many([TINY, TINY.replace(seed=1)], tmp_path, progress=False, batch=True)
    assert _state(path) == before


@pytest.mark.parametrize("fmt", [2, 0])
def test_list_labels_another_format_not_corrupt(fmt, tmp_path, monkeypatch, capsys):
    """Case 1: `list` says "another format", not CORRUPT (the record is intact)."""
    path = _save(tmp_path, fmt=fmt, monkeypatch=monkeypatch)
    assert main(["list", "--results", str(tmp_path)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith(path.name))
    assert "ANOTHER FORMAT" in line and "CORRUPT" not in line, line


@pytest.mark.parametrize("writer", list(WRITERS))
def test_valid_record_of_another_config_under_this_name_is_never_overwritten(writer, tmp_path, monkeypatch, capsys):
    """Case 2: a valid record of config B stored under config A's file name (renamed or copied by hand) stops every
    writer of A with one line naming the file; it is never overwritten. `list` says the file is misnamed."""
    monkeypatch.delenv("GROKKIT_SMOKE", raising=False)
    other = TINY.replace(seed=1)
    path = records.record_path(TINY, tmp_path)
    shutil.copy(_save(tmp_path / "b", other), path)
    before = _state(path)
    _no_training(monkeypatch)
    _refused(writer, tmp_path, capsys, "is for config", other.id)
    assert _state(path) == before
    assert main(["list", "--results", str(tmp_path)]) == 0
    assert "MISNAMED" in capsys.readouterr().out


def test_a_checkpoint_of_another_run_is_never_trained_over(tmp_path):
    """A checkpoint path (train's checkpoint_path) that holds another config's progress stops the run with one
    line; the checkpoint stays as it was (it used to be ignored, then overwritten at the next checkpoint)."""
    ckpt = tmp_path / "mine.pt"
    T.train(TINY.replace(checkpoint_every=50), progress=False, checkpoint_path=ckpt)
    before = _state(ckpt)
    with pytest.raises(records.ForeignRecord, match=r"a checkpoint of another run .* it is never replaced"):
        T.train(TINY.replace(checkpoint_every=50, seed=5), progress=False, checkpoint_path=ckpt)
    assert _state(ckpt) == before


def test_another_users_damaged_record_is_never_replaced(tmp_path, monkeypatch, capsys):
    """Sibling of case 2: a damaged record this user does not own (a colleague's, in a group-shared folder) is not
    retrained over either; this user's own damaged record still is (tests/test_reliability.py::test_corrupt_record)."""
    path = records.record_path(TINY, tmp_path)
    path.write_bytes(b"a colleague's damaged record")
    before = _state(path)
    owner = path.stat().st_uid
    monkeypatch.setattr(os, "getuid", lambda: owner + 1)
    _no_training(monkeypatch)
    for writer in ("run", "load_or_train", "train_and_save"):
        _refused(writer, tmp_path, capsys, "another user")
    assert _state(path) == before


def test_unreadable_same_name_record_of_another_config_blocks_nothing(tmp_path, monkeypatch, capsys):
    """Case 3: another user's unreadable record with the same name (another config id) does not block training
    the config asked for: at most one warning line, and the other file is untouched."""
    other = TINY.replace(lr=2e-3)  # the name omits lr: the same name, another id
    assert other.name == TINY.name and other.id != TINY.id
    theirs = _save(tmp_path, other)
    before = _state(theirs)
    _deny(monkeypatch, theirs)
    monkeypatch.setattr(T, "train", lambda config, **k: _fake(config))  # "training": a record's worth of history
    assert main(["run", *CLI_TINY, "--results", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert f"record: {records.record_path(TINY, tmp_path)}" in out.out
    warnings = [x for x in out.err.splitlines() if str(theirs) in x]
    assert len(warnings) <= 1 and "Traceback" not in out.err, out.err
    monkeypatch.undo()
    assert _state(theirs) == before and records.load(records.record_path(TINY, tmp_path), TINY)


# ---- kind 3: paths as users give them ---------------------------------------------------------------------------
RESOLVERS = {"GROKKIT_RESULTS": lambda: records.results_folder(), "GROKKIT_DATA": lambda: data.data_dir(),
             "GROKKIT_SMOKE_DIR": lambda: chapters.smoke_dir()}


@pytest.fixture
def shell_home(tmp_path, monkeypatch):
    """HOME is tmp_path/home; the working folder is tmp_path/work; no GROKKIT_* path set."""
    for v in PATH_VARS:
        monkeypatch.delenv(v, raising=False)
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return home


def _no_tilde_folder(*folders):
    for f in (*folders, ROOT):
        assert not any(p.name.startswith("~") for p in Path(f).iterdir()), f


@pytest.mark.parametrize("var", list(RESOLVERS))
def test_path_settings_expand_tilde(var, shell_home, monkeypatch):
    """Case: GROKKIT_RESULTS, GROKKIT_DATA and GROKKIT_SMOKE_DIR set to '~/x' (quoted, a .env file, a kernel's
    environment) name $HOME/x, as GROKKIT_HOME already did; no folder literally named '~' is made."""
    monkeypatch.setenv(var, "~/x")
    assert RESOLVERS[var]() == shell_home / "x"
    _no_tilde_folder(Path.cwd())


def test_results_setting_with_tilde_end_to_end(shell_home, monkeypatch, capsys):
    """Case: GROKKIT_RESULTS='~/res' where ~/res holds the record: `list` shows it and `run` loads it (no training,
    no folder named '~' in the clone or the working folder); `--results '~/res'` (quoted) too."""
    path = _save(shell_home / "res")
    _no_training(monkeypatch)
    monkeypatch.setenv("GROKKIT_RESULTS", "~/res")
    assert main(["list"]) == 0 and TINY.name in capsys.readouterr().out
    assert main(["run", *CLI_TINY]) == 0 and f"record: {path}" in capsys.readouterr().out
    monkeypatch.delenv("GROKKIT_RESULTS")
    assert main(["run", *CLI_TINY, "--results", "~/res"]) == 0 and f"record: {path}" in capsys.readouterr().out
    _no_tilde_folder(Path.cwd())


def test_home_and_cache_settings_expand_tilde(shell_home, monkeypatch):
    """Siblings: GROKKIT_HOME='~/clone' (already), XDG_CACHE_HOME='~/c' (where MNIST is downloaded); an empty or
    relative XDG_CACHE_HOME means ~/.cache, as the XDG spec says."""
    (shell_home / "clone").mkdir()
    monkeypatch.setenv("GROKKIT_HOME", "~/clone")
    assert home() == shell_home / "clone"
    for value, want in (("~/c", shell_home / "c"), ("", shell_home / ".cache"), ("rel", shell_home / ".cache")):
        monkeypatch.setenv("XDG_CACHE_HOME", value)
        assert data._cache_home() == want, value


@pytest.mark.parametrize("var", [*RESOLVERS, "GROKKIT_HOME"])
def test_unusable_path_setting_is_one_line(var, shell_home, monkeypatch, capsys):
    """A path setting that names a file, or a ~user of no user, is one line naming the setting and what it resolved
    to (`list`: exit code 2); never a traceback, never a folder named '~nosuchuser'."""
    afile = shell_home / "a-file"
    afile.write_text("not a folder")
    resolve = RESOLVERS.get(var, home)
    for value, words in ((str(afile), [str(afile), "not a folder"]), ("~nosuchuser46/x", ["~nosuchuser46"])):
        monkeypatch.setenv(var, value)
        with pytest.raises((ValueError, FileNotFoundError)) as e:
            resolve()
        assert str(e.value).startswith(f"{var}=") and all(w in str(e.value) for w in words), e.value
        if var in ("GROKKIT_RESULTS", "GROKKIT_HOME"):
            assert main(["list"]) == 2
            assert _one_line(capsys.readouterr().err).startswith(f"grokkit: {var}=")
    _no_tilde_folder(Path.cwd())


def test_results_flag_naming_a_file_is_one_line(tmp_path, capsys):
    afile = tmp_path / "a-file"
    afile.write_text("x")
    for cmd in (["list"], ["run", *CLI_TINY]):
        assert main([*cmd, "--results", str(afile)]) == 2
        assert str(afile) in _one_line(capsys.readouterr().err)
    assert afile.read_text() == "x"


def test_user_path_keeps_spaces_and_relative_base(tmp_path):
    assert user_path("my results", "X", lambda: tmp_path) == tmp_path / "my results"
    assert user_path(str(tmp_path / "a b"), "X") == tmp_path / "a b"


# ---- kind 6: values as users type them ---------------------------------------------------------------------------
@pytest.mark.parametrize("field,text", [("steps", "1e5"), ("steps", "100000.0"), ("n_train", "5e3"),
                                        ("seed", "3.0"), ("checkpoint_every", "5e3"), ("batch_size", "2e2")])
def test_integer_field_takes_an_exact_float(field, text):
    """Case: 1e5 for an integer field is that integer: the same config, the same id, an int."""
    cfg = RunConfig(**{field: parse_value(text)})
    assert cfg == RunConfig(**{field: int(float(text))}) and cfg.id == RunConfig(**{field: int(float(text))}).id
    assert type(getattr(cfg, field)) is int and checked(field, parse_value(text)) == int(float(text))


@pytest.mark.parametrize("field,value", [("weight_decay", 0), ("alpha", 8), ("lr", 1), ("rank_penalty", 0)])
def test_number_field_takes_an_integer_as_the_same_run(field, value):
    """Sibling: `-p weight_decay 0` (papermill reads an int) is the run of weight_decay=0.0, with its id."""
    assert RunConfig(**{field: value}).id == RunConfig(**{field: float(value)}).id


@pytest.mark.parametrize("field,value", [("steps", 1.5), ("depth", 12.5), ("seed", float("nan")),
                                         ("n_train", float("inf"))])
def test_non_integral_float_is_refused_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"^{field}: must be an integer") as e:
        RunConfig(**{field: value})
    assert "\n" not in str(e.value)


def test_cli_steps_1e5_is_the_same_run(tmp_path, monkeypatch, capsys):
    """Case: `grokkit run --steps 1.5e2` is the run of --steps 150 (its record is loaded, nothing trained)."""
    path = _save(tmp_path)
    _no_training(monkeypatch)
    argv = [a if a != "150" else "1.5e2" for a in CLI_TINY]
    assert main(["run", *argv, "--results", str(tmp_path)]) == 0
    assert f"record: {path}" in capsys.readouterr().out


def test_chapter_parameters_take_exact_floats():
    """Case: `papermill -p steps 1e5` (papermill injects 100000.0) passes the chapter's check, and the chapter's
    config is the paper's, with its id; 1.5 is refused with one line naming the parameter."""
    for name, value in (("steps", 100000.0), ("seed", 0.0), ("depth", [4.0, 12.0]), ("band_seeds", [0.0, 1.0]),
                        ("n_train", 5e3)):
        chapters._check_one(name, value)
    assert chapters.paper_config(12.0, 5e3, 0.01, steps=1e5, seed=0.0).id == chapters.paper_config(12, 5000, 0.01).id
    with pytest.raises(ValueError, match="steps") as e:
        chapters._check_one("steps", 1.5)
    assert "\n" not in str(e.value)


BAD_CLI = [  # (argv, the field the one line names)
    (["run", "--width", "1"], "width"), (["run", "--n-test", "1"], "n_test"), (["run", "--threads", "-1"], "threads"),
    (["run", "--steps", "1.5"], "steps"), (["run", "--threads", "2.5"], "threads"),
    (["bench", "--threads", "-1"], "threads"), (["bench", "--workers", "-1"], "workers"),
    (["bench", "--steps", "1.5"], "steps"), (["bench", "--depth", "1"], "depth"),
    (["sweep", "depth", "--threads", "-1"], "threads"),
    (["sweep", "paper", "--status", "--runs-per-job", "-1"], "runs_per_job"),
    (["sweep", "paper", "--status", "--time", "-5"], "time"),
    (["sweep", "paper", "--status", "--cpus-per-job", "x"], "cpus_per_job"),
]


@pytest.mark.parametrize("argv,field", BAD_CLI, ids=[" ".join(a) for a, _ in BAD_CLI])
def test_out_of_range_value_is_one_line_naming_the_field(argv, field, tmp_path, capsys):
    """Case: --width 1 (inside the range --help stated), --threads -1 (run and bench), --n-test 1 and their
    siblings stop with one line naming the field, exit code 2, nothing written; --help states the true bounds."""
    extra = ["--results", str(tmp_path / "res")] if argv[0] in ("run", "sweep") else []
    assert main([*argv, *extra]) == 2
    assert _one_line(capsys.readouterr().err).startswith(f"grokkit: {field}:")
    assert not (tmp_path / "res").exists()


def test_help_states_the_true_bounds(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "an integer in 2..8192" in out and "an integer in 2..10000" in out


def test_smallest_width_and_test_set_train():
    """The stated bounds are true: width 2 and n_test 2 train, probes and rank included."""
    run = T.train(TINY.replace(width=2, n_test=2, steps=20, probe_every=0, probe_epochs=1), progress=False)
    assert run.history["step"][-1] == 20 and len(run.history["rank"]) > 0


def _interrupt_at(monkeypatch, step):
    """train() runs up to `step` (checkpointing as configured), then the user presses Ctrl-C."""
    real = T.train

    def train(config, progress=True, checkpoint_path=None, stop_after=None):
        real(config, progress=progress, checkpoint_path=checkpoint_path, stop_after=step)
        raise KeyboardInterrupt

    monkeypatch.setattr(T, "train", train)


def _main_interrupted(argv) -> int:
    """main(argv) while Ctrl-C is pressed: its exit code (a KeyboardInterrupt that escapes fails the test, not the
    test session)."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped main() as a KeyboardInterrupt (a traceback for the user)")


def test_ctrl_c_during_run_is_one_line_and_the_same_command_resumes(tmp_path, monkeypatch, capsys):
    """Case: Ctrl-C during `run` is one line saying training stopped and that the same command resumes from its last
    checkpoint (its step), exit code 130; the same command then resumes there."""
    argv = ["run", *CLI_TINY, "--checkpoint-every", "50", "--results", str(tmp_path)]
    _interrupt_at(monkeypatch, 100)
    assert _main_interrupted(argv) == 130
    err = _one_line(capsys.readouterr().err)
    assert "stopped" in err and "resume" in err and "100" in err, err
    monkeypatch.undo()
    assert main(argv) == 0
    assert records.load(records.record_path(TINY, tmp_path)).meta["resumed_from"] == 100


@pytest.mark.parametrize("every,step", [(0, 100), (500, 100)], ids=["checkpoints off", "before the first"])
def test_ctrl_c_without_a_checkpoint_says_it_starts_over(every, step, tmp_path, monkeypatch, capsys):
    _interrupt_at(monkeypatch, step)
    assert _main_interrupted(["run", *CLI_TINY, "--checkpoint-every", str(every), "--results", str(tmp_path)]) == 130
    err = _one_line(capsys.readouterr().err)
    assert "stopped" in err and "step 0" in err and "resume" not in err, err


def test_ctrl_c_in_any_command_is_one_line(tmp_path, monkeypatch, capsys):
    """Sibling: Ctrl-C in a command other than `run` (here `list` over a large folder) is one line too, exit 130."""
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(records, "list_records", interrupted)
    assert _main_interrupted(["list", "--results", str(tmp_path)]) == 130
    assert "stopped" in _one_line(capsys.readouterr().err)


def test_ctrl_c_real_signal(tmp_path):
    """The real thing: SIGINT to `python -m grokkit run` once it has checkpointed: exit code 130, one line on stderr."""
    res = tmp_path / "res"
    argv = [a if a != "150" else "100000" for a in CLI_TINY]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-m", "grokkit", "run", *argv, "--checkpoint-every", "50",
                          "--results", str(res)], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(res.glob(".checkpoints/*.pt")) and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.2)
        assert list(res.glob(".checkpoints/*.pt")), "no checkpoint within 120 s"
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=180)  # a loaded CI machine: generous
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 130, err
    assert "resume" in _one_line(err)
