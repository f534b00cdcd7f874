"""Beyond the paper: the pilots that chose each rank penalty's strength λ before any penalised run at full scale
(issue 26), their rule (stated before any pilot run), the picks, and the tables the interventions chapter shows.
The interventions themselves and their measures: grokkit.interventions."""
from __future__ import annotations

from .interventions import COLLAPSE_ACC, COLLAPSE_MSE, INTERVENTIONS, collapsed

# ---- the pilots: choosing each penalty's strength (stated before any pilot run) -----------------------------------
# A pilot is a PILOT_STEPS-step run of the intervention base (seed 0) with one penalty at one strength
# (grokkit.sweep.pilot_grid), beside the same run without a penalty (the reference). Over the window of its last
# PILOT_WINDOW steps, the rank is the mean over the hidden layers and over the window's snapshots; the effective rank
# (exp of the spectral entropy, tolerance-free and never saturated) decides, the two integer ranks are reported.
# The rule: per penalty, among the strengths that do not break training -- no divergence, and a train MSE at the last
# step at most PILOT_LOSS_MAX x the reference's -- the smallest that moves the effective rank by at least PILOT_SHIFT
# of the reference's in the penalty's direction (down for rank_down, up for rank_up). When none does, none is chosen
# (amended below for a pilot that collapsed, with a fallback for a penalty the rule picks nothing for)
# and the chapter says so.
PILOT_WINDOW = 2000     # steps: the window at the end of a pilot its rank is read over
PILOT_SHIFT = 0.10      # "measurably moves the rank": the effective rank moves >= 10 % of the reference's
PILOT_LOSS_MAX = 1.10   # "without breaking training": train MSE at the last step <= 1.1 x the reference's
DIRECTION = {"nuclear_over_frobenius": -1, "neg_spectral_entropy": +1}  # the way each penalty pushes the rank
PENALTY_TITLES = {"nuclear_over_frobenius": INTERVENTIONS["rank_down"][0],
                  "neg_spectral_entropy": INTERVENTIONS["rank_up"][0]}


def pilot_measure(run) -> dict:
    """One pilot's numbers: the hidden layers' mean effective, robust and paper-exact rank over its last PILOT_WINDOW
    steps, and its train MSE, train and test accuracy at its last evaluation; the geometric mean of its train MSE
    over the window's evaluations (train_loss_window: read by the robustness check only); whether it diverged; the
    train MSE of the best constant output on its training set (constant_mse: read by the collapse test)."""
    import numpy as np

    from .data import constant_mse
    from .events import hidden_mean

    h = run.history
    rs = np.asarray(h["rank_step"])
    win = rs >= rs[-1] - PILOT_WINDOW if len(rs) else rs.astype(bool)

    def mean_rank(key):  # over the window's snapshots of the mean over the hidden layers
        return float(np.mean(hidden_mean(np.asarray(h[key])[win]))) if win.any() else float("nan")

    s, loss = np.asarray(h["step"]), np.asarray(h["train_loss"], dtype=float)
    w = loss[s >= s[-1] - PILOT_WINDOW]
    return {"eff_rank": mean_rank("eff_rank"), "robust_rank": mean_rank("robust_rank"), "rank": mean_rank("rank"),
            "train_loss": float(h["train_loss"][-1]),
            "train_loss_window": float(np.exp(np.mean(np.log(w)))) if (w > 0).all() else float("nan"),
            "train_acc": float(h["train_acc"][-1]),
            "test_acc": float(h["test_acc"][-1]), "diverged": bool(run.diverged),
            "constant_mse": constant_mse(run.config.n_train)}


