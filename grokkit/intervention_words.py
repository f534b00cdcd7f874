"""The interventions chapter's sentences, computed from the records (grokkit.interventions' measures and grades):
outcomes, caveats, the answer. English that waits to move into the chapter's own written prose (issue 43)."""
from __future__ import annotations

from .interventions import (
    DECLARED,
    INTERVENTIONS,
    MARGIN_STEPS,
    MARGIN_SWEEP,
    PENALTY_AIMS,
    PREDICTIONS,
    STORIES,
    VERDICT_RANK_DEFS,
    _climbed,
    held,
    onset_class,
    untestable,
)

# Each keyword's test, in words (held() is the definition; the verdicts quote these beside each grade)
RULE_WORDS = {
    "earlier": "the climb starts more than the timing margin before the control's earliest climb start",
    "unchanged": "the climb starts inside the control's climb starts, widened by the timing margin on each side",
    "later_or_never": "the climb starts more than the timing margin after the control's latest climb start, or never",
    "follows_rank": "the climb starts within the timing margin of the rank's first fall, or neither happens",
    "falls": "the rank falls at some point",
    "stays_high": "the rank never falls",
    "falls_earlier": "the rank first falls more than the timing margin before the control's earliest fall",
    "falls_with_climb": "no climb, or the rank's first fall comes at most the timing margin after the climb starts",
}


def _lag_words(lags, what: str = "the start of its climb") -> str:
    """'3,335–4,002 steps after the start of its climb', 'between 11,339 steps before and 1,334 after ...', or 'at
    ...' (signed step differences, later minus `what`)."""
    lo, hi = min(lags), max(lags)
    if lo == hi == 0:
        return f"at {what}"
    if lo >= 0 or hi <= 0:
        a, b = sorted((abs(lo), abs(hi)))
        return f"{a:,}{'' if a == b else f'–{b:,}'} steps {'after' if hi > 0 else 'before'} {what}"
    return f"between {-lo:,} steps before and {hi:,} after {what}"


# ---- the chapter's tables and sentences (Markdown), computed from the records ----------------------------------
def _num(v, unit=""):
    from .fmt import num

    return num(v, unit)


def _rank_name(rank_def: str) -> str:
    """'tolerance-robust rank': a rank definition by the name the chapter gives it (grokkit.events.RANK_DEFS)."""
    from .events import RANK_DEFS

    return RANK_DEFS[rank_def].split(" (")[0] + " rank"


def _readings_words(readings) -> str:
    """Readings (rank definition, margin) other than DECLARED, in words: a rank definition that moves the result
    whatever the margin, and margins that move it under either rank, said once each; the rest one by one
    ('under the tolerance-robust rank, whatever the margin, or with a timing margin of 667 steps, under either
    rank')."""
    readings = set(readings)
    row = {rd: {(rd, m) for m in MARGIN_SWEEP} for rd in VERDICT_RANK_DEFS}  # a rank definition at every margin
    col = {m: {(rd, m) for rd in VERDICT_RANK_DEFS} for m in MARGIN_SWEEP}    # a margin under every definition
    whole_defs = [rd for rd in VERDICT_RANK_DEFS if rd != DECLARED[0] and row[rd] <= readings]
    whole_margins = [m for m in MARGIN_SWEEP if m != DECLARED[1] and col[m] <= readings]
    out = [f"under the {_rank_name(rd)}, whatever the margin" for rd in whole_defs]
    if whole_margins:
        out.append(f"with a timing margin of {' or '.join(f'{m:,}' for m in whole_margins)} steps, under either rank")
    covered = set().union(*(row[rd] for rd in whole_defs), *(col[m] for m in whole_margins))
    for rd, m in sorted(readings - covered, key=lambda r: (VERDICT_RANK_DEFS.index(r[0]), r[1])):
        parts = [f"under the {_rank_name(rd)}"] if rd != DECLARED[0] else []
        out.append(" ".join(parts + ([f"with a timing margin of {m:,} steps"] if m != DECLARED[1] else [])))
    return ", or ".join(out)


def _moved(by_reading: dict) -> str:
    """What a value read under each reading (rank definition, margin) becomes where it differs from DECLARED's, in
    words grouped by value ('with a margin of 6,670 steps, under either rank, it held'); '' when it never moves."""
    moved: dict = {}
    for reading, v in by_reading.items():
        if v != by_reading[DECLARED]:
            moved.setdefault(v, []).append(reading)
    return "; ".join(f"{_readings_words(where)}, it {v}" for v, where in moved.items())


