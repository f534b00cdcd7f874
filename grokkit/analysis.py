"""Scoreboard: onset and phase detectors on run records, and one verdict per testable claim (PAPER.md §3.1).

    from grokkit import records, analysis
    runs = [records.load(p) for p in records.list_records("results")]
    print(analysis.scoreboard_markdown(analysis.evaluate_claims(runs)))

or `python -m grokkit.analysis [results_dir]`.

The paper gives no numerical definition of any of its events ("Operationalisation suggestions [INF; the paper
gives none]", PAPER §3.1), so each detector below is a small function with its thresholds as commented
literals. Verdicts come from the data: a claim is 'reproduced' or 'not reproduced' by the numbers these
detectors return, 'inconclusive' when a detector finds nothing to test (e.g. no test rise at all), and
'missing runs' (naming them) when a run it needs has no record.

Step axes. Accuracy plateaus are measured on a log-step axis over the last 3 decades of training (steps
clipped below steps/1000 = 100 at 1e5): grokking is a log-time phenomenon (Omnigrok's t ~ ln(α)/γ, and its
MNIST plots use a log x-axis), and on a linear axis the first stage and its plateau (the first few thousand
steps) would be squeezed into the first few % of training. Norm plateaus (claim 14) use the linear axis: the
decoupled decay shrinks the norm by e^{-lr·γ·t}, a linear-time clock (PAPER §3.1 "Sanity expectation").

Runs per claim (all α=8, seed 0; (depth, N, γ)): 1, 2: (4|8|12, 5000, 0.01) [Fig 2a-c, 3]. 3: (4|8|12, 7000, 0.01)
[Fig 2d-f]. 4, 14: (8|12, 7000, 0.01); 14 also every other two-stage run found. 5: (12, 2000|5000, 0.01) [Fig 1a/b:
"small |D|"]. 6: (12, 2000 vs 5000, 0.01). 7: (12, 7000, 0.01) [Fig 1c]. 8: (12, 2000|5000|7000, 0.01) [Fig 1].
9, 10, 15: (4|8|12, 5000|7000, 0.01) [Figs 3-5; Fig 5's two sizes "presumably 5000 and 7000"]. 11: (12, 2000,
0.005|0.01|0.05), 12: (12, 5000, 0.005|0.01|0.05) -- depth 12: Figs 6-7 do not state it, "likely 12" (PAPER §3),
and Fig 1a's grokking run is d=12; the grid's d=8/4 runs at N=5000 are reported beside it. 13: the six runs of 11-12.
Full-scale float32 records are preferred; float64, then smoke-scale stand-ins (meta 'stand_in', selected by
meta 'stands_for_config') are used when they are all there is, and every verdict that uses one says so.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field

import numpy as np

from .metrics import TUNNEL_THRESHOLD, tunnel_length
from .records import Run
from .sweep import PAPER_BASE

# ---- thresholds ------------------------------------------------------------------------------------------
FIT_ACC = 0.99        # t_fit: "first logged step with train accuracy ≥ 99%" (PAPER §3.1 operationalisation)
SMOOTH = 3            # test acc is median-filtered over 3 logged points first: one noisy eval makes no rise
RISE_MIN = 0.05       # a rise: test acc climbs ≥ 5 points from one level to the next ("rises ≥ 5 points")
BAND = 0.02           # plateau band and departure band: "|Δacc| < 2 points"
FLAT_RATIO = 1 / 3    # a plateau between two rises climbs ≤ 1/3 as fast (per decade) as the slower rise: a pause
PLATEAU_FRAC = 0.10   # a plateau lasts "≥ ~10% of training" -- on the log axis below (0.3 decade at 1e5: a doubling)
LOG_DECADES = 3       # the log axis spans the last 3 decades of training (steps < steps/1000 clipped to it)
PLATEAU_POINTS = 3    # ... and holds at least 3 logged points (the schedule has no point between 140 and 667)
GEN_ACC = 0.80        # a run without a post-fit rise "generalizes" if its test acc reaches 80 % (else "fails");
                      # MLPs on >= 2000 MNIST images reach ~90 %; 3-layer Omnigrok replication: 89 % at N=1000
RANK_SWING = 0.05     # rank descent: the rank drops ≥ 5 % of the layer width below its running max ("5-10%")
RANK_BAND = 0.02      # its onset: the last snapshot still within 2 % of the width of that max (the knee)
TOL_LOG_PERIODS = 5   # two events coincide if ≤ 5 log periods apart = the paper's rank interval (3335 steps at
                      # 1e5, "rank ... only when s % 3335 == 0"): the finest timing the paper could resolve
MARK_MIN = 0.4        # weight-norm mark: the slope of ln(norm) changes by ≥ 40 % of the larger slope ...
MARK_RATIO = 3.0      # ... and by ≥ 3x the median change elsewhere in the run (a plateau end gives 1.0)
NORM_BAND = 0.02      # norm plateau (claim 14): ln(norm) within 2 % over ≥ 10 % of training (linear axis)
OVERLAP_TOL = 0.10    # claim 10: two weight-norm curves "largely overlap" if they differ by ≤ 10 % everywhere
RANK_DIFFER = 0.05    # claim 10: two rank curves "differ clearly" if the mean |Δrank| ≥ 5 % of the width
PROBE_RISE = 0.02     # claim 8: a layer's probe "rises" with a test rise if it gains ≥ 2 points across it
SIGNIF = 0.05         # claim 4: "significantly lower" first-stage accuracy = ≥ 5 points lower
DELAY_MIN = 0.1       # claims 2, 15: deeper nets grok more if their grokking delay is ≥ 0.1 decade longer
CONST_MSE = 0.09      # MSE of a constant predictor on one-hot targets of 10 balanced classes: 0.1·0.9² + 0.9·0.1²
CONST_BAND = 0.03     # a stuck stretch: train MSE within 3 % of CONST_MSE and train acc < STUCK_ACC, ≥ 3 points long
STUCK_ACC = 0.2
# The dtype check (issue 3: "float32 ... must keep the paper's behaviour"). Two dtypes are two trajectories of one
# seed that drift apart like two seeds, so "keeps the behaviour" is judged on what the claims read, not bit equality:
DTYPE_ACC = 0.02      # final test accuracies within 2 points
DTYPE_ONSET = 0.25    # each onset (fit, generalization, rank descent) within 25 % of the float64 one, or within the
                      # coincidence tolerance (one paper rank interval, 3335 steps), whichever is larger
FULL_STEPS, FULL_WIDTH = 100_000, 400  # full scale: "10⁵ steps", "width (400)" [DG p2-1]
DEPTHS = (4, 8, 12)   # "d=4,8,12" [DG p3-7]


# ---- small helpers ---------------------------------------------------------------------------------------
def _py(x):
    """numpy scalars -> plain Python, for JSON-able numbers."""
    if isinstance(x, dict):
        return {k: _py(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_py(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def smooth(x, k: int = SMOOTH) -> np.ndarray:
    """Running median over k logged points (the ends kept as they are)."""
    x = np.asarray(x, dtype=float)
    out, h = x.copy(), k // 2
    if len(x) >= k > 1:
        out[h:len(x) - h] = np.median(np.lib.stride_tricks.sliding_window_view(x, k), axis=1)
    return out


def tunnel_threshold(config) -> float:
    """"rank lower than 300" [DG Fig 3/4] at width 400; a narrower stand-in keeps the same fraction (3/4)."""
    return TUNNEL_THRESHOLD * config.width / FULL_WIDTH


def tolerance(config) -> int:
    """Coincidence tolerance in steps: the paper's rank interval, 5 log periods (3335 at 1e5 steps)."""
    return TOL_LOG_PERIODS * config.log_period