def pilot_outcome(kind: str, m: dict, ref: dict, loss_max: float = PILOT_LOSS_MAX,
                  shift: float = PILOT_SHIFT, loss: str = "train_loss", collapse: bool = True) -> tuple[bool, bool]:
    """(breaks training, moves the rank) of one pilot's pilot_measure `m` against the reference's `ref`, under the
    rule's bounds (`loss_max`, `shift`: PILOT_LOSS_MAX and PILOT_SHIFT unless a robustness check sweeps them) and its
    reading of the train MSE (`loss`: the last evaluation's, "train_loss", unless the check reads the window's
    geometric mean, "train_loss_window"). With `collapse` (the amended rule; False: the rule as committed), a pilot
    whose outputs collapsed (`collapsed`) breaks training too."""
    import math

    breaks = (m["diverged"] or not math.isfinite(m[loss]) or m[loss] > loss_max * ref[loss]
              or (collapse and collapsed(m)))
    moves = DIRECTION[kind] * (m["eff_rank"] - ref["eff_rank"]) >= shift * ref["eff_rank"]
    return bool(breaks), bool(moves)


def choose_strength(kind: str, pilots: dict, ref: dict, loss_max: float = PILOT_LOSS_MAX,
                    shift: float = PILOT_SHIFT, loss: str = "train_loss", collapse: bool = True):
    """The strength the rule picks for penalty `kind` from {λ: pilot_measure} against the reference's measure:
    the smallest λ that moves the rank without breaking training; None when no strength does. `collapse`: the amended
    rule (default) or the rule as committed (False), pilot_outcome."""
    for lam in sorted(pilots):
        breaks, moves = pilot_outcome(kind, pilots[lam], ref, loss_max, shift, loss, collapse)
        if moves and not breaks:
            return lam
    return None


# How the pick holds up (a check added after the reference and the first pilot, λ = 0.01 of the rank held up, were
# seen, and before any other pilot; it reads the rule as amended for a collapse, and decides nothing). At step 10,000
# the train MSE is still falling and swings between evaluations (loss_readings_md), so one reading at the last step
# can call a run "broken" that differs from the reference by the luck of that reading: λ = 0.01 of the rank held up
# left the rank where it was and read 1.13 x the reference's MSE. So the pick is also read with the loss bound swept
# up to 2 x and the rank shift from 5 % to 20 %; a pick that moves within these is called fragile.
PILOT_LOSS_SWEEP = (1.1, 1.25, 1.5, 2.0)   # train-MSE bounds swept (PILOT_LOSS_MAX the first)
PILOT_SHIFT_SWEEP = (0.05, 0.10, 0.20)     # rank shifts swept (PILOT_SHIFT among them)


def loss_readings_md(ref_run, pilot_runs) -> str:
    """How much one train-MSE reading at a pilot's last step can tell, in words: the reference's readings over its
    last PILOT_WINDOW steps (lowest and highest, and where the last one falls), and each pilot's last and
    second-to-last readings over the reference's at the same evaluations (the ranges over `pilot_runs`)."""
    import numpy as np

    s, loss = np.asarray(ref_run.history["step"]), np.asarray(ref_run.history["train_loss"], dtype=float)
    win = loss[s >= s[-1] - PILOT_WINDOW]
    text = (f"Over its last {PILOT_WINDOW:,} steps the reference's train MSE read between {win.min():,.0f} and "
            f"{win.max():,.0f} at its {len(win)} evaluations"
            + (", its last reading the lowest" if win[-1] == win.min() else "") + ".")
    ratios = [np.asarray(r.history["train_loss"], dtype=float)[-2:] / loss[-2:] for r in pilot_runs
              if len(r.history["train_loss"]) == len(loss)]
    if ratios:
        before, last = np.array(ratios).T
        text += (f" The {len(ratios)} penalised pilots read {before.min():.2f} to {before.max():.2f} × the "
                 f"reference's one evaluation before the last, and {last.min():.2f} to {last.max():.2f} × at the "
                 "last: one reading swings that much.")
    return text


