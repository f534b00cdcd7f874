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
from grokkit.claims import Part, Verdict, grade_of
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


def test_runs_without_history_or_with_nan_accuracies_have_no_events():
    r = fake(fall=28000)
    h = r.history
    no_rank = Run(r.config, {**h, "rank_step": h["rank_step"][:0], "rank": h["rank"][:0], "robust_rank": h["rank"][:0]},
                  r.meta)  # diverged before its first rank snapshot
    e = events(no_rank, DET)
    assert e.tunnel_layers is None and e.rank_descent_steps == () and e.rank_lag_steps is None
    assert e.fit_step == 2001 and e.gen_onset_step is not None  # the accuracy events are still measured
    empty = Run(r.config, {k: np.asarray(v)[:0] for k, v in h.items()}, r.meta)  # nothing logged at all
    e = events(empty, DET)
    assert (e.fit_step, e.gen_onset_step, e.test_half_step, e.tunnel_layers) == (None, None, None, None)
    nan = Run(r.config, {**h, "test_acc": np.full(len(h["step"]), np.nan)}, r.meta)
    e = events(nan, DET)
    assert (e.gen_onset_step, e.test_half_step, e.post_fit_gain, e.post_fit_share_frac) == (None, None, None, None)
    # claims read a missing event as untested, never as a failure or a crash
    v = claims.judge(6, [Run(fake(n=n).config, {**h, "test_acc": np.full(len(h["step"]), np.nan)}, r.meta)
                         for n in (2000, 5000)], robustness=False)
    assert v.grade == "inconclusive" and all(p.n == 0 for p in v.parts)


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
    # an untested part the paper states caps the grade; an untested conditional part of our reading does not
    assert grade_of([Part("a", 3, 3), Part("b", 0, 0)]) == "partly reproduced"
    assert grade_of([Part("a", 3, 3), Part("b", 0, 0, stated=False)]) == "reproduced"


def test_a_reproduced_grade_says_what_was_judged():
    v = Verdict(1, "t", "p", "f", "reproduced", "r", [Part("a", 3, 3), Part("b", 0, 0, stated=False)], [])
    text = report.interpretation(v)
    assert "every part" not in text.lower() and "1 part could not be tested" in text
    assert "every tested part holds" in text.lower()
    # claim 4 judges the two-stage seeds only: d = 12 seed 0 (stuck at a constant predictor) is left out
    v = claims.judge(4, seeds_world(True), robustness=False)
    assert "the two-stage seeds only: 3 of 3 at d = 8, 2 of 3 at d = 12" in report.verdict_text(v)
    assert "every recorded seed" not in report.interpretation(v)
    grow = ((4, 2001, 20000), (8, 3001, 25000), (12, 4001, 30000))
    v = claims.judge(1, [fake(depth=d, fit=f, stages=((c, 0.8),)) for d, f, c in grow], robustness=False)
    assert v.grade == "reproduced" and "medians over seeds" in report.interpretation(v)


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


def double_descent(run, falls=(0, 32_000), rise=18_000):
    """Give `run` a mean hidden rank that falls 50 from step falls[0], climbs back from `rise` and falls again from
    falls[1] (2000 steps each), the output layer at 10."""
    rs = run.history["rank_step"].astype(float)
    ramp = lambda t: np.clip((rs - t) / 2000, 0, 1)  # noqa: E731
    hid = 390 - 50 * (ramp(falls[0]) - ramp(rise) + ramp(falls[1]))
    depth = run.config.depth
    rank = np.concatenate([np.repeat(np.rint(hid)[:, None], depth - 1, 1), np.full((len(rs), 1), 10.0)], 1)
    run.history["rank"] = run.history["robust_rank"] = rank.astype(np.int64)
    return run


def test_claim_7_times_the_second_fall_by_the_second_surge():
    # the fit comes early, so the generalization onset is the first surge's (~17k); the second surge starts ~32k
    kw = dict(fit=2001, stages=((20000, 0.78), (35000, 0.07)), width=0.04)
    runs = [double_descent(fake(n=7000, seed=0, **kw)), double_descent(fake(n=7000, seed=1, **kw)),
            fake(n=7000, seed=2, **kw)]  # seed 2: no double descent
    e = events(runs[0], DET)
    assert e.two_stage and e.second_onset_step == pytest.approx(32_000, abs=1500) and e.gen_onset_step < 20_000
    v = claims.judge(7, runs, robustness=False)
    assert [(p.k, p.n) for p in v.parts] == [(2, 3), (2, 2)]  # seed 2 fails part 1 and is not judged in part 2
    assert "second-surge onset" in v.measures
    # a second fall long before the second surge does not count
    late = [double_descent(fake(n=7000, seed=sd, **kw), falls=(0, 24_000)) for sd in (0, 1)]
    assert [(p.k, p.n) for p in claims.judge(7, late, robustness=False).parts] == [(2, 2), (0, 2)]


