"""grokkit used as its users use it (issue 27): installed with `pip install <clone>` and run from another folder,
shared by several people, run under papermill, in shell pipes, on a full disk, on a platform without fcntl, and
exported for a spreadsheet.

Every run here is tiny and writes only under pytest's tmp_path: full-scale sweeps may be training into results/ at
the same time. The installed-package tests install this checkout with pip into a temporary target only.
"""
import errno
import importlib
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tomllib
import torch

from grokkit import chapters, export, records
from grokkit.__main__ import main
from grokkit.config import RunConfig

ROOT = Path(__file__).resolve().parent.parent
T = importlib.import_module("grokkit.train")
TINY = RunConfig(depth=3, width=16, n_train=200, batch_size=50, steps=150, log_every=1000, probe_every=-1,
                 device="cpu", checkpoint_every=0)
CLI_TINY = ["--depth", "3", "--width", "16", "--n-train", "200", "--batch-size", "50", "--steps", "150",
            "--log-every", "1000", "--probe-every", "-1", "--device", "cpu", "--threads", "1", "--quiet"]
RECORD = next(p for p in records.list_records(ROOT / "results") if p.name.startswith("d4_w400_n5000_a8_wd0.05_s0-"))
GROKKIT_VARS = ("GROKKIT_HOME", "GROKKIT_RESULTS", "GROKKIT_DATA", "GROKKIT_SMOKE", "GROKKIT_SMOKE_DIR",
                "GROKKIT_BOOK_STATIC")


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def tiny_run():
    return T.train(TINY, progress=False)


def _env(pythonpath, **kw):
    env = {k: v for k, v in os.environ.items() if k not in GROKKIT_VARS}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(pythonpath), PYTHONDONTWRITEBYTECODE="1")
    env.update({k: str(v) for k, v in kw.items()})
    return env


