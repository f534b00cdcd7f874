"""The results layer (grokkit.events, claims, report) on synthetic run histories with known graded answers (no
training; the real evaluation schedule), plus the 24 shipped records through the scoreboard."""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grokkit import claims, grades, records, report, run_tables
from grokkit.claims import Part, Verdict, grade_of
from grokkit.events import events, rank_scale, tolerance_def
from grokkit.rank import paper_rtol, rank_at
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
         "rank_step": RSTEP.copy(), "rank": rank, "robust_rank": rank, "eff_rank": rank / 8.0,
         "probe_step": PSTEP.copy(), "probe_acc": pa}
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


def test_stretch_detectors_find_what_a_plain_scan_finds():
    """shoulder and longest_flat scan every start at once (numpy); they must return what the definition's plain
    scan returns -- a start i, the longest run from i within the band -- on curves with plateaus, noise and NaNs."""
    from grokkit.events import longest_flat, shoulder

    def scan_shoulder(step, a, band, min_steps, min_gain):
        best = None
        for i in range(len(a)):
            if a[i] - a[0] < min_gain:
                continue
            j = i
            while j + 1 < len(a) and not np.fmax.reduce(a[i:j + 2]) - np.fmin.reduce(a[i:j + 2]) >= band:
                j += 1
            if step[j] - step[i] < min_steps or j + 1 >= len(a):
                continue
            rest = a[j + 1:][np.isfinite(a[j + 1:])]
            gain = rest.max() - np.median(a[i:j + 1]) if len(rest) else np.nan
            if gain >= min_gain and (best is None or step[j] - step[i] > step[best[1]] - step[best[0]]):
                best = (i, j)
        return best

    def scan_flat(step, v, band, min_steps):
        best = 0
        for i in range(len(v)):
            j = i
            while j + 1 < len(v) and v[i:j + 2].max() - v[i:j + 2].min() < band:
                j += 1
            if step[j] - step[i] >= min_steps:
                best = max(best, int(step[j] - step[i]))
        return best

    rng = np.random.default_rng(0)
    found = 0
    for trial in range(60):
        n = int(rng.integers(2, 90))
        step = np.cumsum(rng.integers(1, 700, n))
        a = np.cumsum(rng.choice([0.0, 0.0, 0.003, 0.05, 0.2], n)) + rng.normal(0, 0.002, n)
        if trial % 3 == 0:
            a[rng.integers(0, n, 2)] = np.nan
        for band, min_steps, gain in ((0.01, 1500, 0.05), (0.03, 500, 0.1), (0.005, 3000, 0.02)):
            got, want = shoulder(step, a, band, min_steps, gain), scan_shoulder(step, a, band, min_steps, gain)
            assert got == want, (trial, band)
            found += want is not None
            v = np.log(1 + np.abs(np.nan_to_num(a)))
            assert longest_flat(step, v, band, min_steps, step[0], step[-1]) == scan_flat(step, v, band, min_steps)
    assert found >= 20  # the curves do hold shoulders: the comparison is not one of Nones


def test_events_are_computed_once_per_run_and_setting():
    r = fake()
    assert events(r, DET) is events(r, DET)
    other = claims.detector({"fit_acc": 0.97})
    assert events(r, other) is not events(r, DET)


def test_grokking_onset_lag_and_units():
    e = events(fake(fit=2001, stages=((30000, 0.8),), width=0.1, fall=28000), DET)
    assert e.phase == "grokking" and e.fit_step == 2001
    # 10 % -> 90 % of a sigmoid of width w lasts 2·ln 9·w = 4.39 · 3000 steps
    assert e.climb_rise_steps == pytest.approx(13_200, abs=1400)
    assert e.climb_onset_step == pytest.approx(30000 - 2.2 * 3000, abs=700)
    assert e.rank_lag_frac == pytest.approx(e.rank_lag_steps / e.climb_rise_steps)
    assert e.rank_lag_decades == pytest.approx(np.log10((e.climb_onset_step + e.rank_lag_steps) / e.climb_onset_step))
    assert e.tunnel_layers == 6


