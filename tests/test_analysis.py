"""grokkit.analysis on synthetic run histories with known answers (no training; the real eval schedule)."""
import dataclasses

import numpy as np
import pytest

from grokkit import analysis as A
from grokkit.records import Run
from grokkit.sweep import PAPER_BASE

STEP = np.array([s for s in range(PAPER_BASE.steps + 1) if PAPER_BASE.is_log_step(s)])  # 0..29, 30..140, 667k, 1e5
RSTEP = STEP[(STEP % 667 == 0) | (STEP == PAPER_BASE.steps)]   # the grid's rank cadence
PSTEP = STEP[(STEP % 3335 == 0) | (STEP == PAPER_BASE.steps)]  # probes: the paper's 3335


def sig(s, c, w):
    return 1 / (1 + np.exp(-np.clip((s - c) / w, -50, 50)))


def smooth_norm(s):
    return 50 * np.exp(-1e-5 * s) + 10  # an exponential decay toward a floor: no kink anywhere


def fall_at(t):  # collapse progress: 0 until t, 1 by t + 4000
    return ((0, 0), (t, 0), (t + 4000, 1), (100_000, 1))


def dd_at(t1, t2):  # rank double descent: fall from 0 to t1, rise after t1, fall again from t2
    return ((0, 0), (t1, 0.5), (t1 + 2000, 0.1), (t2, 0.1), (t2 + 6000, 1), (100_000, 1))


def fake(depth=12, n=5000, wd=0.01, fit=2001, stages=((20000, 0.8),), width=0.01, collapse=((0, 0), (100_000, 0)),
         tunnel=None, floor=360.0, tfloor=150.0, wn=smooth_norm, lln=None, probe=None, dtype="float32", seed=0):
    """A fake Run: train acc 0.1 -> 0.5 at fit/2 -> 1.0 at `fit`; test acc 0.1 + sigmoids (center, gain) of
    width `width`·center; hidden ranks 400 - c(t)·(400 - final) with c from the `collapse` knots, the last
    tunnel-1 hidden layers falling to `tfloor`, the others to `floor`; output layer rank 10."""
    cfg = PAPER_BASE.replace(depth=depth, n_train=n, weight_decay=wd, dtype=dtype, seed=seed)
    s = STEP.astype(float)
    train = np.where(s >= fit, 1.0, np.where(s >= fit / 2, 0.5, 0.1))
    test = 0.1 + sum(g * sig(s, c, width * c) for c, g in stages)
    L = {4: 1, 8: 3, 12: 6}[depth] if tunnel is None else tunnel
    final = np.array([floor] * (depth - L) + [tfloor] * (L - 1))
    c = np.interp(RSTEP, [k[0] for k in collapse], [k[1] for k in collapse])
    hid = np.rint(400 - c[:, None] * (400 - final[None, :]))
    rank = np.concatenate([hid, np.full((len(RSTEP), 1), 10.0)], 1).astype(np.int64)
    ll = (lambda x: 5 * np.exp(-1e-5 * x) + 1) if lln is None else lln
    pa = np.repeat(np.interp(PSTEP, s, test)[:, None], depth, 1) if probe is None else probe(PSTEP, depth)
    h = {"step": STEP.copy(), "train_loss": 1 - train, "test_loss": 1 - test, "train_acc": train, "test_acc": test,
         "weight_norm": wn(s), "last_layer_norm": ll(s), "rank_step": RSTEP.copy(), "rank": rank,
         "robust_rank": np.maximum(rank - 100 * (RSTEP[:, None] > 10_000), 10), "eff_rank": rank / 2.0,
         "probe_step": PSTEP.copy(), "probe_acc": pa}
    return Run(config=cfg, history=h, meta={"device": "cpu", "dtype": dtype, "diverged_at": None})