def pilot_window_md(control_runs, onsets, steps: int) -> str:
    """What the control's records say of the window the pilots read (steps `steps` - PILOT_WINDOW to `steps`)
    against the start of its test climb (`onsets`: each run's, from measure(); None: no climb), in words: its train
    MSE there and at the climb (the decades between them), and its mean hidden-layer effective rank in the window, at
    its peak, at the climb and at its last step, over every control seed that climbs. At a fixed strength λ the
    penalty's share of the loss grows as the MSE shrinks, so this says how far a strength chosen in the pilots' window
    carries to where the rank moves. '' without a control run that climbs."""
    import math

    import numpy as np

    from .events import hidden_mean

    rows = []
    for r, on in zip(control_runs, onsets):
        if on is None or on <= steps or on > r.history["step"][-1]:  # only a climb after the pilots' window
            continue
        h = r.history
        s, loss = np.asarray(h["step"]), np.asarray(h["train_loss"], dtype=float)
        rs, eff = np.asarray(h["rank_step"]), hidden_mean(h["eff_rank"])

        def at(xs, ys, t):
            return float(ys[min(int(np.searchsorted(xs, t)), len(xs) - 1)])

        win = eff[(rs >= steps - PILOT_WINDOW) & (rs <= steps)]
        rows.append({"pilot_loss": at(s, loss, steps), "onset_loss": at(s, loss, on),
                     "eff": (float(win.min()), float(win.max())) if len(win) else (at(rs, eff, steps),) * 2,
                     "eff_mean": float(win.mean()) if len(win) else at(rs, eff, steps),
                     "eff_onset": at(rs, eff, on),
                     "eff_last": float(eff[-1]), "peak": float(eff.max()), "peak_step": int(rs[int(eff.argmax())])})
    if not rows:
        return ""

    def span(key, fmt, f=lambda v: v):
        vs = [f(r[key]) for r in rows]
        lo, hi = min(vs), max(vs)
        return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)} to {fmt.format(hi)}"

    dec = [math.log10(r["pilot_loss"] / r["onset_loss"]) for r in rows]
    for r, d in zip(rows, dec):
        r["dec"] = d
    n = f"{len(rows)} seed{'s' * (len(rows) != 1)}"
    return (f"**What the pilots' window can tell.** In the control ({n}), the train MSE at step ≈{steps:,} is "
            f"{span('pilot_loss', '{:,.0f}')} and at the start of the test climb {span('onset_loss', '{:.3g}')}: "
            f"{span('dec', '{:.1f}')} decades lower. Over the pilots' window (steps "
            f"{steps - PILOT_WINDOW:,} to {steps:,}) the mean hidden-layer effective rank moves by "
            f"{max(r['eff'][1] - r['eff'][0] for r in rows):.1f} at most (its mean over the window: "
            f"{span('eff_mean', '{:.1f}')}, the pilots' reading); it peaks at {span('peak', '{:.1f}')} (steps "
            f"{span('peak_step', '{:,}')}), is {span('eff_onset', '{:.1f}')} at the start of the climb and "
            f"{span('eff_last', '{:.1f}')} at the last step. So the pilots read each penalty where the control's rank "
            "barely moves and the fit is far from done; and at a fixed λ the penalty's share of the loss grows as "
            f"the MSE shrinks, about {10 ** round(min(dec)):,}-fold between the pilots' last step and the climb.")


PILOT_LOSS_READINGS = {"train_loss": "last", "train_loss_window": "window"}  # the train MSE read at the last step
#   (the rule's) or as the geometric mean over the window's evaluations (added after the second round's first three
#   pilots, when one reading was seen to swing by a third between evaluations)


def pick_sweep(kind: str, pilots: dict, ref: dict) -> dict:
    """{(loss bound, rank shift, MSE reading): the strength choose_strength picks} over PILOT_LOSS_SWEEP x
    PILOT_SHIFT_SWEEP x the readings of PILOT_LOSS_READINGS the measures carry ("last" always)."""
    readings = [k for k in PILOT_LOSS_READINGS if all(k in m for m in [ref, *pilots.values()])]
    return {(lm, sh, PILOT_LOSS_READINGS[rd]): choose_strength(kind, pilots, ref, lm, sh, rd)
            for rd in readings for lm in PILOT_LOSS_SWEEP for sh in PILOT_SHIFT_SWEEP}


def sweep_decided(picks: dict, recorded, strengths) -> bool:
    """Whether every pick of pick_sweep over the `recorded` strengths stands: each combination's pick, the smallest
    strength that works under it, stands once every strength of `strengths` up to it is recorded, and "none" once
    all are (a pilot not run yet could only pick below its combination's pick)."""
    missing = set(strengths) - set(recorded)
    return all(not missing if lam is None else not {v for v in missing if v <= lam} for lam in picks.values())