def test_runs_without_history_or_with_nan_accuracies_have_no_events():
    r = fake(fall=28000)
    h = r.history
    no_rank = Run(r.config, {**h, "rank_step": h["rank_step"][:0], "rank": h["rank"][:0], "robust_rank": h["rank"][:0]},
                  r.meta)  # diverged before its first rank snapshot
    e = events(no_rank, DET)
    assert e.tunnel_layers is None and e.rank_descent_steps == () and e.rank_lag_steps is None
    assert e.fit_step == 2001 and e.climb_onset_step is not None  # the accuracy events are still measured
    empty = Run(r.config, {k: np.asarray(v)[:0] for k, v in h.items()}, r.meta)  # nothing logged at all
    e = events(empty, DET)
    assert (e.fit_step, e.climb_onset_step, e.test_half_step, e.tunnel_layers) == (None, None, None, None)
    nan = Run(r.config, {**h, "test_acc": np.full(len(h["step"]), np.nan)}, r.meta)
    e = events(nan, DET)
    assert (e.climb_onset_step, e.test_half_step, e.post_fit_gain, e.post_fit_share_frac) == (None, None, None, None)
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


def test_a_reproduced_grade_shows_what_was_judged():
    v = Verdict(1, "t", "p", "f", "reproduced", "r", [Part("a", 3, 3), Part("b", 0, 0, stated=False)], [])
    assert [(report.part_count(p), report.status_key(p)) for p in v.parts] == [("3 of 3 seeds", "held"),
                                                                                  ("–", "untested")]
    # claim 4 judges the two-stage seeds only: d = 12 seed 0 (stuck at a constant predictor) is left out
    v = claims.judge(4, seeds_world(True), robustness=False)
    assert all(p.note == "the two-stage seeds only: 3 of 3 at d = 8, 2 of 3 at d = 12" for p in v.parts)
    assert "the two-stage seeds only: 3 of 3 at d = 8, 2 of 3 at d = 12" in report.parts_table_html(v)
    grow = ((4, 2001, 20000), (8, 3001, 25000), (12, 4001, 30000))
    v = claims.judge(1, [fake(depth=d, fit=f, stages=((c, 0.8),)) for d, f, c in grow], robustness=False)
    assert v.grade == "reproduced" and {report.part_count(p) for p in v.parts} == {"1 of 1 comparison of medians"}


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
    assert [(p.k, p.n) for p in v.parts] == [(3, 3), (3, 3), (3, 3)] and v.grade == "reproduced"
    assert v.seeds == {"d = 4, N = 7000, γ = 0.01": 3, "d = 8, N = 7000, γ = 0.01": 3, "d = 12, N = 7000, γ = 0.01": 3}


def test_one_collapsed_seed_among_normal_ones_is_partly():
    v = claims.judge(3, seeds_world(True), robustness=False)
    assert v.grade == "partly reproduced"
    assert (v.parts[2].k, v.parts[2].n) == (2, 3)
    row = report.parts_table_html(v).split("<tr>")[4]  # the header, then parts 1 to 3
    assert "<td>2 of 3 seeds</td>" in row and "held on some" in row and "(seeds 0, 1, 2)" in row
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
    assert v.grade == "reproduced", [(p.words, p.k, p.n) for p in v.parts]
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
    assert ("lag_tol", "0.25", "not reproduced") in report.grade_flips(v)
    assert "<td>0.25</td><td>not reproduced</td>" in report.robustness_table_html(v)
    # a lag of a tenth of the rise coincides at every tolerance in the range
    assert claims.judge(5, lag_world(0.1)).robust