# A synthetic grid built to satisfy all 15 claims. Keys (depth, N, wd).
def world():
    two7 = dict(floor=310.0, tfloor=60.0)  # N=7000 ranks end lower than N=5000's (claim 10: "differ clearly")
    return {
        (4, 5000, 0.01): dict(depth=4, fit=1334, stages=((2000, 0.8),), collapse=fall_at(1334)),
        (8, 5000, 0.01): dict(depth=8, fit=2001, stages=((6000, 0.8),), collapse=fall_at(5336)),
        (12, 5000, 0.01): dict(depth=12, fit=4002, stages=((15000, 0.8),), collapse=fall_at(14007)),
        (4, 7000, 0.01): dict(depth=4, n=7000, fit=2001, stages=((1000, 0.85),), collapse=fall_at(667), **two7),
        (8, 7000, 0.01): dict(depth=8, n=7000, fit=4002, stages=((1500, 0.45), (20000, 0.35)),
                              collapse=dd_at(1334, 18676), **two7),
        (12, 7000, 0.01): dict(depth=12, n=7000, fit=6003, stages=((3000, 0.3), (40000, 0.5)),
                               collapse=dd_at(2668, 37352), **two7),
        (12, 2000, 0.005): dict(n=2000, wd=0.005, fit=1334, stages=((800, 0.2),), collapse=fall_at(667)),
        (12, 2000, 0.01): dict(n=2000, fit=2001, stages=((30000, 0.75),), collapse=fall_at(28014)),
        (12, 2000, 0.05): dict(n=2000, wd=0.05, fit=2001, stages=((1200, 0.3), (25000, 0.5)),
                               collapse=dd_at(667, 23345)),
        (12, 5000, 0.005): dict(wd=0.005, fit=3335, stages=((2000, 0.8),), collapse=fall_at(1334)),
        (12, 5000, 0.05): dict(wd=0.05, fit=2001, stages=((1200, 0.35), (12000, 0.45)), collapse=dd_at(667, 11339)),
    }


def runs_of(w):
    return [fake(**kw) for kw in w.values()]


@pytest.fixture(scope="module")
def good():
    return runs_of(world())


def contradicted(claim_no, changes):
    """The good world with some runs changed: {(depth, N, wd): kwargs-update}."""
    w = world()
    for key, upd in changes.items():
        w[key] = {**w[key], **upd}
    return A.claim(claim_no, runs_of(w))


# ---- detectors -------------------------------------------------------------------------------------------
def test_t_fit_and_sigmoid_rise_onset():
    r = fake(fit=2001, stages=((20000, 0.8),), width=0.005)  # sharp sigmoid centred at 20000
    o = A.onsets(r)
    assert o["t_fit"] == 2001
    assert len(o["rises"]) == 1 and abs(o["test_rise"] - 20000) <= 667
    assert o["test_rise"] == 19343 and o["rises"][0]["mid"] == 20010
    assert o["grok_onset"] == 19343 and o["grok_gap"] == 19343 - 2001
    assert o["t50"] == 20010 and o["phase"] == "grokking" and o["two_stage"] is False


def test_two_stage_detected_with_both_onsets():
    o = A.onsets(fake(fit=5336, stages=((1000, 0.4), (30000, 0.4))))
    assert o["two_stage"] is True and o["second_surge_after_fit"] is True and o["phase"] == "two-stage"
    assert o["rise_onsets"] == [667, 28681]
    assert o["first_stage_level"] == pytest.approx(0.5, abs=1e-3)
    assert [p["start"] for p in o["plateaus"]] == [0, 1334, 31349]


def test_one_stage_is_not_two_stage():
    o = A.onsets(fake(fit=2001, stages=((1000, 0.85),)))
    assert o["two_stage"] is False and len(o["rises"]) == 1
    assert o["phase"] == "generalize without grokking" and o["grok_onset"] is None and o["t_gen"] == 667


def test_short_pause_is_not_a_plateau():
    # two climbs 2000 steps apart at ~20k: far less than a doubling of the step -> one rise, not two stages
    o = A.onsets(fake(stages=((20000, 0.4), (22000, 0.4))))
    assert o["two_stage"] is False and len(o["rises"]) == 1