def pick_sweep_words(kind: str, pilots: dict, ref: dict, strengths) -> str:
    """How one penalty's pick holds up over pick_sweep, in words, once every combination's pick stands
    (sweep_decided: every strength up to it recorded); '' before, when a pilot not yet run could still move one."""
    picks = pick_sweep(kind, pilots, ref)
    if not sweep_decided(picks, pilots, strengths):
        return ""
    rule = choose_strength(kind, pilots, ref)

    def say(lam):
        return f"λ = {lam:g}" if lam is not None else "no strength"

    lm, sh = (f"{PILOT_LOSS_SWEEP[0]:g} to {PILOT_LOSS_SWEEP[-1]:g} × the reference's train MSE",
              f"{PILOT_SHIFT_SWEEP[0] * 100:.0f} % to {PILOT_SHIFT_SWEEP[-1] * 100:.0f} %")
    window = any(k[2] == "window" for k in picks)
    read = " (read at the last step or as the window's geometric mean)" if window else ""
    head = f"over loss bounds of {lm}{read} and rank shifts of {sh} ({len(picks)} combinations),"
    if all(v == rule for v in picks.values()):
        if rule is None:
            return f"{head} no strength is picked under any of them, as under the rule: it holds."
        return f"{head} the rule's reading stays {say(rule)}: it holds."
    other = sorted({v for v in picks.values() if v != rule}, key=lambda v: (v is None, v or 0))
    where = "; ".join(f"{say(v)} {_combinations_words(picks, v)}" for v in other)
    n = sum(v == rule for v in picks.values())
    return (f"{head} the rule's reading ({say(rule)}) holds in {n} of {len(picks)}; elsewhere it would be {where}: "
            "fragile.")


def _combinations_words(picks: dict, value) -> str:
    """The combinations of pick_sweep whose pick is `value`, grouped in words: per reading, the shifts that share the
    same loss bounds ('at 10 % and 20 % shifts under 1.5 × and 2 × (read at the last step)'); readings with the same
    groups are named together."""
    readings = list(dict.fromkeys(k[2] for k in picks))
    groups: dict = {}  # (bounds, shifts) -> readings
    for rd in readings:
        by_bounds: dict = {}
        for sh in PILOT_SHIFT_SWEEP:
            bounds = tuple(lm for lm in PILOT_LOSS_SWEEP if picks.get((lm, sh, rd), object()) == value)
            if bounds:
                by_bounds.setdefault(bounds, []).append(sh)
        for bounds, shifts in by_bounds.items():
            groups.setdefault((bounds, tuple(shifts)), []).append(rd)
    names = {"last": "read at the last step", "window": "read over the window"}

    def phrase(bounds, shifts, rds):
        sh = " and ".join(f"{v * 100:.0f} %" for v in shifts) + (" shifts" if len(shifts) > 1 else " shift")
        lm = ("every loss bound" if bounds == PILOT_LOSS_SWEEP else
              ("" if len(bounds) > 1 else "a ") + " and ".join(f"{v:g} ×" for v in bounds)
              + (" bounds" if len(bounds) > 1 else " bound"))
        read = "read either way" if len(rds) == len(readings) > 1 else " or ".join(names[r] for r in rds)
        return f"at {'a ' if len(shifts) == 1 else ''}{sh} under {lm} ({read})"

    return ", and ".join(phrase(b, sh, rds) for (b, sh), rds in groups.items())


def pick_words(lam, recorded, strengths) -> str:
    """What the rule has decided for one penalty, in words: its choice `lam` (choose_strength over the `recorded`
    strengths) stands only once every strength of `strengths` up to it is recorded (the smallest that works); no
    choice stands only once all are."""
    below = {v for v in strengths if lam is None or v <= lam}
    if not below <= set(recorded):
        return f"not decided yet ({len(set(recorded))} of its {len(strengths)} pilots recorded)"
    return f"λ = {lam:g}" if lam is not None else "no strength moves the rank without breaking training"