def test_missing_configuration_is_inconclusive_and_named():
    v = claims.judge(6, [fake(n=2000)])
    assert v.grade == "inconclusive" and v.missing == ["d = 12, N = 5000, γ = 0.01"]
    assert "<b>No record of:</b> d = 12, N = 5000, γ = 0.01" in report.claim_detail_html(v)


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
    assert e.two_stage and e.second_onset_step == pytest.approx(32_000, abs=1500) and e.climb_onset_step < 20_000
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
    rarer = lambda v: next(p for p in v.parts if p.words.startswith("multi-stage generalization is scarcely"))  # noqa: E731
    # two-stage d = 4 runs at another N and γ must not enter the count
    other = [fake(depth=4, n=2000, wd=0.05, seed=sd, **TWO_STAGE) for sd in range(3)]
    p = rarer(claims.judge(15, depth_world(other), robustness=False))
    assert (p.k, p.n) == (1, 1) and p.note == "two-stage: 0 of 2 runs at d = 4, 1 of 4 runs at d = 8 and 12"
    # no two-stage run anywhere: 0 against 0 is untested, not a failure
    flat = [r for r in depth_world() if (r.config.depth, r.config.n_train) != (12, 7000)]
    flat.append(fake(depth=12, n=7000, fit=2001, stages=((20000, 0.8),)))
    assert rarer(claims.judge(15, flat, robustness=False)).n == 0


def test_scarcely_is_a_stated_swept_threshold():
    """Claim 15's "scarcely seen on shallow models": at most scarce_max of the d = 4 runs two-stage, stated in the
    rule and swept; a d = 4 share below the deeper runs' but above scarce_max fails."""
    two4 = [fake(depth=4, n=n, seed=1, **TWO_STAGE) for n in (5000, 7000)]  # 2 of 4 d = 4 runs two-stage
    more = [fake(depth=d, n=7000, seed=sd, **TWO_STAGE) for d in (8, 12) for sd in (1, 2)]
    v = claims.judge(15, depth_world(two4 + more))
    part = next(p for p in v.parts if p.words.startswith("multi-stage generalization is scarcely"))
    assert "2 of 4 runs at d = 4" in part.note and (part.k, part.n) == (0, 1)  # 0.5 > 0.2, though below 5 of 8
    assert "at most 0.2 of the d = 4 runs" in v.rule
    sweep = next(grid for name, _, _, grid in v.sweeps if name == "scarce_max")
    assert [val for val, _ in sweep] == [0.1, 0.15, 0.2, 0.25, 0.3]


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


def shown_text(html: str) -> str:
    """What a reader sees of report's HTML: no tags, no attributes, entities decoded."""
    import html as _html

    return _html.unescape(re.sub(r"<[^>]+>", " ", html))


def test_verdict_tables_have_no_machine_reprs():
    worlds = [seeds_world(True), probe_world(lambda s: np.full(len(s), 0.89)), lag_world(0.35), [fake(n=2000)],
              depth_world()]
    for runs in worlds:
        vs = claims.evaluate(runs)
        for v in vs:
            text = shown_text(report.verdict_layers_html(v))
            assert not machine_bits(text), (v.claim, machine_bits(text), text)
        text = shown_text(report.found_html(vs) + report.scoreboard(vs, html=True) + report.claims_table_html(vs))
        assert not machine_bits(text), machine_bits(text)
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
        text = shown_text(report.claim_detail_html(v))
        assert not machine_bits(text), (v.claim, machine_bits(text))
        assert v.grade in claims.GRADES[:3] and not v.missing, (v.claim, v.grade)
        assert all(report.part_count(p) in text for p in v.parts), v.claim  # every part's count
        judged = {it.label.partition(", seed ")[0] for p in v.parts for it in p.items if it.held is not None}
        assert all(cfg in text for cfg in judged), v.claim  # names every configuration a seed was judged on
        assert v.measures, v.claim
        for name, m in v.measures.items():
            assert m["unit"] and m["values"], (v.claim, name)
            assert all(math.isfinite(x) for x in m["values"].values()), (v.claim, name)
    v3 = verdicts[2]
    assert v3.seeds["d = 12, N = 7000, γ = 0.01"] >= 3  # every recorded seed pooled
    table = report.scoreboard(verdicts)
    assert sum(line.startswith("| ") for line in table.splitlines()) == 16  # header + 15 claims
    assert not machine_bits(report.tally_md(verdicts)) and report.tally_md(verdicts).count("\n") == 2 + sum(
        n > 0 for n in report.tally(verdicts).values())
    sens = report.sensitivity(verdicts)
    flipped = {name for v in verdicts for name, *_, grid in v.sweeps if any(g != v.grade for _, g in grid)}
    steady = sens.split("threshold that flips no grade")[1]  # the second table: every other threshold, one row each
    rows = sum(ln.startswith("| ") for ln in steady.splitlines())
    assert rows == len(claims.THRESHOLDS) - len(flipped - {claims.RANK_DEF})


