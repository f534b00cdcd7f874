"""Reliability: validated parameters, divergence, interruption and resume, corrupted records and
checkpoints, concurrent writers, corrupt or missing data, and memory bounds.

Every run here is tiny (depth 3, width 16, 200 images, <= 400 steps), single-threaded, and writes only under
pytest's tmp_path: full-scale sweeps may be training into results/ at the same time.
"""
import gzip
import importlib
import math
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from grokkit import records
from grokkit.__main__ import main
from grokkit.config import MAX_DEPTH, MAX_WIDTH, MNIST_TRAIN, RunConfig, resolve_device
from grokkit.data import FILES, load_mnist
from grokkit.model import make_mlp
from grokkit.records import RecordError

ROOT = Path(__file__).resolve().parent.parent
# log steps 0..29, 30..140 by 10 and the last: few evaluations; rank only at 0 and the end; no probes
TINY = RunConfig(depth=3, width=16, n_train=200, batch_size=50, steps=150, log_every=1000, probe_every=-1,
                 device="cpu", checkpoint_every=0)
CLI_TINY = ["--depth", "3", "--width", "16", "--n-train", "200", "--batch-size", "50", "--log-every", "1000",
            "--probe-every", "-1", "--device", "cpu", "--threads", "1", "--quiet"]
T = importlib.import_module("grokkit.train")  # the module (grokkit.train is also the function's name)
RSS_BOUND_GIB = 3.0  # documented bound on peak RSS for the configs measured in test_peak_rss_bounded


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread (the machine is shared with running sweeps; also makes resumed histories comparable
    with subprocesses started with --threads 1)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _env(**kw):
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    env.update(kw)
    return env


def _cli(args, cwd, **env):
    return subprocess.run([sys.executable, "-m", "grokkit", *args], cwd=cwd, env=_env(**env), capture_output=True,
                          text=True, timeout=120)


def _same_history(a, b):
    assert sorted(a.history) == sorted(b.history)
    for k in a.history:
        assert a.history[k].dtype == b.history[k].dtype, k
        assert np.array_equal(a.history[k], b.history[k], equal_nan=a.history[k].dtype.kind == "f"), k