# The full-scale strengths. Where the rule picks a strength, the full-scale runs use it. Where it picks none, the rule
# as first written leaves that intervention out; instead we run it at the pick under the loosest train-MSE bound of
# the robustness check above, FALLBACK_LOSS_MAX (2 x the reference's at the last step; that check was declared before
# any second-round pilot ran), the rule's other terms unchanged. This fallback is a deviation from the rule, declared
# after the rank held up's second-round pilots at FALLBACK_AFTER were seen and before the results of its others came
# in (each of those
# that moved its rank read above 1.1 x the reference's MSE at the last step, while the first round showed one reading
# swinging that much between pilots that changed nothing); the chapter says so beside the picks and in every verdict
# resting on it.
FALLBACK_LOSS_MAX = PILOT_LOSS_SWEEP[-1]
FALLBACK_AFTER = (0.01, 0.03, 0.1)  # the second-round strengths of the rank held up recorded when it was declared


def full_scale_strength(kind: str, pilots: dict, ref: dict) -> tuple:
    """(λ, whether it deviates from the rule as committed) for the full-scale runs of penalty `kind`, from its pilots
    {λ: pilot_measure}: the amended rule's pick (choose_strength), or, when it picks none, the fallback's, the pick
    under FALLBACK_LOSS_MAX; None when neither picks. It deviates when it differs from the committed rule's pick
    (choose_strength with collapse=False)."""
    lam = choose_strength(kind, pilots, ref)
    if lam is None:
        lam = choose_strength(kind, pilots, ref, loss_max=FALLBACK_LOSS_MAX)
    return lam, lam != choose_strength(kind, pilots, ref, collapse=False)


def unrun_picks(missing: dict, pilots_by_kind: dict, ref: dict) -> dict:
    """{kind: λ} for each penalty kind of `missing` ({kind: [λ not recorded]}) whose rule's pick (choose_strength,
    as amended, from its recorded pilots {λ: pilot_measure}) is smaller than every missing λ: the rule takes the
    smallest strength that works, so none of them can change the pick. A kind without a pick (or only the
    fallback's) is left out: a larger strength could still be the rule's pick."""
    out = {}
    for kind, lams in missing.items():
        lam = choose_strength(kind, pilots_by_kind.get(kind, {}), ref)
        if lam is not None and min(lams) > lam:
            out[kind] = lam
    return out


def unrun_md(missing: dict, picks: dict) -> str:
    """Why the pilots of `picks` (unrun_picks) are not run, in words; '' when there are none."""
    out = []
    for kind, lam in picks.items():
        vs = [f"{v:g}" for v in sorted(missing[kind])]
        listed = vs[0] if len(vs) == 1 else ", ".join(vs[:-1]) + " and " + vs[-1]
        out.append(f"{PENALTY_TITLES[kind].lower()}'s λ = {listed} {'is' if len(vs) == 1 else 'are'} not run: the "
                   f"rule takes the smallest strength that moves the rank without breaking training, here {lam:g}, "
                   "so no larger one can change its pick")
    return ("The " + "; the ".join(out) + ".") if out else ""