def _files(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


# ---- 1. an installed (non-editable) grokkit finds the project, never site-packages ------------------------------
@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """This checkout's package files as a fresh clone (a git repository of its own), installed with
    `pip install --no-deps --no-build-isolation --target <site> <clone>`: site-packages as a user gets it."""
    tmp = tmp_path_factory.mktemp("installed")
    clone, site = tmp / "clone", tmp / "site"
    clone.mkdir()
    for name in ("pyproject.toml", ".gitignore", "README.md"):
        shutil.copy(ROOT / name, clone / name)
    shutil.copytree(ROOT / "grokkit", clone / "grokkit", ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-c", "user.email=t@example.org", "-c", "user.name=t"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "clone"]):
        subprocess.run([*git, *cmd], cwd=clone, check=True, capture_output=True)
    p = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                        "--disable-pip-version-check", "--target", str(site), str(clone)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert (site / "grokkit" / "__init__.py").exists() and not (site / "results").exists()
    return clone, site


def _grokkit(site, args, cwd, timeout=600, **env):
    return subprocess.run([sys.executable, "-m", "grokkit", *args], cwd=cwd, env=_env(site, **env),
                          capture_output=True, text=True, timeout=timeout)


def test_pip_install_of_a_clone_leaves_it_clean(installed):
    """Case 4: `pip install <clone>` leaves nothing untracked in the clone (its build/ and egg-info are ignored)."""
    clone, _ = installed
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=clone,
                            capture_output=True, text=True, check=True).stdout
    assert status == "", status


@pytest.mark.parametrize("cmd", [["list"], ["scoreboard"], ["run", *CLI_TINY], ["sweep", "depth"], ["export"]])
def test_installed_outside_a_project_says_where_to_point_it(installed, cmd, tmp_path):
    """Case 1: outside any clone, an installed grokkit does not read or write site-packages: one line naming
    GROKKIT_HOME, exit code 2, nothing written anywhere."""
    _, site = installed
    before = _files(site)
    p = _grokkit(site, cmd, tmp_path, XDG_CACHE_HOME=tmp_path / "cache")
    err = p.stderr.strip()
    assert p.returncode == 2, p.stdout + p.stderr
    assert "\n" not in err and "GROKKIT_HOME" in err and "Traceback" not in err, err
    assert _files(site) == before and list(tmp_path.iterdir()) == []


def test_installed_finds_the_project_by_variable_and_from_inside(installed, tmp_path):
    """Case 1: GROKKIT_HOME names the clone (from any folder), and inside a clone (here its book/) the clone is
    found by a search upward; list, scoreboard and run (its data from the clone's data/mnist) work, and nothing is
    written inside the installed package."""
    _, site = installed
    before = _files(site)
    n = len(records.list_records(ROOT / "results"))
    for cwd, env in ((tmp_path, {"GROKKIT_HOME": ROOT}), (ROOT / "book", {})):
        p = _grokkit(site, ["list"], cwd, **env)
        assert p.returncode == 0 and len(p.stdout.splitlines()) == n + 1, p.stdout + p.stderr
    p = _grokkit(site, ["scoreboard"], tmp_path, GROKKIT_HOME=ROOT)
    assert p.returncode == 0 and p.stdout.startswith(f"{n} record(s) in {ROOT / 'results'}"), p.stdout + p.stderr
    cache = tmp_path / "cache"
    p = _grokkit(site, ["run", *CLI_TINY, "--results", "mine"], tmp_path, GROKKIT_HOME=ROOT, XDG_CACHE_HOME=cache)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"record: {tmp_path / 'mine' / f'{TINY.name}-{TINY.id}.npz'}" in p.stdout
    assert not (cache / "grokkit").exists()  # MNIST came from the clone's data/mnist, not a download
    assert _files(site) == before


def test_installed_runs_a_chapter_in_smoke_mode_from_another_folder(installed, tmp_path):
    """Case 1 and case 2 ("outputs only where the user said"): an installed grokkit runs a chapter of the clone
    named by GROKKIT_HOME, in smoke mode, from another folder; the executed chapter and the CSVs behind its
    figures go under --out, nothing into the clone's book/_static, nothing into site-packages."""
    _, site = installed
    before, static = _files(site), ROOT / "book" / "_static"
    static_before = _files(static)
    out = tmp_path / "runs"
    p = _grokkit(site, ["sweep", "depth", "--grid", "depth=12", "weight_decay=0.05", "--param", "explore_depth=12",
                        "explore_weight_decay=0.05", "--out", str(out), "--quiet"], tmp_path, timeout=900,
                 GROKKIT_HOME=ROOT, GROKKIT_SMOKE=1, GROKKIT_SMOKE_DIR=tmp_path / "smoke",
                 XDG_CACHE_HOME=tmp_path / "cache")
    assert p.returncode == 0, p.stdout + p.stderr
    assert (out / "depth_d12_wd0.05.ipynb").exists()
    csvs = sorted(q.name for q in out.rglob("*.csv"))
    assert "depth-accuracy.csv" in csvs, csvs
    assert _files(static) == static_before and _files(site) == before
    assert not (tmp_path / "cache" / "grokkit").exists()  # MNIST from the clone, no download


def test_project_folder_resolution(tmp_path, monkeypatch):
    """Case 1's design: GROKKIT_HOME, else the first folder upward from the working folder with the project's
    markers, else the checkout grokkit runs from; a GROKKIT_HOME that is not a folder is one line naming it."""
    from grokkit.config import home

    for v in GROKKIT_VARS:
        monkeypatch.delenv(v, raising=False)
    monkeypatch.chdir(ROOT / "book" / "_static")
    assert home() == ROOT
    monkeypatch.setenv("GROKKIT_HOME", str(tmp_path))
    assert home() == tmp_path
    monkeypatch.setenv("GROKKIT_HOME", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=f"GROKKIT_HOME.*{tmp_path / 'nowhere'}"):
        home()


def test_list_and_scoreboard_of_an_empty_folder_exit_nonzero(tmp_path, capsys):
    """Case 1's kind: a folder with no records is said in one line with the fix, exit code 1 (not 15
    'inconclusive' verdicts and exit code 0)."""
    for cmd in ("list", "scoreboard", "events", "export"):
        assert main([cmd, "--results", str(tmp_path)]) == 1, cmd
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and f"no run records in {tmp_path}" in err and "--results" in err, err


# ---- 2. several people, one machine or one shared folder ----------------------------------------------------------
@pytest.fixture
def umask002():
    old = os.umask(0o002)
    yield 0o664
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("writer", ["record", "export", "checkpoint", "sweep state", "figure csv", "mnist download"])
def test_new_files_follow_the_umask(writer, umask002, tmp_path, monkeypatch):
    """Case 2: every file grokkit writes (all through records.atomic_write) gets the mode a plain `touch` gets."""
    run = records.load(RECORD)
    if writer == "record":
        path = records.save(run, tmp_path)
    elif writer == "export":
        path = export.write([run], tmp_path / "x.csv")
    elif writer == "checkpoint":
        path = tmp_path / "c.pt"
        T._save_checkpoint(path, {"step": 1})
    elif writer == "sweep state":
        from grokkit.sweep import _mark, _run_file

        _mark(tmp_path, [TINY], "running")
        path = _run_file(tmp_path, TINY)
    elif writer == "figure csv":
        export.figure_download([run], "fig", static=tmp_path)
        path = tmp_path / "data" / "fig.csv"
    else:
        import gzip
        import urllib.request

        from grokkit import data

        blob = {n: gzip.compress(b"x") for n in data.FILES}
        monkeypatch.setattr(data, "FILES", {n: __import__("hashlib").md5(b"x").hexdigest() for n in data.FILES})

        class Resp:
            def __init__(self, url):
                self.blob = blob[url.rsplit("/", 1)[-1]]

            def read(self):
                return self.blob

            def __enter__(self):
                return self

            def __exit__(self, *a):
                return False

        monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Resp(url))
        data._download(tmp_path)
        path = tmp_path / next(iter(data.FILES))
    (tmp_path / "touched").touch()
    assert _mode(path) == _mode(tmp_path / "touched") == umask002


