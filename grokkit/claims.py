"""Claims: the paper's 15 testable claims as one declarative table, each graded over every recorded seed.

    from grokkit import records, claims
    verdicts = claims.evaluate(records.load_all())   # 15 Verdicts, robustness included

Each claim (CLAIMS) names the paper's statement and figure, the configurations (depth, N, γ) it needs, the
thresholds its rule reads (THRESHOLDS: value and defensible range, stated once), and a judge that splits the claim
into parts. The words -- each claim's title, statement, figure and rule, each part's label, each measure's label --
are data in grokkit/claims.toml (grokkit.texts); the judges here name them by key. A part is one sub-claim judged
on every recorded seed ("holds in k of n seeds") or on medians over seeds (a comparison between configurations,
k of 1). The grade follows from the parts:

Only the claim's own parts count toward its grade. A part that restates what another claim already judges (the
γ = 0.01 grokking run in the weight-decay claims 11 and 12: claims 1, 2 and 5 judge that configuration) is a
*baseline* (`Part.baseline`): it is reported beside the grade, never counted in it, so a claim whose every own
prediction fails reads "not reproduced" however well its baseline holds.

- **reproduced**: every part holds on every seed it was judged on, and no part the paper states went untested;
- **partly reproduced**: some parts, depths or seeds hold and others do not -- including "the direction is right
  but the size is not", which claims with a size threshold judge as two parts (direction, then size) -- or every
  tested part holds but a part the paper states could not be tested;
- **not reproduced**: no part holds on any seed;
- **inconclusive**: nothing to judge (a run the claim needs is not recorded, or the event it needs never happens).

A part is *untested* (n = 0) when no seed has the event it reads (a comparison whose medians are all "never", or
all zero, is untested too, not failed). Whether an untested part caps "reproduced" at "partly reproduced" depends
on what it is: a sub-claim the paper states (`Part.stated`, the default) caps it -- the paper said it and we could
not check it; a conditional part of our own reading ("the two-stage runs show ...", when no run is two-stage) is
vacuous and does not. Parts judged on a subset of seeds say which (`Part.note`), and the report repeats it.

Robustness: the grade is recomputed with each of the claim's thresholds swept over its range (SWEEP_POINTS values,
ends included), and, for a claim that reads feature ranks, under each rank definition every record holds
(grokkit.events.RANK_DEFS: paper-exact, tolerance-robust, effective rank). The verdict is *robust* when no value and
no definition changes the grade, else *fragile*, with the values that flip it (`Verdict.sweeps` lists them all).
"""
from __future__ import annotations

import numpy as np

from . import records, texts
from .config import DEPTHS
from .events import RANK_DEFS, events, rank_matrix, rank_scale
from .grades import (  # noqa: F401 -- re-exported: claims.detector() and claims.GRADES are public
    GRADES,
    INF,
    RANK_DEF,
    RANK_THRESHOLDS,
    SWEEP_POINTS,
    THRESHOLDS,
    Claim,
    Ctx,
    Item,
    Part,
    Verdict,
    compare_part,
    config_label,
    detector,
    grade_of,
    lag_signs,
    rising,
    seed_part,
)


# ---- the judges ------------------------------------------------------------------------------------------------
# A part's label is its claim's entry in claims.toml (`x.words(claim, key, ...)`, thresholds filled in at the values
# judged); a measure's label is its [measure] entry (`_m(key)`).
def _m(key: str) -> str:
    """The label of a measure a part shows (claims.toml [measure], keyed by the Events field where there is one)."""
    return texts.entry("claims", "measure", key)


def _c1(x: Ctx):
    g = [(x.label(d, 5000), x.seeds(d, 5000)) for d in DEPTHS]
    return [compare_part(x.words(1, "fit_step_grows"), g, "fit_step", "steps", rising, _m("fit_step"), INF),
            compare_part(x.words(1, "half_rise_grows"), g, "test_half_step", "steps", rising, _m("test_half_step"),
                         INF)]