def _files(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*")) if d.exists() else []


@pytest.fixture(scope="module")
def reference():
    """The uninterrupted history of TINY (and of TINY with 400 steps), trained once per module."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # module fixtures are set up before the function-scoped one_thread
    try:
        return {150: T.train(TINY, progress=False), 400: T.train(TINY.replace(steps=400), progress=False)}
    finally:
        torch.set_num_threads(n)


# ================================================================================================
# 1. Parameters
# ================================================================================================
BAD = [  # (field, value, extra fields)
    ("depth", 0, {}), ("depth", 1, {}), ("depth", -3, {}), ("depth", "12", {}), ("depth", 12.5, {}),
    ("depth", True, {}), ("depth", np.int64(12), {}), ("depth", None, {}), ("depth", MAX_DEPTH + 1, {}),
    ("width", 0, {}), ("width", 1, {}), ("width", 16.5, {}), ("width", MAX_WIDTH + 1, {}),
    ("alpha", 0, {}), ("alpha", -1, {}), ("alpha", float("nan"), {}), ("alpha", float("inf"), {}), ("alpha", "8", {}),
    ("weight_decay", -0.1, {}), ("weight_decay", float("nan"), {}), ("weight_decay", float("inf"), {}),
    ("lr", 0, {}), ("lr", -1e-3, {}), ("lr", float("nan"), {}), ("lr", True, {}),
    ("n_train", 0, {}), ("n_train", MNIST_TRAIN + 1, {}), ("n_train", 5000.5, {}),
    ("n_test", 0, {}), ("n_test", 1, {}), ("n_test", 10_001, {}), ("n_test", 2000.5, {}),
    ("batch_size", 0, {}), ("batch_size", 2.5, {}),
    ("steps", 0, {}), ("steps", -5, {}), ("steps", 1e5 + 0.5, {}), ("steps", float("inf"), {}),
    ("dtype", "float16", {}), ("dtype", "fp32", {}), ("dtype", None, {}),
    ("device", "tpu", {}), ("device", "cuda:x", {}), ("device", "CPU", {}), ("device", None, {}),
    ("seed", -1, {}), ("seed", 2**31, {}),
    ("log_every", -1, {}), ("rank_every", -2, {}), ("probe_every", -2, {}), ("probe_epochs", 0, {}),
    ("checkpoint_every", -1, {}),
]


@pytest.mark.parametrize("field,value,extra", BAD, ids=[f"{f}={v!r}" for f, v, _ in BAD])
def test_bad_parameter_rejected(field, value, extra):
    with pytest.raises(ValueError) as e:
        RunConfig(**extra, **{field: value})
    msg = str(e.value)
    assert msg.startswith(f"{field}:") and "\n" not in msg, msg
    # the same through replace() and from_dict() (papermill parameters go through these)
    with pytest.raises(ValueError, match=f"^{field}:"):
        TINY.replace(**extra, **{field: value})
    with pytest.raises(ValueError, match=f"^{field}:"):
        RunConfig.from_dict({**extra, field: value})


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_cuda_without_gpu_rejected(device):
    cfg = TINY.replace(device=device)  # a valid request in itself...
    with pytest.raises(ValueError, match="^device:.*no CUDA GPU"):
        resolve_device(cfg.device)  # ...that fails before any work on this machine
    with pytest.raises(ValueError, match="^device:"):
        T.train(cfg, progress=False)


def test_unknown_fields_rejected():
    with pytest.raises(ValueError, match=r"unknown field.*'depht'"):
        RunConfig.from_dict({"depht": 12})
    with pytest.raises(ValueError, match=r"unknown field.*'wieght_decay'"):
        TINY.replace(wieght_decay=0.1)  # was a TypeError from dataclasses.replace
    assert RunConfig.from_dict({"depth": 4}).depth == 4


CLI_BAD = [  # (argv after `run`, field named in the message)
    (["--depth", "0"], "depth"), (["--depth", "1"], "depth"), (["--depth", str(MAX_DEPTH + 1)], "depth"),
    (["--width", "0"], "width"), (["--width", str(MAX_WIDTH + 1)], "width"),
    (["--alpha", "0"], "alpha"), (["--alpha", "nan"], "alpha"), (["--alpha", "inf"], "alpha"),
    (["--weight-decay", "-0.1"], "weight_decay"), (["--weight-decay", "nan"], "weight_decay"),
    (["--lr", "0"], "lr"), (["--lr=-1e-3"], "lr"), (["--n-train", "60001"], "n_train"),
    (["--n-train", "0"], "n_train"), (["--batch-size", "0"], "batch_size"), (["--steps", "0"], "steps"),
    (["--dtype", "float16"], "dtype"), (["--dtype", "fp32"], "dtype"), (["--device", "tpu"], "device"),
    (["--seed", "-1"], "seed"), (["--checkpoint-every", "-1"], "checkpoint_every"),
    (["--depth", "12.5"], "depth"), (["--alpha", "x"], "alpha"), (["--width", "1"], "width"),
    (["--n-test", "1"], "n_test"), (["--steps", "1.5"], "steps"), (["--threads", "-1"], "threads"),
] + ([(["--device", "cuda"], "device")] if not torch.cuda.is_available() else [])


@pytest.mark.parametrize("argv,field", CLI_BAD, ids=[" ".join(a) for a, _ in CLI_BAD])
def test_cli_bad_parameter(argv, field, tmp_path, capsys):
    res = tmp_path / "res"
    assert main(["run", *argv, "--results", str(res), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"grokkit: {field}:") and "\n" not in err, err
    assert not res.exists()  # no record, checkpoint or lock written


@pytest.mark.parametrize("argv", [["--depht", "3"]])
def test_cli_unparsable_parameter(argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["run", *argv, "--results", str(tmp_path / "res")])
    assert e.value.code == 2
    assert argv[0] in capsys.readouterr().err
    assert not (tmp_path / "res").exists()


def test_cli_bad_parameter_subprocess(tmp_path):
    """The real command: exit 2, one line naming the field on stderr, nothing written."""
    p = _cli(["run", "--depth", "0", "--results", "res", "--quiet"], cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip().startswith("grokkit: depth:") and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert _files(tmp_path) == []


# ================================================================================================
# 2. Divergence
# ================================================================================================
@pytest.mark.parametrize("kw,at_most", [({"alpha": 1e30}, 0), ({"lr": 1e6}, 29), ({"lr": 1e6, "dtype": "float64"}, 29)])
def test_real_divergence_is_recorded(kw, at_most, tmp_path):
    cfg = TINY.replace(**kw)
    run = T.load_or_train(cfg, tmp_path, progress=False)
    at = run.meta["diverged_at"]
    assert run.diverged and at is not None and 0 <= at <= at_most
    assert run.history["step"][-1] == at < cfg.steps  # stopped there, the non-finite point closes the history
    assert not (math.isfinite(run.final("train_loss")) and math.isfinite(run.final("weight_norm")))
    back = records.load(records.record_path(cfg, tmp_path), cfg)
    assert back.diverged and back.meta["diverged_at"] == at
    _same_history(run, back)


def test_nan_between_evaluations_stops_the_run(tmp_path, monkeypatch):
    """A NaN injected into the loss at step 199, far from any log step: the cheap loss check stops the run
    within NAN_CHECK_EVERY steps (before: the rank snapshot at step 200 crashed in the SVD, losing the run)."""
    cfg = TINY.replace(steps=400, rank_every=100)  # rank steps 100, 200, 300: 200 and 300 are not log steps
    orig, calls = T._step_fn, []

    def poisoned(model, *args):
        step = orig(model, *args)

        def poisoned_step(idx):
            calls.append(1)
            loss = step(idx)
            if len(calls) == 200:  # the 200th training step is step 199: its loss and the weights turn NaN
                with torch.no_grad():
                    model.layers[0].weight[0, 0] = float("nan")
                return loss * float("nan")
            return loss
        return poisoned_step

    monkeypatch.setattr(T, "_step_fn", poisoned)
    items = []
    orig_item = torch.Tensor.item
    monkeypatch.setattr(torch.Tensor, "item", lambda t: items.append(1) or orig_item(t))
    run = T.train(cfg, progress=False)
    at = run.meta["diverged_at"]
    assert 199 < at <= 199 + T.NAN_CHECK_EVERY and run.history["step"][-1] == at
    assert math.isnan(run.final("train_loss")) and math.isnan(run.final("weight_norm"))
    assert list(run.history["rank_step"]) == [0, 100]  # no snapshot of NaN weights
    assert len(items) <= at // T.NAN_CHECK_EVERY  # no per-step sync in the hot loop


def test_nan_weights_before_checkpoint_are_not_saved(tmp_path, monkeypatch):
    """Weights poisoned at step 220; the first checkpoint, due at step 250 (no evaluation or loss check
    between), is not written: the run stops there instead of saving NaN weights."""
    cfg = TINY.replace(steps=400, checkpoint_every=250)
    orig, n = T._step_fn, []

    def poisoned(model, *args):
        step = orig(model, *args)

        def poisoned_step(idx):
            n.append(1)
            loss = step(idx)
            if len(n) == 221:
                with torch.no_grad():
                    model.layers[0].weight[0, 0] = float("inf")
            return loss
        return poisoned_step

    monkeypatch.setattr(T, "_step_fn", poisoned)
    ckpt = tmp_path / "c.pt"
    run = T.train(cfg, progress=False, checkpoint_path=ckpt)
    assert run.meta["diverged_at"] == 250 and not ckpt.exists()


def test_cli_divergence_exit_code(tmp_path, capsys):
    res = tmp_path / "res"
    rc = main(["run", *CLI_TINY, "--steps", "150", "--checkpoint-every", "0", "--alpha", "1e30", "--results", str(res)])
    out = capsys.readouterr()
    assert rc == 3 and "diverged at step 0" in out.err
    assert main(["list", "--results", str(res)]) == 0
    assert "DIVERGED@0" in capsys.readouterr().out


# ================================================================================================
# 3. Interruption and resume
# ================================================================================================
def test_sigkill_then_resume_is_bit_identical(tmp_path, reference):
    cfg = TINY.replace(steps=400, checkpoint_every=50)
    res = tmp_path / "res"
    argv = [sys.executable, "-m", "grokkit", "run", *CLI_TINY, "--steps", "400", "--checkpoint-every", "50",
            "--results", str(res)]
    proc = subprocess.Popen(argv, cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ckpt = T._checkpoint_path(cfg, res)
    t0 = time.monotonic()
    try:
        while not ckpt.exists():
            assert proc.poll() is None, f"the run ended before its first checkpoint: {proc.stderr.read()}"
            assert time.monotonic() - t0 < 60, "no checkpoint after 60 s"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL  # killed mid-run, not finished
    assert not records.record_path(cfg, res).exists()

    run = T.load_or_train(cfg, res, progress=False)  # the same config again
    print(f"killed after checkpoint; resumed from step {run.meta['resumed_from']}")
    assert run.meta["resumed_from"] and run.meta["resumed_from"] > 0 and run.meta["resumed_from"] % 50 == 0
    _same_history(run, reference[400])
    assert not run.diverged
    # the checkpoint is gone, and no temp file of a write cut by the kill is left behind
    assert _files(res) == [".checkpoints", ".locks", f".locks/{cfg.id}.lock", records.record_path(cfg, res).name]


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory):
    """The checkpoint of TINY at step 100 (stop_after), written once per module."""
    cfg, ckpt = TINY.replace(checkpoint_every=50), tmp_path_factory.mktemp("ckpt") / "ck.pt"
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert T.train(cfg, progress=False, checkpoint_path=ckpt, stop_after=100) is None
    finally:
        torch.set_num_threads(n)
    assert ckpt.read_bytes().startswith(T.CKPT_MAGIC)
    return ckpt.read_bytes()


@pytest.fixture
def checkpointed(tmp_path, checkpoint_bytes):
    """A fresh copy of that checkpoint, and its config."""
    ckpt = tmp_path / "ck.pt"
    ckpt.write_bytes(checkpoint_bytes)
    return TINY.replace(checkpoint_every=50), ckpt


def test_resume_from_intact_checkpoint(checkpointed, reference):
    cfg, ckpt = checkpointed
    run = T.train(cfg, progress=False, checkpoint_path=ckpt)
    assert run.meta["resumed_from"] == 100
    _same_history(run, reference[150])


def test_resume_on_other_threads_records_both(checkpointed):
    """Resumed on the checkpoint's thread count, the record keeps that count; on another, it records neither count
    alone but each stretch, and the cost table reads both counts."""
    from grokkit.run_tables import thread_counts

    cfg, ckpt = checkpointed  # trained to step 100 on one thread
    saved = ckpt.read_bytes()
    n = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        same = T.train(cfg, progress=False, checkpoint_path=ckpt)
        ckpt.write_bytes(saved)
        torch.set_num_threads(2)
        other = T.train(cfg, progress=False, checkpoint_path=ckpt)
    finally:
        torch.set_num_threads(n)
    assert same.meta["threads"] == 1 and "thread_segments" not in same.meta
    assert thread_counts(same.meta) == ((1,), None)
    assert other.meta["threads"] is None and other.meta["thread_segments"] == [[0, 1], [100, 2]]
    assert thread_counts(other.meta) == ((1, 2), None)
    # a checkpoint written before the stretches were kept: its stretch is not recorded, the rest is
    ckpt.write_bytes(saved)
    state = T._read_checkpoint(ckpt)
    del state["threads"]
    T._save_checkpoint(ckpt, state)
    old = T.train(cfg, progress=False, checkpoint_path=ckpt)
    assert old.meta["threads"] is None and old.meta["thread_segments"] == [[0, None], [100, n]]
    assert thread_counts(old.meta) == ((n,), 100)  # recorded from step 100 on, not before
    assert thread_counts({"threads": None, "thread_segments": [[0, None], [100, None]]}) == ((), None)
    assert thread_counts({"threads": None, "thread_segments": [[0, 1], [50, 4], [100, 1]]}) == ((1, 4), None)


def _truncate(b):
    return b[: len(b) // 2]


def _flip_payload(b):  # one byte inside the weights: torch.load alone loads it without noticing
    b = bytearray(b)
    b[len(b) // 2] ^= 0x40
    return bytes(b)


def _garbage(b):
    return b"\x00garbage" * 100


def _no_checksum_header(b):  # a plain torch.save payload: never loaded unverified
    return b[len(T.CKPT_MAGIC) + 65:]


@pytest.mark.parametrize("damage", [_truncate, _flip_payload, _garbage, _no_checksum_header])
def test_corrupt_checkpoint_is_ignored(damage, checkpointed, reference, capsys):
    cfg, ckpt = checkpointed
    ckpt.write_bytes(damage(ckpt.read_bytes()))
    run = T.train(cfg, progress=False, checkpoint_path=ckpt)
    assert "ignoring unreadable checkpoint" in capsys.readouterr().out
    assert run.meta["resumed_from"] is None  # from step 0, never from damaged weights
    _same_history(run, reference[150])


def test_checkpoint_write_is_atomic(checkpointed, monkeypatch):
    cfg, ckpt = checkpointed
    before = ckpt.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(records.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        T._save_checkpoint(ckpt, {"step": 1})
    assert ckpt.read_bytes() == before and [p.name for p in ckpt.parent.iterdir()] == [ckpt.name]


# ================================================================================================
# 4. Records
# ================================================================================================
@pytest.fixture
def recorded(tmp_path, reference):
    res = tmp_path / "res"
    path = records.save(records.Run(TINY, dict(reference[150].history), dict(reference[150].meta)), res)
    return res, path


def _u32(s):  # numpy stores str arrays as UTF-32-LE
    return s.encode("utf-32-le")


def _flip_at(b, i):
    assert i >= 8
    b = bytearray(b)
    b[i] ^= 0x01
    return bytes(b)


def _rewrite(path, change):
    with np.load(path) as z:
        d = {k: z[k] for k in z.files}
    change(d)
    with open(path, "wb") as f:
        np.savez(f, **d)


DAMAGES = {
    "truncated": lambda p, h: p.write_bytes(_truncate(p.read_bytes())),
    "flipped-array-byte": lambda p, h: p.write_bytes(
        _flip_at(p.read_bytes(), p.read_bytes().find(h["train_loss"].tobytes()) + 3)),
    "flipped-meta-byte": lambda p, h: p.write_bytes(
        _flip_at(p.read_bytes(), p.read_bytes().find(_u32('"format"')) + 8)),
    "bad-checksum": lambda p, h: _rewrite(p, lambda d: d.update(__checksum__=np.array("0" * 64))),
    "tampered-array": lambda p, h: _rewrite(p, lambda d: d.update(test_acc=d["test_acc"] + 1e-9)),
    "not-a-zip": lambda p, h: p.write_bytes(b"hello"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_corrupt_record(damage, recorded, reference, capsys):
    """Detected on load, refused with retrain_corrupt=False, CORRUPT in `list`; then reported and retrained
    (the retraining is the same code path for every damage: done for two of them)."""
    res, path = recorded
    DAMAGES[damage](path, reference[150].history)
    with pytest.raises(RecordError) as e:
        records.load(path)
    assert str(path) in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(RecordError):
        T.load_or_train(TINY, res, progress=False, retrain_corrupt=False)
    assert main(["list", "--results", str(res)]) == 0
    out = capsys.readouterr().out
    assert "CORRUPT" in out and path.name in out
    if damage not in ("truncated", "tampered-array"):
        return
    run = T.load_or_train(TINY, res, progress=False)  # reported and retrained
    assert "retraining" in capsys.readouterr().out
    assert run.meta["resumed_from"] is None
    _same_history(run, reference[150])
    _same_history(records.load(path, TINY), reference[150])  # the damaged file was replaced by a valid one


def test_older_format_record(tmp_path, reference, monkeypatch, capsys):
    monkeypatch.setattr(records, "FORMAT", 0)
    path = records.save(records.Run(TINY, dict(reference[150].history), {}), tmp_path)
    monkeypatch.undo()
    with pytest.raises(RecordError, match=r"another grokkit version \(record format 0; this grokkit reads format 1"):
        records.load(path)
    with pytest.raises(records.ForeignRecord, match="format 0"):  # never retrained over (issue 46)
        T.load_or_train(TINY, tmp_path, progress=False)
    assert main(["list", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "CORRUPT" not in out and "ANOTHER FORMAT" in out, out


def test_record_of_another_config_is_not_used(recorded, capsys):
    res, path = recorded
    other = TINY.replace(seed=1)
    shutil.copy(path, records.record_path(other, res))  # e.g. a file renamed by hand
    with pytest.raises(RecordError, match="is for config"):
        records.load(records.record_path(other, res), other)
    with pytest.raises(RecordError, match="is for config"):
        T.load_or_train(other, res, progress=False, retrain_corrupt=False)


@pytest.mark.parametrize("probe_every", [-1, 0, 7])
def test_record_config_round_trip(probe_every, tmp_path, reference):
    """The config rebuilt from a record has the id of the one that wrote it (before: probe_every=-1 came back
    as 0, i.e. probes on, with another id)."""
    cfg = TINY.replace(probe_every=probe_every)
    path = records.save(records.Run(cfg, dict(reference[150].history), {}), tmp_path)
    back = records.load(path, cfg)
    assert back.config.id == cfg.id and back.config.probe_period == cfg.probe_period


def test_record_write_is_atomic(recorded, monkeypatch):
    res, path = recorded
    before = path.read_bytes()
    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(records.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        records.save(records.load(path), res)
    assert path.read_bytes() == before and sorted(p.name for p in res.iterdir()) == [path.name]


def test_stale_temp_files_are_cleaned(tmp_path):
    """Temp files of a writer killed mid-write are removed by the next trainer of that config."""
    path, ckpt = records.record_path(TINY, tmp_path), T._checkpoint_path(TINY, tmp_path)
    ckpt.parent.mkdir(parents=True)
    (tmp_path / f".{path.name}.abc123.tmp").write_bytes(b"PK\x03")
    (ckpt.parent / f".{ckpt.name}.xyz.tmp").write_bytes(b"half")
    keep = tmp_path / ".other-config.abc.tmp"
    keep.write_bytes(b"x")
    T.load_or_train(TINY, tmp_path, progress=False)
    assert _files(tmp_path) == [".checkpoints", ".locks", f".locks/{TINY.id}.lock", keep.name, path.name]


# ================================================================================================
# 5. Concurrent writers
# ================================================================================================
WORKER = textwrap.dedent("""
    import os, sys, time
    import torch
    torch.set_num_threads(1)
    import importlib
    T = importlib.import_module("grokkit.train")
    from grokkit import RunConfig
    orig = T.train
    def counted(*a, **k):
        print("TRAINING", flush=True)
        return orig(*a, **k)
    T.train = counted
    cfg = RunConfig.from_dict(eval(sys.argv[1]))
    print("READY", flush=True)
    while not os.path.exists(sys.argv[3]):
        time.sleep(0.002)
    run = T.load_or_train(cfg, sys.argv[2], progress=False)
    print("WALL", run.meta["wall_time_s"], flush=True)
""")


def test_two_processes_same_config(tmp_path, reference):
    res, go = tmp_path / "res", tmp_path / "go"
    cfg = dict(depth=3, width=16, n_train=200, batch_size=50, steps=150, log_every=1000, probe_every=-1,
               device="cpu", checkpoint_every=0)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, repr(cfg), str(res), str(go)], cwd=tmp_path, env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "READY", p.stderr.read()
        go.touch()  # both start at once
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    text = [o[0] for o in outs]
    assert sum(t.count("TRAINING") for t in text) == 1  # exactly one trained...
    assert sum("written by another process; loaded it" in t for t in text) == 1  # ...the other loaded its record
    walls = {line for t in text for line in t.splitlines() if line.startswith("WALL")}
    assert len(walls) == 1  # both report the one record
    path = records.record_path(TINY, res)
    assert _files(res) == [".locks", f".locks/{TINY.id}.lock", path.name]  # no partial or temp files
    _same_history(records.load(path, TINY), reference[150])


# ================================================================================================
# 6. Data
# ================================================================================================
@pytest.fixture
def data_copy(tmp_path):
    d = tmp_path / "mnist"
    d.mkdir()
    for name in FILES:
        shutil.copy(ROOT / "data" / "mnist" / name, d / name)
    return d


def test_modified_mnist_file(data_copy, tmp_path, monkeypatch, capsys):
    f = data_copy / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(f.read_bytes()))
    raw[100] = (raw[100] + 1) % 10  # one label changed: a plausible, silent edit
    f.write_bytes(gzip.compress(bytes(raw)))
    monkeypatch.setenv("GROKKIT_DATA", str(data_copy))  # new paths: _read_idx's cache does not hide the change
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.gz: content md5 [0-9a-f]{32} != canonical"):
        load_mnist(10)
    res = tmp_path / "res"
    assert main(["run", *CLI_TINY, "--steps", "50", "--results", str(res)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("grokkit: MNIST file") and "md5" in err and f.name in err and "\n" not in err, err
    assert not list(res.rglob("*.npz")) and not list(res.rglob("*.pt")) and not list(res.rglob("*.tmp"))


def test_damaged_gzip_mnist_file(data_copy, monkeypatch):
    f = data_copy / "train-labels-idx1-ubyte.gz"
    b = bytearray(f.read_bytes())
    b[len(b) // 2] ^= 0xFF
    f.write_bytes(bytes(b))
    monkeypatch.setenv("GROKKIT_DATA", str(data_copy))
    with pytest.raises(ValueError, match=r"train-labels.*corrupt.*md5"):
        load_mnist(10)


def test_missing_data_without_network(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "nodata"
    monkeypatch.setenv("GROKKIT_DATA", str(folder))
    urls = []

    def offline(url, *a, **k):
        urls.append(url)
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(FileNotFoundError) as e:
        load_mnist(10)
    msg = str(e.value)
    assert str(folder) in msg and "train-images-idx3-ubyte.gz" in msg and "could not be downloaded" in msg
    assert urls and all(u.startswith("https://") for u in urls)
    assert main(["run", *CLI_TINY, "--steps", "50", "--results", str(tmp_path / "res")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("grokkit: MNIST file") and str(folder) in err and "\n" not in err
    assert not list((tmp_path / "res").rglob("*.npz"))


# ================================================================================================
# 7. Memory bounds
# ================================================================================================
RSS = textwrap.dedent("""
    import resource, sys, torch
    torch.set_num_threads(1)
    import torch.nn.functional as F
    from grokkit import RunConfig, load_mnist, make_mlp, train
    from grokkit.metrics import snapshot
    if sys.argv[1] == "n60000_d24":
        # what train() holds at N = 60000 (float32 data, float64 copies, targets), one rank snapshot
        x_train, y_train, x_test, y_test = load_mnist(60000)
        x_train64, x_test64 = x_train.double(), x_test.double()
        targets = F.one_hot(y_train, 10).float()
        model = make_mlp(24, 400, 8.0, 0)
        rank = snapshot(model, x_test64)[0]
        assert len(rank) == 24
    else:
        # a depth-12 N = 7000 run (paper grid): evaluation, a rank snapshot over the 10k test set with linear
        # probes (one epoch: the memory is the same), one training step; stopped at step 1
        cfg = RunConfig(depth=12, n_train=7000, steps=2, probe_epochs=1, device="cpu", checkpoint_every=0)
        assert cfg.is_rank_step(0) and cfg.is_probe_step(0)
        assert train(cfg, progress=False, stop_after=1) is None
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)  # KiB on Linux -> GiB
""")


def test_peak_rss_bounded(tmp_path):
    peaks = {}
    for case in ("n60000_d24", "n7000_d12"):
        t0 = time.monotonic()
        p = subprocess.run([sys.executable, "-c", RSS, case], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                           timeout=120)
        assert p.returncode == 0, p.stderr
        peaks[case] = float(p.stdout.split()[-1])
        print(f"{case}: {time.monotonic() - t0:.1f} s")
    print("peak RSS (GiB):", peaks)
    assert all(v < RSS_BOUND_GIB for v in peaks.values()), peaks
    with pytest.raises(ValueError, match=f"^depth: must be in 2..{MAX_DEPTH}"):
        RunConfig(depth=MAX_DEPTH + 1)
    with pytest.raises(ValueError, match=f"^width: must be in 2..{MAX_WIDTH}"):
        RunConfig(width=MAX_WIDTH + 1)


# ================================================================================================
# 7. One source of truth for every knob: each user-found case's right value
# ================================================================================================
def _readme_example(pattern: str) -> str:
    import re

    text = (ROOT / "README.md").read_text()
    m = re.search(pattern, text)
    assert m, f"README example {pattern!r} not found"
    return m.group(0)


def test_readme_speed_ratio_is_the_benchmarks_output():
    """The README's CPU-worker speed-up is the ratio `grokkit bench --workers 2` wrote to bench/, not a typed number."""
    import json

    ratio = json.loads((ROOT / "bench" / "cpu_workers2.json").read_text())["ratio"]
    line = _readme_example(r"the pair ran [0-9.]+× more training steps per second \(`bench/cpu_workers2\.json`")
    assert f"ran {ratio:.2f}×" in line, (line, ratio)