def test_slow_early_creep_is_not_a_first_stage():
    # the d4 N=5000 wd=0.005 record's shape: test acc creeps up at a steady pace per decade (0.13 at step 140,
    # 0.2 by 2000) before the real climb; the creep's "flat" octave (1334-2668) is no pause -> one rise
    r = fake(fit=6670, stages=((16000, 0.7),))
    s = r.history["step"].astype(float)
    creep = 0.127 + 0.064 * np.clip(np.log10(np.maximum(s, 140) / 140), 0, None)
    r.history["test_acc"] = creep + 0.7 * sig(s, 16000, 0.1 * 16000)
    o = A.onsets(r)
    assert len(o["rises"]) == 1 and o["two_stage"] is False and o["phase"] == "grokking"
    # the same levels with a true pause between (flat from 1334 to 8000) stay two stages
    r.history["test_acc"] = 0.127 + 0.07 * sig(s, 700, 150) + 0.7 * sig(s, 16000, 0.05 * 16000)
    assert A.onsets(r)["two_stage"] is True


def test_fail_to_generalize_and_no_fit():
    assert A.onsets(fake(fit=1334, stages=((800, 0.2),)))["phase"] == "fail to generalize"
    assert A.onsets(fake(fit=200_000))["phase"] == "no fit"


def test_rank_descent_onset_at_step_x():
    o = A.onsets(fake(collapse=fall_at(20010)))
    assert o["rank_descent_onset"] == 20010
    assert o["rank_descent_detect"] == 20677  # first snapshot ≥ 5 % of the width below the running max
    assert o["rank_double_descent"] is None


def test_rank_double_descent_detected():
    o = A.onsets(fake(collapse=dd_at(3335, 30015)))
    assert [s["dir"] for s in o["rank_swings"]] == [-1, 1, -1]
    assert o["rank_double_descent"] == [0, 3335, 30015]


def test_lead_lag_and_coincidence():
    o = A.onsets(fake(stages=((20000, 0.8),), width=0.005, collapse=fall_at(20010)))
    assert o["rank_lag"] == 20010 - 19343 and o["rank_coincides"] is True and o["tolerance"] == 3335
    o = A.onsets(fake(stages=((20000, 0.8),), width=0.005, collapse=fall_at(60030)))
    assert o["rank_lag"] == 60030 - 19343 and o["rank_coincides"] is False


def test_weight_norm_marks():
    smooth_run = fake(wn=lambda s: 80 * np.exp(-1e-5 * s))
    m = A.norm_mark(smooth_run, 20010)
    assert m["mark"] is False and m["kink"] == pytest.approx(0.0, abs=1e-6)
    plateau_end = fake(wn=lambda s: 80 * np.exp(-2e-5 * np.maximum(s - 20010, 0)))  # flat, then decays from 20010
    m = A.norm_mark(plateau_end, 20010)
    assert m["mark"] is True and m["kink"] == pytest.approx(1.0)
    assert A.norm_mark(plateau_end, 70035)["mark"] is False  # far from the kink: nothing


def test_tunnel_with_and_without_output():
    o = A.onsets(fake(depth=12, collapse=fall_at(5000), tunnel=6))
    assert o["tunnel"] == 6 and o["tunnel_hidden"] == 5 and o["final_ranks"][-1] == 10


def test_pick_prefers_full_scale_float32_and_flags_stand_ins():
    full = fake(depth=12, n=2000)
    f64 = fake(depth=12, n=2000, dtype="float64")
    small = fake(depth=12, n=2000)
    small = Run(config=small.config.replace(steps=300, width=32), history=small.history, meta={})
    assert A.pick([small, f64, full], 12, 2000) is full
    assert A.pick([small, f64], 12, 2000) is f64
    assert A.pick([small], 12, 2000) is small and not A.full_scale(small)
    w = world()
    rs = []
    for kw in w.values():  # the same world, relabelled as smoke-scale stand-ins
        r = fake(**kw)
        rs.append(Run(config=r.config.replace(steps=100_000, width=32), history=r.history, meta={}))
    v = A.claim_1(rs)
    assert v.verdict == "reproduced" and len(v.numbers["stand_in"]) == 3
    assert v.detail.startswith("[3 of 3 runs are smoke-scale stand-ins")


