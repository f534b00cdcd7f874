"""Events: what one run measured, computed once per run and detector setting.

    from grokkit import records, events, claims
    ev = events.events(run, claims.detector())   # a frozen Events; the same object on the next call

Every field states its unit: `*_step` and `*_steps` are optimizer steps (a point on, or a length of, the linear
step axis), `*_acc` and `*_gain` are accuracy fractions (0-1; 0.05 = 5 points), `*_decades` are log10 of a step
ratio (the paper's log step axis), `*_layers` count Linear layers, `*_frac` are plain fractions. None means the
event never happens in the run.

The paper defines none of its events numerically ("the test accuracy started to increase after the training
accuracy reaches the optimal" [DG §3, p3-3]); every detector's threshold is a field of `Detector`, whose values
and defensible ranges are declared once, in grokkit/grades.py's THRESHOLDS table (their words in grokkit/claims.toml).

Two-stage generalization is read on the **linear** step axis: a shoulder of the test accuracy that lasts a few
thousand steps at 25-45k steps (Fig 2d-f) is plain there, yet far shorter than a doubling of the step count.

One meaning per event. The test accuracy (running median of 3) has these named events, each a fixed point of one
climb, so that none jumps from one climb to another when a gain crosses a threshold:
- `climb_onset_step`, "the beginning of generalization" [DG Fig 7 text], "the test accuracy started to increase"
  [DG Fig 1a]: 10 % of the whole test climb (first logged value -> its maximum); `climb_rise_steps`: 10 % -> 90 %;
  `test_half_step`: 50 % of the same climb (so the onset never lies after the half-rise);
- `grokking_onset_step`: 10 % of the post-fit climb (value at the train fit -> its later maximum), only when that
  climb gains at least rise_min (a run that does not grok has none); `grokking_rise_steps`: 10 % -> 90 %;
- `first_surge_step` / `second_onset_step`: the two surges of a two-stage run (half the climb to the shoulder; 10 %
  of the climb after it).
Every claim says which one it reads (grokkit/claims.py).

Rank definitions (`Detector.rank_def`): "rank" is the paper's machine-precision rank, "robust_rank" counts singular
values above 1e-3 of the largest, "eff_rank" is the effective rank, and "rtol=<x>" applies relative tolerance x to
the covariance spectra a record keeps (records made since spectra are kept). Under a definition other than the
paper's, every rank threshold -- the descent's `rank_swing` x width and the tunnel's 300 -- is scaled by the ratio
of the network's mean hidden-layer rank at initialization under that definition to the same under the paper's
(`rank_scale`): the same share of where the features start. Under the paper's definition the ratio is 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .config import CONST_MSE, FULL_STEPS, FULL_WIDTH, TUNNEL_THRESHOLD, off_paper
from .fmt import field_value
from .rank import ROBUST_RTOL, paper_rtol, rank_at
from .records import Run, is_stand_in, stands_for
from .scale import clock_deviation, output_scale

# The rank definitions every record holds, in words (Detector.rank_def -> name); "rtol=<x>" reads kept spectra.
RANK_DEFS = {"rank": "paper-exact (machine precision)", "robust_rank": f"tolerance-robust ({ROBUST_RTOL:g} of the "
             "largest)", "eff_rank": "effective rank"}


@dataclass(frozen=True)
class Detector:
    """Detector thresholds (values and ranges: grokkit/grades.py THRESHOLDS)."""
    fit_acc: float          # train fit: first logged step with train accuracy >= fit_acc
    rise_min: float         # a rise / a surge / a post-fit gain counts when >= rise_min (accuracy fraction)
    shoulder_band: float    # a shoulder: test accuracy stays within this band (accuracy fraction) ...
    shoulder_steps: int     # ... for at least this many steps (linear axis)
    rank_swing: float       # a rank descent: the rank falls >= rank_swing x width below its running max
    probe_rise: float       # a layer's probe "rises" with a test rise when it gains >= probe_rise
    norm_band: float        # a weight-norm plateau: ln(norm) within norm_band ...
    norm_plateau_frac: float  # ... over >= this fraction of training (linear axis)
    tunnel_rank: float      # tunnel layer: final rank below this, at width 400 (scaled for narrower stand-ins)
    rank_def: str = "rank"  # which rank the rank events read: a RANK_DEFS key or "rtol=<x>" (module docstring)
    grok_share: float = 0.5  # "grokking" needs at least this share of the whole test climb after the fit (`phase`)


@dataclass(frozen=True)
class Events:
    """One run's measured events. Steps are logged steps of the run (train/test every 667 steps at 1e5)."""
    label: str                      # "d = 12, N = 7000, γ = 0.01, seed 1" (what the run stands for)
    depth: int
    n_train: int
    weight_decay: float
    seed: int
    stand_in: bool                  # a smoke-scale stand-in, not a full-scale record
    # accuracy
    fit_step: int | None            # first step with train accuracy >= fit_acc
    test_final_acc: float           # median of the last 3 logged test accuracies
    test_max_acc: float
    test_half_step: int | None      # first step at half the test climb (start -> its maximum); None if < rise_min
    post_fit_gain: float | None     # test accuracy gained after the fit (max after fit_step - value at it)
    post_fit_share_frac: float | None  # post_fit_gain / the whole test climb: how much of the learning is late
    grokking_delay_decades: float | None  # log10(step at 90 % of the test climb / fit_step): "time to generalize"
    climb_onset_step: int | None    # "the beginning of generalization": 10 % of the whole test climb; None if the
    #                                 climb is < rise_min
    climb_rise_steps: int | None    # the whole climb's duration, 10 % -> 90 % (steps)
    grokking_onset_step: int | None  # the start of the post-fit climb: 10 % of it; None without a fit or when it
    #                                  gains < rise_min
    grokking_rise_steps: int | None  # the post-fit climb's duration, 10 % -> 90 % (steps)
    # two stages on the linear axis
    first_surge_step: int | None    # first step at half the climb to the shoulder
    first_stage_acc: float | None   # the shoulder's level (median test accuracy on it)
    shoulder_start_step: int | None
    shoulder_steps: int | None      # its duration
    second_stage_gain: float | None  # test accuracy gained after the shoulder
    second_onset_step: int | None   # the second surge's onset: 10 % of the climb after the shoulder's end
    second_rise_steps: int | None   # that climb's duration, 10 % -> 90 % (steps)
    two_stage: bool                 # a shoulder between two rises, ending after the fit, and >= rise_min gained
    #                                 after the fit (claim 3's rule as written)
    phase: str                      # the paper's phase names (Figs 6-7), see `phase`
    stuck_steps: int                # longest stretch at a constant predictor (0 if none)
    stuck_start_step: int | None
    # rank
    rank_descent_steps: tuple       # onsets of every fall of the mean hidden-layer rank
    rank_lag_steps: int | None      # nearest rank-descent onset - climb_onset_step (< 0: the rank leads)
    rank_lag_decades: float | None  # log10(rank-descent onset / climb_onset_step)
    rank_lag_frac: float | None     # rank_lag_steps / climb_rise_steps
    double_descent_steps: tuple | None  # onsets of fall, rise, fall of the mean hidden rank, else None
    penult_lag_steps: int | None    # as rank_lag_steps, for the second-last layer's rank [DG Fig 5]
    tunnel_layers: int | None       # hidden layers whose final rank is below tunnel_rank [DG Figs 3-4]
    # weight norm and probes
    norm_kink_at_onset_frac: float | None   # relative slope change of ln(weight norm) at climb_onset_step
    norm_kink_elsewhere_frac: float | None  # the same statistic elsewhere: the median, over the logged points
    #                                         farther than two windows from the onset, of the largest change within
    #                                         one window of each (a window: 5 logging periods, 3335 steps at 1e5)
    norm_plateau_steps: int         # longest total-norm plateau inside the two-stage window (0: none / no window)
    last_layer_plateau_steps: int   # the same for the last layer's norm
    probe_layers: int               # layers probed (0: no probes in the record)
    probe_rose_layers: int          # layers whose probe gains >= probe_rise across the generalization rise
    probe_ceiling_layers: int       # layers that did not, but were already within probe_rise of their maximum
    probe_failed_layers: tuple = ()  # the other probed layers (1 = first Linear layer): neither rose nor at ceiling
    # the decay clock and the output scale (issue 42; not quantities of the paper)
    clock_dev_onset_frac: float | None = None   # largest |weight norm / decay clock - 1| from step 0 to one kink
    #                                              window after climb_onset_step (what the kink statistic reads)
    clock_dev_window_frac: float | None = None  # the same up to the top of the second surge (two-stage runs: the
    #                                              window the plateau statistic reads)
    last_clock_dev_window_frac: float | None = None  # the same for the last layer's norm and its own clock
    norm_at_onset: float | None = None          # total weight norm at climb_onset_step
    output_scale_one_step: int | None = None    # first logged step with output scale s_out <= 1
    output_scale_source: str = ""               # "recorded", "spectra" or "test loss" (`output_scale`)
    scale_lag_steps: int | None = None          # output_scale_one_step - climb_onset_step (< 0: the scale leads)