def fragility(every: dict, story: str) -> str:
    """'' when the story's badge is the same under every reading of `every` (graded(): rank definition x margin);
    else 'fragile: ' and the words saying what it becomes under the others."""
    moved = _moved({reading: STORY_BADGES[story_badge(res[story])][0] for reading, (_, res) in every.items()})
    return f"fragile: {moved}" if moved else ""


# a story's badge: (words, the class its colour comes from (book/_static/grokkit.css), what it means on hover)
STORY_BADGES = {
    "held": ("held", "grokkit-reproduced", "every tested prediction of this story held on every recorded seed"),
    "partly": ("held in part", "grokkit-partly-reproduced",
               "some of this story's predictions or seeds held and others did not"),
    "failed": ("did not hold", "grokkit-not-reproduced", "none of this story's tested predictions held on any seed"),
    "untested": ("not tested yet", "grokkit-inconclusive",
                 "no full-scale intervention run recorded yet tests a prediction of this story"),
}


def story_badge(results: list) -> str:
    """A key of STORY_BADGES for one story's story_results() rows: 'held', 'partly', 'failed' or 'untested'."""
    flags = [h for *_, res in results for h in res]
    if not flags:
        return "untested"
    return "held" if all(flags) else ("failed" if not any(flags) else "partly")


ONSET_WORDS = {"earlier": "earlier than the control's", "unchanged": "within the control's range",
               "later": "later than the control's", "never": "never"}


def _seeds(ms) -> str:
    return f"seed {ms[0]['seed']}" if len(ms) == 1 else "seeds " + " and ".join(str(m["seed"]) for m in ms)


def _at_steps(steps) -> str:
    """'step 4,669', 'steps 35,351 and 38,019', or 'step 0 on both seeds' (one step per seed, in seed order)."""
    if len(steps) > 1 and len(set(steps)) == 1:
        return f"step {steps[0]:,} on {'both' if len(steps) == 2 else f'all {len(steps):,}'} seeds"
    return ("step " if len(steps) == 1 else "steps ") + " and ".join(f"{v:,}" for v in steps)


# The record untestable()'s collapse clause came with (a run that never fits and ends collapsed is untestable even
# when its test accuracy rose before the collapse): (intervention key, seed). The clause was committed together with
# this record, after it was seen; the collapse caveat says so wherever the clause is what leaves this seed ungraded.
COLLAPSE_CLAUSE_WITH = ("rank_down", 1)


def _aim(key: str, control: list) -> str:
    """Penalty `key`'s aim (PENALTY_AIMS) against the control's measure() dicts: against a control whose rank never
    falls, "falls earlier" reads as "falls"."""
    aim = PENALTY_AIMS[key]
    return "falls" if aim == "falls_earlier" and all(c["rank_fall"] is None for c in control) else aim


def _range(values, unit: str = "") -> str:
    """'231–238' or '0.914–0.929' (as _num writes each end in `unit`), or '390' when both ends read the same."""
    lo, hi = _num(min(values), unit), _num(max(values), unit)
    return lo if lo == hi else f"{lo}–{hi}"


# What each prediction the answer grades expects, in a few words (answer_words quotes them beside their grades)
PREDICTED_CLIMB = {"earlier": "an earlier climb", "unchanged": "a climb at the control's time",
                   "later_or_never": "a much later climb or none"}
RANK_TIMING_WORDS = {"falls_with_climb": "a climb comes only with a rank fall, at or before its start",
                     "follows_rank": "the climb starts where the rank falls"}


def _graded_on(pairs, control: list) -> str:
    """'held on 0 of 4 seeds (2 of 4 with a margin of 6,670 steps)': one or more predictions graded over their seeds
    (`pairs`: (keyword, part, measure() dict) each; `held`) under the declared margin, then under each other margin
    of MARGIN_SWEEP that counts differently; '' when no seed tests them."""
    def count(margin):
        return [h for kw, part, m in pairs if (h := held(kw, part, m, control, margin)) is not None]

    res = count(MARGIN_STEPS)
    if not res:
        return ""
    other = [f"{sum(r):,} of {len(r):,} with a margin of {mg:,} steps" for mg in MARGIN_SWEEP
             if mg != MARGIN_STEPS and sum(r := count(mg)) != sum(res)]
    return (f"held on {sum(res):,} of {len(res):,} seed{'s' * (len(res) != 1)}"
            + (f" ({'; '.join(other)})" if other else ""))