def test_stand_in_is_selected_by_the_config_it_stands_for():
    full_cfg = PAPER_BASE.replace(depth=12, n_train=5000)
    r = fake(depth=12, n=5000)
    small = Run(config=r.config.replace(n_train=400, batch_size=100, width=32), history=r.history,
                meta={"stand_in": True, "stands_for_config": full_cfg.identity()})
    assert A.pick([small], 12, 5000) is small and A.pick([small], 12, 400) is None
    assert not A.full_scale(small) and A.tunnel_threshold(small.config) == 24.0
    v = A.claim_6([small, fake(n=2000, stages=((30000, 0.75),))])
    assert v.numbers["stand_in"] == ["d12_w32_n400_a8_wd0.01_s0 (for d12_w400_n5000_a8_wd0.01_s0)"]
    assert v.runs[0] == "d12_w400_n2000_a8_wd0.01_s0" and v.verdict == "reproduced"


def test_missing_runs():
    v = A.claim_1([])
    assert v.verdict == "missing runs"
    assert v.numbers["missing"] == ["d4_w400_n5000_a8_wd0.01_s0", "d8_w400_n5000_a8_wd0.01_s0",
                                    "d12_w400_n5000_a8_wd0.01_s0"]
    w = world()
    del w[(12, 7000, 0.01)]
    v = A.claim(7, runs_of(w))
    assert v.verdict == "missing runs" and v.numbers["missing"] == ["d12_w400_n7000_a8_wd0.01_s0"]
    assert [x.verdict for x in A.evaluate_claims([])] == ["missing runs"] * 15


# ---- claims: the good world reproduces every claim; one change each contradicts it --------------------------
@pytest.mark.parametrize("n", range(1, 16))
def test_claim_reproduced_on_consistent_world(good, n):
    v = A.claim(n, good)
    assert v.claim == n and v.verdict == "reproduced", (n, v.detail, v.numbers)
    assert v.runs and v.detail and v.paper == A.CLAIMS[n][1]


def test_claim_1_contradicted():
    v = contradicted(1, {(4, 5000, 0.01): dict(fit=4002, stages=((15000, 0.8),)),
                           (12, 5000, 0.01): dict(fit=1334, stages=((2000, 0.8),))})
    assert v.verdict == "not reproduced" and v.numbers["t_fit"] == {4: 4002, 8: 2001, 12: 1334}


def test_claim_2_contradicted():
    v = contradicted(2, {(4, 5000, 0.01): dict(stages=((30000, 0.8),))})
    assert v.verdict == "not reproduced" and v.numbers["grok_delay"][4] > v.numbers["grok_delay"][12]
    at_fit = v.numbers["test_acc_at_fit"]  # the secondary number: reported beside the verdict, never deciding it
    assert set(at_fit) == {4, 8, 12} and all(0 <= a <= 1 for a in at_fit.values())


def test_claim_3_contradicted():
    v = contradicted(3, {(8, 7000, 0.01): dict(stages=((1500, 0.8),))})
    assert v.verdict == "not reproduced" and v.numbers["phase"][8] == "generalize without grokking"


def test_claim_4_contradicted():
    v = contradicted(4, {(12, 7000, 0.01): dict(stages=((1000, 0.6), (10000, 0.3)))})
    assert v.verdict == "not reproduced" and v.numbers["both_later"] is False


def test_claim_5_contradicted():
    v = contradicted(5, {(12, 2000, 0.01): dict(collapse=fall_at(70035))})
    assert v.verdict == "not reproduced" and v.numbers[2000]["rank_coincides"] is False


def test_claim_6_contradicted():
    v = contradicted(6, {(12, 5000, 0.01): dict(stages=((50000, 0.8),))})
    assert v.verdict == "not reproduced" and v.numbers["t50"][5000] > v.numbers["t50"][2000]


def test_claim_7_contradicted():
    v = contradicted(7, {(12, 7000, 0.01): dict(collapse=fall_at(37352))})
    assert v.verdict == "not reproduced" and v.numbers["rank_double_descent"] is None