IDENTITY = ("label", "depth", "n_train", "weight_decay", "seed", "stand_in")

UNIT_OF_SUFFIX = (("_step", "step"), ("_steps", "steps"), ("_acc", "accuracy"), ("_gain", "accuracy"),
                  ("_decades", "decades"), ("_layers", "layers"), ("_frac", "fraction"))


def unit(name: str) -> str:
    """An Events field's unit from its name's suffix (module docstring): 'step' is a point on the step axis."""
    return next((u for suffix, u in UNIT_OF_SUFFIX if name.endswith(suffix)), "")


def as_dict(ev: Events) -> dict:
    """An Events as plain data: {"phase": str, "two_stage": bool, "rank_descent_steps": [...],
    "double_descent_steps": [...] or None, "probe_failed_layers": [...], "events": {name: {"value": number or None,
    "unit": str}}} -- every scalar measure under "events" with its unit."""
    out, scalars = {}, {}
    for name, v in vars(ev).items():
        if name in IDENTITY:
            continue
        if isinstance(v, (tuple, list)):
            out[name] = [int(x) for x in v]
        elif name == "double_descent_steps" or isinstance(v, (str, bool)):
            out[name] = v if v is None or isinstance(v, (str, bool)) else list(v)
        else:
            x = None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v
            scalars[name] = {"value": x, "unit": unit(name)}
    return {**out, "events": scalars}