def full_scale_md(pilots_by_kind: dict, ref: dict, strengths, control_runs=()) -> str:
    """The strengths the full-scale penalised runs use, in words, per penalty: the rule's pick; where the rule as
    committed picked a pilot that collapsed (`collapsed`), that pilot's numbers and the amendment, with the train
    accuracy at which each of `control_runs` first reads the same MSE; where the amended rule picks none, the fallback's
    pick (full_scale_strength) with each strength that moved the rank and its train MSE against the reference's, and
    that both are deviations; "not decided yet" while the pick could still move (pick_words). `pilots_by_kind`:
    {kind: {λ: pilot_measure}} of the second round; `strengths`: its candidates."""
    import numpy as np

    from .fmt import signed

    def shift(m):
        return f"{signed(100 * (m['eff_rank'] - ref['eff_rank']) / ref['eff_rank'], '+.1f')} %"

    def control_at(loss):  # (steps, train accuracies) where each control run first reads a train MSE <= loss
        hits = [(int(r.history["step"][i]), float(r.history["train_acc"][i])) for r in control_runs
                for i in [int(np.argmax(np.asarray(r.history["train_loss"], dtype=float) <= loss))]
                if np.asarray(r.history["train_loss"], dtype=float)[i] <= loss]
        if not hits:
            return ""
        steps, accs = zip(*hits)

        def span(vs, fmt):
            lo, hi = fmt.format(min(vs)), fmt.format(max(vs))
            return lo if lo == hi else f"{lo} to {hi}"

        return (f"; the control ({len(hits)} seed{'s' * (len(hits) != 1)}) first reads that MSE at step"
                f"{'s' * (min(steps) != max(steps))} {span(steps, '{:,}')}, at a train accuracy of "
                f"{span(accs, '{:.3f}')}, fitting the training set")

    out = []
    for kind, title in PENALTY_TITLES.items():
        pilots = pilots_by_kind.get(kind, {})
        lam = full_scale_strength(kind, pilots, ref)[0]
        rule, committed = choose_strength(kind, pilots, ref), choose_strength(kind, pilots, ref, collapse=False)
        fallback = rule is None and lam is not None
        words = pick_words(rule, pilots, strengths)
        if words.startswith("not decided"):
            out.append(f"- {title}: {words}.")
            continue
        amended = ""
        if committed != rule:
            m = pilots[committed]
            amended = (f"As committed, the rule picks λ = {committed:g}: its pilot moved the rank {shift(m)} and read "
                       f"{loss_ratio(m['train_loss'] / ref['train_loss'])} the reference's train MSE at the last step. "
                       f"But that MSE, {m['train_loss']:.3g}, is {m['train_loss'] / m['constant_mse']:.2f} × the best "
                       f"constant output's ({m['constant_mse']:.3g}), at a train accuracy of {m['train_acc']:.3f}: "
                       f"the MSE of a near-constant output, not of a fit{control_at(m['train_loss'])}. The MSE test "
                       "cannot see a collapse, so the rule is amended (declared after this pilot was seen): a "
                       f"pilot whose train MSE is at most {COLLAPSE_MSE:g} × the best constant output's at a train "
                       f"accuracy below {COLLAPSE_ACC:g} has collapsed and breaks training. ")
        if not fallback:
            pick = f"λ = {rule:g}, the {'amended ' if amended else ''}rule's pick" if rule is not None else words
            out.append(f"- {title}: {'**' + pick + '.**' if amended else pick + '.'}"
                       + (f" {amended.strip()}" if amended else ""))
            continue
        moved = [v for v in sorted(pilots) if pilot_outcome(kind, pilots[v], ref)[1] and v != committed]

        def read(v, pilots=pilots):  # why a pilot that moved the rank breaks training, in its numbers
            m = pilots[v]
            if m["diverged"]:
                return f"λ = {v:g}: {shift(m)}, diverged"
            why = "collapsed, " if collapsed(m) else ""
            return (f"λ = {v:g}: {shift(m)}, {why}{loss_ratio(m['train_loss'] / ref['train_loss'])} at the last step"
                    + (f", {loss_ratio(m['train_loss_window'] / ref['train_loss_window'])} over the window"
                       if "train_loss_window" in m and "train_loss_window" in ref else ""))

        n = "two declared deviations" if amended else "a declared deviation"
        later = [v for v in strengths if v not in FALLBACK_AFTER]
        known = (f": the pilot at λ = {lam:g} was among those seen, so this bound was known to pick it when it was "
                 "chosen" if lam in FALLBACK_AFTER else "")
        out.append(f"- {title}: **λ = {lam:g}, by {n} from the rule.** {amended}"
                   f"{'Amended, the' if amended else 'The'} rule picks no strength: each "
                   f"{'other ' if amended else ''}strength that moved the rank breaks training "
                   f"({'; '.join(read(v) for v in moved)}, against a bound of {PILOT_LOSS_MAX:g} × the reference's "
                   "train MSE at the last step). As first written, the rule would leave this intervention out. We run "
                   f"it instead at the pick under the robustness check's loosest bound, {FALLBACK_LOSS_MAX:g} × at the "
                   "last step (that check was declared before any second-round pilot ran). This fallback was declared "
                   f"after the pilots at λ = {', '.join(f'{v:g}' for v in FALLBACK_AFTER)} were seen"
                   + (f" and before the results at λ = {', '.join(f'{v:g}' for v in later)} came in" if later else "")
                   + f"{known}. The verdicts below say where they rest on it.")
    return "**The strengths of the full-scale runs.**\n\n" + "\n".join(out)


