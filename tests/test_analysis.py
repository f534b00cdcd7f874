"""The results layer (grokkit.events, claims, report) on synthetic run histories with known graded answers (no
training; the real evaluation schedule), plus the 24 shipped records through the scoreboard."""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grokkit import claims, records, report
from grokkit.claims import Part, grade_of
from grokkit.events import events
from grokkit.records import Run
from grokkit.sweep import PAPER_BASE

REPO = Path(__file__).resolve().parent.parent
STEP = np.array([s for s in range(PAPER_BASE.steps + 1) if PAPER_BASE.is_log_step(s)])  # 0..29, 30..140, 667k
RSTEP = STEP[(STEP % 667 == 0) | (STEP == PAPER_BASE.steps)]   # the grid's rank cadence
PSTEP = STEP[(STEP % 3335 == 0) | (STEP == PAPER_BASE.steps)]  # probes: the paper's 3335
DET = claims.detector()


def sig(s, c, w):
    return 1 / (1 + np.exp(-np.clip((s - c) / w, -50, 50)))


def fake(depth=12, n=5000, wd=0.01, seed=0, fit=2001, stages=((20000, 0.8),), width=0.05, fall=None, tunnel=6,
         probe=None, stuck=None):
    """A fake Run: train acc 0.1 -> 1.0 at `fit`; test acc 0.1 + sigmoids (center, gain) of width `width`·center;
    hidden ranks 390 until `fall`, then down to 360 (the last `tunnel` hidden layers to 150) within 2000 steps;
    output layer rank 10; probes follow the test accuracy unless `probe(PSTEP, depth)` is given; `stuck` = (a, b):
    a constant predictor (train MSE 0.09, accuracies 0.1) from step a to b."""
    cfg = PAPER_BASE.replace(depth=depth, n_train=n, weight_decay=wd, seed=seed)
    s = STEP.astype(float)
    train = np.where(s >= fit, 1.0, 0.1 + 0.8 * s / fit)
    test = 0.1 + sum(g * sig(s, c, width * c) for c, g in stages)
    loss = 1 - train
    if stuck:
        on = (s >= stuck[0]) & (s <= stuck[1])
        train, test, loss = np.where(on, 0.1, train), np.where(on, 0.1, test), np.where(on, 0.09, loss)
    final = np.array([360.0] * (depth - 1 - tunnel) + [150.0] * tunnel)
    c = np.zeros(len(RSTEP)) if fall is None else np.clip((RSTEP - fall) / 2000, 0, 1)
    hid = np.rint(390 - c[:, None] * (390 - final[None, :]))
    rank = np.concatenate([hid, np.full((len(RSTEP), 1), 10.0)], 1).astype(np.int64)
    pa = np.repeat(np.interp(PSTEP, s, test)[:, None], depth, 1) if probe is None else probe(PSTEP, depth)
    h = {"step": STEP.copy(), "train_loss": loss, "test_loss": 1 - test, "train_acc": train, "test_acc": test,
         "weight_norm": 50 * np.exp(-1e-5 * s) + 10, "last_layer_norm": 5 * np.exp(-1e-5 * s) + 1,
         "rank_step": RSTEP.copy(), "rank": rank, "robust_rank": rank, "probe_step": PSTEP.copy(), "probe_acc": pa}
    return Run(config=cfg, history=h, meta={"device": "cpu", "dtype": "float32", "diverged_at": None})


# A short, late shoulder: the first stage climbs with the train fit to 0.88 by ~24k, sits there (within 0.01) for
# ~7k steps, then gains 0.07 more after the fit -- Fig 2d-f's d = 8 shape, one doubling of the step count long.
TWO_STAGE = dict(fit=27347, stages=((20000, 0.78), (35000, 0.07)), width=0.04)