_CACHE: dict = {}


def events(run: Run, det: Detector) -> Events:
    """The run's Events under `det`, computed once per (run, det) and cached."""
    key = (id(run), det)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is run:
        return hit[1]
    ev = _measure(run, det)
    _CACHE[key] = (run, ev)
    return ev


def tunnel_threshold(width: int, rank: float = TUNNEL_THRESHOLD) -> float:
    """The tunnel's rank threshold at `width`: "rank lower than 300" [DG Fig 3/4 captions] at width 400, the same
    share of the width for a narrower run (a smoke-scale stand-in)."""
    return rank * width / FULL_WIDTH


def run_label(run: Run) -> str:
    """'d = 12, N = 7000, γ = 0.01, seed 1' (float64 says so); what a stand-in stands for."""
    return config_label(stands_for(run))


def config_label(c) -> str:
    """The label of a RunConfig (or its identity dict): 'd = 12, N = 7000, γ = 0.01, seed 1[, float64]'."""
    c = c if isinstance(c, dict) else c.identity()
    extra = ", float64" if c["dtype"] == "float64" else ""
    extra += f", α = {c['alpha']:g}" if c.get("alpha", 8.0) != 8.0 else ""  # the paper's ×8 goes unsaid
    extra += f", {c['steps']:,} steps" if c.get("steps", FULL_STEPS) != FULL_STEPS else ""
    extra += "".join(", " + OFF_PAPER_WORDS[k].format(field_value(v)) for k, (v, _) in sorted(off_paper(c).items())
                     if k in OFF_PAPER_WORDS)
    return f"d = {c['depth']}, N = {c['n_train']}, γ = {c['weight_decay']:g}, seed {c['seed']}{extra}" + \
        intervention_words(c)


# How a label names a training field where a run is not the paper's setup (grokkit.config.off_paper): "batch 61".
# An evaluation schedule (log_every, rank_every, probe_every, probe_epochs) goes unsaid: it changes what was
# measured when, not the run; record selection (grokkit.records.seeds_of) and the exports' `run` id tell it apart.
OFF_PAPER_WORDS = {"width": "width {}", "batch_size": "batch {}", "lr": "lr {}", "n_test": "{} test images"}