def _no_training(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("train() called: the shipped record was not found")

    monkeypatch.setattr(T, "train", refuse)
    monkeypatch.delenv("GROKKIT_RESULTS", raising=False)


def test_every_shipped_record_is_found_by_the_papers_config():
    """Case 1: RunConfig's defaults are the full-scale records' schedule, so the fields in a record's name find it
    (an intervention's fields and α among them); every shipped record is one of the grids' (paper, interventions,
    pilots: a pilot's shorter schedule is the pilot grid's)."""
    from grokkit.sweep import GRIDS, PAPER_BASE

    paths = records.list_records(ROOT / "results")
    assert len(paths) >= 24
    for p in paths:
        c = records.load(p).config
        if c.steps == PAPER_BASE.steps:
            mine = RunConfig(depth=c.depth, n_train=c.n_train, weight_decay=c.weight_decay, seed=c.seed, dtype=c.dtype,
                             alpha=c.alpha, **c.interventions)  # α: the second round's low start
            assert records.record_path(mine, ROOT / "results") == p
    grids = {records.record_path(c, ROOT / "results") for grid in GRIDS.values() for c in grid()}
    assert set(paths) <= grids  # every record is a grid's
    assert PAPER_BASE == RunConfig()


def test_readme_cli_example_loads_the_shipped_record(monkeypatch, capsys):
    """Case 1: the README's `grokkit run` example, as written, loads results/ (no 2-hour retraining)."""
    cmd = _readme_example(r"python -m grokkit run --depth 12 [^\[\\\n]*")
    _no_training(monkeypatch)
    assert main(cmd.split()[3:] + ["--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"record: {ROOT / 'results' / 'd12_w400_n5000_a8_wd0.01_s0-2ac5723cc6.npz'}" in out


def test_readme_python_example_loads_the_shipped_record(monkeypatch):
    import grokkit

    line = _readme_example(r"grokkit\.load_or_train\(grokkit\.RunConfig\([^\n]*\)\)")
    _no_training(monkeypatch)
    monkeypatch.chdir(ROOT / "book")  # as from a notebook: the default folder is the repository's, not ./results
    run = eval(line, {"grokkit": grokkit})
    assert run.path == ROOT / "results" / "d12_w400_n5000_a8_wd0.01_s0-2ac5723cc6.npz"


def test_same_name_other_config_is_reported_before_training(tmp_path, reference, monkeypatch, capsys):
    records.save(reference[150], tmp_path)
    other = TINY.replace(rank_every=7)
    assert other.name == TINY.name and other.id != TINY.id

    def train_spy(*a, **k):
        print("TRAINING", file=sys.stderr)
        return reference[150]

    monkeypatch.setattr(T, "train", train_spy)
    T.load_or_train(other, tmp_path, progress=False)
    err = capsys.readouterr().err
    assert err.index(f"{records.record_path(TINY, tmp_path)} has the same name") < err.index("TRAINING")
    line = err.splitlines()[0]
    assert "rank_every=7 asked for" in line and "rank_every=1000 (--rank-every 1000)" in line, line


def test_relative_results_env_means_the_repository_folder_from_book(monkeypatch):
    """Case 2: GROKKIT_RESULTS=results from the chapters' folder book/ finds the shipped record."""
    from grokkit.chapters import chapter_run, paper_config

    monkeypatch.delenv("GROKKIT_SMOKE", raising=False)
    monkeypatch.setenv("GROKKIT_RESULTS", "results")
    monkeypatch.chdir(ROOT / "book")
    run = chapter_run(paper_config(12, 5000, 0.01))
    assert not run.meta.get("stand_in") and run.path.parent == ROOT / "results"


@pytest.mark.parametrize("var,means", [("GROKKIT_DATA", "data/mnist"), ("GROKKIT_SMOKE_DIR", "tmp-smoke")])
def test_every_relative_folder_variable_means_the_same_folder_from_book(var, means, monkeypatch):
    """Case 2's kind: the other folders named by the environment resolve like GROKKIT_RESULTS."""
    from grokkit.chapters import smoke_dir
    from grokkit.data import data_dir

    monkeypatch.setenv(var, means)
    for cwd in (ROOT, ROOT / "book"):
        monkeypatch.chdir(cwd)
        assert (data_dir() if var == "GROKKIT_DATA" else smoke_dir()) == ROOT / means


@pytest.mark.parametrize("how", ["env", "argument"])
def test_missing_named_results_folder_is_an_error_naming_it(how, tmp_path, monkeypatch):
    """Case 2: a named results folder that does not exist is an error with its absolute path, not a stand-in."""
    from grokkit.chapters import chapter_run, paper_config

    monkeypatch.delenv("GROKKIT_SMOKE", raising=False)
    monkeypatch.chdir(tmp_path)
    if how == "env":
        monkeypatch.setenv("GROKKIT_RESULTS", str(tmp_path / "nowhere"))
        kw = {}
    else:
        kw = {"results_dir": "nowhere"}
    with pytest.raises(FileNotFoundError, match=f"{tmp_path / 'nowhere'} does not exist"):
        chapter_run(paper_config(12, 5000, 0.01), **kw)
    assert _files(tmp_path) == []


def test_cli_list_of_missing_results_folder(tmp_path, capsys):
    assert main(["list", "--results", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("grokkit: results folder") and f"{tmp_path / 'nowhere'} does not exist" in err


PROBE_CHAPTER = {  # a chapter that prints what its kernel sees: the interpreter, the records' folder, threads
    "cells": [
        {"id": "params", "cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "x = 0", "outputs": [],
         "execution_count": None},
        {"id": "probe", "cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": "import sys, torch\nfrom grokkit.records import results_folder\n"
                   "print('EXE', sys.executable)\nprint('RESULTS', results_folder(must_exist=True))\n"
                   "print('THREADS', torch.get_num_threads())"},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                 "language_info": {"name": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}


@pytest.fixture
def probe_book(tmp_path, monkeypatch):
    """book/probe.ipynb, and another environment's 'python3' kernelspec first on the Jupyter path."""
    import json

    book = tmp_path / "book"
    book.mkdir()
    (book / "probe.ipynb").write_text(json.dumps(PROBE_CHAPTER))
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": ["/nonexistent/python3", "-m", "ipykernel_launcher", "-f",
                                                           "{connection_file}"], "display_name": "other env",
                                                  "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return book


def test_sweep_chapter_results_and_threads_act(probe_book, tmp_path, capsys):
    """Case 3: `sweep <chapter> --results DIR --threads 1` reach the chapter; case 6: it runs in this interpreter
    although another environment's python3 kernelspec comes first."""
    import nbformat

    empty = tmp_path / "empty"
    empty.mkdir()
    argv = ["sweep", "probe", "--book", str(probe_book), "--out", str(tmp_path / "runs"), "--quiet"]
    assert main([*argv, "--results", str(empty), "--threads", "1"]) == 0, capsys.readouterr()
    nb = nbformat.read(tmp_path / "runs" / "probe.ipynb", 4)
    out = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert f"EXE {sys.executable}\n" in out
    assert f"RESULTS {empty}\n" in out and "THREADS 1\n" in out
    # a --results folder that does not exist: one line naming it, nothing executed
    assert main([*argv[:-3], "--out", str(tmp_path / "runs2"), "--results", str(tmp_path / "nowhere")]) == 2
    assert f"{tmp_path / 'nowhere'} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "runs2").exists()


@pytest.mark.parametrize("argv", [
    ["sweep", "paper", "--out", "x"], ["sweep", "paper", "--book", "book"], ["sweep", "paper", "--grid", "depth=4"],
    ["sweep", "paper", "--param", "seed=1"], ["bench", "--workers", "2", "--threads", "1"],
    ["bench", "--workers", "2", "--steps", "50"],
    ["sweep", "depth", "--device", "cpu", "--param", "device=cpu"],
])
def test_flags_that_would_be_ignored_are_refused(argv, tmp_path, capsys, monkeypatch):
    """Case 3: every flag acts or is refused with one line (exit 2), before any work."""
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("grokkit:") and "\n" not in err and argv[-2] in err, err
    assert _files(tmp_path) == []


@pytest.mark.parametrize("what", ["paper", "depth"])
def test_sweep_bad_device_is_refused_before_any_work(what, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", what, "--device", "tpu", "--results", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("grokkit: device: must be one of auto, cpu, cuda, cuda:N")
    assert _files(tmp_path) == []


WD = [0.005, 0.05]


@pytest.mark.parametrize("entry", ["yaml -y", "yaml -f", "papermill -p", "scalar", "sweep --grid", "sweep --param"])
def test_one_value_parser_for_every_entry_point(entry, tmp_path):
    """Case 4: '5e-3' inside a YAML list (PyYAML reads it as a string) is a number like everywhere else."""
    import yaml

    from grokkit.chapters import check_params, parse_grid

    if entry == "yaml -y":
        value = yaml.safe_load("weight_decay: [5e-3, 5e-2]")["weight_decay"]
        assert value == ["5e-3", "5e-2"]  # the cause: YAML 1.1 wants a dot in a float
    elif entry == "yaml -f":
        (tmp_path / "p.yaml").write_text("weight_decay:\n  - 5e-3\n  - 5e-2\n")
        value = yaml.safe_load((tmp_path / "p.yaml").read_text())["weight_decay"]
    elif entry == "papermill -p":
        value = "[5e-3, 5e-2]"
    elif entry == "scalar":
        assert check_params({"weight_decay": yaml.safe_load("w: 5e-2")["w"]}, ["weight_decay"]) == {
            "weight_decay": [0.05]}
        return
    else:
        value = parse_grid(["weight_decay=5e-3,5e-2"])["weight_decay"]
    assert check_params({"weight_decay": value}, ["weight_decay"]) == {"weight_decay": WD}


def test_cli_reads_numbers_with_the_same_parser(tmp_path):
    from grokkit.__main__ import _arg_type

    assert _arg_type(float)("5e-3") == 0.005 and _arg_type(int)("100_000") == 100_000
    assert math.isnan(_arg_type(float)("nan"))  # then RunConfig says "alpha: must be a finite number"


def test_n_train_below_the_batch_size_is_one_batch_of_n_per_step():
    """Case 5: the authors' DataLoader(batch_size=200) over N < 200 images yields one batch of all N per step;
    so does grokkit (identical to batch_size = N), and no check names batch_size."""
    from grokkit.chapters import check_params

    small = TINY.replace(n_train=100, batch_size=200, steps=40)
    assert check_params({"n_train": 100}, ["n_train"]) == {"n_train": [100]}
    a = T.train(small, progress=False)
    b = T.train(small.replace(batch_size=100), progress=False)
    _same_history(a, b)


def test_cli_n_train_below_the_batch_size_trains(tmp_path, capsys):
    argv = ["run", "--depth", "3", "--width", "8", "--n-train", "100", "--steps", "5", "--probe-every", "-1",
            "--device", "cpu", "--results", str(tmp_path), "--quiet"]
    assert main(argv) == 0, capsys.readouterr().err
    assert "final train acc" in capsys.readouterr().out


@pytest.mark.parametrize("field,value,call", [
    ("depth", 1, lambda v: make_mlp(v, 8)), ("depth", MAX_DEPTH + 1, lambda v: make_mlp(v, 8)),
    ("width", MAX_WIDTH + 1, lambda v: make_mlp(3, v)), ("n_train", MNIST_TRAIN + 1, load_mnist),
    ("n_train", 0, load_mnist),
])
def test_each_bound_is_stated_once(field, value, call):
    """Case 5's kind: the model, the data, RunConfig, the CLI and the chapters give the same bound."""
    import re

    from grokkit.chapters import PARAMS, check_params
    from grokkit.config import RULES, describe

    with pytest.raises(ValueError) as cfg_err:
        RunConfig(**{field: value})
    with pytest.raises(ValueError) as direct:
        call(value)
    assert str(direct.value) == str(cfg_err.value)
    if field not in PARAMS:  # not a chapter parameter
        return
    with pytest.raises(ValueError, match=re.escape(f"must be {describe(field, True)}") + "$"):
        check_params({field: value}, [field])
    assert set(RULES) == {f for f in RunConfig.__dataclass_fields__}


def test_every_field_has_one_cli_flag_with_runconfigs_default():
    import argparse

    from grokkit.__main__ import _cfg_args, _config

    p = argparse.ArgumentParser()
    _cfg_args(p)
    assert _config(p.parse_args([])) == RunConfig()
    for f in RunConfig.__dataclass_fields__:
        assert f"--{f.replace('_', '-')}" in p.format_help()
    assert _config(p.parse_args(["--device", "cuda:1", "--weight-decay", "5e-3"])) == RunConfig(
        device="cuda:1", weight_decay=0.005)


@pytest.mark.parametrize("value", ["cuda:1", "cpu"])
def test_chapter_accepts_every_device_runconfig_accepts(value):
    from grokkit.chapters import check_params

    assert check_params({"device": value}, ["device"]) == {"device": value}