def test_scoreboard_cli_json():
    p = subprocess.run([sys.executable, "-m", "grokkit", "scoreboard", "--results", str(REPO / "results"), "--json"],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert [o["claim"] for o in out] == list(range(1, 16))
    for o in out:
        assert o["grade"] in claims.GRADES and isinstance(o["robust"], bool) and o["rule"] and "text" not in o
        assert all(p["status"] in (*grades.PART_STATUSES, "baseline", "construction") for p in o["parts"])
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


# ---- one meaning per event (the start of the test climb, grokking, the surges) --------------------------------------
def test_no_onset_lies_after_the_half_rise_of_the_climb_it_starts():
    for kw in (dict(), TWO_STAGE, dict(fit=27347, stages=((3000, 0.8), (35000, 0.06)), width=0.1),
               dict(fit=2001, stages=((30000, 0.8),), width=0.1)):
        e = events(fake(**kw), DET)
        assert e.climb_onset_step <= e.test_half_step, kw
        # each of these runs climbs after its fit: the post-fit climb starts at or after the fit, and its 10 %
        # point comes strictly before its 90 % point
        assert e.grokking_onset_step is not None and e.grokking_rise_steps > 0, kw
        assert e.grokking_onset_step >= e.fit_step, kw


def test_near_identical_seeds_get_the_same_onset_across_the_post_fit_threshold():
    """Two seeds whose test curves differ by at most 0.01 at every logged step, one gaining 0.052 after the fit and
    the other 0.048 (the shipped d = 4, N = 7000 seeds 0 and 1): onsets within one log period, and only the first
    has a grokking onset -- the event's meaning does not switch with the gain."""
    kw = dict(depth=4, n=7000, fit=17000, width=0.1)
    a = fake(stages=((3000, 0.78), (30000, 0.054)), seed=0, **kw)
    b = fake(stages=((3000, 0.78), (30000, 0.0485)), seed=1, **kw)
    assert np.max(np.abs(a.history["test_acc"] - b.history["test_acc"])) <= 0.01
    ea, eb = events(a, DET), events(b, DET)
    assert ea.post_fit_gain >= DET.rise_min > eb.post_fit_gain  # the two sides of rise_min
    assert abs(ea.climb_onset_step - eb.climb_onset_step) <= a.config.log_period
    assert abs(ea.test_half_step - eb.test_half_step) <= a.config.log_period
    assert ea.grokking_onset_step is not None and eb.grokking_onset_step is None


def test_two_stage_follows_claim_3s_rule_as_written():
    """A shoulder followed by a second surge, but less than rise_min gained after the fit: not two-stage."""
    e = events(fake(depth=4, n=7000, fit=30000, stages=((3000, 0.78), (30000, 0.0525)), width=0.1), DET)
    assert e.shoulder_steps and e.post_fit_gain < DET.rise_min and not e.two_stage
    assert e.phase == "generalize without grokking"
    assert "at least 0.05 more after the fit" in claims.rule_text(claims.BY_NUMBER[3])


def _spectra_run(**kw):
    """fake(), with kept spectra whose paper-tolerance rank falls, rises and falls again (in tiny singular values
    below 1e-6 of the largest) while every value above 1e-6 only falls once: a double descent at one tolerance."""
    r = fake(**kw)
    s, L = RSTEP.astype(float), r.config.depth
    n_big = np.rint(300 - 200 * np.clip((s - 20000) / 4000, 0, 1)).astype(int)        # falls once, 300 -> 100
    n_tiny = np.rint(80 - 60 * np.clip((s - 20000) / 3000, 0, 1) + 60 * np.clip((s - 25000) / 3000, 0, 1)
                     - 60 * np.clip((s - 31000) / 3000, 0, 1)).astype(int)             # falls, rises, falls
    spec = np.full((len(s), L, 400), 0.0, dtype=np.float32)
    for i in range(len(s)):
        spec[i, :, :n_big[i]] = np.linspace(1.0, 1e-3, n_big[i])
        spec[i, :, n_big[i]:n_big[i] + n_tiny[i]] = 1e-9
    spec[:, -1, 10:] = np.nan
    spec[:, -1, :10] = 1.0
    h = dict(r.history, spectrum=spec, spectrum_max=np.ones((len(s), L)))
    h["rank"] = rank_at(spec, np.array([paper_rtol(400)] * (L - 1) + [paper_rtol(10)])).astype(np.int64)
    h["robust_rank"] = rank_at(spec, 1e-3 * 0.999).astype(np.int64)
    h["eff_rank"] = h["robust_rank"] / 8.0
    return Run(r.config, h, r.meta)


def test_a_double_descent_present_at_one_tolerance_only():
    r = _spectra_run(fit=27347, stages=((20000, 0.78), (35000, 0.07)), width=0.04, n=7000)
    assert events(r, DET).double_descent_steps is not None  # the paper's machine precision
    loose = claims.detector({claims.RANK_DEF: tolerance_def(1e-6)})
    assert events(r, loose).double_descent_steps is None and events(r, loose).rank_descent_steps
    assert rank_scale(r, tolerance_def(1e-6)) == pytest.approx(300 / 380, abs=0.01)  # start: 300 of 380 kept
    # a record without spectra cannot take a tolerance: one line naming the run
    plain = fake()
    with pytest.raises(ValueError, match="keeps no covariance spectra"):
        events(plain, loose)
    # claim 7 on such runs: reproduced under the paper's rank, fragile to the rank definition, in words and JSON
    v = claims.judge(7, [r])
    assert v.grade == "reproduced" and not v.robust
    flips = [f for f in v.flips if f[0] == claims.RANK_DEF]
    assert flips and any(name == claims.RANK_DEF and at.startswith("tolerance-robust") and g == "not reproduced"
                         for name, at, g in report.grade_flips(v))
    doc = json.loads(report.as_json([v]))[0]
    rank_sweep = next(x for x in doc["robustness"] if x["name"] == "rank definition")
    assert rank_sweep["grades"][0] == "reproduced" and "not reproduced" in rank_sweep["grades"]
    assert doc["robust"] is False


def test_robust_is_true_exactly_when_every_listed_grade_equals_the_grade():
    runs = depth_world()
    for v in claims.evaluate(runs, claims=(1, 9, 15)):
        doc = json.loads(report.as_json([v]))[0]
        same = all(g == v.grade for x in doc["robustness"] for g in x["grades"])
        assert doc["robust"] is same
        names = {x["name"] for x in doc["robustness"]}
        assert set(claims.BY_NUMBER[v.claim].thresholds) <= names
        assert ("rank definition" in names) is claims.rank_based(claims.BY_NUMBER[v.claim])


def test_a_claim_whose_only_holding_part_is_its_baseline_is_not_reproduced():
    runs = [fake(n=5000, wd=0.01, fit=2001, stages=((30000, 0.8),), width=0.1, seed=sd) for sd in (0, 1)]
    runs += [fake(n=5000, wd=wd, fit=2001, stages=((30000, 0.8),), width=0.1) for wd in (0.005, 0.05)]  # both grok
    v = claims.judge(12, runs, robustness=False)
    assert [(p.words, p.k, p.n, p.baseline) for p in v.parts] == [
        ("γ = 0.005: generalize without grokking", 0, 1, False), ("γ = 0.01: grokking", 2, 2, True),
        ("γ = 0.05: two-stage", 0, 1, False)]
    assert v.grade == "not reproduced"
    assert [p.counted for p in v.parts] == [True, False, True]  # the baseline holds but is not counted
    # a failing part keeps its configuration and seed, with what was measured there
    failed = [it for it in v.parts[0].items if it.held is False]
    assert {it.label for it in failed} == {"d = 12, N = 5000, γ = 0.005, seed 0"}
    assert {it.text for it in failed} - {"", "none"} == {"grokking"}


def test_a_failing_probe_part_names_the_layer():
    def probe(ps, depth):  # layer 3 flat at 0.5 from the start: neither rises nor sits at a ceiling
        pa = np.repeat(np.interp(ps, STEP, 0.1 + 0.8 * sig(STEP.astype(float), 20000, 1000))[:, None], depth, 1)
        pa[:, 2] = np.where(ps < 60000, 0.5, 0.9)
        return pa
    runs = [fake(n=n, probe=probe if n == 2000 else None) for n in (2000, 5000, 7000)]
    v = claims.judge(8, runs, robustness=False)
    assert v.parts[0].k == 0
    failed = [it for it in v.parts[0].items if it.held is False]
    assert {it.label for it in failed} == {"d = 12, N = 2000, γ = 0.01, seed 0"}
    assert {it.text for it in failed} - {"", "none"} == {"layer 3"}


def test_claim_5_reports_the_shallow_rank_lag_as_an_extension_not_a_grade():
    runs = depth_world() + [fake(n=2000, fall=19000)]
    v = claims.judge(5, runs, robustness=False)
    assert {it.label for it in v.beyond} == {"d = 4, N = 5000, γ = 0.01, seed 0", "d = 8, N = 5000, γ = 0.01, seed 0"}
    assert all(it.measure.startswith("rank-descent lag at the shallower depths") for it in v.beyond)
    assert all("d = 4" not in p.words for p in v.parts)


def test_events_cli_json_gives_every_run_with_units(tmp_path):
    """Two records of one paper configuration and seed (the 10,000-step pilot of d = 12, N = 5000, γ = 0.01, seed 0
    and its full-scale run): --json gives each its own id (the record's file name), label and whole config."""
    import shutil
    from dataclasses import fields

    from grokkit.config import RunConfig

    res = tmp_path / "res"
    res.mkdir()
    names = ["d12_w400_n5000_a8_wd0.01_s0_t10000-bf39eb7ccc.npz", "d12_w400_n5000_a8_wd0.01_s0-2ac5723cc6.npz"]
    for name in names:
        shutil.copy(REPO / "results" / name, res / name)
    out = subprocess.run([sys.executable, "-m", "grokkit", "events", "--results", str(res), "--json"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert sorted(run["id"] for run in doc) == sorted(n.removesuffix(".npz") for n in names)
    labels = {run["id"]: run["label"] for run in doc}  # the pilot's label says it is shorter; the id is unique
    assert labels[names[0][:-4]] == labels[names[1][:-4]] + ", 10,000 steps"
    assert sorted(run["config"]["steps"] for run in doc) == [10_000, 100_000]
    every = {f.name for f in fields(RunConfig)} - {"device", "checkpoint_every"}  # a record keeps neither
    for run in doc:
        assert set(run["config"]) == every
        assert run["config"]["norm_clamp"] == "none" and run["config"]["rank_penalty"] == 0.0
        assert run["label"].startswith(f"d = {run['config']['depth']}, N = {run['config']['n_train']}")
        for ev in run["events"].values():
            assert set(ev) == {"value", "unit"} and (ev["value"] is None or isinstance(ev["value"], (int, float)))
        ev = run["events"]
        assert ev["climb_onset_step"]["unit"] == "step" and ev["shoulder_steps"]["unit"] == "steps"
        assert "gen_onset_step" not in run["events"]  # one name per meaning
    text = subprocess.run([sys.executable, "-m", "grokkit", "events", "--results", str(res)], cwd=REPO,
                          capture_output=True, text=True, timeout=300).stdout
    assert "climb onset step: step " in text and not machine_bits(text.replace("_", " ").split("\n", 1)[1])


def test_every_shipped_record_has_a_unique_id_and_its_whole_config():
    """The ids events --json and export give (records.record_id) are unique over the shipped records, and so are
    their labels (a 10,000-step pilot's says so beside its full-scale run's); each config carries the steps and the
    intervention fields, at their defaults too."""
    from collections import Counter

    from grokkit.events import run_label

    runs = records.load_all(REPO / "results")
    ids = [records.record_id(r) for r in runs]
    assert len(set(ids)) == len(ids) == len(records.list_records(REPO / "results"))
    assert ids == [p.stem for p in records.list_records(REPO / "results")]
    labels = Counter(run_label(r) for r in runs)
    assert max(labels.values()) == 1  # a pilot's label says its steps, so every shipped record has its own label
    assert {"d = 12, N = 5000, γ = 0.01, seed 0", "d = 12, N = 5000, γ = 0.01, seed 0, 10,000 steps",
            "d = 12, N = 5000, γ = 0.01, seed 0, 10,000 steps, rank pushed down, pull λ = 0.03",
            "d = 12, N = 5000, γ = 0.01, seed 0, rank pushed down, pull λ = 0.03"} <= set(labels)
    for r in runs:
        c = records.config_fields(r)
        assert c["steps"] == r.config.steps and c["norm_clamp"] == r.config.norm_clamp
        assert {"dtype", "rank_penalty", "rank_penalty_kind", "rank_penalty_scale", "n_test"} <= set(c)
    by_id = {records.record_id(r): records.config_fields(r) for r in runs}
    assert by_id["d12_w400_n5000_a8_wd0.01_s0_norminit-8439ba8b57"]["norm_clamp"] == "init"
    assert by_id["d12_w400_n5000_a8_wd0.01_s0_t10000-bf39eb7ccc"]["steps"] == 10_000


def test_opening_page_puts_what_failed_first_and_counts_the_compute():
    runs = [fake(n=5000, wd=0.01, fit=2001, stages=((30000, 0.8),), width=0.1, seed=sd) for sd in (0, 1)]
    runs += [fake(n=5000, wd=wd, fit=2001, stages=((30000, 0.8),), width=0.1) for wd in (0.005, 0.05)]
    for i, r in enumerate(runs):
        r.meta.update(wall_time_s=3600.0 * (i + 1), threads=1, resumed_from=5000 if i == 3 else None)
    v = claims.judge(12, runs)
    assert v.grade == "not reproduced"
    rows = report.not_held_rows([v])  # both own parts failed; the baseline (γ = 0.01 groks) is not listed
    assert [(w.claim, p.words, report.part_count(p)) for w, p in rows] == [
        (12, "γ = 0.005: generalize without grokking", "0 of 1 seed"), (12, "γ = 0.05: two-stage", "0 of 1 seed")]
    table = report.not_held_html([v])
    assert table.count('href="scoreboard.html#claim-12"') == 2 and "not held" in table
    table = run_tables.compute_table(runs)
    rows = {r.split(" | ")[0].strip("| *"): [c.strip(" *") for c in r.strip("|").split("|")[1:]]
            for r in table.splitlines()[2:]}
    assert rows["d = 12, N = 5000, γ = 0.01"] == ["2", "0", "CPU", "1", "3.0"]  # 1 h + 2 h, none resumed
    assert rows["d = 12, N = 5000, γ = 0.05"] == ["1", "1", "CPU", "1", "4.0"]
    assert rows["all"] == ["4", "1", "", "", "10.0"]
    html = report.claims_table_html([v])
    assert "not reproduced" in html and "12. Weight-decay phases at N = 5000" in html
    terms = report.grades_html()  # the grades defined where the opening page first uses them, in the badges' words
    assert all(f"<em>{g.capitalize()}</em>: " in terms for g in report.GRADE_WORDS) and "<em>Fragile</em>: " in terms


def test_a_rank_held_up_whose_rank_falls_anyway_fails_its_check_and_an_unfit_run_is_not_graded():
    from grokkit.intervention_tables import verdict_rows
    from grokkit.interventions import measure, untestable

    control = [fake(stages=((30000, 0.8),), fall=30000, seed=sd) for sd in (0, 1, 2)]
    up = fake(stages=((30000, 0.8),), seed=0)  # the rank held up, at the fallback's strength; its rank stays high
    up.config = up.config.replace(rank_penalty=0.03, rank_penalty_kind="neg_spectral_entropy",
                                  rank_penalty_scale="gradient")
    # a rank held up whose rank falls anyway missed its aim
    fell = fake(stages=((30000, 0.8),), fall=30000, seed=0)
    fell.config = up.config
    # every seed of an intervention that never fits its training set: named first, and nothing graded on them
    unfit = fake(stages=((30000, 0.0),), seed=0, fit=10**7)  # train accuracy stays near 0.1
    unfit.config = unfit.config.replace(norm_clamp="init")
    assert untestable(measure(unfit)) and verdict_rows([unfit], control) == []  # nothing graded on it
    # the rank held up that fell anyway: its check did not hold; the one whose rank stayed high: it held
    assert ("Rank held up", "check", "rank", 0, 1) in verdict_rows([fell], control)
    assert ("Rank held up", "check", "rank", 1, 1) in verdict_rows([up], control)


def test_a_run_whose_outputs_collapse_is_named_with_when_and_its_rank_grade_qualified():
    """A penalised run that never fits its training set because its outputs collapsed to nearly one value (train MSE
    0.09 at chance accuracy from step 20,000 to the end): the verdicts and the box say from which step and how close
    to the best constant output, read only its rank, as a check in neither badge, and say that a rank falling with
    the collapse tests no story.
    A run that recovers from a collapse before its end, and one that fits, carry no collapse."""
    from grokkit.intervention_tables import verdict_rows
    from grokkit.interventions import collapse, measure

    control = [fake(stages=((30000, 0.8),), fall=30000, seed=sd) for sd in (0, 1, 2)]
    down = fake(stages=((30000, 0.0),), seed=0, fit=10**7, stuck=(20000, 10**6), fall=20000)
    down.config = down.config.replace(rank_penalty=0.03, rank_penalty_kind="nuclear_over_frobenius",
                                      rank_penalty_scale="gradient")
    first = int(STEP[STEP >= 20000][0])
    c = collapse(down)
    assert c.step == first and c.train_loss == pytest.approx(0.09) and c.train_acc == pytest.approx(0.1)
    assert c.constant_mse == pytest.approx(0.0899, abs=1e-4)
    assert collapse(fake(stuck=(20000, 40000))) is None and collapse(control[0]) is None
    assert measure(down).collapse == c
    # its rank is a check, not a prediction: no story is graded on it, and both its checks held on its one seed
    assert verdict_rows([down], control) == [("Rank pushed down", "check", "rank", 1, 1)] * 2
    # beside a run that did not collapse: that run's predictions are graded, the collapsed one's still are not
    low = fake(stages=((5000, 0.8),), fall=4000, seed=0)
    low.config = low.config.replace(norm_clamp=199.8)
    rows = verdict_rows([down, low], control)
    assert [r for r in rows if r[1] != "check"] == [("Norm held low from the start", "norm", "climb", 1, 1),
                                                    ("Norm held low from the start", "rank", "climb", 1, 1),
                                                    ("Norm held low from the start", "rank", "rank", 1, 1)]
    # the pilots (10,000 steps) could not see it: the collapse starts after their last step
    assert c.step > 10_000


def test_dtype_caveat_only_beyond_the_seed_spread():
    """A float64 twin is a caveat only where it differs from float32 more than two float32 seeds differ from each
    other, or takes a phase no float32 seed takes; the caveat names the phases or the measure and its ratio."""
    def f64(**kw):
        r = fake(n=5000, wd=0.05, **kw)
        r.config = r.config.replace(dtype="float64")
        return r

    seeds = [fake(n=5000, wd=0.05, fall=20000, seed=sd, **TWO_STAGE) for sd in (0, 1)]
    seeds[1].history["test_acc"] = seeds[1].history["test_acc"] + 0.02
    assert report.twins_outside_html(seeds + [f64(fall=20000, **TWO_STAGE)]) == ""  # the same course: no row
    other = report.twins_outside_html(seeds + [f64(fall=20000, fit=2001, stages=((20000, 0.8),))])
    assert other.count("<tr>") == 2 and "<td>d = 12, N = 5000, γ = 0.05, seed 0</td>" in other
    assert "<td>grokking</td><td>two-stage, two-stage</td>" in other  # a phase no float32 seed takes
    shifted = f64(fall=20000, **TWO_STAGE)
    shifted.history["test_acc"] = shifted.history["test_acc"] + 0.05  # 2.5 x the seeds' distance
    far = report.twins_outside_html(seeds + [shifted])
    assert far.count("<tr>") == 2 and "seed 0</td><td>2.50</td>" in far