def intervention_words(c: dict) -> str:
    """', norm held at its initial value' / ', norm held at 199.8' / ', rank penalty nuclear/Frobenius λ = 0.01' /
    ', rank penalty −spectral entropy λ = 0.01' (', rank pushed down, pull λ = 0.03' with the gradient scale) for an
    identity dict with interventions (issue 26); '' otherwise."""
    out = ""
    clamp = c.get("norm_clamp", "none")
    if clamp != "none":
        out += ", norm held at its initial value" if clamp == "init" else f", norm held at {clamp:g}"
    kind = c.get("rank_penalty_kind", "none")
    if kind != "none":
        if c.get("rank_penalty_scale", "loss") == "gradient":  # short: the chapter's list fits its code box
            what = {"nuclear_over_frobenius": "pushed down", "neg_spectral_entropy": "held up"}[kind]
            out += f", rank {what}, pull λ = {c['rank_penalty']:g}"
        else:
            what = {"nuclear_over_frobenius": "nuclear/Frobenius", "neg_spectral_entropy": "−spectral entropy"}[kind]
            out += f", rank penalty {what} λ = {c['rank_penalty']:g}"
    if c.get("scale_reset_step", 0):
        on = "training images" if c.get("scale_reset_on", "heldout") == "train" else "held-out images"
        out += f", output scale reset on {on} at step {c['scale_reset_step']:,}"
    if c.get("rank_cut_step", 0):
        out += f", hidden layers cut to rank {c['rank_cut_rank']} at step {c['rank_cut_step']:,}"
    return out


def hidden_mean(ranks) -> np.ndarray:
    """(snapshots,) the mean over the hidden layers of a (snapshots, layers) rank matrix: every Linear layer's features
    but the last's (the 10 outputs) [DG Fig 5's mean rank]."""
    return np.asarray(ranks, dtype=float)[:, :-1].mean(1)


def rank_matrix(run: Run, rank_def: str = "rank") -> np.ndarray:
    """(snapshots, layers) float ranks of `run` under `rank_def` (Detector.rank_def). "rtol=<x>" applies relative
    tolerance x to the kept spectra; a record without them raises ValueError naming the run."""
    h = run.history
    if rank_def in RANK_DEFS:
        return np.asarray(h[rank_def], dtype=float)
    if not rank_def.startswith("rtol="):
        raise ValueError(f"rank_def: must be one of {', '.join(RANK_DEFS)} or rtol=<number>, got {rank_def!r}")
    if "spectrum" not in h:
        raise ValueError(f"rank_def: {run.config.name} keeps no covariance spectra, so {rank_def} cannot be applied; "
                         f"use one of {', '.join(RANK_DEFS)}")
    return rank_at(h["spectrum"], float(rank_def[5:])).astype(float)


def rank_scale(run: Run, rank_def: str = "rank") -> float:
    """The ratio of the mean hidden-layer rank at the first snapshot (initialization) under `rank_def` to the same
    under the paper's rank: rank thresholds stated on the paper's rank (300 of 400, 5 % of the width) are
    multiplied by it. 1 for the paper's rank, and for a run without snapshots."""
    if rank_def == "rank" or not len(run.history["rank_step"]):
        return 1.0
    ref = hidden_mean(run.history["rank"][:1])[0]
    return float(hidden_mean(rank_matrix(run, rank_def)[:1])[0] / ref) if ref > 0 else 1.0


def tolerance_def(rtol: float) -> str:
    """The rank_def of a relative tolerance: 'rtol=1e-05'."""
    return f"rtol={rtol:g}"


PAPER_RTOL = paper_rtol(FULL_WIDTH)  # the paper's relative tolerance at width 400: 8.9e-14
# The tolerance sweep of the rank definition: from the paper's machine precision to 1e-2 of the largest value
SWEEP_RTOLS = (PAPER_RTOL, 1e-12, 1e-10, 1e-8, 1e-6, 1e-5, 1e-4, 1e-3, 3e-3, 1e-2)