def loss_ratio(r: float) -> str:
    """A pilot's train MSE over the reference's, with as many decimals (2 to 6) as it takes to tell it from the rule's
    bound PILOT_LOSS_MAX, and two significant digits below 0.01: '1.13 ×', '1.10003 ×', '0.000049 ×'."""
    import math

    if 0 < r < 0.01:
        return f"{r:.{1 - math.floor(math.log10(r))}f} ×"
    for k in range(2, 7):
        if round(r, k) != PILOT_LOSS_MAX:
            break
    return f"{r:,.{k}f} ×"


def pilots_by_kind(pilot_runs, scale: str) -> dict:
    """{penalty kind: {λ: pilot_measure}} of the penalised pilots among `pilot_runs` on round `scale` (their
    rank_penalty_scale: "loss" the first round, "gradient" the second)."""
    out: dict = {}
    for r in pilot_runs:
        if r.config.rank_penalty_kind != "none" and r.config.rank_penalty_scale == scale:
            out.setdefault(r.config.rank_penalty_kind, {})[r.config.rank_penalty] = pilot_measure(r)
    return out


def pilot_table(pilot_runs, scale: str = "loss") -> tuple[str, dict]:
    """The pilots as a Markdown table (the reference first, then each penalty by strength: the effective rank with
    its shift against the reference, the robust rank, train MSE and accuracy, and the rule's reading), and the strength
    the rule picks per penalty {kind: λ or None}. `pilot_runs`: the recorded pilots, the reference among them (the
    run without a penalty); the penalised ones of round `scale` (their rank_penalty_scale) are read, the others left
    out. Raises ValueError when the reference is missing."""
    from .fmt import num, signed

    ref_runs = [r for r in pilot_runs if r.config.rank_penalty_kind == "none"]
    if not ref_runs:
        raise ValueError("pilot_runs: the pilot without a penalty (the reference) is not recorded")
    ref = pilot_measure(ref_runs[0])
    by_kind = pilots_by_kind(pilot_runs, scale)
    title = PENALTY_TITLES
    rows = ["| penalty | λ | effective rank (shift) | robust rank | train MSE (× the reference's: last step; window) "
            "| train accuracy | reading |",
            "|---|---|---|---|---|---|---|"]

    def window(m):  # the window's geometric mean, as the robustness check reads it
        if "train_loss_window" not in m or "train_loss_window" not in ref:
            return ""
        return f"; window {loss_ratio(m['train_loss_window'] / ref['train_loss_window'])}"

    def row(name, lam, m, reading):
        pct = 100 * (m["eff_rank"] - ref["eff_rank"]) / ref["eff_rank"]
        shift = "" if m is ref else f" ({signed(pct, '+.1f')} %)" if round(pct, 1) else " (0.0 %)"
        loss = f"{m['train_loss']:,.0f}" if abs(m["train_loss"]) >= 100 else num(m["train_loss"])
        return (f"| {name} | {lam} | {m['eff_rank']:.1f}{shift} | {m['robust_rank']:.1f} | {loss}"
                f"{'' if m is ref else ' (' + loss_ratio(m['train_loss'] / ref['train_loss']) + window(m) + ')'} | "
                f"{num(m['train_acc'], 'accuracy')} | {reading} |")

    rows.append(row("none (the reference)", "0", ref, "–"))
    from .sweep import PILOT_STRENGTHS_GRADIENT, RANK_PENALTY_SCALE

    chosen = {}
    for kind in DIRECTION:
        pilots = by_kind.get(kind, {})
        chosen[kind] = choose_strength(kind, pilots, ref)
        # the full-scale runs' strength where the fallback set it (every strength of the round recorded)
        full = (full_scale_strength(kind, pilots, ref)[0] if scale == RANK_PENALTY_SCALE and chosen[kind] is None
                and set(PILOT_STRENGTHS_GRADIENT) <= set(pilots) else None)
        for lam in sorted(pilots):
            breaks, moves = pilot_outcome(kind, pilots[lam], ref)
            reading = ("collapsed: breaks training" if collapsed(pilots[lam]) else "breaks training" if breaks
                       else "moves the rank" if moves else "rank not moved")
            if lam == chosen[kind]:
                reading += " (chosen)"
            elif lam == full:
                reading += " (run at full scale by the fallback, below)"
            rows.append(row(title[kind], f"{lam:g}", pilots[lam], reading))
    return "\n".join(rows) + "\n", chosen