# ---- events ----------------------------------------------------------------------------------------------------
def test_short_late_shoulder_is_two_stage_on_a_linear_axis():
    e = events(fake(**TWO_STAGE), DET)
    assert e.two_stage and e.phase == "two-stage"
    assert 4000 <= e.shoulder_steps <= 9000 and 22_000 <= e.shoulder_start_step <= 27_000
    assert e.first_stage_acc == pytest.approx(0.88, abs=0.01)
    assert e.second_stage_gain == pytest.approx(0.07, abs=0.01)
    assert e.post_fit_gain == pytest.approx(0.07, abs=0.015)
    # the same rise without the shoulder is one stage
    one = events(fake(fit=27347, stages=((20000, 0.85),), width=0.04), DET)
    assert not one.two_stage and one.shoulder_steps is None


def test_events_are_computed_once_per_run_and_setting():
    r = fake()
    assert events(r, DET) is events(r, DET)
    other = claims.detector({"fit_acc": 0.97})
    assert events(r, other) is not events(r, DET)


def test_grokking_onset_lag_and_units():
    e = events(fake(fit=2001, stages=((30000, 0.8),), width=0.1, fall=28000), DET)
    assert e.phase == "grokking" and e.fit_step == 2001
    # 10 % -> 90 % of a sigmoid of width w lasts 2·ln 9·w = 4.39 · 3000 steps
    assert e.gen_rise_steps == pytest.approx(13_200, abs=1400)
    assert e.gen_onset_step == pytest.approx(30000 - 2.2 * 3000, abs=700)
    assert e.rank_lag_frac == pytest.approx(e.rank_lag_steps / e.gen_rise_steps)
    assert e.rank_lag_decades == pytest.approx(np.log10((e.gen_onset_step + e.rank_lag_steps) / e.gen_onset_step))
    assert e.tunnel_layers == 6


def test_stuck_stretch_is_measured():
    e = events(fake(stuck=(31_349, 87_377)), DET)
    assert e.stuck_start_step == 31_349 and e.stuck_steps == 87_377 - 31_349


# ---- grades ----------------------------------------------------------------------------------------------------
def test_grade_follows_the_parts():
    assert grade_of([Part("a", 3, 3), Part("b", 1, 1)]) == "reproduced"
    assert grade_of([Part("a", 2, 3), Part("b", 1, 1)]) == "partly reproduced"
    assert grade_of([Part("a", 0, 3), Part("b", 1, 1)]) == "partly reproduced"
    assert grade_of([Part("a", 0, 3), Part("b", 0, 1)]) == "not reproduced"
    assert grade_of([Part("a", 0, 0)]) == "inconclusive"


def seeds_world(d12_collapsed: bool):
    """Claim 3's configurations, three seeds each: d = 4 one stage, d = 8 and 12 two stages; optionally seed 0 of
    d = 12 sits at a constant predictor through its second stage."""
    runs = []
    for sd in range(3):
        runs.append(fake(depth=4, n=7000, seed=sd, fit=12006, stages=((3000, 0.8),), tunnel=1))
        runs.append(fake(depth=8, n=7000, seed=sd, tunnel=3, **TWO_STAGE))
        kw = dict(TWO_STAGE, fit=43355, stages=((35000, 0.72), (52000, 0.12)))
        if d12_collapsed and sd == 0:
            kw["stuck"] = (31_349, 87_377)
        runs.append(fake(depth=12, n=7000, seed=sd, **kw))
    return runs


def test_claim_3_pools_every_seed():
    v = claims.judge(3, seeds_world(False), robustness=False)
    assert v.grade == "reproduced", report.verdict_text(v)
    assert [(p.k, p.n) for p in v.parts] == [(3, 3), (3, 3), (3, 3)]
    assert v.seeds == {"d = 4, N = 7000, γ = 0.01": 3, "d = 8, N = 7000, γ = 0.01": 3, "d = 12, N = 7000, γ = 0.01": 3}