def _clamp_sentence(by_key: dict, control: list, mid: int) -> str:
    """answer_words' first sentence: the norm clamps' climbs against the control's median start `mid` and their final
    test accuracies, each with the weight-norm story's onset prediction graded; '' when no clamp is recorded."""
    clamps = [k for k in INTERVENTIONS if k in by_key and k not in PENALTY_AIMS]
    every = [m for k in clamps for m in by_key[k] if not untestable(m)]
    if not every:
        unfit = [m for k in clamps for m in by_key[k]]
        return (f"with the weight norm held fixed, no run fit its training set ({len(unfit):,} of {len(unfit):,})"
                if unfit else "")
    caccs = [c["final_acc"] for c in control if c.get("final_acc") is not None]
    up = _climbed(every)
    accs = [m["final_acc"] for m in up if m.get("final_acc") is not None]
    lower = bool(accs and caccs) and max(accs) < min(caccs)
    lead = ("with the weight norm held fixed, the test accuracy never climbed" if not up else
            "with the weight norm held fixed, the test accuracy still climbed"
            + (f" on {len(up):,} of {len(every):,} runs" if len(up) < len(every) else "")
            + (", to a lower final test accuracy than the control's" if lower else "")
            + (f" ({_range(caccs, 'accuracy')})" if accs and caccs else ""))
    parts = []
    for k in clamps:
        ms, kw = [m for m in by_key[k] if not untestable(m)], PREDICTIONS[k]["norm"]["onset"].keyword
        if not ms:
            continue
        climbs = _climbed(ms)
        acc = [m["final_acc"] for m in climbs if m.get("final_acc") is not None]
        median = "the control's median"
        when = ("it never climbed" if not climbs else
                f"the climb started {_lag_words([m['onset'] - mid for m in climbs], median)}"
                + (f" on {_seeds(climbs)}" if len(climbs) < len(ms) else "")
                + (f" and ended at {_range(acc, 'accuracy')}" if acc and caccs else ""))
        graded_ = _graded_on([(kw, "onset", m) for m in ms], control)
        verdict = f"; the weight-norm story predicted {PREDICTED_CLIMB[kw]}: {graded_}" if graded_ else ""
        parts.append(f"with the {INTERVENTIONS[k][0].lower()}, {when} ({_seeds(ms)}{verdict})")
    return f"{lead}: " + ", and ".join(parts)


def _rank_sentence(by_key: dict, control: list) -> str:
    """answer_words' second sentence: in the intervention runs that climbed, when the mean hidden-layer rank first fell
    against the start of the climb, per intervention, beside the control's; then the rank story's two timing
    predictions (RANK_TIMING_WORDS) graded over every seed that tests them; '' when no run climbed."""
    climbs = {k: _climbed(by_key[k]) for k in INTERVENTIONS if k in by_key}
    climbs = {k: ms for k, ms in climbs.items() if ms}
    if not climbs:
        return ""
    each, never = [], []
    for k, ms in climbs.items():
        fell = [m for m in ms if m["rank_fall"] is not None]
        with_ = f"with the {INTERVENTIONS[k][0].lower()}"
        if not fell:
            never.append(with_)
            continue
        at0 = " (at its first reading, step 0)" if all(m["rank_fall"] == 0 for m in fell) else ""
        lag = _lag_words([m["rank_fall"] - m["onset"] for m in fell], "it" if each else "the climb")
        each.append(f"{lag} {with_}{at0}" + (f" (on {_seeds(fell)}; never on the others)" if len(fell) < len(ms)
                                             else ""))
    lags = [c["rank_fall"] - c["onset"] for c in control if None not in (c["rank_fall"], c["onset"])]
    ctrl = (f"in the control, {_lag_words(lags, 'the climb')}" if lags else "in the control it never fell")
    n = sum(map(len, climbs.values()))
    who = "the intervention run that climbed" if n == 1 else f"the {n:,} intervention runs that climbed"
    grades = []
    for kw, words in RANK_TIMING_WORDS.items():
        graded_ = _graded_on([(kw, part, m) for k in INTERVENTIONS if k in by_key for part in ("onset", "rank")
                              if PREDICTIONS[k]["rank"][part].keyword == kw for m in by_key[k]], control)
        if graded_:
            grades.append(f"\u201c{words}\u201d {graded_}")
    def listed(xs):
        return ", ".join(xs[:-1]) + (", and " if len(xs) > 2 else " and ") + xs[-1] if len(xs) > 1 else xs[0]

    rank = " and ".join(x for x in (f"first fell {listed(each)}" if each else "",
                                    f"never fell {listed(never)}" if never else "") if x)
    return (f"in {who}, the mean hidden-layer rank {rank} ({ctrl})"
            + (": the rank story's " + " and its ".join(grades) if grades else ""))