def test_claim_7_needs_the_second_descent_at_a_second_surge():
    # fall, rise, fall in the rank -- but one test surge only, long after the second fall (our d12 N=7000 run's shape)
    v = contradicted(7, {(12, 7000, 0.01): dict(fit=88044, stages=((87000, 0.8),), collapse=dd_at(2668, 30682))})
    assert v.numbers["rank_double_descent"] is not None and v.numbers["second_descent_lag"] is None
    assert v.verdict == "not reproduced" and "one test surge only" in v.detail
    # two surges, but the second fall comes 10k steps before the second surge
    v = contradicted(7, {(12, 7000, 0.01): dict(collapse=dd_at(2668, 27352))})
    assert v.verdict == "not reproduced" and abs(v.numbers["second_descent_lag"]) > v.numbers["tolerance"]


def test_claim_8_contradicted():
    def probe(ps, depth):  # layer 0's probe never moves
        pa = np.repeat(np.interp(ps, STEP, 0.1 + 0.8 * sig(STEP, 15000, 150))[:, None], depth, 1)
        pa[:, 0] = 0.9
        return pa
    v = contradicted(8, {(12, 5000, 0.01): dict(probe=probe)})
    assert v.verdict == "not reproduced" and v.numbers[5000][0]["layers_rose"] == 11
    assert v.numbers[5000][0]["flat_layers"] == [1] and v.numbers[5000][0]["flat_before"] == [0.9]
    assert "flat: layer 1, already at 0.90" in v.detail


def test_claim_9_contradicted():
    v = contradicted(9, {(12, 5000, 0.01): dict(tunnel=1)})
    assert v.verdict == "not reproduced" and v.numbers[5000]["tunnel"] == [1, 3, 1]


def test_claim_10_contradicted():
    kinked = lambda s: 60 * np.exp(-3e-5 * np.maximum(s - 14007, 0))  # noqa: E731  flat until the d=12 onset
    v = contradicted(10, {(12, 5000, 0.01): dict(wn=kinked)})
    assert v.verdict == "not reproduced" and v.numbers["weight_norm_half"] is False and v.numbers["rank_half"] is True


def test_claim_11_contradicted():
    v = contradicted(11, {(12, 2000, 0.005): dict(stages=((20000, 0.8),))})
    assert v.verdict == "not reproduced" and v.numbers["phase"][0.005] == "grokking"


def test_claim_12_contradicted():
    v = contradicted(12, {(12, 5000, 0.005): dict(stages=((20000, 0.8),))})
    assert v.verdict == "not reproduced" and v.numbers["match"] == {0.005: False, 0.01: True, 0.05: True}


def test_claim_13_contradicted():
    v = contradicted(13, {(12, 5000, 0.05): dict(collapse=fall_at(11339))})
    assert v.verdict == "not reproduced" and v.numbers["n5000_wd0.05"]["double_descent"] is None


def test_claim_14_contradicted():
    v = contradicted(14, {(12, 7000, 0.01): dict(lln=lambda s: 0 * s + 3.0)})
    assert v.verdict == "not reproduced"
    assert v.numbers["d12_w400_n7000_a8_wd0.01_s0"]["plateaus"]["last_layer_norm"] == [[0, 100000]]


def test_claim_15_contradicted():
    v = contradicted(15, {(4, 7000, 0.01): dict(stages=((1000, 0.45), (30000, 0.4)))})
    assert v.verdict == "not reproduced" and v.numbers["two_stage_shallow"] == ["d4_w400_n7000_a8_wd0.01_s0"]


# ---- reports ---------------------------------------------------------------------------------------------
def test_scoreboard_markdown(good):
    md = A.scoreboard_markdown(A.evaluate_claims(good))
    lines = md.strip().splitlines()
    assert len(lines) == 17 and lines[0].startswith("| # | claim | paper | ours | verdict |")
    assert sum("**reproduced**" in ln for ln in lines) == 15