def _c2(x: Ctx):
    g = [(x.label(d, 5000), x.seeds(d, 5000)) for d in DEPTHS]
    size = lambda m: lambda v: None if None in v else v[-1] - v[0] >= m  # noqa: E731
    share, delay = _m("post_fit_share_frac"), _m("grokking_delay_decades")
    return [compare_part(x.words(2, "share_grows"), g, "post_fit_share_frac", "fraction", rising, share),
            compare_part(x.words(2, "share_size"), g, "post_fit_share_frac", "fraction", size(x.share_min), share),
            compare_part(x.words(2, "delay_grows"), g, "grokking_delay_decades", "decades", rising, delay),
            compare_part(x.words(2, "delay_size"), g, "grokking_delay_decades", "decades", size(x.delay_min), delay)]


def _shoulder_end(e):
    return None if e.shoulder_start_step is None else e.shoulder_start_step + e.shoulder_steps


def _c3(x: Ctx):
    measures = [(_m("post_fit_gain"), "post_fit_gain", "accuracy"), (_m("shoulder_steps"), "shoulder_steps", "steps"),
                (_m("first_stage_acc"), "first_stage_acc", "accuracy"),
                (_m("second_stage_gain"), "second_stage_gain", "accuracy")]
    parts = [seed_part(x.words(3, "shallow_no_grokking"), x.seeds(4, 7000),
                       lambda e: None if e.fit_step is None else (not e.two_stage and e.post_fit_gain < x.rise_min),
                       measures)]
    for d in (8, 12):
        parts.append(seed_part(x.words(3, "two_surges", d=d), x.seeds(d, 7000),
                               lambda e: None if e.fit_step is None else e.two_stage, measures))
    return parts


def _c4(x: Ctx):
    every = {d: x.seeds(d, 7000) for d in (8, 12)}
    two = {d: [e for e in every[d] if e.two_stage] for d in (8, 12)}
    g = [(f"d = {d}", two[d]) for d in (8, 12)]
    later = lambda v: None if None in v else v[1] > v[0]  # noqa: E731
    lower = lambda m: lambda v: None if None in v else v[0] - v[1] >= m  # noqa: E731
    only = x.words(4, "two_stage_only", "notes",
                   counts=", ".join(f"{len(two[d])} of {len(every[d])} at d = {d}" for d in (8, 12)))
    note = "" if all(len(two[d]) == len(every[d]) for d in (8, 12)) else only
    level = _m("first_stage_acc")
    parts = [compare_part(x.words(4, "first_later"), g, "first_surge_step", "steps", later, _m("first_surge_step"),
                          note=note),
             Part(x.words(4, "second_later"), *_later_second(two), note=note),
             compare_part(x.words(4, "first_lower"), g, "first_stage_acc", "accuracy", lower(1e-12), level, note=note),
             compare_part(x.words(4, "first_lower_size"), g, "first_stage_acc", "accuracy", lower(x.signif), level,
                          note=note)]
    return parts


def _later_second(two):
    measure = _m("second_surge_step")
    items = tuple(Item(e.label, measure, _shoulder_end(e), "steps") for d in (8, 12) for e in two[d])
    if not two[8] or not two[12]:
        return 0, 0, items, ""
    m8, m12 = (float(np.median([_shoulder_end(e) for e in two[d]])) for d in (8, 12))
    return int(m12 > m8), 1, items, ""


def _lag_measures():
    return [(_m("rank_lag_steps"), "rank_lag_steps", "steps"), (_m("rank_lag_decades"), "rank_lag_decades", "decades"),
            (_m("rank_lag_frac"), "rank_lag_frac", "fraction of the rise")]


def _coincides(x: Ctx):
    return lambda e: None if e.climb_onset_step is None else (e.rank_lag_frac is not None
                                                            and abs(e.rank_lag_frac) <= x.lag_tol)


def _c5(x: Ctx):
    return [seed_part(x.words(5, "coincide", n=n), x.seeds(12, n), _coincides(x), _lag_measures(),
                      lag="rank_lag_steps")
            for n in (2000, 5000)]


def _c5_beyond(x: Ctx):
    """The rank-descent lag at the shallower depths (N = 5000), which the paper does not claim: a measured extension."""
    measure = _m("rank_lag_shallower")
    return [Item(e.label, measure, e.rank_lag_steps, "steps") for d in (4, 8) for e in x.seeds(d, 5000)]