def rtol_label(rtol: float) -> str:
    """'paper (8.9e-14)' for the paper's machine-precision tolerance, else '1e-06'."""
    return f"paper ({rtol:.1e})" if rtol == PAPER_RTOL else f"{rtol:g}"


def has_spectra(run: Run) -> bool:
    """Does the record keep its covariance spectra (so that any rank tolerance can be applied)?"""
    return "spectrum" in run.history


def tolerance_sweep(run: Run, det, rtols=SWEEP_RTOLS) -> list[dict]:
    """The rank events of `run` under each relative tolerance (a record that keeps spectra): per tolerance, whether
    the mean hidden-layer rank shows a double descent, the tunnel length with the threshold scaled to the rank at
    initialization (`rank_scale`, the definition the claims use) and with the paper's fixed 300, and the scale.
    `det`: a Detector (its rank_def is replaced)."""
    from dataclasses import replace

    out = []
    for rtol in rtols:
        rd = tolerance_def(rtol)
        ev = events(run, replace(det, rank_def=rd))
        final = rank_matrix(run, rd)[-1, :-1]
        out.append({"rtol": float(rtol), "double_descent": ev.double_descent_steps is not None,
                    "tunnel_scaled_layers": ev.tunnel_layers, "scale": rank_scale(run, rd),
                    "tunnel_fixed_layers": int((final < tunnel_threshold(run.config.width, det.tunnel_rank)).sum())})
    return out


# ---- small detectors -----------------------------------------------------------------------------------------
def smooth(x, k: int = 3) -> np.ndarray:
    """Running median over k logged points (ends kept): one noisy evaluation makes no rise."""
    x = np.asarray(x, dtype=float)
    out, h = x.copy(), k // 2
    if len(x) >= k > 1:
        out[h:len(x) - h] = np.median(np.lib.stride_tricks.sliding_window_view(x, k), axis=1)
    return out


def _first(step, mask):
    i = np.flatnonzero(mask)
    return int(step[i[0]]) if len(i) else None


def climb(step, a, i0: int, q: float, min_gain: float):
    """First step (index >= i0) at which `a` has made fraction q of its climb from a[i0] to its later maximum;
    None when that climb is < min_gain, or when a[i0] or every later value is NaN (a diverged run)."""
    if i0 >= len(a):
        return None
    lo, hi = a[i0], _max(a[i0:])
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi - lo < min_gain:
        return None
    i = i0 + int(np.argmax(a[i0:] >= lo + q * (hi - lo)))
    return int(step[i])


def _max(x) -> float:
    """The largest non-NaN value of x; NaN when there is none."""
    x = np.asarray(x, dtype=float)
    return float(np.nanmax(x)) if np.isfinite(x).any() else math.nan


def _running_range(x):
    """(n, n) array R with R[i, k] = max - min of x[i:i + k + 1], NaNs ignored (NaN while all are NaN); past the
    end of x the range of the whole suffix x[i:] repeats. One pass over every start i at once."""
    n = len(x)
    rows = np.lib.stride_tricks.sliding_window_view(np.concatenate([x, np.full(n, np.nan)]), n)[:n]
    return np.fmax.accumulate(rows, axis=1) - np.fmin.accumulate(rows, axis=1)


def _stretch_ends(x, band: float) -> np.ndarray:
    """(n,) int: for each start i the last index j such that x[i:j + 1] stays within `band` (its range, NaNs
    ignored, < band)."""
    n = len(x)
    with np.errstate(invalid="ignore"):
        out = _running_range(x) >= band
    return np.where(out.any(1), np.arange(n) + out.argmax(1) - 1, n - 1)


def shoulder(step, a, band: float, min_steps: int, min_gain: float):
    """The longest stretch (i, j) where `a` stays within `band`, lasts >= min_steps on the linear axis, sits
    >= min_gain above the start (a first stage) and is followed by a gain >= min_gain (a second stage). None if
    there is none; of equally long stretches the earliest."""
    step, a = np.asarray(step), np.asarray(a, dtype=float)
    n = len(a)
    if n < 2:
        return None
    ends = _stretch_ends(a, band)
    starts = np.arange(n)
    with np.errstate(invalid="ignore"):
        ok = ~(a - a[0] < min_gain) & (step[ends] - step[starts] >= min_steps) & (ends + 1 < n)
    suffix_max = np.fmax.accumulate(a[::-1])[::-1]  # suffix_max[k] = the largest non-NaN value of a[k:]
    cand = starts[ok]
    for i in cand[np.argsort(-(step[ends[cand]] - step[cand]), kind="stable")]:  # longest first, then earliest
        j = int(ends[i])
        if suffix_max[j + 1] - float(np.median(a[i:j + 1])) >= min_gain:
            return int(i), j
    return None


