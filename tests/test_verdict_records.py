"""Issue 46, kinds 2 and 4: a verdict reads exactly the records of the config it names (never a record of another
config with the same name, never a shorter run), names what it skipped and says so in its exit status; the sweep's
state does not lie (a chapter rerun with other parameters, a dead job's reused pid, logs found from any folder)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_users import RECORD, ROOT

from grokkit import chapters, claims, export, records, sweep
from grokkit.__main__ import main
from grokkit.events import events, run_label

SHIPPED = records.load(RECORD)  # d = 4, N = 5000, γ = 0.05, seed 0: a full-scale paper record
D, N, WD = SHIPPED.config.depth, SHIPPED.config.n_train, SHIPPED.config.weight_decay


def _variant(**fields) -> records.Run:
    """The shipped record's histories under another config (what a user's own run of that config would hold)."""
    return records.Run(SHIPPED.config.replace(**fields), SHIPPED.history, dict(SHIPPED.meta))


def _folder(tmp_path, runs) -> Path:
    res = tmp_path / "res"
    for r in runs:
        records.save(r, res)
    return res


# ---- kind 2: a verdict reads only the exact config it names ---------------------------------------------------------
@pytest.mark.parametrize("fields", [{"batch_size": 61}, {"rank_every": 3335}, {"lr": 2e-3}, {"n_test": 2000}],
                         ids=lambda f: next(iter(f)))
def test_another_config_with_the_paper_name_is_never_a_seed(fields):
    other = _variant(**fields)
    assert other.config.id != SHIPPED.config.id and other.config.depth == D  # mostly under the same file name stem
    for order in ([SHIPPED, other], [other, SHIPPED]):  # whichever id sorts first
        assert records.seeds_of(order, D, N, WD) == [SHIPPED]
    assert records.seeds_of([other], D, N, WD) == []
    assert not records.paper_run(other) and records.paper_run(SHIPPED)
    assert set(records.off_paper_fields(other)) == set(fields)
    assert records.off_paper_fields(_variant(alpha=5.203)) == {"alpha": (5.203, 8.0)}  # the second round's low start


def test_a_training_difference_is_in_the_label():
    assert run_label(_variant(batch_size=61)) == run_label(SHIPPED) + ", batch 61"
    assert run_label(_variant(n_test=2000)).endswith(", 2,000 test images")


@pytest.mark.parametrize("steps", [200, 10_000])
def test_a_shorter_run_is_never_a_seed_nor_called_a_stand_in(steps):
    short = _variant(steps=steps, seed=3, log_every=0, rank_every=0, probe_every=0)  # as `grokkit run --steps` has it
    assert records.seeds_of([SHIPPED, short], D, N, WD) == [SHIPPED]
    assert records.off_paper_fields(short) == {"steps": (steps, 100_000)}
    e = events(short, claims.detector())
    assert not e.stand_in and e.label == run_label(_variant(seed=3)) + f", {steps:,} steps"  # its seed, its length


def test_the_shipped_pilot_never_stands_in_for_a_missing_control_seed():
    shipped = records.load_all(ROOT / "results")
    pilot = next(r for r in shipped if records.record_id(r).startswith("d12_w400_n5000_a8_wd0.01_s0_t10000-"))
    without_seed0 = [r for r in shipped if records.paper_run(r) is False or r.config.seed != 0
                     or (r.config.depth, r.config.n_train) != (12, 5000)]
    assert pilot in without_seed0
    assert 0 not in [r.config.seed for r in records.seeds_of(without_seed0, 12, 5000, 0.01)]
    assert run_label(pilot).endswith(", 10,000 steps")


def test_a_smoke_stand_in_still_stands_for_its_config():
    stand = records.Run(SHIPPED.config.replace(width=32, n_train=400, steps=200), SHIPPED.history,
                        dict(SHIPPED.meta, stand_in=True, stands_for_config=SHIPPED.config.identity()))
    assert records.seeds_of([stand], D, N, WD) == [stand] and records.paper_run(stand)
    assert records.seeds_of([stand, SHIPPED], D, N, WD) == [SHIPPED]  # a record before its stand-in


def test_scoreboard_and_events_name_what_they_skip_and_exit_1(tmp_path, capsys):
    res = _folder(tmp_path, [SHIPPED, _variant(batch_size=61)])
    bad = res / "d4_w400_n5000_a8_wd0.01_s0-0000000000.npz"
    bad.write_bytes(b"not a record")
    assert main(["scoreboard", "--results", str(res)]) == 1
    err = capsys.readouterr().err
    assert bad.name in err and "1 record(s) skipped" in err
    other = records.record_id(records.load_all(res)[[r.config.batch_size for r in records.load_all(res)].index(61)])
    assert f"not read by the verdicts: {other}" in err and "batch_size 61, the paper's 200" in err
    for argv in (["events", "--results", str(res)], ["events", "--json", "--results", str(res)]):
        assert main(argv) == 1
        assert bad.name in capsys.readouterr().err
    bad.unlink()
    assert main(["events", "--results", str(res)]) == 0
    out = capsys.readouterr().out
    assert f"\n{run_label(SHIPPED)}: " in out and f"\n{run_label(SHIPPED)}, batch 61: " in out  # told apart


def test_export_tells_a_pilot_from_its_full_scale_run():
    pilot = _variant(steps=10_000, log_every=0, rank_every=0, probe_every=0)
    rows = {r[:2] for r in export.rows([SHIPPED, pilot], ["test_acc"])}
    assert len(rows) == 2 and len({label for label, _ in rows}) == 2  # label and run id both differ


# ---- kind 4: sweep state that does not lie --------------------------------------------------------------------------
def _notebook(path: Path, parameters) -> Path:
    nb = {"cells": [], "metadata": {"papermill": {"parameters": parameters}}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))
    return path


def test_an_executed_chapter_knows_its_parameters(tmp_path):
    nb = _notebook(tmp_path / "depth.ipynb", {"steps": 100_000, "depths": [4, 8]})
    assert chapters.made_with_other(nb, {"steps": 100_000, "depths": (4, 8)}) is None
    assert chapters.made_with_other(nb, {"steps": 2000, "depths": [4, 8]}) == "steps = 100000 there, 2000 asked"
    assert chapters.made_with_other(nb, {"depths": [4, 8]}) == "steps = 100000 there, unset asked"
    (tmp_path / "hand.ipynb").write_text("{}")
    assert chapters.made_with_other(tmp_path / "hand.ipynb", {}) == "no parameters recorded"


def test_a_notebook_made_with_other_parameters_is_failed_and_kept(tmp_path, monkeypatch):
    out = tmp_path / "runs"
    out.mkdir()
    dest = _notebook(out / chapters.output_name("depth", {"depth": 4}), {"depth": 4, "steps": 100_000})
    before = dest.read_bytes()
    monkeypatch.setattr(chapters, "execute_chapter", lambda *a, **k: pytest.fail("executed over an existing notebook"))
    written, failed, skipped = chapters.run_chapter("depth", {"depth": [4]}, out, {"steps": 2000}, progress=False)
    assert (written, failed, skipped) == ([], [dest], []) and dest.read_bytes() == before
    written, failed, skipped = chapters.run_chapter("depth", {"depth": [4]}, out, {"steps": 100_000}, progress=False)
    assert (written, failed, skipped) == ([], [], [dest])


def test_a_reused_pid_is_not_the_dead_job():
    now = time.time()
    assert sweep.local_job_alive(os.getpid(), now)               # started before it was logged: the job
    assert not sweep.local_job_alive(os.getpid(), now - 3600)    # this process began after that job was logged
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert not sweep.local_job_alive(dead.pid, now)


def test_sweep_status_finds_the_projects_logs_from_a_subfolder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT / "book")
    monkeypatch.setattr("grokkit.config.home", lambda: tmp_path)  # the project's logs/, read from book/
    res, logs = tmp_path / "res", tmp_path / "logs" / "sweep_paper"
    res.mkdir()
    logs.mkdir(parents=True)
    c = sweep.GRIDS["paper"]()[0]
    (logs / "submissions.jsonl").write_text(json.dumps(
        {"job_id": str(os.getpid()), "executor": "local", "time": time.time(), "runs": [f"{c.name}-{c.id}"]}) + "\n")
    main(["sweep", "paper", "--status", "--results", str(res)])
    out = capsys.readouterr().out
    assert f"logs: {logs})" in out and f"job {os.getpid()} running, not started yet" in out