def _c6(x: Ctx):  # never-reached onsets count as infinitely late; none reached on either side: untested
    g = [(x.label(12, n), x.seeds(12, n)) for n in (5000, 2000)]
    earlier = lambda v: None if None in v else v[0] < v[1]  # noqa: E731
    return [compare_part(x.words(6, "half_rise_earlier"), g, "test_half_step", "steps", earlier, _m("test_half_step"),
                         INF),
            compare_part(x.words(6, "onset_earlier"), g, "climb_onset_step", "steps", earlier,
                         _m("climb_onset_step"), INF)]


def _c7(x: Ctx):
    evs = x.seeds(12, 7000)

    def aligned(e):  # no double descent (part 1 counts it), no two stages or no second surge: not judged here
        if e.double_descent_steps is None or not e.two_stage or e.second_onset_step is None or \
                not e.second_rise_steps:
            return None
        return abs(e.double_descent_steps[2] - e.second_onset_step) <= x.lag_tol * e.second_rise_steps

    dd = lambda k: lambda e: None if e.double_descent_steps is None else e.double_descent_steps[k]  # noqa: E731
    return [seed_part(x.words(7, "double_descent"), evs, lambda e: e.double_descent_steps is not None,
                      [(_m("rank_rise_onset"), dd(1), "steps"), (_m("second_fall_onset"), dd(2), "steps"),
                       (_m("stuck_steps"), "stuck_steps", "steps")]),
            seed_part(x.words(7, "second_fall_aligned"), evs, aligned,
                      [(_m("second_onset_step"), "second_onset_step", "steps"),
                       (_m("second_rise_steps"), "second_rise_steps", "steps")])]


def _c8(x: Ctx):
    return [seed_part(x.words(8, "probes_rise", n=n), x.seeds(12, n),
                      lambda e: None if not e.probe_layers else e.probe_rose_layers + e.probe_ceiling_layers
                      == e.probe_layers,
                      [(_m("probe_rose_layers"), "probe_rose_layers", "layers"),
                       (_m("probe_ceiling_layers"), "probe_ceiling_layers", "layers"),
                       (_m("probe_layers"), "probe_layers", "layers"),
                       (_m("probe_failed_layers"),
                        lambda e: ", ".join(f"layer {i}" for i in e.probe_failed_layers) or "none", "")])
            for n in (2000, 5000, 7000)]


def _c9(x: Ctx):
    return [compare_part(x.words(9, "tunnel_grows", n=n), [(x.label(d, n), x.seeds(d, n)) for d in DEPTHS],
                         "tunnel_layers", "layers", rising, _m("tunnel_layers")) for n in (5000, 7000)]


def _pairs(x: Ctx, d):
    """Same seed with same seed: (run at N = 5000, run at N = 7000) for every seed recorded at both."""
    a, b = records.seeds_of(x.runs, d, 5000), records.seeds_of(x.runs, d, 7000)
    x.seeds(d, 5000), x.seeds(d, 7000)
    by_seed = {records.stands_for(r)["seed"]: r for r in b}
    return [(ra, by_seed[s]) for ra in a if (s := records.stands_for(ra)["seed"]) in by_seed]


def _pair_gaps(ra, rb, rank_def="rank"):
    """(largest relative weight-norm gap, mean second-last-layer rank gap as a share of the width) of two runs; the
    rank gap under `rank_def`, its width scaled as every rank threshold is (grokkit.events.rank_scale)."""
    ha, hb = ra.history, rb.history
    s = np.union1d(ha["step"], hb["step"])
    s = s[(s >= ra.config.log_period) & (s <= min(ha["step"][-1], hb["step"][-1]))]
    wa, wb = (np.interp(s, h["step"], h["weight_norm"]) for h in (ha, hb))
    rs = np.intersect1d(ha["rank_step"], hb["rank_step"])
    pa, pb = (np.interp(rs, r.history["rank_step"], rank_matrix(r, rank_def)[:, -2]) for r in (ra, rb))
    return (float(np.max(np.abs(wa - wb) / ((wa + wb) / 2))) if len(s) else None,
            float(np.mean(np.abs(pa - pb)) / (ra.config.width * rank_scale(ra, rank_def))) if len(rs) else None)