def test_verdict_is_a_dataclass_with_the_fields(good):
    v = A.claim(3, good)
    assert [f.name for f in dataclasses.fields(v)] == ["claim", "title", "paper", "verdict", "numbers", "detail", "runs"]
    assert v.runs == ["d4_w400_n7000_a8_wd0.01_s0", "d8_w400_n7000_a8_wd0.01_s0", "d12_w400_n7000_a8_wd0.01_s0"]
    with pytest.raises(ValueError):
        A.claim(16, good)


def with_stuck(run, lo, hi, loss=A.CONST_MSE, acc=0.11):
    """The run with train loss `loss` and train accuracy `acc` at every logged step in [lo, hi]."""
    h = dict(run.history)
    on = (h["step"] >= lo) & (h["step"] <= hi)
    h["train_loss"] = np.where(on, loss, h["train_loss"])
    h["train_acc"] = np.where(on, acc, h["train_acc"])
    return dataclasses.replace(run, history=h)


def test_stuck_finds_the_longest_constant_predictor_stretch():
    run = with_stuck(with_stuck(fake(), 10_000, 14_000), 30_000, 60_000, loss=A.CONST_MSE * 1.01)
    on = STEP[(STEP >= 30_000) & (STEP <= 60_000)]
    assert A.stuck(run) == (int(on[0]), int(on[-1]))
    assert A.stuck(fake()) is None                                        # the fake's MSE is 1 - acc: never 0.09
    three = STEP[STEP >= 30_000][:3]
    assert A.stuck(with_stuck(fake(), three[0], three[2])) == (three[0], three[2])  # 3 logged points: enough
    assert A.stuck(with_stuck(fake(), three[0], three[1])) is None                  # 2: too short
    assert A.stuck(with_stuck(fake(), 30_000, 60_000, loss=0.5)) is None  # chance accuracy, but not constant
    assert A.stuck(with_stuck(fake(), 30_000, 60_000, acc=0.5)) is None   # MSE 0.09, but it classifies


def test_seed_spread_per_seed_numbers_ranges_and_missing_seeds():
    runs = [fake(n=7000, fit=2001, seed=0, collapse=fall_at(20010)),  # ranks fall 2 log points after the rise
            with_stuck(fake(n=7000, fit=6003, seed=1), 20_000, 40_000),  # ranks never fall
            fake(n=7000, seed=5), fake(depth=4, n=7000, seed=2)]   # seed 5: not asked for; d=4: another depth
    sp = A.seed_spread(runs, 12, 7000, 0.01, seeds=(0, 1, 2))
    assert sp["seeds"] == [0, 1] and sp["missing"] == ["d12_w400_n7000_a8_wd0.01_s2"]
    assert sp["range"]["t_fit"] == [2001, 6003]
    assert sp["per_seed"][0]["stuck"] is None and sp["per_seed"][1]["stuck"] is not None and sp["n_stuck"] == 1
    assert sp["per_seed"][0]["t_fit"] == A.onsets(runs[0])["t_fit"]
    p0, p1 = sp["per_seed"][0], sp["per_seed"][1]  # claim 5's link, per seed
    assert p0["rank_descent_onsets"] == [20010] and p0["rank_lag"] == 20010 - p0["t_gen"] == 1334
    assert p0["rank_coincides"] is True  # 1334 steps is within the ±3335 tolerance
    assert p1["rank_descent_onsets"] == [] and p1["rank_lag"] is None and p1["rank_coincides"] is False
    assert sp["n_rank_coincides"] == 1 and p0["tolerance"] == 3335
    empty = A.seed_spread([], 12)
    assert empty["seeds"] == [] and len(empty["missing"]) == 3 and empty["range"]["t_fit"] is None