def _deny(monkeypatch, path):
    """Reading `path` raises PermissionError, as for a user who may not read another user's file."""
    import builtins

    real_open, target = builtins.open, str(path)

    def guarded(file, *a, **k):
        if isinstance(file, (str, os.PathLike)) and os.fspath(file) == target:
            raise PermissionError(errno.EACCES, "Permission denied", target)
        return real_open(file, *a, **k)

    monkeypatch.setattr(builtins, "open", guarded)
    real_read = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: guarded(self) if str(self) == target else real_read(self))


def _no_training(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("retrained")

    monkeypatch.setattr(T, "train", refuse)


@pytest.mark.parametrize("reader", ["load_or_train", "load_or_train_many", "chapter_run", "checkpoint"])
def test_unreadable_file_is_a_permission_error_never_retrained_or_replaced(reader, tmp_path, monkeypatch, capsys):
    """Case 2: another user's record (or checkpoint) this user may not read is reported as a permission error:
    not as corruption, not retrained, not replaced."""
    from grokkit import sweep

    monkeypatch.delenv("GROKKIT_SMOKE", raising=False)
    cfg = TINY.replace(checkpoint_every=50)
    path = T._checkpoint_path(cfg, tmp_path) if reader == "checkpoint" else records.record_path(cfg, tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"someone else's file")
    _deny(monkeypatch, path)
    if reader != "checkpoint":
        _no_training(monkeypatch)
    call = {"load_or_train": lambda: T.load_or_train(cfg, tmp_path, progress=False),
            "load_or_train_many": lambda: sweep.load_or_train_many([cfg], tmp_path, progress=False),
            "chapter_run": lambda: chapters.chapter_run(cfg, tmp_path),
            "checkpoint": lambda: T.train(cfg, progress=False, checkpoint_path=path)}[reader]
    with pytest.raises(PermissionError, match=str(path)):
        call()
    out = capsys.readouterr()
    assert "corrupt" not in (out.out + out.err).lower() and "retrain" not in (out.out + out.err).lower()
    monkeypatch.undo()
    assert path.read_bytes() == b"someone else's file"


def test_cli_reports_a_permission_error_as_one(tmp_path, monkeypatch, capsys):
    """Case 2: `list` marks an unreadable record UNREADABLE (not CORRUPT); `run` stops with one line, exit 1."""
    path = records.save(records.load(RECORD), tmp_path)
    _deny(monkeypatch, path)
    assert main(["list", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "CORRUPT" not in out and "UNREADABLE" in out and "Permission denied" in out, out
    _no_training(monkeypatch)
    c = records.load(RECORD).config
    args = ["run", "--depth", str(c.depth), "--n-train", str(c.n_train), "--weight-decay", str(c.weight_decay),
            "--results", str(tmp_path), "--quiet"]
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"grokkit: {path}: Permission denied", err


def test_smoke_mode_folder_is_per_user(monkeypatch):
    """Case 2: smoke mode's default folder in the system temp directory is each user's own."""
    import getpass

    from grokkit.chapters import smoke_dir

    monkeypatch.delenv("GROKKIT_SMOKE_DIR", raising=False)
    monkeypatch.setattr(getpass, "getuser", lambda: "alice")
    a = smoke_dir()
    monkeypatch.setattr(getpass, "getuser", lambda: "bob")
    b = smoke_dir()
    assert a != b and "alice" in a.name and "bob" in b.name


# ---- 3. Jupyter, papermill and Colab ----------------------------------------------------------------------------
def _chapters():
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [c["file"] for c in toc["chapters"] if (ROOT / f"{c['file']}.ipynb").exists()]


@pytest.mark.parametrize("chapter", [c for c in _chapters() if c != "book/intro"])
def test_papermills_own_parameters_are_accepted(chapter, tmp_path):
    """Case 3: `papermill --inject-paths` adds PAPERMILL_INPUT_PATH and PAPERMILL_OUTPUT_PATH; a chapter's
    parameter check accepts them (and any other PAPERMILL_* papermill may add), and still refuses a misspelling."""
    from grokkit.chapters import check_params

    out = tmp_path / "out.ipynb"
    p = subprocess.run([sys.executable, "-m", "papermill", str(ROOT / f"{chapter}.ipynb"), str(out), "--inject-paths",
                        "--prepare-only", "-p", "device", "cpu"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    ns, names = {}, None
    for cell in json.loads(out.read_text(encoding="utf-8"))["cells"]:
        src, tags = "".join(cell["source"]), cell["metadata"].get("tags", [])
        if "parameters" in tags or "injected-parameters" in tags:
            exec(src, ns)
        if "check_params(globals()" in src:
            names = eval(src.split("_names = ", 1)[1].split("\n\n")[0])
            break
    ns.pop("__builtins__")
    assert "PAPERMILL_INPUT_PATH" in ns and "PAPERMILL_OUTPUT_PATH" in ns and names
    assert check_params(ns, names)["device"] == "cpu"
    with pytest.raises(ValueError, match="unknown parameter 'sede'"):
        check_params({**ns, "sede": 1}, names)


def test_ipywidgets_8_is_declared():
    """Case 3: the explorer needs ipywidgets 8 (Stack); the package metadata says so."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [r.replace(" ", "") for rs in project["optional-dependencies"].values() for r in rs]
    assert "ipywidgets>=8" in reqs and not any(r == "ipywidgets" for r in reqs)


def test_old_ipywidgets_in_a_live_kernel_is_one_line():
    """Case 3: with ipywidgets 7 already imported (a Colab kernel before the runtime restart), importing the
    explorer says what to do in one line."""
    code = textwrap.dedent("""
        import sys, types
        old = types.ModuleType("ipywidgets"); old.__version__ = "7.7.1"
        sys.modules["ipywidgets"] = old
        try:
            import grokkit.widgets
        except ImportError as e:
            print("ERR", e)
    """)
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(ROOT), capture_output=True, text=True,
                       timeout=300)
    line = p.stdout.strip()
    assert line.startswith("ERR ") and "\n" not in line, p.stdout + p.stderr
    assert "ipywidgets 7.7.1" in line and ">= 8" in line and "restart" in line.lower() and "Colab" in line, line


def test_progress_is_plain_lines_without_a_terminal(tmp_path, monkeypatch, capsys):
    """Case 3: without a terminal (a log, papermill, a batch job) training progress is plain lines on stderr."""
    monkeypatch.setattr(T, "PROGRESS_EVERY", 0.0)
    T.train(TINY, progress=True)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith(TINY.name)]
    assert "\r" not in err and len(lines) >= 2, err
    assert "150/150 steps (100%)" in lines[-1] and "test" in lines[-1], lines


def test_progress_shows_in_papermills_log(tmp_path, caplog, monkeypatch):
    """Case 3: `papermill ... --log-output` shows the training's progress (not a widget's '0%')."""
    import logging

    import nbformat
    import papermill as pm

    from grokkit.chapters import current_env_kernel_manager

    cell = (f"import importlib\nimport grokkit.config\nT = importlib.import_module('grokkit.train')\n"
            f"T.PROGRESS_EVERY = 0.0\nT.train(grokkit.config.{TINY!r}, progress=True)\nNone")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "in.ipynb")
    caplog.set_level(logging.INFO, logger="papermill")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pm.execute_notebook(str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), log_output=True,
                        progress_bar=False, kernel_manager_class=current_env_kernel_manager(), cwd=str(tmp_path))
    log = "\n".join(r.getMessage() for r in caplog.records)
    assert "150/150 steps (100%)" in log, log[-2000:]


# ---- 4. the command line in ordinary use -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_results(tiny_run, tmp_path_factory):
    folder = tmp_path_factory.mktemp("results")
    records.save(tiny_run, folder)
    return folder


@pytest.mark.parametrize("cmd", ["list", "scoreboard --json", "run", "export", "sweep paper --status", "--help",
                                 "run --help"])
def test_closed_pipe_ends_quietly(cmd, tiny_results, tmp_path):
    """Case 4: `python -m grokkit <cmd> | head -1`: a reader that closes the pipe ends every command quietly."""
    args = cmd.split()
    if "--help" not in args:
        args += ["--results", str(tiny_results)]
        args += {"run": CLI_TINY, "export": ["--out", str(tmp_path / "export")],
                 "sweep": ["--logs", str(tmp_path / "logs")]}.get(args[0], [])
    p = subprocess.Popen([sys.executable, "-m", "grokkit", *args], cwd=tmp_path, env=_env(ROOT),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # the reader is gone before the first line is written
    err = p.stderr.read().decode()
    assert p.wait(timeout=300) == 0 and "Traceback" not in err and "BrokenPipe" not in err, err


@pytest.mark.parametrize("cmd", ["run", "export"])
def test_full_disk_is_one_line_naming_the_file(cmd, tiny_run, tmp_path, monkeypatch, capsys):
    """Case 4: ENOSPC while writing a record or an export: one line naming the file, exit 1, no partial file."""
    src = tmp_path / "src"
    records.save(tiny_run, src)

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    if cmd == "run":
        monkeypatch.setattr(T, "train", lambda *a, **k: records.Run(tiny_run.config, dict(tiny_run.history),
                                                                    dict(tiny_run.meta)))
        out = tmp_path / "results"
        args, target = ["run", *CLI_TINY, "--results", str(out)], records.record_path(TINY, out)
    else:
        out = tmp_path / "export"
        args, target = ["export", "--results", str(src), "--out", str(out)], out / f"{TINY.name}-{TINY.id}.csv"
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"grokkit: {target}: No space left on device", err
    assert not out.exists() or [p for p in out.rglob("*") if p.is_file() and p.parent.name != ".locks"] == []


@pytest.mark.parametrize("n", [0, 1])
def test_feature_rank_needs_two_samples(n):
    """Case 4: the rank of fewer than 2 samples says that 2 are needed (a covariance needs 2), not 'non-finite'."""
    from grokkit import metrics

    for fn in (metrics.rank_of, metrics.covariance_spectrum):
        with pytest.raises(ValueError, match=f"at least 2 samples.*got {n}"):
            fn(torch.randn(n, 5, dtype=torch.float64))


def test_import_and_locking_without_fcntl(tmp_path):
    """Case 4: on a platform without fcntl (Windows) grokkit imports and its per-config lock still works."""
    code = textwrap.dedent(f"""
        import sys, warnings
        warnings.simplefilter("ignore")
        sys.modules["fcntl"] = None   # what `import fcntl` finds on Windows
        from grokkit import records
        from grokkit.config import RunConfig
        c = RunConfig(depth=3, width=16, steps=10)
        with records.lock(c, {str(tmp_path)!r}) as held:
            with records.lock(c, {str(tmp_path)!r}, blocking=False) as other:
                print("HELD", held, other)
        with records.lock(c, {str(tmp_path)!r}, blocking=False) as again:
            print("AGAIN", again)
    """)
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(ROOT), capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0 and "HELD True False" in p.stdout and "AGAIN True" in p.stdout, p.stdout + p.stderr


def test_export_bom_for_spreadsheets(tiny_results, tmp_path, capsys):
    """Case 4: `export --bom` writes UTF-8 with a byte-order mark, so a spreadsheet reads γ as γ; without it the
    file is plain UTF-8 (what pandas and csv read by default). The README documents the flag."""
    assert main(["export", "--results", str(tiny_results), "--out", str(tmp_path / "plain")]) == 0
    assert main(["export", "--results", str(tiny_results), "--out", str(tmp_path / "bom"), "--bom"]) == 0
    (plain,), (bom,) = (list((tmp_path / d).iterdir()) for d in ("plain", "bom"))
    assert bom.read_bytes() == b"\xef\xbb\xbf" + plain.read_bytes()
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf") and "γ" in bom.read_text(encoding="utf-8-sig")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "--bom" in readme and "byte-order mark" in readme


def test_readme_and_colab_cell_follow_the_design():
    """Case 1: the README and every chapter's Colab cell name the project folder with GROKKIT_HOME."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "GROKKIT_HOME" in readme and "pip install ." in readme
    for chapter in _chapters():
        nb = json.loads((ROOT / f"{chapter}.ipynb").read_text(encoding="utf-8"))
        colab = [c for c in nb["cells"] if "google.colab" in "".join(c["source"])]
        if not colab:
            continue
        src = "".join(colab[0]["source"])
        assert 'os.environ.setdefault("GROKKIT_HOME", "/content/grokkit")' in src, chapter
        assert "GROKKIT_RESULTS" not in src and "[notebook]" in src, chapter