def _c10(x: Ctx):
    over, differ, nomark, rmark, clock = [], [], [], [], []
    norm_gap, rank_gap, kink, clock_gap, rank_lag = (_m(k) for k in ("weight_norm_gap", "penult_rank_gap",
                                                                     "norm_kink_at_onset_frac", "clock_dev_onset_frac",
                                                                     "penult_lag_steps"))
    for d in DEPTHS:
        for ra, rb in _pairs(x, d):
            lab = f"d = {d}, N = 5000 vs 7000, γ = 0.01, seed {records.stands_for(ra)['seed']}"
            wgap, rgap = _pair_gaps(ra, rb, x.rank_def)
            over.append(Item(lab, norm_gap, wgap, "fraction", wgap is not None and wgap <= x.overlap_tol))
            differ.append(Item(lab, rank_gap, rgap, "fraction of width", rgap is not None and rgap >= x.rank_differ))
    runs = [e for d in DEPTHS for n in (5000, 7000) for e in x.seeds(d, n)]
    for e in runs:
        if e.climb_onset_step is None:
            continue
        k = e.norm_kink_at_onset_frac
        mark = k is not None and k >= x.kink_min and k >= 3 * (e.norm_kink_elsewhere_frac or 0)
        nomark.append(Item(e.label, kink, k, "fraction", None if clocked(x, e.clock_dev_onset_frac) else not mark))
        clock.append(Item(e.label, clock_gap, e.clock_dev_onset_frac, "fraction"))
        ok = e.penult_lag_steps is not None and bool(e.climb_rise_steps) and \
            abs(e.penult_lag_steps) <= x.lag_tol * e.climb_rise_steps
        rmark.append(Item(e.label, rank_lag, e.penult_lag_steps, "steps", ok))

    def part(words, items, per, extra=(), signs=()):
        judged = [i for i in items if i.held is not None]
        return Part(words, sum(bool(i.held) for i in judged), len(judged), tuple(items) + tuple(extra), per,
                    by_construction=len(items) - len(judged), lag_signs=signs)
    return [part(x.words(10, "norms_overlap"), over, "pairs"),
            part(x.words(10, "no_norm_mark"), nomark, "runs", clock),
            part(x.words(10, "ranks_differ"), differ, "pairs"),
            part(x.words(10, "rank_marks"), rmark, "runs", signs=lag_signs(i.value for i in rmark))]


def clocked(x: Ctx, dev) -> bool:
    """Is a norm's course the optimizer's (within clock_tol of AdamW's decay clock, events.decay_clock)? Then a test
    of that norm cannot fail or pass on what the network learns: it holds (or fails) by construction."""
    return dev is not None and dev <= x.clock_tol


def _float64_phases(n, wds):
    """The phases of the float64 twins (the authors' dtype), beside the float32 verdict: reported, not pooled with
    the float32 seeds (a twin repeats seed 0 in another dtype, so pooling would count one seed twice)."""
    def beyond(x: Ctx):
        measure = _m("phase_float64")
        return [Item(events(r, x.det).label, measure, None, "", None, events(r, x.det).phase)
                for wd in wds for r in records.seeds_of(x.runs, 12, n, wd, "float64")]
    return beyond


# The phases the paper reports at d = 12 [DG §4, Figs 6-7]: training-set size -> weight decay -> phase
PAPER_PHASES = {2000: {0.005: "fail to generalize", 0.01: "grokking", 0.05: "two-stage"},
                5000: {0.005: "generalize without grokking", 0.01: "grokking", 0.05: "two-stage"}}