def test_compare_dtypes():
    r32 = fake(n=2000, stages=((30000, 0.75),), collapse=fall_at(28014))
    r64 = fake(n=2000, stages=((31000, 0.75),), collapse=fall_at(28681), dtype="float64")
    c = A.compare_dtypes([r32, r64])
    assert c["runs"] == ["d12_w400_n2000_a8_wd0.01_s0", "d12_w400_n2000_a8_wd0.01_s0_f64"]
    assert c["onset_diff"]["t_fit"] == 0 and c["onset_diff"]["rank_descent_onset"] == 667
    assert 0.3 < c["max_abs_test_acc_diff"] < 0.75 and c["phase"] == ["grokking", "grokking"]
    assert A.compare_dtypes([r32]) == {"missing": ["d12_w400_n2000_a8_wd0.01_s0_f64"]}
    assert c["keeps_behaviour"] and all(c["checks"].values())  # 1000 steps apart on a 30k onset: the same run
    late = fake(n=2000, stages=((60000, 0.75),), collapse=fall_at(58025), dtype="float64")  # generalizes 2x later
    c = A.compare_dtypes([r32, late])
    assert not c["keeps_behaviour"] and not c["checks"]["t_gen within DTYPE_ONSET"] and c["checks"]["same phase"]
    fails = fake(n=2000, stages=((30000, 0.3),), collapse=fall_at(28014), dtype="float64")  # stops at 0.4
    c = A.compare_dtypes([r32, fails])
    assert not c["keeps_behaviour"] and not c["checks"]["final test acc within DTYPE_ACC"]


def test_compare_rank_measures():
    c = A.compare_rank_measures(fake(collapse=fall_at(20010)))
    assert c["rank"]["rank_descent_onset"] == 20010
    assert c["robust_rank"]["rank_descent_onset"] == 9338  # the robust rank drops by 100 at step 10005
    assert c["onset_diff"] == 9338 - 20010


def test_tunnel_table_gives_both_counts_and_says_which_matches_the_paper():
    from grokkit import plots

    runs = [fake(depth=d, collapse=((0, 1), (100_000, 1))) for d in (4, 8, 12)]  # tunnels 1/3/6, output counted
    text = plots.tunnel_table(runs, {4: 1, 8: 3, 12: 6})
    rows = [line.split("|")[2:4] for line in text.splitlines()[2:5]]
    assert [[int(x) for x in r] for r in rows] == [[1, 0], [3, 2], [6, 5]]
    assert "counting the output layer matches the paper 3 time(s), counting hidden layers only 0 time(s)" in text


def test_seed_table_rows_and_computed_sentence():
    from grokkit import plots

    runs = [fake(n=7000, fit=2001, seed=0), with_stuck(fake(n=7000, fit=6003, seed=1), 20_000, 40_000)]
    text = plots.seed_table([A.seed_spread(runs, 12, 7000, 0.01, seeds=(0, 1, 2))])
    rows = [line.split(" | ") for line in text.splitlines()[2:4]]
    assert [r[1] for r in rows] == ["0", "1"] and [r[3] for r in rows] == ["2001", "6003"]
    lo, hi = A.stuck(runs[1])
    assert rows[1][-1] == f"{lo}–{hi} |" and rows[0][-1] == "– |"
    assert "train fit at step 2001 to 6003" in text and "a constant-predictor stretch in 1 of 2" in text
    assert "Not recorded yet: `d12_w400_n7000_a8_wd0.01_s2`" in text


def test_rank_lag_table_rows_and_computed_sentence():
    from grokkit import plots

    runs = [fake(n=2000, fit=2001, seed=0, collapse=fall_at(20010)), fake(n=2000, fit=2001, seed=1)]  # seed 1: no fall
    text = plots.rank_lag_table([A.seed_spread(runs, 12, 2000, 0.01, seeds=(0, 1, 2))])
    rows = [line.split(" | ") for line in text.splitlines()[2:4]]
    lag = 20010 - A.onsets(runs[0])["t_gen"]
    assert [r[1] for r in rows] == ["0", "1"] and [r[4] for r in rows] == ["20010", "–"]
    assert rows[0][5] == str(lag) and rows[0][-1] == "yes |" and rows[1][-1] == "no |"
    assert "within ±3335 steps of the generalization onset in 1 of 2 recorded seed(s)" in text
    assert "not recorded yet: `d12_w400_n2000_a8_wd0.01_s2`" in text