def depth_world(extra=()):
    """Claim 15's configurations, one seed each: one stage everywhere but at d = 12, N = 7000 (two stages)."""
    runs = [fake(depth=d, n=n, tunnel={4: 1, 8: 3, 12: 6}[d], fit=2001, stages=((20000, 0.8),))
            for d in (4, 8, 12) for n in (5000, 7000) if (d, n) != (12, 7000)]
    return runs + [fake(depth=12, n=7000, **TWO_STAGE)] + list(extra)


def test_claim_15_counts_two_stage_runs_of_its_own_configurations():
    rarer = lambda v: next(p for p in v.parts if p.words.startswith("two-stage runs are rarer"))  # noqa: E731
    # two-stage d = 4 runs at another N and γ must not enter the count
    other = [fake(depth=4, n=2000, wd=0.05, seed=sd, **TWO_STAGE) for sd in range(3)]
    p = rarer(claims.judge(15, depth_world(other), robustness=False))
    assert (p.k, p.n) == (1, 1) and p.note == "two-stage: 0 of 2 runs at d = 4, 1 of 4 runs at d = 8 and 12"
    # no two-stage run anywhere: 0 against 0 is untested, not a failure
    flat = [r for r in depth_world() if (r.config.depth, r.config.n_train) != (12, 7000)]
    flat.append(fake(depth=12, n=7000, fit=2001, stages=((20000, 0.8),)))
    assert rarer(claims.judge(15, flat, robustness=False)).n == 0


def test_no_seed_reaching_the_event_is_untested():
    never = dict(stages=((20000, 0.01),))  # the test accuracy never rises
    v = claims.judge(6, [fake(n=2000, **never), fake(n=5000, **never)], robustness=False)
    assert [p.n for p in v.parts] == [0, 0] and v.grade == "inconclusive"


def test_claim_10_pairs_a_seed_with_the_same_seed():
    runs = [fake(depth=d, n=n, seed=0) for d in (4, 8, 12) for n in (5000, 7000)] + [fake(depth=12, n=7000, seed=1)]
    v = claims.judge(10, runs, robustness=False)
    pairs = v.parts[0].items
    assert len(pairs) == 3 and all(it.label.endswith("seed 0") for it in pairs)
    assert pairs[2].label == "d = 12, N = 5000 vs 7000, γ = 0.01, seed 0"


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


def test_fragile_values_list_only_the_values_that_flip():
    grid = [(0.25, "not reproduced"), (0.3, "reproduced"), (0.4, "not reproduced"), (0.5, "not reproduced")]
    assert report._runs(grid, "not reproduced") == "0.25, 0.4 to 0.5"


def test_dtype_sentence_counts_twins_in_english():
    assert report._kept(1, 1) == "float32 keeps the behaviour in the one recorded twin"
    assert report._kept(0, 1) == "float32 does not keep the behaviour in the one recorded twin"
    assert report._kept(2, 2).endswith("in both recorded twins")
    assert report._kept(1, 2).endswith("in one of the two recorded twins")
    assert report._kept(0, 2).endswith("in neither of the two recorded twins")
    assert report._kept(3, 3).endswith("in all 3 recorded twins") and report._kept(2, 3).endswith("2 of the 3 "
                                                                                                     "recorded twins")


def test_verdict_text_has_no_machine_reprs():
    worlds = [seeds_world(True), probe_world(lambda s: np.full(len(s), 0.89)), lag_world(0.35), [fake(n=2000)],
              depth_world()]
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
    import math

    verdicts = claims.evaluate(shipped)
    assert [v.claim for v in verdicts] == list(range(1, 16))
    assert sum(report.tally(verdicts).values()) == 15 and report.tally(verdicts)["inconclusive"] == 0
    for v in verdicts:
        text = report.verdict_text(v)
        assert not machine_bits(report.verdict_md(v)), (v.claim, machine_bits(report.verdict_md(v)))
        assert v.grade in claims.GRADES[:3] and not v.missing, (v.claim, v.grade)
        assert v.seeds and all(cfg in text for cfg in v.seeds), (v.claim, list(v.seeds))  # names what it judged
        assert v.measures, v.claim
        for name, m in v.measures.items():
            assert m["unit"] and m["values"], (v.claim, name)
            assert all(math.isfinite(x) for x in m["values"].values()), (v.claim, name)
        if v.grade == "reproduced" and any(p.per in ("", "counts") or p.note or not p.n for p in v.parts):
            assert "every recorded seed" not in report.interpretation(v), v.claim
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
    shipped_seeds = sorted(x.config.seed for x in records.seeds_of(shipped, 12, 7000, 0.01, "float32"))
    assert len(shipped_seeds) >= 3  # every shipped float32 seed of d = 12, N = 7000, whatever else lands later
    assert [records.stands_for(x)["seed"] for x in groups[0]] == shipped_seeds
    alone = fake(depth=6, n=5000, wd=0.02)  # a configuration the reader chose, without other seeds: drawn alone
    assert book.with_seeds([alone]) == [[alone]]
    # a reader's own run of a shipped configuration (another seed, or other steps) is drawn alone, not replaced
    other_seed = fake(depth=12, n=7000, seed=7)
    shorter = Run(config=r.config.replace(steps=50_000), history=r.history, meta=dict(r.meta))
    assert book.with_seeds([other_seed, shorter]) == [[other_seed], [shorter]]