def _phases(claim, n, expect):
    """Each γ's phase on every seed; γ = 0.01 (the grokking run that claims 1, 2 and 5 judge) is the baseline."""
    def judge(x: Ctx):
        measures = [(_m("phase"), "phase", ""), (_m("post_fit_gain"), "post_fit_gain", "accuracy"),
                    (_m("post_fit_share_frac"), "post_fit_share_frac", "fraction"),
                    (_m("shoulder_steps"), "shoulder_steps", "steps"), (_m("test_max_acc"), "test_max_acc", "accuracy")]
        return [seed_part(x.words(claim, "phase", wd=wd, want=want), x.seeds(12, n, wd),
                          lambda e, w=want: e.phase == w, measures, baseline=wd == 0.01)
                for wd, want in expect.items()]
    return judge


GRID = [(12, n, wd) for n in (2000, 5000) for wd in (0.005, 0.01, 0.05)]


def _c13(x: Ctx):
    evs = [e for c in GRID for e in x.seeds(*c)]
    return [seed_part(x.words(13, "coincide"), evs, _coincides(x), _lag_measures(), "runs", lag="rank_lag_steps"),
            seed_part(x.words(13, "double_descent"), evs,
                      lambda e: (e.double_descent_steps is not None) if e.two_stage else None,
                      [(_m("shoulder_steps"), "shoulder_steps", "steps")], "runs", stated=False)]


def _c13_beyond(x: Ctx):
    """The grid's float64 twins (the authors' dtype), beside the float32 verdict, not pooled: their rank-descent lag
    as a share of the test climb, and whether a two-stage twin shows the double descent."""
    twins = [events(r, x.det) for c in GRID for r in records.seeds_of(x.runs, *c, "float64")]
    lag, dd = _m("rank_lag_frac_float64"), _m("double_descent_float64")
    return ([Item(e.label, lag, e.rank_lag_frac, "fraction of the rise") for e in twins]
            + [Item(e.label, dd, None, "", None, "yes" if e.double_descent_steps else "no")
               for e in twins if e.two_stage])


def _all_configs(runs):
    seen = sorted({(c["depth"], c["n_train"], c["weight_decay"]) for c in map(records.stands_for, runs)
                   if c["dtype"] == "float32"})
    return seen


def _c14(x: Ctx):
    evs = [e for c in _all_configs(x.runs) for e in x.seeds(*c)]  # judged on two-stage runs: only they have a window
    held = lambda attr: lambda e: getattr(e, attr) == 0 if e.two_stage else None  # noqa: E731
    shown = lambda attr: lambda e: getattr(e, attr) if e.two_stage else None  # noqa: E731
    return [seed_part(x.words(14, "total_norm_flat"), evs, held("norm_plateau_steps"),
                      [(_m("norm_plateau_steps"), shown("norm_plateau_steps"), "steps"),
                       (_m("clock_dev_window_frac"), shown("clock_dev_window_frac"), "fraction")],
                      "runs", stated=False, clocked=lambda e: clocked(x, e.clock_dev_window_frac)),
            seed_part(x.words(14, "last_norm_flat"), evs, held("last_layer_plateau_steps"),
                      [(_m("last_layer_plateau_steps"), shown("last_layer_plateau_steps"), "steps"),
                       (_m("last_clock_dev_window_frac"), shown("last_clock_dev_window_frac"), "fraction")],
                      "runs", stated=False, clocked=lambda e: clocked(x, e.last_clock_dev_window_frac))]