def test_one_collapsed_seed_among_normal_ones_is_partly():
    v = claims.judge(3, seeds_world(True), robustness=False)
    assert v.grade == "partly reproduced"
    assert (v.parts[2].k, v.parts[2].n) == (2, 3)
    assert "holds in 2 of 3 seeds" in report.verdict_text(v)
    shoulders = v.measures["shoulder duration"]["values"]
    assert "d = 12, N = 7000, γ = 0.01, seed 0" not in shoulders and "d = 12, N = 7000, γ = 0.01, seed 1" in shoulders


def probe_world(layer1):
    """Claim 8's three runs; every layer's probe follows the test accuracy except layer 1, given by layer1(steps)."""
    def probe(ps, depth):
        test = 0.1 + 0.8 * sig(ps.astype(float), 30000, 3000)
        pa = np.repeat(test[:, None], depth, 1)
        pa[:, 0] = layer1(ps.astype(float))
        return pa
    return [fake(n=n, stages=((30000, 0.8),), width=0.1, probe=probe) for n in (2000, 5000, 7000)]


def test_probe_already_at_its_ceiling_is_no_failure():
    v = claims.judge(8, probe_world(lambda s: np.full(len(s), 0.89)), robustness=False)
    assert v.grade == "reproduced", report.verdict_text(v)
    assert set(v.measures["layers already at their ceiling"]["values"].values()) == {1.0}
    # flat across the rise but with room left (it climbs to 0.95 long after): a failure in every run
    late = lambda s: 0.85 + 0.1 * (s >= 80_000)  # noqa: E731
    v = claims.judge(8, probe_world(late), robustness=False)
    assert v.grade == "not reproduced"


def lag_world(frac):
    """Claim 5's runs, two seeds each: the mean rank starts to fall `frac` of the test rise's duration after the
    generalization onset (onset ≈ 23,400, duration ≈ 13,200 steps)."""
    return [fake(n=n, seed=sd, fit=2001, stages=((30000, 0.8),), width=0.1, fall=int(23_400 + frac * 13_200))
            for n in (2000, 5000) for sd in (0, 1)]


def test_lag_is_fragile_across_its_tolerance_range():
    v = claims.judge(5, lag_world(0.35))
    assert v.grade == "reproduced"
    assert not v.robust
    words = claims.THRESHOLDS["lag_tol"].words
    flip = next(grid for w, _, grid in v.flips if w == words)
    assert dict(flip)[0.25] == "not reproduced" and dict(flip)[0.5] == "reproduced"
    assert "Fragile:" in report.verdict_text(v) and "not reproduced at 0.25" in report.verdict_text(v)
    # a lag of a tenth of the rise coincides at every tolerance in the range
    assert claims.judge(5, lag_world(0.1)).robust


def test_missing_configuration_is_inconclusive_and_named():
    v = claims.judge(6, [fake(n=2000)])
    assert v.grade == "inconclusive" and v.missing == ["d = 12, N = 5000, γ = 0.01"]
    assert "no record of d = 12, N = 5000, γ = 0.01" in report.verdict_text(v)


def test_seeds_of_prefers_full_scale_and_keeps_every_seed():
    a, b = fake(seed=0), fake(seed=1)
    stand = fake(seed=0)
    stand.meta.update(stand_in=True, stands_for_config=a.config.identity())
    assert records.seeds_of([stand, b, a], 12, 5000) == [a, b]
    assert records.seeds_of([stand], 12, 5000) == [stand]
    assert records.pick([a, b], 12, 5000, seed=1) is b and records.pick([a], 12, 5000, seed=2) is None


# ---- text --------------------------------------------------------------------------------------------------------
def test_number_formatter():
    assert report.num(40687, "steps") == "40,687 steps"
    assert report.num(0.8784, "accuracy") == "0.878"
    assert report.num(0.1234, "decades") == "+0.12 decades"
    assert report.num(1, "layers") == "1 layer" and report.num(6.0, "layers") == "6 layers"
    assert report.num(None, "steps") == "–"