def _penalty_sentence(by_key: dict, control: list, ons: list) -> str:
    """answer_words' third sentence: whether the rank penalties gave a clean test of the two stories. A seed that
    broke training (its outputs collapsed, or it never fit) or missed the penalty's aim (PENALTY_AIMS) cannot; for the
    seeds that met the aim, where the climb started and which story's onset prediction that bore out. '' when no
    penalty is recorded."""
    pens = [k for k in PENALTY_AIMS if k in by_key]
    why, tested = [], []
    cf = [c["rank_fall"] for c in control if c["rank_fall"] is not None]
    ctrl_at = ("" if not cf else f", the control's at step {cf[0]:,}" if len(set(cf)) == 1 else
               f", the control's at steps {min(cf):,}–{max(cf):,}")
    for k in pens:
        aim, title = _aim(k, control), INTERVENTIONS[k][0].lower()
        gone = [m for m in by_key[k] if m.get("collapse") and untestable(m)]
        unfit = [m for m in by_key[k] if untestable(m) and m not in gone]
        missed = [m for m in by_key[k] if not untestable(m) and held(aim, "rank", m, control) is False]
        ok = [m for m in by_key[k] if not untestable(m) and m not in missed]
        if gone:
            why.append(f"the {title} broke training on {_seeds(gone)} (the outputs collapsed)")
        if unfit:
            why.append(f"the {title} never fit its training set on {_seeds(unfit)}")
        if missed:
            falls = [m["rank_fall"] for m in missed if m["rank_fall"] is not None]
            at = f": its rank first fell at {_at_steps(falls)}{ctrl_at}" if falls else ""
            why.append(f"the {title} missed its aim (\u201c{RULE_WORDS[aim]}\u201d) on {_seeds(missed)}{at}")
        if ok:
            onsets = _climbed(ok)
            agree = {st: [h for m in ok if (h := held(PREDICTIONS[k][st]["onset"].keyword, "onset", m, control))
                          is not None] for st in STORIES}
            names = [STORIES[st].split(" (")[0] for st, r in agree.items() if r and all(r)]
            start = (" or ".join(sorted({ONSET_WORDS[onset_class(m["onset"], ons)] for m in onsets}))
                     if onsets else "")
            tested.append(f"the {title} met its aim on {_seeds(ok)}"
                          + (f" and the climb started {start}" if start else " and the test accuracy never climbed")
                          + (f", as the {' and the '.join(names)} predicted" if names else
                             ", as neither story predicted on every seed" if any(agree.values()) else ""))
    if why and not tested:
        return (f"{'neither rank penalty gave' if len(pens) > 1 else 'the rank penalty did not give'} a clean test "
                "of the two stories: " + ", and ".join(why))
    return "; ".join(why + tested)


def answer_words(by_key: dict, control: list) -> str:
    """What the recorded interventions showed, in up to three sentences (measure() dicts by intervention key against
    the control's): the norm clamps' test climbs against the control's median start, with the weight-norm story's
    onset prediction graded (_clamp_sentence); when the rank fell against each climb, with the rank story's timing
    predictions graded (_rank_sentence); whether the penalties gave a clean test (_penalty_sentence). '' when nothing
    is recorded or the control never climbs. Each number and each word that judges comes from the measures."""
    import numpy as np

    ons = [c["onset"] for c in control if c["onset"] is not None]
    if not by_key or not ons:
        return ""
    mid = int(round(float(np.median(ons))))
    sentences = [w for w in (_clamp_sentence(by_key, control, mid), _rank_sentence(by_key, control),
                             _penalty_sentence(by_key, control, ons)) if w]
    return " ".join(f"{w[0].upper()}{w[1:]}." for w in sentences)