def _c15(x: Ctx):
    parts = []
    share_m, delay_m = _m("post_fit_share_frac"), _m("grokking_delay_decades")
    for n in (5000, 7000):
        g = [(x.label(d, n), x.seeds(d, n)) for d in DEPTHS]
        parts += [compare_part(x.words(15, "share_grows", n=n), g, "post_fit_share_frac", "fraction", rising,
                               share_m),
                  compare_part(x.words(15, "delay_grows", n=n), g, "grokking_delay_decades", "decades", rising,
                               delay_m)]
    # the claim's own configurations only (N = 5000 and 7000, γ = 0.01 at each depth): like against like
    evs = [e for d in DEPTHS for n in (5000, 7000) for e in x.seeds(d, n)]
    shallow, deep = [e for e in evs if e.depth <= 4], [e for e in evs if e.depth > 4]
    shoulder = _m("shoulder_steps")
    items = tuple(Item(e.label, shoulder, e.shoulder_steps, "steps", e.two_stage) for e in evs)
    rarer = x.words(15, "scarce")
    fs, fd = (sum(e.two_stage for e in g) / len(g) if g else None for g in (shallow, deep))
    share = ", ".join(f"{sum(e.two_stage for e in g)} of {len(g)} runs at {at}"
                      for g, at in ((shallow, "d = 4"), (deep, "d = 8 and 12")))
    two = x.words(15, "two_stage", "notes", share=share)
    if fs is None or fd is None or fs == fd == 0:  # no run to count, or no two-stage run anywhere: untested
        parts.append(Part(rarer, 0, 0, items, "counts", note=two))
    else:
        parts.append(Part(rarer, int(fs <= x.scarce_max and fs < fd), 1, items, "counts", note=two))
    c10 = _c10(x)
    nomark, rmark = c10[1], c10[3]
    norm_marks = nomark.n - nomark.k
    words = x.words(15, "rank_marks_more")
    note = x.words(15, "marks", "notes", rank_k=rmark.k, rank_n=rmark.n, norm_k=norm_marks, norm_n=nomark.n)
    if nomark.n == 0 and nomark.by_construction:  # every norm is the decay clock: the norm's side is fixed
        parts.append(Part(words, 0, 0, rmark.items + nomark.items, "counts", note=note,
                          by_construction=nomark.by_construction))
    else:
        parts.append(Part(words, int(rmark.k > norm_marks), int(rmark.n > 0), rmark.items + nomark.items, "counts",
                          note=note))
    return parts


def _claim(n, configs, thresholds, judge, beyond=None) -> Claim:
    """Claim n: its title, the paper's statement, figure and rule from claims.toml [claim.<n>]; the configurations it
    needs, the thresholds its rule reads and its judge here."""
    said = [texts.entry("claims", "claim", str(n), k) for k in ("title", "paper", "figure", "rule")]
    return Claim(n, *said[:3], configs, thresholds, said[3], judge, beyond)


CLAIMS = [
    _claim(1, tuple((d, 5000, 0.01) for d in DEPTHS), ("fit_acc", "rise_min"), _c1),
    _claim(2, tuple((d, 5000, 0.01) for d in DEPTHS), ("fit_acc", "rise_min", "share_min", "delay_min"), _c2),
    _claim(3, tuple((d, 7000, 0.01) for d in DEPTHS), ("fit_acc", "rise_min", "shoulder_band", "shoulder_steps"), _c3),
    _claim(4, ((8, 7000, 0.01), (12, 7000, 0.01)), ("rise_min", "shoulder_band", "shoulder_steps", "signif"), _c4),
    _claim(5, ((12, 2000, 0.01), (12, 5000, 0.01)), ("fit_acc", "rise_min", "rank_swing", "lag_tol"), _c5, _c5_beyond),
    _claim(6, ((12, 2000, 0.01), (12, 5000, 0.01)), ("fit_acc", "rise_min"), _c6),
    _claim(7, ((12, 7000, 0.01),),
           ("fit_acc", "rise_min", "shoulder_band", "shoulder_steps", "rank_swing", "lag_tol"), _c7),
    _claim(8, tuple((12, n, 0.01) for n in (2000, 5000, 7000)), ("fit_acc", "rise_min", "probe_rise"), _c8),
    _claim(9, tuple((d, n, 0.01) for n in (5000, 7000) for d in DEPTHS), ("tunnel_rank",), _c9),
    _claim(10, tuple((d, n, 0.01) for d in DEPTHS for n in (5000, 7000)),
           ("fit_acc", "rise_min", "rank_swing", "lag_tol", "overlap_tol", "rank_differ", "kink_min", "clock_tol"),
           _c10),
    _claim(11, tuple((12, 2000, wd) for wd in (0.005, 0.01, 0.05)),
           ("fit_acc", "rise_min", "shoulder_band", "shoulder_steps", "grok_share"),
           _phases(11, 2000, PAPER_PHASES[2000]), _float64_phases(2000, (0.005, 0.01, 0.05))),
    _claim(12, tuple((12, 5000, wd) for wd in (0.005, 0.01, 0.05)),
           ("fit_acc", "rise_min", "shoulder_band", "shoulder_steps", "grok_share"),
           _phases(12, 5000, PAPER_PHASES[5000]), _float64_phases(5000, (0.005, 0.01, 0.05))),
    _claim(13, tuple(GRID), ("fit_acc", "rise_min", "shoulder_band", "shoulder_steps", "rank_swing", "lag_tol"),
           _c13, _c13_beyond),
    _claim(14, (), ("fit_acc", "rise_min", "shoulder_band", "shoulder_steps", "norm_band", "norm_plateau_frac",
                    "clock_tol"), _c14),
    _claim(15, tuple((d, n, 0.01) for n in (5000, 7000) for d in DEPTHS),
           ("fit_acc", "rise_min", "shoulder_band", "shoulder_steps", "rank_swing", "lag_tol", "kink_min", "scarce_max",
            "clock_tol"), _c15),
]
BY_NUMBER = {c.n: c for c in CLAIMS}