def swings(step, v, th: float):
    """Zig-zag segmentation of a curve into alternating falls (-1) and rises (+1) of >= th. Each: (dir, onset);
    the onset is the knee, the last snapshot before detection still within th/2.5 of the turn it starts from."""
    step, v = np.asarray(step), np.asarray(v, dtype=float)
    bd = th / 2.5
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
        elif (v[i] - v[ext]) * d > 0:
            ext = i
        elif (v[ext] - v[i]) * d >= th:
            turns.append((ext, -d, i))
            d, ext = -d, i
    out = []
    for t, dr, det in turns:
        j = det - 1
        while j > t and abs(v[j] - v[t]) > bd:
            j -= 1
        out.append((dr, int(step[j])))
    return out


def kink(step, norm, t, w: float):
    """Relative change of the slope of ln(norm) at step(s) t, slopes over w steps each side: 0 for an exponential,
    1 for a plateau's end; NaN at an end of the run."""
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


def longest_flat(step, v, band: float, min_steps: float, lo: float, hi: float) -> int:
    """Longest stretch (steps) inside [lo, hi] where v stays within band (its range < band) and which lasts
    >= min_steps; 0 if none."""
    keep = (step >= lo) & (step <= hi)
    s, v = np.asarray(step)[keep], np.asarray(v, dtype=float)[keep]
    if not len(v):
        return 0
    ends = _stretch_ends(v, band)
    dur = s[ends] - s[np.arange(len(v))]
    dur = dur[dur >= min_steps]
    return int(dur.max()) if len(dur) else 0