def _axis(step, total: int, axis: str) -> np.ndarray:
    """Steps as a fraction of training, on a linear axis or a log axis over the last LOG_DECADES decades."""
    s = np.asarray(step, dtype=float)
    if axis == "lin":
        return s / total
    floor = max(total / 10 ** LOG_DECADES, 1.0)
    return np.log10(np.maximum(s, floor) / floor) / max(math.log10(total / floor), 1e-9)


def _first(step, mask):
    i = np.flatnonzero(mask)
    return int(step[i[0]]) if len(i) else None


def _nearest(t, candidates):
    """Signed lag (candidate - t) of the candidate closest to t, or None."""
    if t is None or not candidates:
        return None
    return int(min((c - t for c in candidates), key=abs))


def _coincide(lag, tol) -> bool:
    return lag is not None and abs(lag) <= tol


# ---- detectors -------------------------------------------------------------------------------------------
def t_fit(step, train_acc, thr: float = FIT_ACC):
    """First logged step with train accuracy ≥ 99 % (None if never)."""
    return _first(np.asarray(step), np.asarray(train_acc) >= thr)


def plateaus(step, v, total: int, band: float = BAND, frac: float = PLATEAU_FRAC, axis: str = "log"):
    """Maximal runs of logged points whose values stay within `band` (max - min < band) and that last ≥ `frac`
    of training on `axis` and ≥ PLATEAU_POINTS points; greedy from the left. [(i0, i1)] index pairs."""
    v = np.asarray(v, dtype=float)
    x = _axis(step, total, axis)
    out, i, n = [], 0, len(v)
    while i < n:
        j, lo, hi = i, v[i], v[i]
        while j + 1 < n and max(hi, v[j + 1]) - min(lo, v[j + 1]) < band:
            j += 1
            lo, hi = min(lo, v[j]), max(hi, v[j])
        if j - i + 1 >= PLATEAU_POINTS and x[j] - x[i] >= frac:
            out.append((i, j))
            i = j + 1
        else:
            i += 1
    return out


def rises(step, acc, total: int):
    """Rises of (median-smoothed) test accuracy: the accuracy levels are the start, each plateau (its median)
    and the end; a rise is a climb of ≥ RISE_MIN between two consecutive levels, so two rises are always
    separated by a plateau. A plateau that separates two rises must be a pause: on the log axis it climbs at
    most FLAT_RATIO times as fast as the slower of the two rises; otherwise it is a slow stretch of one climb
    and is dropped (an early creep of 0.13 -> 0.2 -> 0.25 over three octaves is one climb, not two stages).
    Each rise: onset (the last logged step still within BAND of the lower level, i.e. "the first step after
    which test accuracy rises"), mid (first step at half the climb), end (first step within BAND of the upper
    level), lo, hi, gain."""
    step = np.asarray(step)
    a = smooth(acc)
    x = _axis(step, total, "log")
    levels = [(0, 0, a[0])] + [(i, j, float(np.median(a[i:j + 1]))) for i, j in plateaus(step, a, total)]
    levels.append((len(a) - 1, len(a) - 1, a[-1]))
    while True:
        out = []  # (rise, index of its lower level, index of its upper level, its pace)
        for k, ((_, i1, l0), (j0, _, l1)) in enumerate(zip(levels, levels[1:])):
            if l1 - l0 < RISE_MIN or j0 <= i1:
                continue
            mid = next((m for m in range(i1 + 1, j0 + 1) if a[m] >= (l0 + l1) / 2), j0)
            m = mid
            while m - 1 > i1 and a[m - 1] > l0 + BAND:  # walk back to the knee (robust to earlier transient bumps)
                m -= 1
            end = next((e for e in range(mid, len(a)) if a[e] >= l1 - BAND), j0)
            out.append(({"onset": int(step[m - 1]), "mid": int(step[mid]), "end": int(step[end]),
                         "lo": float(l0), "hi": float(l1), "gain": float(l1 - l0)},
                        k, k + 1, (l1 - l0) / max(x[end] - x[m - 1], 1e-9)))  # its pace per log-axis unit
        drop = None
        for (_, _, up, pace1), (_, lo, _, pace2) in zip(out, out[1:]):
            i, j = levels[up][0], levels[lo][1]  # the stretch between the two rises
            if (a[j] - a[i]) / max(x[j] - x[i], 1e-9) > FLAT_RATIO * min(pace1, pace2):
                drop = (up, lo)
                break
        if drop is None:
            return [r for r, *_ in out]
        levels = levels[:drop[0]] + levels[drop[1] + 1:]


def quantile_time(step, acc, q: float):
    """First step at which smoothed test accuracy has made fraction q of its total climb (start -> peak);
    None when the climb is < RISE_MIN. t50 times "the step at which test accuracy rises"; t90 is the time to
    generalize."""
    a = smooth(acc)
    gain = a.max() - a[0]
    if gain < RISE_MIN:
        return None
    return _first(np.asarray(step), a >= a[0] + q * gain)


def swings(step, v, scale: float, swing: float = RANK_SWING, band: float = RANK_BAND):
    """Zig-zag segmentation of a curve (a rank) into alternating falls and rises of ≥ swing·scale.
    A fall is detected at the first snapshot ≥ swing·scale below the running max since the last turn; its
    onset is the knee: the last snapshot before detection still within band·scale of that max (rises alike).
    Each swing: dir (-1 fall, +1 rise), onset, turn (the extreme it starts from), detect, end (next turn), frm, to."""
    step, v = np.asarray(step), np.asarray(v, dtype=float)
    th, bd = swing * scale, band * scale
    turns, d, imax, imin, ext = [], 0, 0, 0, 0
    for i in range(1, len(v)):
        if d == 0:
            imax = i if v[i] > v[imax] else imax
            imin = i if v[i] < v[imin] else imin
            if v[i] <= v[imax] - th:
                turns.append((imax, -1, i))
                d, ext = -1, i
            elif v[i] >= v[imin] + th:
                turns.append((imin, 1, i))
                d, ext = 1, i
        elif (v[i] - v[ext]) * d > 0:  # the swing goes on: a new extreme
            ext = i
        elif (v[ext] - v[i]) * d >= th:  # reversal by ≥ th: the extreme is a turn
            turns.append((ext, -d, i))
            d, ext = -d, i
    out = []
    for k, (t, dr, det) in enumerate(turns):
        j = det - 1
        while j > t and abs(v[j] - v[t]) > bd:
            j -= 1
        end = turns[k + 1][0] if k + 1 < len(turns) else ext
        out.append({"dir": dr, "onset": int(step[j]), "turn": int(step[t]), "detect": int(step[det]),
                    "end": int(step[end]), "frm": float(v[t]), "to": float(v[end])})
    return out


def double_descent(sw):
    """Fall, rise, fall in consecutive swings: the three onsets, or None."""
    for a, b, c in zip(sw, sw[1:], sw[2:]):
        if (a["dir"], b["dir"], c["dir"]) == (-1, 1, -1):
            return [a["onset"], b["onset"], c["onset"]]
    return None


def hidden_rank(run: Run, key: str = "rank") -> np.ndarray:
    """Mean rank over the hidden layers (all 400-d Linear outputs; the 10-d output layer, the last column,
    is left out): "the feature ranks" of Fig 1, one curve."""
    return np.asarray(run.history[key], dtype=float)[:, :-1].mean(1)


def penultimate_rank(run: Run, key: str = "rank") -> np.ndarray:
    """Rank of the "second-last layer (the layer before output layer)" [DG Fig 5]: column depth-2."""
    return np.asarray(run.history[key], dtype=float)[:, -2]