# ---- evaluation ----------------------------------------------------------------------------------------------
def rule_text(claim: Claim, th: dict | None = None) -> str:
    """The claim's rule (claim.rule, its claims.toml entry) with every threshold's value filled in ("0.05", "3,000")."""
    th = th or {}
    return texts.entry("claims", "claim", str(claim.n), "rule",
                       **{k: f"{th.get(k, t.value):,g}" for k, t in THRESHOLDS.items()})


def _judge(claim: Claim, runs, th: dict):
    x = Ctx(runs, th)
    missing = [config_label(*c) for c in claim.configs if not records.seeds_of(runs, *c)]
    parts = claim.judge(x) if not missing else []
    return parts, missing, x


def rank_based(claim: Claim) -> bool:
    """Does the claim read feature ranks (then its grade is also judged under every rank definition)?"""
    return any(t in RANK_THRESHOLDS for t in claim.thresholds)


def sweep_values(name: str) -> list:
    t = THRESHOLDS[name]
    vals = np.linspace(t.lo, t.hi, SWEEP_POINTS)
    return sorted({int(round(v)) if t.unit in ("steps", "rank") else round(float(v), 4) for v in vals} | {t.value})


def judge(n: int, runs, robustness: bool = True) -> Verdict:
    """Claim n's Verdict on `runs` (every recorded seed of each configuration it needs)."""
    if n not in BY_NUMBER:
        raise ValueError(f"claim: must be 1..15, got {n!r}")
    claim = BY_NUMBER[n]
    parts, missing, x = _judge(claim, runs, {})
    g = "inconclusive" if missing else grade_of(parts)
    used = [r for rs in x.used.values() for r in rs]
    v = Verdict(claim.n, claim.title, claim.paper, claim.figure, g, rule_text(claim), parts, missing,
                seeds={config_label(*c): len(rs) for c, rs in x.used.items()},
                stand_ins=sum(not records.full_scale(r) for r in {id(r): r for r in used}.values()))
    if claim.beyond is not None and not missing:
        v.beyond = claim.beyond(x)
    if robustness and not missing:
        points = [(name, THRESHOLDS[name].words, THRESHOLDS[name].unit,
                   [(val, _judge(claim, runs, {name: val})[0]) for val in sweep_values(name)])
                  for name in claim.thresholds]
        if rank_based(claim):
            points.append((RANK_DEF, RANK_DEF, "", [(words, _judge(claim, runs, {RANK_DEF: key})[0])
                                                    for key, words in RANK_DEFS.items()]))
        sweeps = [(name, words, unit, [(val, grade_of(ps)) for val, ps in grid]) for name, words, unit, grid in points]
        v.part_sweeps = [(name, [(val, [(p.k, p.n, p.by_construction) for p in ps]) for val, ps in grid])
                         for name, _, _, grid in points]
        v.sweeps = sweeps
        v.flips = [(words, unit, grid) for _, words, unit, grid in sweeps if any(gr != g for _, gr in grid)]
        v.robust = not v.flips
    return v


def evaluate(runs, claims=range(1, 16), robustness: bool = True) -> list[Verdict]:
    return [judge(n, runs, robustness) for n in claims]