def stuck_stretch(step, train_loss, train_acc, points: int = 3):
    """Longest stretch (first, last step) at a constant predictor: train MSE within 3 % of CONST_MSE and train
    accuracy < 0.2 over >= 3 logged points; None if never. The α = 8 start (MSE ~1e11) never counts."""
    on = (np.abs(np.asarray(train_loss) / CONST_MSE - 1) <= 0.03) & (np.asarray(train_acc) < 0.2)
    best, i = None, 0
    while i < len(on):
        if not on[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(on) and on[j + 1]:
            j += 1
        if j - i + 1 >= points and (best is None or step[j] - step[i] > best[1] - best[0]):
            best = (int(step[i]), int(step[j]))
        i = j + 1
    return best


def phase(fit_step, two_stage: bool, post_fit_gain, test_max_acc: float, rise_min: float, gen_acc: float,
          post_fit_share: float | None = None, grok_share: float = 0.0) -> str:
    """The paper's phase names (Figs 6-7): 'no fit' (train accuracy never reaches fit_acc); 'two-stage' (a
    shoulder between two rises, the second after the fit: "a second surge after training accuracy reaches its
    optimal"); 'grokking' (>= rise_min of test accuracy gained after the fit, and at least `grok_share` of the whole
    test climb after it: a run that learns most of what it generalizes before it fits does not grok, whatever it
    adds later); 'generalize without grokking' (test accuracy reaches gen_acc); else 'fail to generalize'."""
    if fit_step is None:
        return "no fit"
    if two_stage:
        return "two-stage"
    if post_fit_gain is not None and post_fit_gain >= rise_min and (post_fit_share or 0.0) >= grok_share:
        return "grokking"
    return "generalize without grokking" if test_max_acc >= gen_acc else "fail to generalize"


GEN_ACC = 0.80  # "fail to generalize" below 80 % test accuracy: MLPs on >= 2000 MNIST images reach ~90 % [OG §4]


# ---- one run -----------------------------------------------------------------------------------------------
def _measure(run: Run, det: Detector) -> Events:
    c, h = run.config, run.history
    who = stands_for(run)
    step = np.asarray(h["step"])
    if not len(step):  # diverged or stopped before its first log: no event happens
        step, h = np.zeros(1, dtype=int), {**h, "step": [0], "test_acc": [math.nan], "train_acc": [math.nan],
                                            "train_loss": [math.nan], "weight_norm": [math.nan]}
    a = smooth(h["test_acc"])
    fit = _first(step, np.asarray(h["train_acc"]) >= det.fit_acc)
    i_fit = None if fit is None else int(np.searchsorted(step, fit))
    half = climb(step, a, 0, 0.5, det.rise_min)
    t90 = climb(step, a, 0, 0.9, det.rise_min)
    post = None if i_fit is None else _max(a[i_fit:]) - a[i_fit]
    post = None if post is None or not np.isfinite(post) else float(post)
    whole = _max(a) - a[0]
    on, end = climb(step, a, 0, 0.1, det.rise_min), t90  # the whole climb: the beginning of generalization
    grok = post is not None and post >= det.rise_min
    g_on = climb(step, a, i_fit, 0.1, det.rise_min) if grok else None  # the post-fit climb: grokking
    g_end = climb(step, a, i_fit, 0.9, det.rise_min) if grok else None
    sh = shoulder(step, a, det.shoulder_band, det.shoulder_steps, det.rise_min)
    level = None if sh is None else float(np.median(a[sh[0]:sh[1] + 1]))
    two = sh is not None and fit is not None and step[sh[1]] >= fit and grok
    on2 = None if sh is None else climb(step, a, sh[1], 0.1, det.rise_min)
    end2 = None if sh is None else climb(step, a, sh[1], 0.9, det.rise_min)
    stuck = stuck_stretch(step, h["train_loss"], h["train_acc"])
    # ranks
    width = c.width
    rstep = np.asarray(h["rank_step"])
    rank = rank_matrix(run, det.rank_def) if len(rstep) else np.zeros((0, c.depth))  # no snapshot yet
    scale = rank_scale(run, det.rank_def)  # rank thresholds under another definition (module docstring)
    hidden, penult = hidden_mean(rank), rank[:, -2]
    sw = swings(rstep, hidden, det.rank_swing * width * scale)
    downs = [s for d, s in sw if d < 0]
    pdowns = [s for d, s in swings(rstep, penult, det.rank_swing * width * scale) if d < 0]
    lag = None if on is None or not downs else min((s - on for s in downs), key=abs)
    plag = None if on is None or not pdowns else min((s - on for s in pdowns), key=abs)
    dd = next(((x[1], y[1], z[1]) for x, y, z in zip(sw, sw[1:], sw[2:]) if (x[0], y[0], z[0]) == (-1, 1, -1)), None)
    final = rank[-1, :-1] if len(rstep) else None
    # weight norm: a kink at the onset against the kinks elsewhere; plateaus inside the two-stage window
    w = 5 * c.log_period  # one paper rank interval each side (3335 steps at 1e5)
    wn = np.asarray(h["weight_norm"], dtype=float)
    k_on = k_far = None
    if on is not None:
        # one statistic on both sides: the largest kink within one window of a point, at the onset and elsewhere
        grid = step[(step % c.log_period == 0) & (step >= w) & (step <= step[-1] - w)]
        kg = kink(step, wn, grid, w)
        def peaks(ts):  # for each t, the largest kink of the grid within w of t (0 where none)
            near = np.abs(grid[:, None] - np.asarray(ts, dtype=float)[None, :]) <= w
            with np.errstate(invalid="ignore"):
                return np.nanmax(np.where(near, kg[:, None], -np.inf), axis=0, initial=0.0)
        k_on = (float(peaks([on])[0]) if np.any(np.abs(grid - on) <= w)
                else float(np.nan_to_num(kink(step, wn, [on], w)[0])))
        far = grid[np.abs(grid - on) > 2 * w]
        k_far = float(np.median(peaks(far))) if len(far) else 0.0
    flat = {"weight_norm": 0, "last_layer_norm": 0}
    hi_w = None
    if two:
        lo_w = climb(step, a, 0, 0.1, det.rise_min)
        hi_w = step[sh[1] + 1 + int(np.nanargmax(a[sh[1] + 1:]))]
        for key in flat:
            flat[key] = longest_flat(step, np.log(np.asarray(h[key], dtype=float)), det.norm_band,
                                     det.norm_plateau_frac * c.steps, lo_w, hi_w)
    share = None if post is None or not whole >= det.rise_min else float(min(post / whole, 1.0))
    # the decay clock over what the kink and plateau statistics read; the output scale reaching the targets' scale
    dev_on = None if on is None else clock_deviation(run, on + w)
    dev_win = clock_deviation(run, hi_w) if two else None
    last_win = clock_deviation(run, hi_w, "last_layer_norm") if two else None
    s_step, s_out, s_source = output_scale(run)
    one = _first(s_step, s_out <= 1)
    # probes across the generalization rise
    n_probe = rose = ceil = 0
    failed = ()
    if len(h.get("probe_step", ())) and on is not None and end is not None:
        ps, pa = np.asarray(h["probe_step"]), np.asarray(h["probe_acc"], dtype=float)
        pre = max(int(np.searchsorted(ps, on, side="right")) - 1, 0)
        aft = min(int(np.searchsorted(ps, end, side="left")), len(ps) - 1)
        gain = pa[aft] - pa[pre]
        up = gain >= det.probe_rise
        n_probe, rose = pa.shape[1], int(up.sum())
        at_ceiling = ~up & (pa[pre] >= pa.max(0) - det.probe_rise)
        ceil = int(at_ceiling.sum())
        failed = tuple(int(i) + 1 for i in np.flatnonzero(~up & ~at_ceiling))
    return Events(
        label=run_label(run), depth=who["depth"], n_train=who["n_train"], weight_decay=who["weight_decay"],
        seed=who["seed"], stand_in=is_stand_in(run),
        fit_step=fit, test_final_acc=float(np.median(np.asarray(h["test_acc"], dtype=float)[-3:])),
        test_max_acc=_max(a), test_half_step=half, post_fit_gain=post,
        post_fit_share_frac=share,
        grokking_delay_decades=None if not fit or not t90 else math.log10(t90 / fit),
        climb_onset_step=on, climb_rise_steps=None if on is None or end is None else int(end - on),
        grokking_onset_step=g_on, grokking_rise_steps=None if g_on is None or g_end is None else int(g_end - g_on),
        first_surge_step=None if sh is None else _first(step, a >= (a[0] + level) / 2),
        first_stage_acc=level, shoulder_start_step=None if sh is None else int(step[sh[0]]),
        shoulder_steps=None if sh is None else int(step[sh[1]] - step[sh[0]]),
        second_stage_gain=None if sh is None else _max(a[sh[1] + 1:]) - level, two_stage=bool(two),
        second_onset_step=on2, second_rise_steps=None if on2 is None or end2 is None else int(end2 - on2),
        phase=phase(fit, two, post, _max(a), det.rise_min, GEN_ACC, share, det.grok_share),
        stuck_steps=0 if stuck is None else stuck[1] - stuck[0], stuck_start_step=None if stuck is None else stuck[0],
        rank_descent_steps=tuple(downs), rank_lag_steps=lag,
        rank_lag_decades=None if lag is None or on <= 0 or on + lag <= 0 else math.log10((on + lag) / on),
        rank_lag_frac=None if lag is None or not end or end <= on else lag / (end - on),
        double_descent_steps=dd, penult_lag_steps=plag,
        tunnel_layers=None if final is None else int((final < tunnel_threshold(width, det.tunnel_rank) * scale).sum()),
        norm_kink_at_onset_frac=k_on, norm_kink_elsewhere_frac=k_far,
        norm_plateau_steps=flat["weight_norm"], last_layer_plateau_steps=flat["last_layer_norm"],
        probe_layers=n_probe, probe_rose_layers=rose, probe_ceiling_layers=ceil, probe_failed_layers=failed,
        clock_dev_onset_frac=dev_on, clock_dev_window_frac=dev_win, last_clock_dev_window_frac=last_win,
        norm_at_onset=None if on is None else float(wn[int(np.searchsorted(step, on))]),
        output_scale_one_step=one, output_scale_source=s_source,
        scale_lag_steps=None if one is None or on is None else int(one - on))

