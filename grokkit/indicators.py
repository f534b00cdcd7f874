"""What moves with the climb: the weight norm, the output scale and the feature rank, across runs (issue 42).

    from grokkit import records, indicators
    rows = indicators.rows(records.load_all())      # one Indicators per full-scale run that climbs
    s = indicators.summary(rows)                     # the facts the weight-norm chapter states

The paper compares two indicators of the grokking transition, the weight norm and the feature rank [DG §3, Fig 5].
The records show a third, the output scale s_out (grokkit.scale). For every full-scale run whose test accuracy climbs,
each indicator is timed against the start of the test climb (events.Events.climb_onset_step), with its sign:
negative lags lead the climb, positive lags follow it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .events import events
from .records import full_scale, intervened
from .scale import scale_agreement


@dataclass(frozen=True)
class Indicators:
    """One run's three indicators against its start of the test climb. Steps are optimizer steps."""
    label: str                    # "d = 12, N = 5000, γ = 0.01, seed 0" (with its intervention, if any)
    depth: int
    weight_decay: float
    paper: bool                   # a run of the paper's setup (no intervention)
    climb_onset_step: int
    clock_dev_frac: float | None  # largest |weight norm / decay clock - 1| up to one kink window after the climb
    norm_at_onset: float          # total weight norm at the climb's start
    scale_one_step: int | None    # first logged step with s_out <= 1 (None: never)
    scale_source: str             # grokkit.scale.SCALE_SOURCES key
    scale_lag_steps: int | None   # scale_one_step - climb_onset_step (< 0: the scale reaches 1 first)
    rank_fall_step: int | None    # the fall of the mean hidden-layer rank nearest the climb's start (paper-exact,
    #                               events.Events.rank_lag_steps: the one claims 5 and 13 time; None: never falls)
    rank_lag_steps: int | None    # rank_fall_step - climb_onset_step (< 0: the rank falls first)


def rows(runs, det=None) -> list[Indicators]:
    """An Indicators for every full-scale run of `runs` whose test accuracy climbs (climb_onset_step not None), that
    fits its training set and never sits at a constant predictor (events.Events.stuck_steps 0: the collapsed seed
    d = 12, N = 7000, seed 0, whose "climb" is a blip before its collapse, is left out; `left_out` names such runs),
    in the records' order. A run whose output scale was reset (the second round of interventions) is left out too:
    there s_out reaching 1 is the intervention, not something the run did. `det`: the Detector (default: the claims'
    defaults)."""
    from .claims import detector

    det = det or detector()
    out = []
    for r in runs:
        if not full_scale(r) or r.config.scale_reset_step:
            continue
        e = events(r, det)
        if e.climb_onset_step is None or e.fit_step is None or e.stuck_steps:
            continue  # no climb; never fit; or a stretch at a constant predictor, whose "climb" is not the others'

        lag = e.rank_lag_steps
        paper = not intervened(r) and r.config.alpha == 8.0  # the paper's ×8 start, no intervention
        out.append(Indicators(e.label, e.depth, e.weight_decay, paper, e.climb_onset_step,
                              e.clock_dev_onset_frac, e.norm_at_onset, e.output_scale_one_step,
                              e.output_scale_source, e.scale_lag_steps,
                              None if lag is None else e.climb_onset_step + lag, lag))
    return out


def left_out(runs, det=None) -> list[tuple[str, int]]:
    """(label, steps at a constant predictor) of every full-scale run that fits and whose test accuracy "climbs",
    which `rows` leaves out for a stretch at a constant predictor."""
    from .claims import detector

    det = det or detector()
    evs = [events(r, det) for r in runs if full_scale(r)]
    return [(e.label, e.stuck_steps) for e in evs
            if e.stuck_steps and e.climb_onset_step is not None and e.fit_step is not None]


@dataclass(frozen=True)
class Span:
    """How many of n values lie in [lo, hi], and their range; lo/hi None when no value was measured."""
    n: int
    lo: float | None
    hi: float | None
    median: float | None
    after: int    # values > 0 (the indicator follows the climb's start)
    before: int   # values < 0 (it leads)

    @staticmethod
    def of(values) -> Span:
        v = [x for x in values if x is not None]
        if not v:
            return Span(0, None, None, None, 0, 0)
        return Span(len(v), float(min(v)), float(max(v)), float(np.median(v)), sum(x > 0 for x in v),
                    sum(x < 0 for x in v))


@dataclass(frozen=True)
class Summary:
    """The facts the weight-norm chapter states, over `rows` (the paper's runs unless said)."""
    runs: int                    # paper runs that climb
    clock_dev: Span              # the norm's largest gap to its decay clock up to the climb (paper runs)
    clock_dev_gamma_max: float   # the γ of the run with the largest gap
    norm_at_onset: Span          # every climbing run, interventions included
    scale_lag_deep: Span         # d >= 8, every climbing run: output scale reaching 1 - climb start
    scale_lag_shallow: Span      # d = 4
    rank_lag_deep: Span          # d >= 8: the rank's fall nearest the climb - climb start
    measured_scale_lag: Span     # runs whose s_out is measured (recorded or from spectra), every depth
    scale_never: int             # climbing runs whose s_out never reaches 1
    agreement_median: float | None  # sqrt(test MSE) against s_out before s_out reaches 1: the median over records
    agreement_max: float | None     # ... and the largest, of each record's median gap (decades)
    agreement_records: int


def summary(runs, det=None) -> Summary:
    """`rows` of `runs` summed up (Summary); the estimate's agreement is read on every full-scale record of `runs`
    that holds both s_out and the test loss."""
    rs = rows(runs, det)
    paper = [r for r in rs if r.paper]
    worst = max(paper, key=lambda r: r.clock_dev_frac or 0.0, default=None)
    agree = [a for r in runs if full_scale(r) and (a := scale_agreement(r)) is not None]
    meds = [a["median_decades"] for a in agree]
    return Summary(
        runs=len(paper), clock_dev=Span.of(r.clock_dev_frac for r in paper),
        clock_dev_gamma_max=worst.weight_decay if worst else float("nan"),
        norm_at_onset=Span.of(r.norm_at_onset for r in rs),
        scale_lag_deep=Span.of(r.scale_lag_steps for r in rs if r.depth >= 8),
        scale_lag_shallow=Span.of(r.scale_lag_steps for r in rs if r.depth < 8),
        rank_lag_deep=Span.of(r.rank_lag_steps for r in rs if r.depth >= 8),
        measured_scale_lag=Span.of(r.scale_lag_steps for r in rs if r.scale_source != "test loss"),
        scale_never=sum(r.scale_one_step is None for r in rs),
        agreement_median=float(np.median(meds)) if meds else None,
        agreement_max=float(max(meds)) if meds else None, agreement_records=len(agree))
