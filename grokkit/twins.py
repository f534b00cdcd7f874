"""Float32 against float64, read against the seed-to-seed spread (issue 42, item 4).

    from grokkit import records, twins
    for t in twins.twins(records.load_all()):
        print(t.label, t.seed, t.acc_ratio, t.within_spread)

The authors train in float64; grokkit's records are float32. A float64 *twin* repeats a float32 run's configuration
and seed in float64. How far the two trajectories lie apart means something only beside how far two float32 seeds of
the same configuration lie apart: a dtype effect is claimed only where the float32-versus-float64 distance exceeds
the float32 seed-to-seed distance. Distances are trajectory distances over the whole run (`distance`): the mean
absolute gap of the test accuracy over the logged steps both runs share, and of the mean hidden-layer rank
(paper-exact) over the rank snapshots both share.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .events import events, hidden_mean
from .records import Run, seeds_of, stands_for


@dataclass(frozen=True)
class Distance:
    acc: float    # mean |Δ test accuracy| over the shared logged steps (accuracy fraction)
    rank: float   # mean |Δ mean hidden-layer rank| over the shared rank snapshots (rank units, of the width)


@dataclass(frozen=True)
class Twin:
    """One float64 record beside its float32 twin and the float32 seeds of its configuration."""
    depth: int
    n_train: int
    weight_decay: float
    seed: int                 # the twin pair's seed
    dtype: Distance           # float32 seed s against float64 seed s
    seed_spread: Distance | None  # the largest float32 seed-to-seed distance of the configuration (None: 1 seed)
    phase32: str              # the float32 twin's phase (events.phase at the claims' default detector)
    phase64: str              # the float64 twin's phase
    phases32: tuple           # every float32 seed's phase, seed order
    phases64: tuple = ()      # every float64 seed's phase of the configuration, seed order

    @property
    def acc_ratio(self) -> float | None:
        """dtype distance / seed spread, test accuracy; None without a second float32 seed (inf: seeds identical)."""
        return None if self.seed_spread is None else _ratio(self.dtype.acc, self.seed_spread.acc)

    @property
    def rank_ratio(self) -> float | None:
        """The same for the mean hidden-layer rank."""
        return None if self.seed_spread is None else _ratio(self.dtype.rank, self.seed_spread.rank)

    @property
    def within_spread(self) -> bool | None:
        """Is the float32-versus-float64 distance no larger than the float32 seeds' spread, for both the accuracy and
        the rank? None without a second float32 seed (nothing to read it against)."""
        if self.seed_spread is None:
            return None
        return self.dtype.acc <= self.seed_spread.acc and self.dtype.rank <= self.seed_spread.rank

    @property
    def phase_within_spread(self) -> bool:
        """Is the twin's phase within the seed spread: does some float32 seed take the float64 twin's phase, or do
        the float64 seeds themselves disagree and share a phase with the float32 seeds (one float64 seed's phase is
        then a seed's, not the dtype's)?"""
        return self.phase64 in self.phases32 or (len(set(self.phases64)) > 1
                                                  and bool(set(self.phases64) & set(self.phases32)))

    @property
    def label(self) -> str:
        return f"d = {self.depth}, N = {self.n_train}, γ = {self.weight_decay:g}"


def _ratio(d: float, spread: float) -> float:
    return d / spread if spread else (0.0 if d == 0 else math.inf)


def distance(a: Run, b: Run) -> Distance:
    """The trajectory distance of two runs (module docstring); ValueError when they share no logged step."""
    ha, hb = a.history, b.history
    s, ia, ib = np.intersect1d(ha["step"], hb["step"], return_indices=True)
    if not len(s):
        raise ValueError(f"twins: {a.config.name} and {b.config.name} share no logged step")
    acc = float(np.nanmean(np.abs(np.asarray(ha["test_acc"])[ia] - np.asarray(hb["test_acc"])[ib])))
    _, ra, rb = np.intersect1d(ha["rank_step"], hb["rank_step"], return_indices=True)
    rank = float(np.mean(np.abs(hidden_mean(ha["rank"])[ra] - hidden_mean(hb["rank"])[rb]))) if len(ra) else \
        float("nan")
    return Distance(acc, rank)


def spread(runs32) -> Distance | None:
    """The largest pairwise distance among float32 seeds of one configuration, per quantity; None under 2 seeds."""
    pairs = [distance(a, b) for a, b in itertools.combinations(runs32, 2)]
    if not pairs:
        return None
    return Distance(max(p.acc for p in pairs), max(p.rank for p in pairs))


def twins(runs, det=None) -> list[Twin]:
    """Every float64 record of `runs` that has a float32 twin (same depth, N, γ and seed), ordered by N, γ, seed.
    `det`: the Detector of the phases (default: the claims' defaults)."""
    from .claims import detector

    det = det or detector()
    out = []
    for r64 in runs:
        c = stands_for(r64)
        if c["dtype"] != "float64":
            continue
        f32 = seeds_of(runs, c["depth"], c["n_train"], c["weight_decay"], "float32")
        r32 = next((r for r in f32 if stands_for(r)["seed"] == c["seed"]), None)
        if r32 is None:
            continue
        f64 = seeds_of(runs, c["depth"], c["n_train"], c["weight_decay"], "float64")
        out.append(Twin(c["depth"], c["n_train"], c["weight_decay"], c["seed"], distance(r32, r64), spread(f32),
                        events(r32, det).phase, events(r64, det).phase, tuple(events(r, det).phase for r in f32),
                        tuple(events(r, det).phase for r in f64)))
    return sorted(out, key=lambda t: (t.n_train, t.weight_decay, t.depth, t.seed))
