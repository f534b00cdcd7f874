"""Issue 15: sweeps on executors (fixed shards, submitit's local executor, SLURM job arrays, preemption and
requeue, status), the GPU path's safety net (CUDA-graph self-test and fallback, TF32 off, meta) and gpu-check.

No GPU here: the graph path is exercised through its fallback (a capture that raises on a CPU-only torch, and
injected "graphed" steps that disagree); gpu-check's comparators and projection run on CPU-trained runs.
Everything writes under pytest's tmp_path.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from grokkit import RunConfig, chapters, load, train
from grokkit.batched import GRAPH_RTOL, graph_self_test, make_step, plan, select_step, setup, train_batched
from grokkit.records import record_path
from grokkit.sweep import _run_file, make_executor, paper_grid, run_grid, shard, sweep_status
from grokkit.train import _checkpoint_path

ROOT = Path(__file__).resolve().parent.parent
# seconds each: depth 3, width 16, 200 images, 150 steps, few evaluations, no probes
TINY = RunConfig(
    depth=3,
    width=16,
    n_train=200,
    batch_size=50,
    steps=150,
    log_every=1000,
    probe_every=-1,
    device="cpu",
    checkpoint_every=0,
)
# the preempted run: long enough (seconds) that the signal lands between its first checkpoint (step 100) and its end
LONG = RunConfig(
    depth=3,
    width=64,
    n_train=500,
    batch_size=100,
    steps=1000,
    log_every=500,
    rank_every=500,
    probe_every=-1,
    device="cpu",
    checkpoint_every=100,
)


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # the local jobs run with 1 thread too: bit-identical histories
    yield
    torch.set_num_threads(n)


def _same_history(a, b):
    assert set(a.history) == set(b.history)
    for k, v in b.history.items():
        np.testing.assert_array_equal(a.history[k], v, err_msg=k)


# ---- shards ----------------------------------------------------------------------------------------
def test_shards_are_fixed_by_index_and_never_mix_batches():
    grid = paper_grid()
    parts = shard(grid, 4)
    assert sorted(c.id for p in parts for c in p) == sorted(c.id for c in grid)  # every run exactly once
    assert all(1 <= len(p) <= 4 and len({(c.depth, c.dtype) for c in p}) == 1 for p in parts)
    assert shard(grid, 4) == parts  # a function of the list alone: no state, no locks
    firsts = [p[0] for p in parts]
    assert firsts[0] == grid[0] and parts[0] == [c for c in grid if (c.depth, c.dtype) == (12, "float32")][:4]
    with pytest.raises(ValueError, match="runs_per_job"):
        shard(grid, 0)


# ---- the local executor, end to end, with a preemption ---------------------------------------------------
@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """Two jobs through submitit's LocalExecutor: [TINY s0, TINY s1] and [LONG]; LONG's job gets SIGUSR2 (what
    SLURM sends before preempting) right after its first checkpoint, is requeued by submitit and resumes."""
    tmp = tmp_path_factory.mktemp("sweep")
    res, logs = tmp / "res", tmp / "logs"
    grid = [TINY, TINY.replace(seed=1), LONG]
    t0 = time.perf_counter()
    jobs = run_grid(grid, make_executor("local", logs), runs_per_job=2, results_dir=res, sweep_dir=logs, threads=1)
    ckpt = _checkpoint_path(LONG, res)
    while not ckpt.exists() and time.perf_counter() - t0 < 120:
        time.sleep(0.02)
    pid = json.loads(_run_file(logs, LONG).read_text())["pid"]  # the job's worker process
    os.kill(pid, signal.SIGUSR2)
    results = [j.result() for j in jobs]
    wall = time.perf_counter() - t0
    print(f"local executor: 2 jobs, 3 runs, one preempted and requeued: {wall:.1f} s")
    return dict(grid=grid, res=res, logs=logs, jobs=jobs, results=results, wall=wall)


def test_local_executor_trains_the_grid_in_two_jobs(local_sweep):
    grid, res, logs = local_sweep["grid"], local_sweep["res"], local_sweep["logs"]
    assert local_sweep["results"] == [[TINY.name, TINY.replace(seed=1).name], [LONG.name]]
    for c in grid[:2]:
        _same_history(load(record_path(c, res), c), train(c, progress=False))  # what train() gives, bit for bit
    jobs = [json.loads(line) for line in (logs / "submissions.jsonl").read_text().splitlines()]
    assert [j["executor"] for j in jobs] == ["local", "local"] and len(jobs[0]["runs"]) == 2
    for j in local_sweep["jobs"]:  # submitit's per-job log folder
        assert (logs / "jobs" / str(j.job_id) / f"{j.job_id}_0_log.err").exists()
    assert [r["state"] for r in sweep_status(grid, res, logs)] == ["done"] * 3
    assert run_grid(grid, make_executor("local", logs), 2, res, logs) == []  # a rerun skips what exists


def test_preempted_job_resumes_and_matches_an_uninterrupted_run(local_sweep):
    res, logs = local_sweep["res"], local_sweep["logs"]
    run = load(record_path(LONG, res), LONG)
    assert run.meta["resumed_from"] and run.meta["resumed_from"] % LONG.checkpoint_every == 0
    logs_text = "".join(p.read_text() for p in (logs / "jobs").glob("*/*_log.err"))
    assert "this job is preempted" in logs_text  # submitit's handler caught SIGUSR2 and requeued the job
    mark = json.loads(_run_file(logs, LONG).read_text())  # the run's state file names its (requeued) job
    assert mark["state"] == "done" and mark["job_id"] == str(local_sweep["jobs"][1].job_id)
    assert not _checkpoint_path(LONG, res).exists()  # removed once the record is written
    _same_history(run, train(LONG.replace(checkpoint_every=0), progress=False))


def test_run_grid_takes_any_executor_with_submit(tmp_path):
    """concurrent.futures (as Ray or Dask would): the shards are submitted, the futures return their runs."""
    from concurrent.futures import ThreadPoolExecutor

    grid = [TINY.replace(seed=s) for s in (5, 6)]
    with ThreadPoolExecutor(max_workers=1) as ex:
        futures = run_grid(grid, ex, runs_per_job=1, results_dir=tmp_path, sweep_dir=tmp_path / "logs")
        assert [f.result() for f in futures] == [[c.name] for c in grid]
    assert all(record_path(c, tmp_path).exists() for c in grid)
    subs = [json.loads(line) for line in (tmp_path / "logs" / "submissions.jsonl").read_text().splitlines()]
    assert [s["executor"] for s in subs] == ["ThreadPoolExecutor"] * 2


# ---- status -------------------------------------------------------------------------------------------
def test_status_lists_pending_running_done_failed(tmp_path):
    res, logs = tmp_path / "res", tmp_path / "logs"
    grid = [TINY.replace(seed=s) for s in range(5)]
    from grokkit.train import train_and_save

    train_and_save(grid[0], res, progress=False)  # done
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lines = [
        {"job_id": str(os.getpid()), "executor": "local", "runs": [f"{c.name}-{c.id}" for c in grid[1:3]]},
        {"job_id": str(dead.pid), "executor": "local", "runs": [f"{grid[3].name}-{grid[3].id}"]},
    ]
    logs.mkdir()
    (logs / "submissions.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    for c, state in ((grid[1], "running"), (grid[2], "failed")):
        _run_file(logs, c).parent.mkdir(exist_ok=True)
        _run_file(logs, c).write_text(
            json.dumps({"state": state, "job_id": str(os.getpid()), "host": "h", "pid": 1, "error": "ValueError: boom"})
        )
    rows = sweep_status(grid, res, logs)
    assert [r["state"] for r in rows] == ["done", "running", "failed", "failed", "pending"]
    assert "boom" in rows[2]["detail"] and "without its record" in rows[3]["detail"]
    assert rows[4]["detail"] == "not submitted"
    out = subprocess.run(
        [sys.executable, "-m", "grokkit", "sweep", "paper", "--status", "--results", str(res), "--logs", str(logs)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert out.returncode == 0 and f"{len(paper_grid())} runs: 0 done" in out.stdout


def test_status_sees_runs_trained_outside_a_sweep(tmp_path):
    """A run trained by hand (load_or_train holds its lock) is running, with the step of its checkpoint; one left
    in a checkpoint is pending and says where it resumes; a damaged checkpoint is not offered as a resume point."""
    from grokkit.records import lock, lock_path

    res = tmp_path / "res"
    cfg = TINY.replace(checkpoint_every=50)
    ckpt = _checkpoint_path(cfg, res)
    assert train(cfg, progress=False, checkpoint_path=ckpt, stop_after=100) is None
    row = sweep_status([cfg], res)[0]
    assert row["state"] == "pending"
    assert row["detail"].startswith("not submitted") and "step 100 of 150" in row["detail"]  # where it resumes
    with lock(cfg, res) as held:
        assert held
        row = sweep_status([cfg], res)[0]
    assert row["state"] == "running"
    assert "another process holds its lock" in row["detail"] and row["detail"].endswith("step 100 of 150")
    # a sweep job that failed on it, while someone trains it by hand: running, and what the job did says so
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "submissions.jsonl").write_text(json.dumps(
        {"job_id": str(os.getpid()), "executor": "local", "runs": [f"{cfg.name}-{cfg.id}"]}) + "\n")
    _run_file(logs, cfg).parent.mkdir(exist_ok=True)
    _run_file(logs, cfg).write_text(json.dumps({"state": "failed", "job_id": str(os.getpid()), "host": "h", "pid": 1,
                                                "error": "ValueError: boom"}))
    assert sweep_status([cfg], res, logs)[0]["state"] == "failed"
    with lock(cfg, res):
        row = sweep_status([cfg], res, logs)[0]
    assert row["state"] == "running" and "another process holds its lock" in row["detail"]
    assert "step 100 of 150" in row["detail"] and "ValueError" in row["detail"]  # and what the failed job said
    ckpt.write_bytes(ckpt.read_bytes()[:-10])
    assert sweep_status([cfg], res)[0]["detail"] == "not submitted"
    never = TINY.replace(seed=9)
    assert sweep_status([never], res)[0] == {"name": never.name, "state": "pending", "job_id": None,
                                             "detail": "not submitted"}
    assert not lock_path(never, res).exists()  # status leaves no lock file behind (a read-only results folder)


# ---- SLURM through submitit (a stand-in sbatch records the script) --------------------------------------
def test_cli_slurm_submits_one_job_array(tmp_path):
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "sbatch").write_text(f'#!/bin/sh\ncp "$1" {tmp_path}/script.sh\necho "Submitted batch job 4242"\n')
    (bin_ / "srun").write_text("#!/bin/sh\n")  # submitit looks for it to know it is on a cluster
    for f in ("sbatch", "srun"):
        (bin_ / f).chmod(0o755)
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH=f"{bin_}:{os.environ['PATH']}")
    cmd = [
        sys.executable,
        "-m",
        "grokkit",
        "sweep",
        "paper",
        "--executor",
        "slurm",
        "--partition",
        "gpu",
        "--gpus-per-job",
        "1",
        "--runs-per-job",
        "4",
        "--time",
        "120",
        "--slurm-param",
        "account=abc",
        "--results",
        str(tmp_path / "res"),
        "--logs",
        str(tmp_path / "logs"),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    script = (tmp_path / "script.sh").read_text()
    n_jobs = len(shard(paper_grid(), 4))
    for line in (
        f"#SBATCH --array=0-{n_jobs - 1}",
        "#SBATCH --partition=gpu",
        "#SBATCH --gpus-per-node=1",
        "#SBATCH --time=120",
        "#SBATCH --account=abc",
        "#SBATCH --signal=USR2",
    ):
        assert line in script, line
    assert f"{tmp_path}/logs/jobs/%A_%a/" in script  # one log folder per job
    subs = [json.loads(line) for line in (tmp_path / "logs" / "submissions.jsonl").read_text().splitlines()]
    assert [s["job_id"] for s in subs] == [f"4242_{i}" for i in range(n_jobs)]
    assert sorted(r for s in subs for r in s["runs"]) == sorted(f"{c.name}-{c.id}" for c in paper_grid())
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)  # queued: not resubmitted
    assert again.returncode == 0 and "submitting 0" in again.stdout
    bad = subprocess.run(cmd[:7], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--partition" in bad.stderr


# ---- the GPU path's safety net ---------------------------------------------------------------------------
def _batch(dtype="float32"):
    cfgs = [TINY.replace(dtype=dtype), TINY.replace(dtype=dtype, seed=1, weight_decay=0.05)]
    S = setup(cfgs)
    params, exp_avg, exp_avg_sq = S["args"][:3]
    return cfgs, S, [*params, *exp_avg, *exp_avg_sq], plan(cfgs, 0, 10, S["dtype"], "cpu")


def test_graph_self_test_passes_a_faithful_step_and_restores_the_state():
    cfgs, S, state, batches = _batch()
    before = [t.clone() for t in state]
    twin = make_step(*S["args"], cuda_graph=False)  # a second eager step: what a correct graph replays
    assert graph_self_test(S["step"], twin, state, batches, steps=10) == 0.0
    assert all(torch.equal(a, b) for a, b in zip(before, state))
    step, execution = select_step(S["step"], lambda: twin, state, batches, GRAPH_RTOL["float32"], 10)
    assert step is twin and execution == "cuda_graph"


def test_graph_that_disagrees_or_raises_falls_back_to_eager_with_one_line(capsys):
    cfgs, S, state, batches = _batch()
    lr_baked = []

    def baked(idx, w, step_size, bc2_sqrt):  # a bad capture: step 0's step size frozen into the graph
        lr_baked.append(step_size) if not lr_baked else None
        return S["step"](idx, w, lr_baked[0], bc2_sqrt)

    step, execution = select_step(S["step"], lambda: baked, state, batches, GRAPH_RTOL["float32"], 10)
    err = capsys.readouterr().err
    assert step is S["step"] and execution.startswith("eager (CUDA graph self-test failed: eager and graphed differ")
    assert err.count("\n") == 1 and err.startswith("grokkit: warning: CUDA graph self-test failed")

    def boom():
        raise RuntimeError("CUDA error: operation not permitted when stream is capturing\nmore detail")

    step, execution = select_step(S["step"], boom, state, batches, GRAPH_RTOL["float32"], 10)
    assert step is S["step"] and "RuntimeError: CUDA error: operation not permitted" in execution
    assert capsys.readouterr().err.count("\n") == 1


def test_train_batched_with_cuda_graph_on_cpu_falls_back_and_records_it(capsys):
    """On a CPU-only torch the capture itself raises: the batch trains eagerly, same history, meta says why."""
    cfgs = [TINY, TINY.replace(seed=1, weight_decay=0.05)]
    eager = train_batched(cfgs, progress=False)
    tried = train_batched(cfgs, progress=False, cuda_graph=True)
    assert "CUDA graph self-test failed" in capsys.readouterr().err
    for a, b in zip(eager, tried):
        _same_history(a, b)
        assert a.meta["execution"] == "eager" and b.meta["execution"].startswith("eager (CUDA graph self-test failed")


def test_meta_records_execution_versions_and_matmul_precision():
    torch.set_float32_matmul_precision("high")  # whatever the caller set, trainers turn TF32 off
    run = train(TINY, progress=False)
    assert run.meta["execution"] == "eager" and run.meta["matmul_precision"] == "highest"
    assert torch.get_float32_matmul_precision() == "highest" and not torch.backends.cuda.matmul.allow_tf32
    assert run.meta["versions"]["torch"] == torch.__version__ and "cuda" in run.meta["versions"]
    [b] = train_batched([TINY], progress=False)
    assert b.meta["execution"] == "eager" and b.meta["matmul_precision"] == "highest" and b.meta["batched"] == 1


def test_load_or_train_many_loads_what_exists_and_trains_the_rest(tmp_path):
    from grokkit.sweep import load_or_train_many

    cfgs = [TINY, TINY.replace(seed=1), TINY.replace(depth=4)]
    first = load_or_train_many(cfgs[:1], tmp_path, progress=False)
    runs = load_or_train_many(cfgs, tmp_path, progress=False)
    assert [r.config.id for r in runs] == [c.id for c in cfgs] and runs[0].meta["wall_time_s"] == first[0].meta[
        "wall_time_s"
    ]
    assert all(record_path(c, tmp_path).exists() for c in cfgs)
    # the GPU path (forced here): one batch per depth, the batch's records, its checkpoint removed
    more = [TINY.replace(seed=s, checkpoint_every=50) for s in (2, 3)]
    runs = load_or_train_many(more, tmp_path, progress=False, batch=True)
    assert [r.meta["batched"] for r in runs] == [2, 2] and not list((tmp_path / ".checkpoints").glob("batch-*"))
    for r, b in zip(runs, train_batched(more, progress=False)):
        _same_history(load(record_path(r.config, tmp_path)), b)


# ---- gpu-check ----------------------------------------------------------------------------------------
@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA answer")
def test_gpu_check_without_cuda_says_so_in_one_line_and_exits_2(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "grokkit", "gpu-check", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert out.returncode == 2 and out.stdout == "" and out.stderr.count("\n") == 1 and "CUDA" in out.stderr
    assert not list(tmp_path.iterdir())


def test_gpu_check_comparator_flags_a_disagreement():
    from grokkit.gpu_check import TOL, compare_runs

    a = train(TINY, progress=False)
    assert compare_runs(a, a, "float32")["ok"]
    b = train(TINY, progress=False)
    b.history["train_loss"] = b.history["train_loss"] * (1 + 10 * TOL["float32"]["loss"])
    r = compare_runs(a, b, "float32")
    assert not r["ok"] and r["loss_rel"] == pytest.approx(10 * TOL["float32"]["loss"], rel=1e-6)
    c = train(TINY, progress=False)
    c.history["rank"] = c.history["rank"] + 2  # two units of rank off: beyond float32's +-1
    assert not compare_runs(a, c, "float32")["ok"]
    d = train(TINY.replace(lr=2e-3), progress=False)  # another trajectory altogether
    assert not compare_runs(a, d, "float64")["ok"]


def test_gpu_check_projection_adds_up_the_measured_costs():
    """measure_group on the CPU, and project's sum over one batch's schedule."""
    import grokkit.gpu_check as G

    grid = [TINY.replace(steps=1000, rank_every=100, probe_every=500, probe_epochs=1, seed=s) for s in (0, 1)]
    costs = [G.measure_group(grid, "cpu", cuda_graph=False, steps=5)]
    assert all(costs[0][k] > 0 for k in ("step_s", "eval_s", "rank_s", "probe_s"))
    p = G.project(grid, costs)
    [b] = p["batches"]
    assert (b["runs"], b["steps"], b["probe_snapshots"], b["rank_snapshots"]) == (2, 1000, 3, 8)
    want = (
        1000 * costs[0]["step_s"]
        + b["evaluations"] * costs[0]["eval_s"]
        + 2 * (8 * costs[0]["rank_s"] + 3 * costs[0]["probe_s"])
    )
    assert p["total_s"] == pytest.approx(want)
    assert G.gpu_name_slug("NVIDIA H200 (MIG 1g.18gb)") == "nvidia_h200_mig_1g_18gb"


def test_gpu_check_main_flow_on_cpu_reports_and_exits_1(monkeypatch, tmp_path, capsys):
    """main() end to end with the device set to the CPU and CUDA faked present: the CPU cannot capture a CUDA
    graph, so eager-vs-graphed fails (recorded, exit 1); the other checks agree; the JSON has every part."""
    import grokkit.batched as B
    import grokkit.gpu_check as G
    import grokkit.sweep as SW

    small = TINY.replace(steps=40, rank_every=20)
    monkeypatch.setattr(G, "CHECK_CONFIG", small)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Fake GPU 9000")
    real_bench = B.bench_batched
    monkeypatch.setattr(B, "bench_batched", lambda **kw: real_bench(**dict(kw, M=2, depth=3, width=16, steps=3)))
    monkeypatch.setattr(
        SW, "paper_grid", lambda: [small.replace(seed=s, probe_every=20, probe_epochs=1) for s in (0, 1)]
    )
    assert G.main(out_dir=tmp_path, device="cpu") == 1
    report = json.loads((tmp_path / "gpu_fake_gpu_9000.json").read_text())
    assert report["gpu"] == "Fake GPU 9000" and report["ok"] is False and report["matmul_precision"] == "highest"
    assert set(report["errors"]) == {"eager_vs_graphed"}
    assert report["checks"]["cpu_vs_gpu"]["float64"]["ok"]
    r = report["checks"]["batched_vs_single"]  # a real comparison even here: batched vs single on the CPU
    assert r["ok"] and len(r["runs"]) == 3 and r["tolerance"] == G.TOL["float64"]
    t = report["throughput_16x_d12"]
    assert t["target_ratio"] == 10.0 and t["graphed"]["execution"].startswith("eager (CUDA graph self-test failed")
    p = report["paper_grid_projection"]
    assert len(p["batches"]) == 1 and p["batches"][0]["runs"] == 2 and p["total_s"] > 0
    assert "DISAGREEMENT" in capsys.readouterr().out


def test_chapter_runs_trains_the_missing_runs_together(tmp_path, monkeypatch):
    """A chapter with train_missing trains its missing runs through load_or_train_many (batched on a GPU), then
    loads them as records."""
    from grokkit import sweep as SW

    monkeypatch.delenv("GROKKIT_SMOKE", raising=False)
    cfgs = [RunConfig(depth=2, width=8, n_train=200, batch_size=100, steps=20, probe_every=-1, checkpoint_every=0,
                      device="cpu", seed=s) for s in (0, 1)]
    calls, real = [], SW.load_or_train_many
    monkeypatch.setattr(chapters, "load_or_train_many", lambda cs, d, **kw: calls.append(len(cs)) or real(cs, d, **kw))
    runs = chapters.chapter_runs(cfgs, tmp_path, train_missing=True)
    assert calls == [2] and [r.config.id for r in runs] == [c.id for c in cfgs]
    assert all(record_path(c, tmp_path).exists() for c in cfgs)
    again = chapters.chapter_runs(cfgs, tmp_path)  # now records: loaded, nothing trained
    assert calls == [2] and [r.history["test_acc"][-1] for r in again] == [r.history["test_acc"][-1] for r in runs]
