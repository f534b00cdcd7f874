"""Beyond the paper, second round (issue 44): what starts the climb at d = 12, N = 5000, γ = 0.01? The output scale,
the rank, or the norm, each moved by an intervention that leaves the others. Predictions stated before any record.

The three stories, each read as a cause of the start of the test climb (events.Events.climb_onset_step):
- the weight-norm story [OG's LU mechanism, read as the total norm]: the climb comes once weight decay has brought the
  total weight norm down to where the control climbs (its norm at the climb, about 200) and the training set is fit;
- the rank story [DG §3]: the climb comes with the fall of the features' rank;
- the output-scale story (what the records show, grokkit.indicators): the climb comes once the output scale on unseen
  images, s_out (grokkit.scale), has come down to the targets' scale, about 1.

What is known before any record (the control's three seeds; the first round): the control's s_out on the test set is
about 1,300-2,000 at step 10,000 and 58-75 at step 25,000, while on its own training images it is about 25 times
smaller at step 10,000; its total norm is about 281 at step 10,000, of which the output layer holds about 13, so a
reset of the output layer moves the total norm by about 0.1 %; its tolerance-robust mean hidden-layer rank at the
climb is about 222 of 400 (its paper-exact rank about 395, falling 3,335-4,002 steps after the climb).

PREDICTIONS holds, per intervention and story, a Prediction: the climb's direction against the control (CLIMB_WORDS,
with the first round's margin, interventions.MARGIN_STEPS, against the range of the control's seeds). Each story also
states one timing rule (timing_held) that holds for every run if the story is right; both are graded per seed. What
each story says the rank and the output scale will do, and why, is written in the chapter. The manipulation checks
(did the intervention move what it set out to move: surgery.apply's record) are read apart and graded as nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

# The interventions, in the order of priority their records are trained: key -> title. What each does, and why each
# story predicts what it does, is written in the interventions chapter (book/interventions.ipynb, "Second round").
INTERVENTIONS = {
    "reset_heldout_10k": "Output scale reset on unseen images at step 10,000",
    "reset_heldout_25k": "Output scale reset on unseen images at step 25,000",
    "reset_train_10k": "Output scale reset on the training images at step 10,000",
    "started_low": "Started low, free",
    "rank_cut": "Rank cut, scale kept",
}
STORIES = {"norm": "weight-norm story (Omnigrok)", "rank": "rank story (Deep Grokking)",
           "scale": "output-scale story (the records)"}
# the climb's direction against the control's seeds, widened by the margin (interventions.onset_class)
CLIMB_WORDS = {"earlier": "earlier than the control", "unchanged": "at the control's time",
               "later": "later than the control", "never": "never within 10⁵ steps",
               "none": "no direction of its own (its timing rule decides)"}


@dataclass(frozen=True)
class Prediction:
    climb: str   # a CLIMB_WORDS key: the direction of the climb against the control the story predicts


_P = Prediction
# Committed before the first record of this round (the chapter's predictions table states the same, and its hidden
# check fails the build when the two disagree); each story's timing rule is timing_held().
PREDICTIONS = {
    "reset_heldout_10k": {"norm": _P("unchanged"), "rank": _P("unchanged"), "scale": _P("earlier")},
    "reset_heldout_25k": {"norm": _P("unchanged"), "rank": _P("unchanged"), "scale": _P("earlier")},
    "reset_train_10k": {"norm": _P("unchanged"), "rank": _P("unchanged"), "scale": _P("earlier")},
    "started_low": {"norm": _P("earlier"), "rank": _P("none"), "scale": _P("earlier")},
    "rank_cut": {"norm": _P("unchanged"), "rank": _P("earlier"), "scale": _P("none")},
}
SEEDS = (0, 1)  # each intervention on seeds 0 and 1; the control is the base's three recorded seeds


# ---- measuring and grading (read from the records when they land) --------------------------------------------------
@dataclass(frozen=True)
class Measure:
    """One run of the second round (or a control seed), in steps unless said."""
    label: str
    seed: int
    climb_onset_step: int | None    # events.Events.climb_onset_step (None: no climb)
    fit_step: int | None
    scale_one_step: int | None      # s_out on the test images first <= 1 (grokkit.scale.output_scale)
    rank_lag_steps: int | None      # the fall of the mean hidden-layer rank nearest the climb - the climb's start
    norm_reach_step: int | None     # the total weight norm first at or below the control's norm at its climb
    final_test_acc: float
    wall_min: float | None
    applied: dict | None            # surgery.apply's manipulation check (None: no one-off intervention)
    start_norm: float               # the total weight norm at step 0
    half_step: int | None = None    # events.Events.test_half_step: half the whole test climb (None: no climb)
    post_fit_share: float | None = None  # events.Events.post_fit_share_frac: share of the climb after the fit


def measure(run, control_norm: float, det=None) -> Measure:
    """`run`'s Measure; `control_norm`: the control's total weight norm at its climb (sweep.control_norm_at_onset)."""
    import numpy as np

    from .claims import detector
    from .events import events

    e = events(run, det or detector())
    h = run.history
    reach = np.flatnonzero(np.asarray(h["weight_norm"], dtype=float) <= control_norm)
    wall = run.meta.get("wall_time_s")
    return Measure(e.label, e.seed, e.climb_onset_step, e.fit_step, e.output_scale_one_step, e.rank_lag_steps,
                   int(h["step"][reach[0]]) if len(reach) else None, e.test_final_acc,
                   None if wall is None else wall / 60, (run.meta.get("applied") or [None])[0],
                   float(h["weight_norm"][0]), e.test_half_step, e.post_fit_share_frac)


def timing_held(story: str, m: Measure, margin: int) -> bool | None:
    """Does one run bear out `story`'s timing rule, two steps up to `margin` apart counting as one time? The climb
    starts at the later of the total norm reaching the control's norm at its climb and the fit ("norm"), at the mean
    hidden-layer rank's fall nearest it, paper-exact ("rank"), at s_out on the test images first reaching 1 ("scale").
    None: the run does not climb (the rule times a climb)."""
    if m.climb_onset_step is None:
        return None
    if story == "rank":
        return m.rank_lag_steps is not None and abs(m.rank_lag_steps) <= margin
    if story == "scale":
        return m.scale_one_step is not None and abs(m.scale_one_step - m.climb_onset_step) <= margin
    if m.norm_reach_step is None or m.fit_step is None:
        return False
    return abs(max(m.norm_reach_step, m.fit_step) - m.climb_onset_step) <= margin


def climb_held(p: Prediction, m: Measure, control_onsets, margin: int) -> bool | None:
    """Does one run bear out the prediction's climb direction (interventions.onset_class against the control's
    seeds that climb)? None when the story gives no direction, or no control seed climbs."""
    from .interventions import onset_class

    control = [o for o in control_onsets if o is not None]  # a control seed that never climbs times nothing
    if p.climb == "none" or not control:
        return None
    return onset_class(m.climb_onset_step, control, margin) == p.climb


@dataclass(frozen=True)
class Check:
    """A manipulation check: did the intervention move what it set out to move? Never a prediction."""
    key: str
    seed: int
    moved: bool          # it did, within CHECK_TOL
    target: float        # what it set out to reach (s_out 1; the cut's rank; the started-low norm)
    reached: float       # what it reached right after the intervention (at step 0 for the low start)
    others: dict         # what else it moved: {quantity: (before, after)}


CHECK_TOL = 0.01  # relative: a reset's s_out within 1 % of 1, the low start's norm within 1 % of its target


def check(key: str, m: Measure, target_norm: float, cut_rank: int | None = None, width: int = 400) -> Check:
    """The manipulation check of intervention `key` on one run's Measure: a reset brings s_out to 1 on the images it
    was measured on (the others' before/after in `others`); the rank cut makes the mean hidden-layer rank (paper-exact,
    of the test features) fall by at least a rank descent (claims' rank_swing x `width`) -- the ReLUs and biases let
    the features' rank exceed the weights' r, so r itself is the target, not the test (s_out's before/after in
    `others`); the low start begins at `target_norm`."""
    if key == "started_low":
        return Check(key, m.seed, abs(m.start_norm / target_norm - 1) <= CHECK_TOL, target_norm, m.start_norm, {})
    a = m.applied or {"before": {}, "after": {}}
    before, after = a["before"], a["after"]
    others = {k: (before[k], after[k]) for k in after}
    if key == "rank_cut":
        from .claims import THRESHOLDS

        reached = after.get("mean_rank", float("nan"))
        fell = before.get("mean_rank", float("nan")) - reached >= THRESHOLDS["rank_swing"].value * width
        return Check(key, m.seed, bool(fell), float(cut_rank or 0), reached, others)
    on = "train" if key == "reset_train_10k" else "heldout"
    reached = after.get(f"output_scale_{on}", float("nan"))
    return Check(key, m.seed, abs(reached - 1) <= CHECK_TOL, 1.0, reached, others)


def key_of(c: dict) -> str | None:
    """The second-round intervention (an INTERVENTIONS key) an identity dict (records.stands_for) is, or None: a run
    of the second round's base (d = 12, N = 5000, γ = 0.01, float32, 10⁵ steps) with one reset, the rank cut, or a
    smaller α and nothing else."""
    from .config import INTERVENTION_DEFAULTS
    from .sweep import INTERVENTION_BASE as b

    if (c["depth"], c["n_train"], c["weight_decay"], c["dtype"], c["steps"]) != \
            (b.depth, b.n_train, b.weight_decay, b.dtype, b.steps):
        return None
    if c.get("rank_cut_step", 0):
        return "rank_cut"
    if t := c.get("scale_reset_step", 0):
        if c.get("scale_reset_on", "heldout") == "train":
            return "reset_train_10k" if t == 10_000 else None
        return {10_000: "reset_heldout_10k", 25_000: "reset_heldout_25k"}.get(t)
    plain = all(c.get(k, v) == v for k, v in INTERVENTION_DEFAULTS.items())
    return "started_low" if plain and c["alpha"] != b.alpha else None


def intervention_step(c: dict) -> int | None:
    """The step of a one-off intervention (a scale reset, the rank cut) of an identity dict; None for none (the low
    start acts at step 0, through α)."""
    return c.get("scale_reset_step", 0) or c.get("rank_cut_step", 0) or None


@dataclass(frozen=True)
class Graded:
    """One story's prediction for one intervention, read on every recorded seed (None: not decided on that seed)."""
    key: str
    story: str
    climb: str                  # the predicted direction (CLIMB_WORDS key)
    climb_held: tuple           # per seed: the climb went that way (None: the story gives no direction)
    timing_held: tuple          # per seed: the story's timing rule held (None: no climb to time)


def grade(by_key: dict, control_onsets, margin: int) -> list[Graded]:
    """Every (intervention, story) with records: `by_key` {key: [Measure, ...]} (seed order), `control_onsets` the
    control seeds' climb starts, `margin` the timing margin (interventions.MARGIN_STEPS)."""
    return [Graded(k, st, p.climb, tuple(climb_held(p, m, control_onsets, margin) for m in ms),
                   tuple(timing_held(st, m, margin) for m in ms))
            for k, ms in by_key.items() if ms for st, p in PREDICTIONS[k].items()]


def _held(values) -> str:
    """'2 of 2 seeds', '1 of 2 seeds (1 undecided)', or '–' when nothing was decided."""
    decided = [v for v in values if v is not None]
    if not decided:
        return "–"
    out = f"{sum(decided)} of {len(decided)} seed{'s' * (len(decided) != 1)}"
    return out + (f" ({len(values) - len(decided)} undecided)" if len(decided) < len(values) else "")


def runs_md(by_key: dict, control: list[Measure]) -> str:
    """Per intervention and seed (Markdown): the climb's start and the step of half the climb, each with its shift
    against the median of the `control` seeds' (negative: earlier), the step s_out first reaches 1, the rank's fall
    against the climb (signed: + after), the fit and the final test accuracy (median of the last three readings);
    the wall time is in each record (the opening page's compute table)."""
    import numpy as np

    from .fmt import num, signed

    def mid(attr):
        vals = [getattr(c, attr) for c in control if getattr(c, attr) is not None]
        return float(np.median(vals)) if vals else None

    mids = {a: mid(a) for a in ("climb_onset_step", "half_step")}
    rows = ["| intervention, seed | climb starts: step (shift) | half the climb: step (shift) | s_out first ≤ 1 (step) "
            "| rank falls, from the climb (steps) | training set fit (step) | final test accuracy |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    bare = lambda step: num(step, "steps").removesuffix(" steps")  # noqa: E731 -- the unit is in the column head

    def at(m, attr):  # "16,008 (−27,347)": the step and its shift against the control's median
        v, c = getattr(m, attr), mids[attr]
        return "–" if v is None else bare(v) if c is None else f"{bare(v)} ({signed(v - c)})"

    for k, ms in by_key.items():
        for m in ms:
            lag = "–" if m.rank_lag_steps is None else signed(m.rank_lag_steps)
            rows.append(f"| {INTERVENTIONS[k]}, seed {m.seed} | {at(m, 'climb_onset_step')} | {at(m, 'half_step')} | "
                        f"{bare(m.scale_one_step)} | {lag} | {bare(m.fit_step)} | "
                        f"{num(m.final_test_acc, 'accuracy')} |")
    return "\n".join(rows) + "\n"


def graded_md(graded: list[Graded]) -> str:
    """The predictions read on the records (Markdown): per intervention and story, the predicted climb and on how
    many seeds it held, and on how many the story's timing rule held."""
    rows = ["| intervention | story | predicted climb | held | timing rule held |", "|---|---|---|---|---|"]
    rows += [f"| {INTERVENTIONS[g.key]} | {STORIES[g.story]} | {CLIMB_WORDS[g.climb]} | {_held(g.climb_held)} | "
             f"{_held(g.timing_held)} |" for g in graded]
    return "\n".join(rows) + "\n"


CHECK_WHAT = {"output_scale_heldout": "s_out on held-out images", "output_scale_train": "s_out on training images",
              "output_scale_test": "s_out on the test images", "mean_rank": "mean hidden rank (paper-exact)",
              "mean_robust_rank": "mean hidden rank (tolerance-robust)"}


def checks_md(checks: list[Check]) -> str:
    """The manipulation checks (Markdown), apart from the predictions: what each intervention set out to reach, what
    it reached right after it (at step 0 for the low start), and what else it moved."""
    def value(v) -> str:
        return f"{v:,.4g}"

    rows = ["| intervention | seed | set out to reach | reached | moved it | what else it moved (before → after) |",
            "|---|---:|---:|---:|---|---|"]
    for c in checks:
        others = "; ".join(f"{CHECK_WHAT.get(q, q.replace('_', ' '))} {value(a)} → {value(b)}"
                           for q, (a, b) in c.others.items()) or "–"
        rows.append(f"| {INTERVENTIONS[c.key]} | {c.seed} | {value(c.target)} | {value(c.reached)} | "
                    f"{'yes' if c.moved else 'no'} | {others} |")
    return "\n".join(rows) + "\n"


# ---- what the second look found about the first round (issue 44, item 6) -------------------------------------------
def clamp_equivalence(steps: int = 100) -> float:
    """The largest relative gap between two small float64 runs held at their initial norm: one with the paper's
    γ = 0.01, the other with no weight decay and the learning rate divided by (1 - lr γ). Rescaling every parameter
    by one factor after each AdamW step undoes the step's decoupled decay, so the two are one run (gap ~1e-12)."""
    import numpy as np

    from .config import RunConfig
    from .train import train

    base = RunConfig(depth=3, width=16, n_train=200, n_test=200, steps=steps, log_every=20, rank_every=steps,
                     probe_every=-1, checkpoint_every=0, dtype="float64", norm_clamp="init")
    a = train(base, progress=False).history
    b = train(base.replace(weight_decay=0.0, lr=base.lr / (1 - base.lr * base.weight_decay)), progress=False).history
    return max(float(np.max(np.abs(a[k] - b[k]) / np.maximum(np.abs(a[k]), 1e-300)))
               for k in ("train_loss", "test_loss", "layer_norm", "output_scale"))


@dataclass(frozen=True)
class FirstRound:
    """Facts of the first round's norm clamps, from their records (every seed)."""
    init_norm: float                 # the radius "held at its initial value" holds
    init_scale_start: tuple          # s_out at step 0 of each seed held at its initial value
    init_scale_min: tuple            # its lowest s_out
    init_scale_lag: tuple            # s_out first <= 1 - the climb's start, per seed (None: no climb)
    low_norm: float                  # the norm "held low" holds from step 0
    low_factor: float                # low_norm / init_norm: every parameter's factor at step 0
    low_alpha: float                 # 8 x low_factor
    low_scale_ratio: float           # the median of s_out at step 0, held at init / held low


def first_round(runs, det=None) -> FirstRound | None:
    """FirstRound from the first round's full-scale clamped records among `runs`; None without both clamps."""
    import numpy as np

    from .claims import detector
    from .events import events
    from .penalties import clamp_target
    from .records import full_scale
    from .scale import output_scale

    clamped = [r for r in runs if full_scale(r) and r.config.norm_clamp != "none" and r.config.alpha == 8.0]
    held_init = [r for r in clamped if r.config.norm_clamp == "init"]
    held_low = [r for r in clamped if r.config.norm_clamp != "init"]
    if not held_init or not held_low:
        return None
    det = det or detector()
    init_norm = clamp_target(held_init[0].config)
    low = float(held_low[0].config.norm_clamp)
    start = [float(output_scale(r)[1][0]) for r in held_init]
    return FirstRound(init_norm, tuple(start), tuple(float(output_scale(r)[1].min()) for r in held_init),
                      tuple(events(r, det).scale_lag_steps for r in held_init), low, low / init_norm,
                      8.0 * low / init_norm,
                      float(np.median(start) / np.median([output_scale(r)[1][0] for r in held_low])))


def first_round_words(f: FirstRound, gap: float) -> dict:
    """The numbers the interventions chapter's second look quotes (myst-nb glue names -> text)."""
    import math

    def sci(v):
        e = math.floor(math.log10(v))
        return f"{v / 10 ** e:.1f} × 10{str(e).translate(str.maketrans('-0123456789', '⁻⁰¹²³⁴⁵⁶⁷⁸⁹'))}"

    lags = [v for v in f.init_scale_lag if v is not None]
    return {"clamp_gap": sci(gap),
            "clamp_radius": f"{f.init_norm:.1f}",
            "ni_s0": " and ".join(sci(v) for v in f.init_scale_start),
            "ni_min": " and ".join(f"{v:.2f}" for v in f.init_scale_min),
            "ni_lag": f"{max(abs(v) for v in lags):,} steps" if lags else "–",
            "nl_norm": f"{f.low_norm:g}", "nl_factor": f"{f.low_factor:.3f}", "nl_alpha": f"{f.low_alpha:.2f}",
            "nl_ratio": f"{f.low_scale_ratio:.0f}"}