MACHINE = [re.compile(p) for p in (r"\bTrue\b", r"\bFalse\b", r"\bNone\b", r"[{}]", r"\(\s*-?\d+\s*,\s*-?\d+\s*\)",
                                   r"\[\s*\(", r"[0-9a-f]{10}", r"\w_\w", r"\bnan\b", r"\d{5,}")]


def machine_bits(text):
    return [p.pattern for p in MACHINE if p.search(text)]


def test_verdict_text_has_no_machine_reprs():
    worlds = [seeds_world(True), probe_world(lambda s: np.full(len(s), 0.89)), lag_world(0.35), [fake(n=2000)]]
    for runs in worlds:
        for v in claims.evaluate(runs):
            for text in (report.verdict_md(v), report.verdict_text(v)):
                assert not machine_bits(text), (v.claim, machine_bits(text), text)
    assert machine_bits("seed (0, 1) True t_fit") == [r"\bTrue\b", r"\(\s*-?\d+\s*,\s*-?\d+\s*\)", r"\w_\w"]


# ---- the shipped records -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped():
    runs = records.load_all(REPO / "results")
    assert len(runs) >= 24
    return runs


def test_shipped_records_through_the_scoreboard(shipped):
    verdicts = claims.evaluate(shipped)
    assert [v.claim for v in verdicts] == list(range(1, 16))
    assert all(v.grade in claims.GRADES for v in verdicts)
    assert sum(report.tally(verdicts).values()) == 15
    for v in verdicts:
        assert not machine_bits(report.verdict_md(v)), (v.claim, machine_bits(report.verdict_md(v)))
    v3 = verdicts[2]
    assert v3.seeds["d = 12, N = 7000, γ = 0.01"] >= 3  # every recorded seed pooled
    table = report.scoreboard(verdicts)
    assert sum(line.startswith("| ") for line in table.splitlines()) == 16  # header + 15 claims
    assert not machine_bits(report.summary(verdicts))
    assert "|" in report.sensitivity(verdicts)


def test_scoreboard_cli_json():
    p = subprocess.run([sys.executable, "-m", "grokkit", "scoreboard", "--results", str(REPO / "results"), "--json"],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert [o["claim"] for o in out] == list(range(1, 16))
    for o in out:
        assert o["grade"] in claims.GRADES and isinstance(o["robust"], bool) and o["text"].startswith("Rule:")
        for m in o["measures"].values():
            assert isinstance(m["unit"], str) and all(isinstance(x, float) for x in m["values"].values())
    lags = out[4]["measures"]["rank-descent lag"]
    assert lags["unit"] == "steps" and "d = 12, N = 2000, γ = 0.01, seed 1" in lags["values"]


def test_scoreboard_cli_bad_folder():
    p = subprocess.run([sys.executable, "-m", "grokkit", "scoreboard", "--results", "no-such-folder"], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    err = p.stderr.strip()  # one line naming the absolute path (records.results_folder), never "not shipped"
    assert p.returncode == 2 and "\n" not in err and f"{REPO / 'no-such-folder'} does not exist" in err


def test_chapter_figures_draw_every_recorded_seed(shipped, monkeypatch):
    from grokkit import book

    monkeypatch.setenv("GROKKIT_RESULTS", str(REPO / "results"))
    r = records.pick(shipped, 12, 7000)
    groups = book.with_seeds([r])
    assert [records.stands_for(x)["seed"] for x in groups[0]] == [0, 1, 2]
    alone = fake(depth=6, n=5000, wd=0.02)  # a configuration the reader chose, without other seeds: drawn alone
    assert book.with_seeds([alone]) == [[alone]]
    # a reader's own run of a shipped configuration (another seed, or other steps) is drawn alone, not replaced
    other_seed = fake(depth=12, n=7000, seed=7)
    shorter = Run(config=r.config.replace(steps=50_000), history=r.history, meta=dict(r.meta))
    assert book.with_seeds([other_seed, shorter]) == [[other_seed], [shorter]]