def kink(step, norm, t, w: float):
    """Relative change of the slope of ln(norm) at step(s) t: |g_after - g_before| / max(|g|), slopes over w
    steps each side (clipped to the run). 0 for an exponential (straight ln), 1 for a plateau's end;
    NaN where t is at an end of the run."""
    step = np.asarray(step, dtype=float)
    ln = np.log(np.asarray(norm, dtype=float))
    t = np.asarray(t, dtype=float)
    lo, hi = np.maximum(t - w, step[0]), np.minimum(t + w, step[-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        ft = np.interp(t, step, ln)
        gb, ga = (ft - np.interp(lo, step, ln)) / (t - lo), (np.interp(hi, step, ln) - ft) / (hi - t)
        m = np.maximum(np.abs(ga), np.abs(gb))
        k = np.where(m > 0, np.abs(ga - gb) / np.where(m > 0, m, 1), 0.0)
    return np.where((t - lo > 0) & (hi - t > 0), k, np.nan)


def norm_mark(run: Run, t, key: str = "weight_norm") -> dict:
    """Does the norm show a mark (kink or plateau end) at step t? The largest kink within the coincidence
    tolerance of t, against the median kink at the regular log points elsewhere (> 2 windows from t).
    Windows: one paper rank interval (3335 steps) each side."""
    if t is None:
        return {"kink": None, "elsewhere": None, "mark": False}
    c, h = run.config, run.history
    step, norm = np.asarray(h["step"]), np.asarray(h[key])
    w, tol = tolerance(c), tolerance(c)
    near = kink(step, norm, step[np.abs(step - t) <= tol] if np.any(np.abs(step - t) <= tol) else [t], w)
    k_at = float(np.nanmax(near)) if np.any(~np.isnan(near)) else None
    far = step[(step % c.log_period == 0) & (step >= w) & (step <= step[-1] - w) & (np.abs(step - t) > 2 * w)]
    k_far = float(np.median(kink(step, norm, far, w))) if len(far) else 0.0
    mark = k_at is not None and k_at >= MARK_MIN and k_at >= MARK_RATIO * k_far
    return {"kink": k_at, "elsewhere": k_far, "mark": bool(mark)}


def phase(o: dict) -> str:
    """The paper's phase names (Figs 6-7): 'two-stage' (≥ 2 rises with a plateau between, the last after the
    fit: "a second surge after training accuracy reaches its optimal"), 'grokking' (a rise whose midpoint is
    after t_fit: "the test accuracy started to increase after the training accuracy reaches the optimal"),
    else 'generalize without grokking' if the test acc reaches GEN_ACC, else 'fail to generalize';
    'no fit' when train accuracy never reaches 99 %."""
    if o["t_fit"] is None:
        return "no fit"
    if o["two_stage"] and o["second_surge_after_fit"]:
        return "two-stage"
    if o["grok_onset"] is not None:
        return "grokking"
    return "generalize without grokking" if o["max_test_acc"] >= GEN_ACC else "fail to generalize"


def onsets(run: Run, rank_key: str = "rank") -> dict:
    """Every onset and phase number of one run (steps are logged steps; None where an event never happens)."""
    c, h = run.config, run.history
    step = np.asarray(h["step"])
    total = c.steps
    fit = t_fit(step, h["train_acc"])
    rs = rises(step, h["test_acc"], total)
    post = [r for r in rs if fit is not None and r["mid"] > fit]  # midpoint strictly after the fit: "after"
    a = smooth(h["test_acc"])
    o = {"name": c.name, "full_scale": full_scale(run), "diverged_at": run.meta.get("diverged_at"),
         "t_fit": fit, "rises": rs, "rise_onsets": [r["onset"] for r in rs],
         "test_rise": rs[0]["onset"] if rs else None,
         "plateaus": [{"start": int(step[i]), "end": int(step[j]), "level": float(np.median(a[i:j + 1]))}
                      for i, j in plateaus(step, a, total)],
         "two_stage": len(rs) >= 2,
         "first_stage_level": rs[0]["hi"] if len(rs) >= 2 else None,
         "second_surge_after_fit": len(rs) >= 2 and bool(post) and post[-1] is rs[-1],
         "grok_onset": post[0]["onset"] if post else None,
         "t50": quantile_time(step, h["test_acc"], 0.5), "t90": quantile_time(step, h["test_acc"], 0.9),
         "final_test_acc": float(a[-1]), "max_test_acc": float(a.max()),
         "test_acc_at_fit": float(a[np.searchsorted(step, fit)]) if fit is not None else None}
    o["grok_gap"] = o["grok_onset"] - fit if post else None
    o["grok_delay"] = math.log10(o["t90"] / fit) if fit and o["t90"] else None  # decades from fit to 90 % of the climb
    o["t_gen"] = o["grok_onset"] if post else o["test_rise"]  # "the beginning of generalization"
    o["phase"] = phase(o)
    tol = tolerance(c)
    o["tolerance"] = tol
    if rank_key in h and len(h[rank_key]):
        rstep = np.asarray(h["rank_step"])
        sw = swings(rstep, hidden_rank(run, rank_key), c.width)
        pw = swings(rstep, penultimate_rank(run, rank_key), c.width)
        downs = [s["onset"] for s in sw if s["dir"] < 0]
        o.update({"rank_swings": sw, "rank_descent_onsets": downs,
                  "rank_descent_onset": downs[0] if downs else None,  # first fall of the mean hidden-layer rank
                  "rank_descent_detect": next((s["detect"] for s in sw if s["dir"] < 0), None),
                  "rank_double_descent": double_descent(sw),
                  "penult_swings": pw, "penult_descent_onsets": [s["onset"] for s in pw if s["dir"] < 0],
                  "penult_double_descent": double_descent(pw)})
        o["rank_lag"] = _nearest(o["t_gen"], downs)  # rank-descent onset - test onset (< 0: the rank leads)
        o["rank_coincides"] = _coincide(o["rank_lag"], tol)
        o["rank_lag_first"] = None if o["t_gen"] is None or not downs else downs[0] - o["t_gen"]
        final = np.asarray(h[rank_key])[-1]  # the tunnel is read at the end of training (PAPER §2.2: "presumably")
        o["final_ranks"] = [int(x) for x in final]
        o["tunnel"] = tunnel_length(final, tunnel_threshold(c), include_output=True)
        o["tunnel_hidden"] = tunnel_length(final, tunnel_threshold(c), include_output=False)
    else:
        o.update({k: None for k in ("rank_swings", "rank_descent_onset", "rank_descent_detect", "rank_double_descent",
                                    "penult_swings", "penult_double_descent", "rank_lag", "rank_lag_first",
                                    "final_ranks", "tunnel", "tunnel_hidden")})
        o.update({"rank_descent_onsets": [], "penult_descent_onsets": [], "rank_coincides": False})
    m, ml = norm_mark(run, o["t_gen"]), norm_mark(run, o["t_gen"], "last_layer_norm")
    o.update({"wn_kink": m["kink"], "wn_kink_elsewhere": m["elsewhere"], "wn_mark": m["mark"],
              "last_layer_kink": ml["kink"], "last_layer_mark": ml["mark"]})
    return _py(o)


def probe_tracking(run: Run, o: dict) -> list[dict]:
    """For each test rise: which layers' linear-probe accuracy gains ≥ PROBE_RISE between the last probe
    snapshot at or before the onset and the first at or after the rise's end."""
    h = run.history
    if "probe_step" not in h or not len(h["probe_step"]):
        return []
    ps, pa = np.asarray(h["probe_step"]), np.asarray(h["probe_acc"], dtype=float)
    out = []
    for r in o["rises"]:
        pre = int(np.searchsorted(ps, r["onset"], side="right")) - 1
        post = min(int(np.searchsorted(ps, r["end"], side="left")), len(ps) - 1)
        gains = pa[post] - pa[max(pre, 0)]
        flat = np.flatnonzero(gains < PROBE_RISE)
        out.append({"onset": r["onset"], "probe_steps": [int(ps[max(pre, 0)]), int(ps[post])],
                    "layers_rose": int((gains >= PROBE_RISE).sum()), "layers": len(gains),
                    "min_gain": float(gains.min()),
                    # the layers that did not rise (1-based) and their probe accuracy before the rise
                    "flat_layers": [int(i) + 1 for i in flat], "flat_before": [float(pa[max(pre, 0)][i]) for i in flat]})
    return out


# ---- run selection ---------------------------------------------------------------------------------------
def full_scale(run: Run) -> bool:
    c = run.config
    return c.steps == FULL_STEPS and c.width == FULL_WIDTH and not run.meta.get("stand_in")


def stands_for(run: Run) -> dict:
    """The config a run stands for: a smoke-scale stand-in records it in meta['stands_for_config'] (its own
    n_train is shrunk), a record stands for itself."""
    return run.meta.get("stands_for_config") or run.config.identity()


def pick(runs, depth: int, n_train: int, weight_decay: float = 0.01, dtype: str | None = None, seed: int = 0):
    """The record for one paper config: seed 0, α=8, lr 1e-3; full scale before smoke-scale stand-ins,
    float32 before float64, finished before diverged, then the longest and widest."""
    c0 = PAPER_BASE

    def ok(c):
        return (c["depth"] == depth and c["n_train"] == n_train and c["seed"] == seed and c["alpha"] == c0.alpha
                and math.isclose(c["weight_decay"], weight_decay) and c["lr"] == c0.lr
                and (dtype is None or c["dtype"] == dtype))
    cands = [r for r in runs if ok(stands_for(r))]
    return min(cands, key=lambda r: (not full_scale(r), r.config.dtype != "float32", r.diverged, -r.config.steps,
                                     -r.config.width)) if cands else None


def run_name(depth: int, n_train: int, weight_decay: float = 0.01, dtype: str = "float32", seed: int = 0) -> str:
    return PAPER_BASE.replace(depth=depth, n_train=n_train, weight_decay=weight_decay, dtype=dtype, seed=seed).name


def _gather(runs, specs):
    got, miss = {}, []
    for sp in specs:
        r = pick(runs, *sp)
        if r is None:
            miss.append(run_name(*sp))
        else:
            got[sp] = r
    return got, miss


# ---- verdicts --------------------------------------------------------------------------------------------
CLAIMS = {  # (short title, the paper's statement condensed from PAPER §3.1)
    1: ("Depth delays fitting and generalization",
        "|D|=5000, γ=0.01: the train-fit step and the test-rise step both increase with depth 4→8→12 (Fig 2a-c)."),
    2: ("Deeper nets grok more",
        "|D|=5000: the gap between train fit and test rise grows with depth; d=4 groks least, d=12 most (Fig 3)."),
    3: ("Multi-stage generalization needs depth",
        "|D|=7000: d=4 shows no significant grokking; d=8, 12 show two test surges split by a plateau, the second "
        "after train saturation (Fig 2d-f)."),
    4: ("d=12 is slower and worse at stage one than d=8",
        "|D|=7000: both surges of d=12 come later than d=8's, and its first-stage accuracy is \"significantly lower\"."),
    5: ("Rank descent coincides with grokking onset",
        "d=12, small |D|: the test rise after train saturation coincides with a significant decrease of the "
        "feature ranks (Fig 1a/b)."),
    6: ("More data, earlier grokking", "d=12: grokking happens earlier with the larger training set (Fig 1b vs 1a)."),
    7: ("Rank double descent",
        "d=12, |D|=7000: ranks fall from step 0, rise during the first test surge, fall again during the second (Fig 1c)."),
    8: ("Probe accuracy tracks test accuracy",
        "Fig 1 runs: every rise in test accuracy coincides with a rise in linear-probe accuracy at all layers."),
    9: ("Tunnel grows with depth",
        "Layers with rank < 300: 1/3/6 at |D|=5000 and 1/5/6 at |D|=7000 for d=4/8/12 (Figs 3-4)."),
    10: ("Weight norm is no indicator; rank is",
         "Same depth, |D|=5000 vs 7000: weight norms overlap and decay smoothly with no mark at the transitions; "
         "the second-last-layer ranks differ and mark them (Fig 5)."),
    11: ("Weight-decay phases at |D|=2000",
         "γ=0.005 fails to generalize, γ=0.01 groks, γ=0.05 shows two-stage generalization (Fig 6)."),
    12: ("Weight-decay phases at |D|=5000",
         "γ=0.005 generalizes without grokking, γ=0.01 groks, γ=0.05 shows two-stage generalization (Fig 7)."),
    13: ("Rank link across the (|D|, γ) grid",
         "For all (|D|, γ): the start of generalization coincides with a rank descent; two-stage runs show a rank "
         "double descent (p4-1)."),
    14: ("No slingshot", "During multi-stage generalization there are no significant plateaus of the last-layer or "
                         "total norm (p6-2)."),
    15: ("Headline", "Deep nets are more susceptible to grokking; multi-stage generalization is scarcely seen on "
                     "shallow nets; feature rank is a better indicator than the weight norm (abstract)."),
}


@dataclass
class Verdict:
    claim: int
    title: str
    paper: str
    verdict: str  # 'reproduced' | 'not reproduced' | 'inconclusive' | 'missing runs'
    numbers: dict = field(default_factory=dict)
    detail: str = ""
    runs: list = field(default_factory=list)


def _verdict(n: int, verdict: str, numbers: dict, detail: str, used) -> Verdict:
    title, paper = CLAIMS[n]
    used = list(used)
    stand = [_label(r) for r in used if not full_scale(r)]
    if stand:  # smoke-scale stand-ins: the verdict is computed the same way but says so
        numbers["stand_in"] = stand
        detail = f"[{len(stand)} of {len(list(used))} runs are smoke-scale stand-ins, not full scale] {detail}"
    return Verdict(n, title, paper, verdict, _py(numbers), detail, [_label(r) for r in used])


def _label(run: Run) -> str:
    """The run's record name; a stand-in also names the config it stands for."""
    c = stands_for(run)
    name = run_name(c["depth"], c["n_train"], c["weight_decay"], c["dtype"], c["seed"])
    return run.config.name if name == run.config.name else f"{run.config.name} (for {name})"


def _missing(n: int, miss) -> Verdict:
    title, paper = CLAIMS[n]
    return Verdict(n, title, paper, "missing runs", {"missing": list(miss)}, f"needs {', '.join(miss)}", [])


def _increasing(xs):
    """Non-decreasing with the last strictly above the first (None = never = +inf); None if all are None."""
    if all(x is None for x in xs):
        return None
    v = [math.inf if x is None else x for x in xs]
    return all(a <= b for a, b in zip(v, v[1:])) and v[-1] > v[0]


def _fmt(x, nd=2):
    if x is None:
        return "—"
    return f"{x:.{nd}f}" if isinstance(x, float) else str(x)


def _slash(d, keys):
    return "/".join(_fmt(d[k]) for k in keys)


def _decide(ok) -> str:
    return "inconclusive" if ok is None else ("reproduced" if ok else "not reproduced")


def claim_1(runs) -> Verdict:
    got, miss = _gather(runs, [(d, 5000, 0.01) for d in DEPTHS])
    if miss:
        return _missing(1, miss)
    o = {d: onsets(got[(d, 5000, 0.01)]) for d in DEPTHS}
    fit, t50, rise = ({d: o[d][k] for d in DEPTHS} for k in ("t_fit", "t50", "test_rise"))
    a, b = _increasing([fit[d] for d in DEPTHS]), _increasing([t50[d] for d in DEPTHS])
    ok = None if a is None or b is None else a and b
    detail = (f"d=4/8/12 at N=5000: t_fit {_slash(fit, DEPTHS)}, test half-rise t50 {_slash(t50, DEPTHS)} "
              f"(first rise onset {_slash(rise, DEPTHS)}); fit delayed with depth: {a}, test rise delayed: {b}.")
    return _verdict(1, _decide(ok), {"t_fit": fit, "t50": t50, "test_rise": rise, "fit_increasing": a,
                                     "test_increasing": b}, detail, got.values())


def claim_2(runs) -> Verdict:
    got, miss = _gather(runs, [(d, 5000, 0.01) for d in DEPTHS])
    if miss:
        return _missing(2, miss)
    o = {d: onsets(got[(d, 5000, 0.01)]) for d in DEPTHS}
    delay, gap = {d: o[d]["grok_delay"] for d in DEPTHS}, {d: o[d]["grok_gap"] for d in DEPTHS}
    if any(delay[d] is None for d in DEPTHS):
        ok = None
    else:
        ok = all(delay[a] <= delay[b] for a, b in zip(DEPTHS, DEPTHS[1:])) and delay[12] - delay[4] >= DELAY_MIN
    at_fit = {d: o[d]["test_acc_at_fit"] for d in DEPTHS}  # secondary: reported, not used for the verdict
    detail = (f"grokking delay log10(t90/t_fit) for d=4/8/12 at N=5000: {_slash(delay, DEPTHS)} decades "
              f"(post-fit rise onset − t_fit: {_slash(gap, DEPTHS)} steps); grows with depth by ≥ {DELAY_MIN}: {ok}. "
              f"Secondary (not the verdict's metric): test accuracy at t_fit {_slash(at_fit, DEPTHS)}.")
    return _verdict(2, _decide(ok), {"grok_delay": delay, "grok_gap": gap, "test_acc_at_fit": at_fit,
                                     "phase": {d: o[d]["phase"] for d in DEPTHS}}, detail, got.values())


def claim_3(runs) -> Verdict:
    got, miss = _gather(runs, [(d, 7000, 0.01) for d in DEPTHS])
    if miss:
        return _missing(3, miss)
    o = {d: onsets(got[(d, 7000, 0.01)]) for d in DEPTHS}
    ph = {d: o[d]["phase"] for d in DEPTHS}
    shallow = ph[4] == "generalize without grokking"  # "no significant grokking": test rises with train
    deep = {d: ph[d] == "two-stage" for d in (8, 12)}  # two surges, a plateau, the second after the fit
    ok = shallow and all(deep.values())
    if ph[4] == "no fit" or any(ph[d] == "no fit" for d in (8, 12)):
        ok = None
    gain = {d: None if o[d]["test_acc_at_fit"] is None else o[d]["final_test_acc"] - o[d]["test_acc_at_fit"]
            for d in DEPTHS}  # secondary: how much test accuracy was still gained after the fit, surge or not
    detail = (f"N=7000 phases d=4/8/12: {ph[4]} / {ph[8]} / {ph[12]}; rise onsets "
              f"{o[4]['rise_onsets']} / {o[8]['rise_onsets']} / {o[12]['rise_onsets']}, "
              f"t_fit {_slash({d: o[d]['t_fit'] for d in DEPTHS}, DEPTHS)}. Secondary (not the verdict's metric): "
              f"test accuracy gained after t_fit {_slash(gain, DEPTHS)}.")
    return _verdict(3, _decide(ok), {"phase": ph, "rise_onsets": {d: o[d]["rise_onsets"] for d in DEPTHS},
                                     "t_fit": {d: o[d]["t_fit"] for d in DEPTHS}, "post_fit_gain": gain},
                    detail, got.values())


def claim_4(runs) -> Verdict:
    got, miss = _gather(runs, [(d, 7000, 0.01) for d in (8, 12)])
    if miss:
        return _missing(4, miss)
    o = {d: onsets(got[(d, 7000, 0.01)]) for d in (8, 12)}
    nums = {"two_stage": {d: o[d]["two_stage"] for d in (8, 12)},
            "stage_onsets": {d: o[d]["rise_onsets"][:2] for d in (8, 12)},
            "first_stage_level": {d: o[d]["first_stage_level"] for d in (8, 12)}}
    if not (o[8]["two_stage"] and o[12]["two_stage"]):
        return _verdict(4, "inconclusive", nums, f"needs two stages in both runs; two-stage d=8: {o[8]['two_stage']}, "
                                                 f"d=12: {o[12]['two_stage']} (rise onsets {o[8]['rise_onsets']} / "
                                                 f"{o[12]['rise_onsets']}).", got.values())
    (a1, a2), (b1, b2) = nums["stage_onsets"][8], nums["stage_onsets"][12]
    l8, l12 = nums["first_stage_level"][8], nums["first_stage_level"][12]
    later, lower = b1 >= a1 and b2 > a2, l12 <= l8 - SIGNIF
    nums.update({"both_later": later, "first_stage_lower": lower})
    detail = (f"N=7000 stage onsets d=8: {a1}, {a2}; d=12: {b1}, {b2} (later: {later}); first-stage level "
              f"d=8 {l8:.3f} vs d=12 {l12:.3f} (≥ {SIGNIF:.2f} lower: {lower}).")
    return _verdict(4, _decide(later and lower), nums, detail, got.values())


def claim_5(runs) -> Verdict:
    specs = [(12, 2000, 0.01), (12, 5000, 0.01)]
    got, miss = _gather(runs, specs)
    if miss:
        return _missing(5, miss)
    nums, oks, parts = {}, [], []
    for sp in specs:
        o = onsets(got[sp])
        n = sp[1]
        nums[n] = {k: o[k] for k in ("t_fit", "grok_onset", "rank_descent_onsets", "rank_lag", "rank_coincides",
                                      "penult_descent_onsets", "tolerance")}
        nums[n]["penult_lag"] = _nearest(o["grok_onset"], o["penult_descent_onsets"])
        oks.append(None if o["grok_onset"] is None else o["rank_coincides"])
        parts.append(f"N={n}: post-fit test rise at {_fmt(o['grok_onset'])} (t_fit {_fmt(o['t_fit'])}), nearest "
                     f"mean-rank descent onset lag {_fmt(o['rank_lag'])} steps (tolerance ±{o['tolerance']})")
    ok = None if None in oks else all(oks)
    return _verdict(5, _decide(ok), nums, "; ".join(parts) + ".", got.values())


def claim_6(runs) -> Verdict:
    got, miss = _gather(runs, [(12, 2000, 0.01), (12, 5000, 0.01)])
    if miss:
        return _missing(6, miss)
    o2, o5 = onsets(got[(12, 2000, 0.01)]), onsets(got[(12, 5000, 0.01)])
    t50, gen = {2000: o2["t50"], 5000: o5["t50"]}, {2000: o2["t_gen"], 5000: o5["t_gen"]}
    inf = lambda x: math.inf if x is None else x  # noqa: E731
    a = None if t50[5000] is None else inf(t50[5000]) < inf(t50[2000])
    b = None if gen[5000] is None else inf(gen[5000]) <= inf(gen[2000])
    ok = None if a is None or b is None or a != b else a
    detail = (f"d=12: test half-rise t50 {_fmt(t50[2000])} (N=2000) vs {_fmt(t50[5000])} (N=5000); generalization "
              f"onset {_fmt(gen[2000])} vs {_fmt(gen[5000])}; earlier with more data: t50 {a}, onset {b}.")
    return _verdict(6, _decide(ok), {"t50": t50, "t_gen": gen, "phase": {2000: o2["phase"], 5000: o5["phase"]}},
                    detail, got.values())


def claim_7(runs) -> Verdict:
    got, miss = _gather(runs, [(12, 7000, 0.01)])
    if miss:
        return _missing(7, miss)
    run = got[(12, 7000, 0.01)]
    o = onsets(run)
    dd, rs, tol = o["rank_double_descent"], o["rise_onsets"], o["tolerance"]
    # "start to increase at the first surge of test accuracy. Concurrent to the second stage of generalization,
    # the feature ranks experience a second-descent" [DG Fig 1c]: fall, then a rise at surge 1, a fall at surge 2.
    lag_rise = dd[1] - rs[0] if dd and rs else None
    lag = dd[2] - rs[1] if dd and len(rs) >= 2 else None
    nums = {"rank_double_descent": dd, "swings": [(s["dir"], s["onset"], round(s["frm"], 1), round(s["to"], 1))
                                                   for s in o["rank_swings"] or []],
            "rise_onsets": rs, "t_fit": o["t_fit"], "rank_rise_lag": lag_rise, "second_descent_lag": lag,
            "penult_double_descent": o["penult_double_descent"], "tolerance": tol, "stuck": stuck(run)}
    ok = bool(dd) and len(rs) >= 2 and _coincide(lag_rise, tol) and _coincide(lag, tol)
    if not dd and o["t_fit"] is None:
        ok = None  # the run never fits the training set: not the paper's regime, nothing to compare
    detail = (f"d=12, N=7000: mean hidden-rank swings (dir, onset) {[(s[0], s[1]) for s in nums['swings']]}; "
              f"double descent {dd}; test rise onsets {rs} (t_fit {_fmt(o['t_fit'])}); rank rise vs first surge lag "
              f"{_fmt(lag_rise)}, second descent vs second surge lag {_fmt(lag)} (tolerance ±{tol}"
              f"{'; one test surge only, so no second stage to align with' if len(rs) < 2 else ''})"
              + (f"; the net sits at a constant predictor (train MSE ≈ {CONST_MSE}) from step {nums['stuck'][0]} to "
                 f"{nums['stuck'][1]}." if nums["stuck"] else "."))
    return _verdict(7, _decide(ok), nums, detail, [run])


def claim_8(runs) -> Verdict:
    specs = [(12, n, 0.01) for n in (2000, 5000, 7000)]
    got, miss = _gather(runs, specs)
    if miss:
        return _missing(8, miss)
    nums, oks = {}, []
    for sp in specs:
        run = got[sp]
        tr = probe_tracking(run, onsets(run))
        nums[sp[1]] = tr
        oks += [t["layers_rose"] == t["layers"] for t in tr]
    total = sum(len(v) for v in nums.values())
    ok = None if total == 0 or not all("probe_step" in got[sp].history for sp in specs) else all(oks)

    def flat(t):
        return "" if not t["flat_layers"] else (" (flat: layer " + ", ".join(
            f"{i}, already at {a:.2f}" for i, a in zip(t["flat_layers"], t["flat_before"])) + ")")

    frac = ", ".join(f"N={n}: " + (", ".join(f"{t['layers_rose']}/{t['layers']} at {t['onset']}{flat(t)}" for t in v)
                                   or "no rise") for n, v in nums.items())
    detail = f"d=12 layers whose probe gains ≥ {PROBE_RISE:.2f} across each test rise: {frac}."
    return _verdict(8, _decide(ok), nums, detail, got.values())


def claim_9(runs) -> Verdict:
    specs = [(d, n, 0.01) for n in (5000, 7000) for d in DEPTHS]
    got, miss = _gather(runs, specs)
    if miss:
        return _missing(9, miss)
    paper = {5000: [1, 3, 6], 7000: [1, 5, 6]}
    nums, oks = {}, []
    for n in (5000, 7000):
        os_ = [onsets(got[(d, n, 0.01)]) for d in DEPTHS]
        t, th = [o["tunnel"] for o in os_], [o["tunnel_hidden"] for o in os_]
        hr = [hidden_rank(got[(d, n, 0.01)]) for d in DEPTHS]
        drop = [float(r.max() - r[-1]) for r in hr]  # "the feature ranks decrease more significantly" with depth
        nums[n] = {"tunnel": t, "tunnel_hidden_only": th, "paper": paper[n], "matches_paper": t == paper[n],
                   "mean_rank_drop": drop}
        oks.append(_increasing(t))
    ok = None if None in oks else all(oks)
    detail = (f"tunnel lengths (rank < {TUNNEL_THRESHOLD}, output layer counted) d=4/8/12: N=5000 "
              f"{nums[5000]['tunnel']} (paper 1/3/6; hidden only {nums[5000]['tunnel_hidden_only']}), N=7000 "
              f"{nums[7000]['tunnel']} (paper 1/5/6; hidden only {nums[7000]['tunnel_hidden_only']}); "
              f"grows with depth: {ok}.")
    return _verdict(9, _decide(ok), nums, detail, got.values())


def claim_10(runs) -> Verdict:
    specs = [(d, n, 0.01) for d in DEPTHS for n in (5000, 7000)]
    got, miss = _gather(runs, specs)
    if miss:
        return _missing(10, miss)
    nums, wn_ok, rk_ok = {}, [], []
    for d in DEPTHS:
        r5, r7 = got[(d, 5000, 0.01)], got[(d, 7000, 0.01)]
        o5, o7 = onsets(r5), onsets(r7)
        s = np.union1d(r5.history["step"], r7.history["step"])
        s = s[(s >= r5.config.log_period) & (s <= min(r5.history["step"][-1], r7.history["step"][-1]))]
        w5, w7 = (np.interp(s, r.history["step"], r.history["weight_norm"]) for r in (r5, r7))
        overlap = float(np.max(np.abs(w5 - w7) / ((w5 + w7) / 2))) if len(s) else None
        rs = np.intersect1d(r5.history["rank_step"], r7.history["rank_step"])
        p5, p7 = (np.interp(rs, r.history["rank_step"], penultimate_rank(r)) for r in (r5, r7))
        rdiff = float(np.mean(np.abs(p5 - p7)) / r5.config.width) if len(rs) else None
        marks, rank_marks = [], []
        for r, o in ((r5, o5), (r7, o7)):
            penult = [sw["onset"] for sw in o["penult_swings"] or []]
            for t in o["rise_onsets"]:
                marks.append(norm_mark(r, t)["mark"])
                rank_marks.append(_coincide(_nearest(t, penult), o["tolerance"]))
        nums[d] = {"wn_max_rel_diff": overlap, "wn_marks": marks, "penult_mean_abs_diff": rdiff,
                   "penult_marks": rank_marks}
        decays = all(r.history["weight_norm"][-1] < r.history["weight_norm"][0] for r in (r5, r7))
        nums[d]["wn_decays"] = decays
        wn_ok.append(overlap is not None and overlap <= OVERLAP_TOL and decays and not any(marks))
        rk_ok.append(rdiff is not None and rdiff >= RANK_DIFFER and bool(rank_marks) and all(rank_marks))
    ok = all(wn_ok) and all(rk_ok)
    if not any(nums[d]["penult_marks"] for d in DEPTHS):
        ok = None  # no test rise in any run: no transition to mark
    detail = "; ".join(
        f"d={d}: weight norms differ ≤ {_fmt(nums[d]['wn_max_rel_diff'])}, marks at rises {sum(nums[d]['wn_marks'])}/"
        f"{len(nums[d]['wn_marks'])}; penultimate ranks differ {_fmt(nums[d]['penult_mean_abs_diff'])} of width, "
        f"mark {sum(nums[d]['penult_marks'])}/{len(nums[d]['penult_marks'])}" for d in DEPTHS)
    nums.update({"weight_norm_half": all(wn_ok), "rank_half": all(rk_ok)})
    return _verdict(10, _decide(ok), nums, detail + ".", got.values())


def _phases(n_claim: int, runs, n_train: int, expect: dict) -> Verdict:
    specs = [(12, n_train, wd) for wd in expect]
    got, miss = _gather(runs, specs)
    if miss:
        return _missing(n_claim, miss)
    ph = {wd: onsets(got[(12, n_train, wd)])["phase"] for wd in expect}
    match = {wd: ph[wd] == expect[wd] for wd in expect}
    others = {f"d{d}_wd{wd:g}": onsets(r)["phase"] for d in (8, 4) for wd in expect
              if (r := pick(runs, d, n_train, wd)) is not None}  # other depths, reported only
    detail = (f"d=12, N={n_train}: " + ", ".join(f"γ={wd:g} {ph[wd]} (paper: {expect[wd]})" for wd in expect) +
              (f"; other depths: {others}" if others else "") + ".")
    ok = None if "no fit" in ph.values() and not all(match.values()) else all(match.values())
    return _verdict(n_claim, _decide(ok), {"phase": ph, "expected": expect, "match": match, "other_depths": others},
                    detail, got.values())


def claim_11(runs) -> Verdict:
    # Depth 12: Fig 6's depth is not stated; "likely 12" (PAPER §3), as for Fig 1a (d=12, small |D|).
    return _phases(11, runs, 2000, {0.005: "fail to generalize", 0.01: "grokking", 0.05: "two-stage"})


def claim_12(runs) -> Verdict:
    # Depth 12 as for claim 11; the grid's d=8 and d=4 runs at N=5000 are reported beside it.
    return _phases(12, runs, 5000, {0.005: "generalize without grokking", 0.01: "grokking", 0.05: "two-stage"})


def claim_13(runs) -> Verdict:
    specs = [(12, n, wd) for n in (2000, 5000) for wd in (0.005, 0.01, 0.05)]
    got, miss = _gather(runs, specs)
    if miss:
        return _missing(13, miss)
    nums, oks = {}, []
    for sp in specs:
        o = onsets(got[sp])
        key = f"n{sp[1]}_wd{sp[2]:g}"
        nums[key] = {"phase": o["phase"], "t_gen": o["t_gen"], "rank_lag": o["rank_lag"],
                     "coincides": o["rank_coincides"], "double_descent": o["rank_double_descent"]}
        if o["t_gen"] is not None:  # runs without any test rise have no "beginning of generalization"
            oks.append(o["rank_coincides"])
        if o["phase"] == "two-stage":
            oks.append(o["rank_double_descent"] is not None)
    ok = all(oks) if oks else None
    dd = lambda v: f", double descent {v['double_descent'] is not None}" if v["phase"] == "two-stage" else ""  # noqa: E731
    detail = "d=12: " + "; ".join(f"{k} {v['phase']}, onset {_fmt(v['t_gen'])}, rank lag {_fmt(v['rank_lag'])}{dd(v)}"
                                  for k, v in nums.items()) + f" (tolerance ±{tolerance(got[specs[0]].config)})."
    return _verdict(13, _decide(ok), nums, detail, got.values())


def claim_14(runs) -> Verdict:
    got, miss = _gather(runs, [(8, 7000, 0.01), (12, 7000, 0.01)])
    if miss:
        return _missing(14, miss)
    kind = full_scale(got[(12, 7000, 0.01)])
    cands = {_label(r): r for r in runs if stands_for(r)["seed"] == 0 and full_scale(r) == kind}
    cands.update({_label(r): r for r in got.values()})
    nums, used = {}, []
    for name, r in sorted(cands.items()):
        o = onsets(r)
        if not o["two_stage"]:
            continue
        lo, hi = o["rises"][0]["onset"], o["rises"][-1]["end"]  # the multi-stage window
        step = np.asarray(r.history["step"])
        found = {}
        for key in ("weight_norm", "last_layer_norm"):
            ps = plateaus(step, np.log(r.history[key]), r.config.steps, band=NORM_BAND, axis="lin")
            found[key] = [(int(step[i]), int(step[j])) for i, j in ps if step[j] >= lo and step[i] <= hi]
        nums[name] = {"window": [lo, hi], "plateaus": found}
        used.append(r)
    if not used:
        return _verdict(14, "inconclusive", {}, "no two-stage run to test (none of the runs has two test surges).",
                        got.values())
    ok = not any(v["plateaus"][k] for v in nums.values() for k in v["plateaus"])
    detail = "norm plateaus (≥ 10 % of training within ±2 %) during the two-stage window: " + "; ".join(
        f"{n}: total {v['plateaus']['weight_norm'] or 'none'}, last layer {v['plateaus']['last_layer_norm'] or 'none'}"
        for n, v in nums.items()) + "."
    return _verdict(14, _decide(ok), nums, detail, used)


def claim_15(runs) -> Verdict:
    specs = [(d, n, 0.01) for n in (5000, 7000) for d in DEPTHS]
    got, miss = _gather(runs, specs)
    if miss:
        return _missing(15, miss)
    o = {sp: onsets(got[sp]) for sp in specs}
    delay = {n: {d: o[(d, n, 0.01)]["grok_delay"] for d in DEPTHS} for n in (5000, 7000)}
    a = None if any(delay[n][d] is None for n in delay for d in (4, 12)) else \
        all(delay[n][12] - delay[n][4] >= DELAY_MIN for n in delay)
    kind = full_scale(got[specs[0]])
    pool = {_label(r): r for r in runs if full_scale(r) == kind and stands_for(r)["seed"] == 0}
    pool.update({_label(r): r for r in got.values()})
    two = {k: onsets(r)["phase"] == "two-stage" for k, r in pool.items()}
    # decided on the six default-γ runs the paper compares depths on (Fig 2); other runs are reported only
    six = {_label(got[sp]) for sp in specs}
    shallow = sorted(k for k in six if two[k] and stands_for(pool[k])["depth"] == 4)
    deep = sorted(k for k in six if two[k] and stands_for(pool[k])["depth"] > 4)
    b = not shallow and bool(deep)
    other_shallow = sorted(k for k in two if k not in six and two[k] and stands_for(pool[k])["depth"] == 4)
    rank_hits = wn_hits = n_on = 0
    for sp in specs:
        penult = [s["onset"] for s in o[sp]["penult_swings"] or []]
        for t in o[sp]["rise_onsets"]:
            n_on += 1
            rank_hits += _coincide(_nearest(t, penult), o[sp]["tolerance"])
            wn_hits += norm_mark(got[sp], t)["mark"]
    c = None if n_on == 0 else rank_hits > wn_hits
    ok = None if a is None or c is None else a and b and c
    nums = {"grok_delay": delay, "deeper_groks_more": a, "two_stage_shallow": shallow, "two_stage_deep": deep,
            "multistage_needs_depth": b, "two_stage_shallow_other_runs": other_shallow, "transitions": n_on,
            "marked_by_rank": rank_hits, "marked_by_weight_norm": wn_hits, "rank_better": c}
    detail = (f"grokking delay d=4 vs 12: N=5000 {_fmt(delay[5000][4])} vs {_fmt(delay[5000][12])}, N=7000 "
              f"{_fmt(delay[7000][4])} vs {_fmt(delay[7000][12])} decades; two-stage runs d=4: {shallow or 'none'}, "
              f"deeper: {deep or 'none'}; of {n_on} test rises, {rank_hits} marked by the penultimate rank and "
              f"{wn_hits} by the weight norm.")
    return _verdict(15, _decide(ok), nums, detail, got.values())


CLAIM_FUNCS = {i: globals()[f"claim_{i}"] for i in range(1, 16)}


def claim(n: int, runs) -> Verdict:
    if n not in CLAIM_FUNCS:
        raise ValueError(f"claim: must be 1..15, got {n!r}")
    return CLAIM_FUNCS[n](runs)


def evaluate_claims(runs) -> list[Verdict]:
    return [claim(n, runs) for n in range(1, 16)]


def scoreboard_markdown(verdicts) -> str:
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| # | claim | paper | ours | verdict |", "|---|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| {v.claim} | {esc(v.title)} | {esc(v.paper)} | {esc(v.detail)} | **{v.verdict}** |")
    return "\n".join(lines) + "\n"


# ---- robustness checks -----------------------------------------------------------------------------------
def stuck(run: Run):
    """The longest stretch (first, last logged step) where the network is a constant predictor: train MSE within
    CONST_BAND of CONST_MSE and train accuracy < STUCK_ACC, for ≥ PLATEAU_POINTS logged points; None if never.
    Longest in steps, not logged points (the schedule is log-spaced early on). The α=8 start is far from it: its
    MSE is ~1e11, so chance accuracy alone does not count."""
    h = run.history
    step = np.asarray(h["step"])
    on = (np.abs(np.asarray(h["train_loss"]) / CONST_MSE - 1) <= CONST_BAND) & (np.asarray(h["train_acc"]) < STUCK_ACC)
    best, i = None, 0
    while i < len(on):
        if not on[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(on) and on[j + 1]:
            j += 1
        if j - i + 1 >= PLATEAU_POINTS and (best is None or step[j] - step[i] > best[1] - best[0]):
            best = (int(step[i]), int(step[j]))
        i = j + 1
    return best


def seed_spread(runs, depth: int, n_train: int = 7000, weight_decay: float = 0.01, seeds=(0, 1, 2)) -> dict:
    """How much of one config's story is its seed: per seed, the phase, onsets, final accuracy, tunnel, the
    constant-predictor stretch (`stuck`) and claim 5's link (rank-descent lag to the generalization onset, and
    whether it is within the tolerance), plus the range of each number over the seeds that are recorded."""
    per, miss = {}, []
    for sd in seeds:
        r = pick(runs, depth, n_train, weight_decay, seed=sd)
        if r is None:
            miss.append(run_name(depth, n_train, weight_decay, seed=sd))
            continue
        o = onsets(r)
        per[sd] = {k: o[k] for k in ("phase", "t_fit", "t_gen", "t50", "final_test_acc", "rank_descent_onset",
                                     "tunnel_hidden", "rank_descent_onsets", "rank_lag", "rank_coincides", "tolerance")}
        per[sd]["stuck"] = stuck(r)
        per[sd]["stand_in"] = bool(r.meta.get("stand_in"))
    spread = {}
    for k in ("t_fit", "t_gen", "t50", "final_test_acc", "rank_descent_onset", "tunnel_hidden"):
        vals = [v[k] for v in per.values() if v[k] is not None]
        spread[k] = (min(vals), max(vals)) if vals else None
    return _py({"depth": depth, "n_train": n_train, "weight_decay": weight_decay, "seeds": sorted(per),
                "per_seed": per, "missing": miss, "range": spread,
                "phases": sorted({v["phase"] for v in per.values()}),
                "n_stuck": sum(v["stuck"] is not None for v in per.values()),
                "n_rank_coincides": sum(bool(v["rank_coincides"]) for v in per.values())})


def compare_dtypes(runs, depth: int = 12, n_train: int = 2000, weight_decay: float = 0.01) -> dict:
    """float32 vs float64 of one config (the grid's dtype check: d=12, N=2000, γ=0.01): max |Δ test acc| on the
    common logged steps, onset differences (f64 - f32), rank-curve differences, and keeps_behaviour: every check
    (same phase and tunnel, final accuracy within DTYPE_ACC, onsets within DTYPE_ONSET) passes."""
    r32, r64 = (pick(runs, depth, n_train, weight_decay, dtype=dt) for dt in ("float32", "float64"))
    if r32 is None or r64 is None:
        return {"missing": [run_name(depth, n_train, weight_decay, dt) for dt, r in (("float32", r32), ("float64", r64))
                            if r is None]}
    h32, h64 = r32.history, r64.history
    s, i32, i64 = np.intersect1d(h32["step"], h64["step"], return_indices=True)
    dacc = np.abs(np.asarray(h32["test_acc"])[i32] - np.asarray(h64["test_acc"])[i64])
    o32, o64 = onsets(r32), onsets(r64)
    keys = ("t_fit", "test_rise", "grok_onset", "t50", "t90", "rank_descent_onset")
    diff = {k: None if o32[k] is None or o64[k] is None else o64[k] - o32[k] for k in keys}
    rs, j32, j64 = np.intersect1d(h32["rank_step"], h64["rank_step"], return_indices=True)
    dr = np.abs(np.asarray(h32["rank"], dtype=float)[j32] - np.asarray(h64["rank"], dtype=float)[j64])
    checks = {"same phase": o32["phase"] == o64["phase"],
              "final test acc within DTYPE_ACC": abs(o32["final_test_acc"] - o64["final_test_acc"]) <= DTYPE_ACC,
              "same tunnel": o32["tunnel"] == o64["tunnel"]}
    for k in ("t_fit", "t_gen", "rank_descent_onset"):
        a, b = o32[k], o64[k]
        checks[f"{k} within DTYPE_ONSET"] = (a is None) == (b is None) and (
            a is None or abs(a - b) <= max(DTYPE_ONSET * b, tolerance(r64.config)))
    return _py({"runs": [_label(r32), _label(r64)],
                "keeps_behaviour": all(checks.values()), "checks": checks,
                "max_abs_test_acc_diff": float(dacc.max()) if len(dacc) else None,
                "at_step": int(s[dacc.argmax()]) if len(dacc) else None,
                "final_test_acc": [o32["final_test_acc"], o64["final_test_acc"]],
                "onsets_f32": {k: o32[k] for k in keys}, "onsets_f64": {k: o64[k] for k in keys}, "onset_diff": diff,
                "phase": [o32["phase"], o64["phase"]],
                "max_abs_rank_diff": float(dr.max()) if dr.size else None,
                "mean_abs_hidden_rank_diff": float(np.mean(np.abs(hidden_rank(r32)[j32] - hidden_rank(r64)[j64])))
                if len(rs) else None,
                "tunnel": [o32["tunnel"], o64["tunnel"]]})


def compare_rank_measures(run: Run) -> dict:
    """Paper-exact rank (float64 machine-eps tolerance) vs the tolerance-robust rank (rtol 1e-3): descent
    onsets of the mean hidden-layer rank, lag to the test onset, double descent, tunnel length at the end."""
    out = {}
    for key in ("rank", "robust_rank"):
        o = onsets(run, rank_key=key)
        out[key] = {k: o[k] for k in ("rank_descent_onset", "rank_descent_onsets", "rank_lag", "rank_coincides",
                                      "rank_double_descent", "tunnel", "tunnel_hidden", "final_ranks")}
    a, b = out["rank"]["rank_descent_onset"], out["robust_rank"]["rank_descent_onset"]
    out["onset_diff"] = None if a is None or b is None else b - a
    out["t_gen"] = onsets(run)["t_gen"]
    return _py(out)


def main(argv=None) -> int:
    from .records import RecordError, list_records, load

    d = (argv or sys.argv[1:] or ["results"])[0]
    runs = []
    for p in list_records(d):
        try:
            runs.append(load(p))
        except RecordError as e:
            print(f"grokkit: skipping {e}", file=sys.stderr)
    print(f"{len(runs)} record(s) in {d}\n")
    print(scoreboard_markdown(evaluate_claims(runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
