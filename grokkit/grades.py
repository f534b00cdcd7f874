"""The grading machinery of the claims (grokkit.claims): the four grades, every threshold with its defensible range
(THRESHOLDS), the event detector they set, what a judge returns (Item, Part, Claim, Verdict, grade_of) and what it
reads (Ctx: every recorded seed of a configuration, and the helpers that turn seeds into parts). The rules
themselves are in grokkit.claims' docstring."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import records, texts
from .config import TUNNEL_THRESHOLD
from .events import Detector, Events, events

GRADES = ("reproduced", "partly reproduced", "not reproduced", "inconclusive")
SWEEP_POINTS = 5


@dataclass(frozen=True)
class Threshold:
    value: float   # the default
    lo: float      # the defensible range, swept by the robustness check
    hi: float
    unit: str      # "accuracy", "steps", "fraction of width", ...
    words: str     # what it is, for the rule in words (claims.toml [threshold])


# Every threshold: its default value, its defensible range (lo, hi) and its unit; what it is, in words, is claims.toml's
# [threshold] entry of the same name. The paper defines none of them numerically; the ranges are the spread of
# reasonable readings of its words (§3, Figs 1-7).
_RANGES = {  # name: (default value, lo, hi, unit)
    "fit_acc": (0.99, 0.97, 0.995, "accuracy"),
    "rise_min": (0.05, 0.03, 0.10, "accuracy"),
    "shoulder_band": (0.02, 0.01, 0.03, "accuracy"),
    "shoulder_steps": (3000, 2000, 6000, "steps"),
    "rank_swing": (0.05, 0.05, 0.10, "fraction of width"),
    "probe_rise": (0.02, 0.01, 0.05, "accuracy"),
    "norm_band": (0.02, 0.01, 0.05, "fraction"),
    "norm_plateau_frac": (0.10, 0.05, 0.20, "fraction"),
    "tunnel_rank": (TUNNEL_THRESHOLD, 250, 350, "rank"),
    "lag_tol": (0.5, 0.25, 1.0, "fraction of the rise"),
    "share_min": (0.10, 0.05, 0.20, "fraction"),
    "delay_min": (0.10, 0.05, 0.20, "decades"),
    "signif": (0.05, 0.03, 0.10, "accuracy"),
    "overlap_tol": (0.10, 0.05, 0.20, "fraction"),
    "rank_differ": (0.05, 0.03, 0.10, "fraction of width"),
    "kink_min": (0.4, 0.3, 0.6, "fraction"),
    "scarce_max": (0.2, 0.1, 0.3, "fraction"),
    "grok_share": (0.5, 0.3, 0.7, "fraction"),
    "clock_tol": (0.02, 0.01, 0.05, "fraction"),
}
THRESHOLDS = {name: Threshold(*r, texts.entry("claims", "threshold", name)) for name, r in _RANGES.items()}
RANK_THRESHOLDS = ("rank_swing", "tunnel_rank", "rank_differ")  # a claim reading any of them reads feature ranks
RANK_DEF = "rank definition"  # the name of the rank-definition sweep in Verdict.sweeps
DETECTOR = ("fit_acc", "rise_min", "shoulder_band", "shoulder_steps", "rank_swing", "probe_rise", "norm_band",
            "norm_plateau_frac", "tunnel_rank", "grok_share")


def detector(th: dict | None = None) -> Detector:
    """The Detector of the thresholds `th` (name -> value; default: every THRESHOLDS value; RANK_DEF -> a rank
    definition, default the paper's)."""
    th = th or {}
    return Detector(**{k: th.get(k, THRESHOLDS[k].value) for k in DETECTOR}, rank_def=th.get(RANK_DEF, "rank"))


# ---- what a judge returns ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    """One measured value behind a part: for a run (seed) or a configuration's median."""
    label: str                 # "d = 12, N = 7000, γ = 0.01, seed 1" or a configuration / pair label
    measure: str               # "train-fit step"
    value: float | None
    unit: str                  # "steps", "accuracy", "decades", "layers", "fraction", ...
    held: bool | None = None   # for a per-seed part: does the sub-claim hold on this seed
    text: str = ""             # a word instead of a number (a phase name)


@dataclass(frozen=True)
class Part:
    """One sub-claim: it holds on k of the n seeds, runs or comparisons it was judged on (n = 0: undecided)."""
    words: str
    k: int
    n: int
    items: tuple = ()
    per: str = "seeds"         # what n counts: "seeds", "runs", "pairs"; "" for a comparison of medians over seeds,
    #                            "counts" for a comparison of counts (or shares) of runs
    stated: bool = True        # a sub-claim the paper states (untested, it caps the grade); False: a conditional
    #                            part of our reading, vacuous when no run has its condition
    note: str = ""             # which seeds it was judged on, when a subset ("the two-stage seeds only: ...")
    baseline: bool = False     # restates what another claim judges: reported, never counted in the grade
    by_construction: int = 0   # runs (seeds) left out of k and n because the optimizer fixes the outcome there
    #                            (`clocked`); a part with n = 0 and by_construction > 0 is decided by construction
    #                            on every run: reported, never counted in the grade, and it caps nothing
    lag_signs: tuple = ()      # (after, same step, before): on how many runs the later event of a timed part
    #                            (the rank's fall, ...) comes after, at, or before the start of the test climb

    @property
    def counted(self) -> bool:
        """Does the part count toward its claim's grade (not a baseline, not decided by construction)?"""
        return not self.baseline and not (self.n == 0 and self.by_construction)


@dataclass(frozen=True)
class Claim:
    n: int
    title: str
    paper: str                 # the paper's statement, condensed
    figure: str                # where the paper shows it
    configs: tuple             # (depth, N, γ) configurations it needs
    thresholds: tuple          # the THRESHOLDS its rule reads
    rule: str                  # the rule in words; {name} is replaced by the threshold's value
    judge: Callable
    beyond: Callable | None = None  # Ctx -> [Item]: measured beside the claim (an extension, or float64 twins):
    #                                 reported, never graded


@dataclass
class Verdict:
    claim: int
    title: str
    paper: str
    figure: str
    grade: str
    rule: str                  # with the threshold values filled in
    parts: list
    missing: list              # labels of configurations without any record
    robust: bool = True
    flips: list = field(default_factory=list)  # (threshold words, unit, [(value, grade)]) where the grade changes
    sweeps: list = field(default_factory=list)  # (name, words, unit, [(value, grade)]) for every swept threshold and
    #                                             the rank definition (value: its words), flipping or not
    beyond: list = field(default_factory=list)  # Items measured beyond the paper's claim (not graded)
    part_sweeps: list = field(default_factory=list)  # (name, [(value, [(k, n, by_construction) per part])]) for
    #                                                  every sweep of `sweeps`: each part's own robustness
    seeds: dict = field(default_factory=dict)  # configuration label -> number of seeds used
    stand_ins: int = 0         # how many of the runs used are smoke-scale stand-ins

    @property
    def measures(self) -> dict:
        """name -> {"unit": str, "values": {run label: number}} over every part's items."""
        out = {}
        for p in self.parts:
            for it in p.items:
                if it.value is not None and not (isinstance(it.value, float) and math.isnan(it.value)):
                    m = out.setdefault(it.measure, {"unit": it.unit, "values": {}})
                    m["values"][it.label] = float(it.value)
        return out


PART_STATUSES = ("held", "some", "failed", "untested")  # a counted part on every / some / none of its seeds; no run


def part_status(p: Part) -> str:
    """How a counted Part came out (PART_STATUSES): "held" on all of its n seeds, runs or pairs, "some" on 0 < k < n,
    "failed" on none, "untested" with nothing to judge (n = 0). The opening page's figure counts these per claim."""
    if p.n == 0:
        return "untested"
    return "held" if p.k == p.n else "failed" if p.k == 0 else "some"


def grade_of(parts) -> str:
    """The grade of a list of Parts (module docstring): an untested part the paper states caps "reproduced";
    baseline parts and parts decided by construction do not count."""
    parts = [p for p in parts if p.counted]
    decided = [p for p in parts if p.n > 0]
    if not decided:
        return "inconclusive"
    if all(p.k == p.n for p in decided):
        return "partly reproduced" if any(p.stated and not p.n for p in parts) else "reproduced"
    if all(p.k == 0 for p in decided):
        return "not reproduced"
    return "partly reproduced"


# ---- the context a judge reads ---------------------------------------------------------------------------------
def config_label(depth, n_train, weight_decay, n_seeds=None) -> str:
    s = f"d = {depth}, N = {n_train}, γ = {weight_decay:g}"
    return s if n_seeds is None else s + f", {n_seeds} seed{'s' * (n_seeds != 1)}"


class Ctx:
    def __init__(self, runs, th: dict):
        self.runs, self.th = runs, th
        self.det = detector(th)
        self.used = {}

    def __getattr__(self, name):  # ctx.lag_tol etc.: a threshold value
        if name in THRESHOLDS:
            return self.th.get(name, THRESHOLDS[name].value)
        raise AttributeError(name)

    @property
    def rank_def(self) -> str:
        return self.th.get(RANK_DEF, "rank")

    def seeds(self, d, n, wd=0.01) -> list[Events]:
        rs = records.seeds_of(self.runs, d, n, wd)
        self.used[(d, n, wd)] = rs
        return [events(r, self.det) for r in rs]

    def label(self, d, n, wd=0.01) -> str:
        return config_label(d, n, wd, len(records.seeds_of(self.runs, d, n, wd)))

    def words(self, claim: int, key: str, table: str = "parts", **fill) -> str:
        """Claim `claim`'s part label `key` (claims.toml [claim.<claim>.parts]; table="notes": a note), its
        {threshold} placeholders filled with the values judged here and the rest with `fill`."""
        values = {name: self.th.get(name, t.value) for name, t in THRESHOLDS.items()}
        return texts.entry("claims", "claim", str(claim), table, key, **values, **fill)


def med(evs, attr, never=None):
    """Median over seeds of an Events field; `never` stands for None (e.g. inf for a step that never comes)."""
    v = [getattr(e, attr) if getattr(e, attr) is not None else never for e in evs]
    v = [x for x in v if x is not None]
    return float(np.median(v)) if v else None


def rising(xs) -> bool | None:
    """Non-decreasing with the last strictly above the first; None if any is unknown."""
    if any(x is None for x in xs):
        return None
    return all(a <= b for a, b in zip(xs, xs[1:])) and xs[-1] > xs[0]


def lag_signs(lags) -> tuple:
    """(after, same step, before): how many of the signed lags (later event - start of the test climb, None: not
    measured) are positive, zero, negative."""
    lags = [v for v in lags if v is not None]
    return (sum(v > 0 for v in lags), sum(v == 0 for v in lags), sum(v < 0 for v in lags)) if lags else ()


def seed_part(words, evs, held: Callable, measures, per="seeds", stated=True, baseline=False,
              clocked: Callable | None = None, lag: str | None = None) -> Part:
    """A sub-claim judged on each seed: held(e) -> bool (None: not judged on this seed); measures = [(name,
    attr or callable, unit)]. clocked(e) -> True leaves the seed out because the optimizer fixes the outcome there
    (Part.by_construction counts them); `lag`: the Events field of the part's signed lag (Part.lag_signs). The Part's
    note says on how many seeds it was judged when some were not."""
    items, k, n, fixed = [], 0, 0, 0
    for e in evs:
        h = held(e)
        if h is not None and clocked is not None and clocked(e):
            h, fixed = None, fixed + 1
        k, n = k + bool(h), n + (h is not None)
        for name, attr, unit in measures:
            v = attr(e) if callable(attr) else getattr(e, attr)
            items.append(Item(e.label, name, None if isinstance(v, str) else v, unit, h,
                              v if isinstance(v, str) else ""))
    note = f"judged on {n} of {len(evs)} {per}" if 0 < n < len(evs) else ""
    signs = lag_signs(getattr(e, lag) for e in evs if held(e) is not None) if lag else ()
    return Part(words, k, n, tuple(items), per, stated, note, baseline, fixed, signs)


def compare_part(words, groups, attr, unit, ok: Callable, measure, never=None, note="") -> Part:
    """A comparison of medians over seeds: groups = [(config label, [Events])]; ok(medians) -> bool | None.
    Untested (n = 0) when a group has no seed, or when no seed of any group reaches the event (every median is
    `never`)."""
    items = [Item(e.label, measure, getattr(e, attr), unit) for _, evs in groups for e in evs]
    meds = [med(evs, attr, never) for _, evs in groups]
    if any(not evs for _, evs in groups) or (never is not None and all(m == never for m in meds)):
        return Part(words, 0, 0, tuple(items), "", note=note)
    h = ok(meds)
    return Part(words, int(bool(h)), int(h is not None), tuple(items), "", note=note)


INF = math.inf