def pilot_rule_md(steps: int, strengths, deviated: bool = False) -> str:
    """The pilots (`steps` long, at each of `strengths`) and their rule in words, from its constants; with `deviated`
    (a full-scale strength departs from it: full_scale_strength), a pointer to where the chapter says how."""
    lams = ", ".join(f"{v:g}" for v in strengths)
    return (f"Each pilot is the base configuration on seed 0 for {steps:,} steps: once without a penalty (the "
            f"reference), and in the first round once per penalty at each strength λ = {lams}, with λ × the penalty "
            "added to the MSE loss.\n\n"
            f"**The rule, fixed before any pilot ran.** Each pilot is read over its last {PILOT_WINDOW:,} steps: the "
            "mean over the hidden layers and those snapshots of the effective rank (the exponential of the spectral "
            "entropy: tolerance-free, and it moves before an integer rank does). A strength *breaks training* when "
            f"the run diverges or its train MSE at the last step exceeds {PILOT_LOSS_MAX:g} × the reference's; it "
            "*moves the rank* when the effective rank differs from the reference's by at least "
            f"{PILOT_SHIFT * 100:.0f} % in the penalty's direction (down for the rank pushed down, up for the rank "
            "held up). Per penalty the "
            "smallest strength that moves the rank without breaking training is chosen; if none does, none is, and "
            "that intervention is not run at full scale."
            + (" The rule was later amended and, for one penalty, set aside: *The strengths of the full-scale runs*, "
               "below, says how, why and after which pilots." if deviated else ""))


def second_round_md(pilot_runs, strengths) -> str:
    """Why there is a second round of pilots and what it is, in words, from the first round's recorded pilots
    (`pilot_runs`, the reference among them; the penalised ones on the "loss" scale are read): the largest shift of
    the effective rank any of them made, then the gradient scale and its `strengths`. The strengths of the first
    round the decision came after are grokkit.sweep.SECOND_ROUND_AFTER."""
    from .sweep import SECOND_ROUND_AFTER

    ref = pilot_measure(next(r for r in pilot_runs if r.config.rank_penalty_kind == "none"))
    first = [r for r in pilot_runs if r.config.rank_penalty_kind != "none" and r.config.rank_penalty_scale == "loss"]
    shifts = [100 * abs(pilot_measure(r)["eff_rank"] - ref["eff_rank"]) / ref["eff_rank"] for r in first]
    after = ", ".join(f"{v:g}" for v in SECOND_ROUND_AFTER)
    lams = ", ".join(f"{v:g}" for v in strengths)
    moved = (f"None of the first round's {len(first)} penalised pilots moved the effective rank by more than "
             f"{max(shifts):.1f} % either way" if shifts else "The first round has no penalised pilot recorded")
    return (f"**Second round: the penalty's pull scaled to the fit's.** {moved}. A penalty added to the loss weighs "
            "little while the MSE is in the thousands and ever more as it falls, so no strength chosen in the "
            "pilots' window means the same at the climb (above). In the second round, decided after the first "
            f"round's λ = {after} and before any pilot of its own, each step the penalty's gradient is added to the "
            "MSE's rescaled to λ × the norm of the MSE's gradient: a pull of the same size, relative to the fit, at "
            f"every step. The same rule picks λ among {lams}; the full-scale penalised runs use this scale.")
