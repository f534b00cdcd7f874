"""The interventions chapter's tables (Markdown), computed from the records: the predictions, the measures, the
cost, the grades as rows (verdict_rows), Omnigrok's horizon.
The chapter's findings are written in the chapter itself."""
from __future__ import annotations

from .fmt import num as _num
from .interventions import (
    DECLARED,
    INTERVENTIONS,
    PENALTY_KEYS,
    PREDICTIONS,
    STORIES,
    Prediction,
    graded,
    graded_checks,
    measure,
    untestable,
)


def predictions_md() -> str:
    """The predictions as a Markdown table: one row per intervention, per story its onset and its rank; a check
    (Prediction.check) is marked so, and a note under the table says what a check is."""
    def cell(p: Prediction) -> str:
        return f"*check:* {p.words}" if p.check else p.words

    head = ("| intervention | weight-norm story: start of the test climb | weight-norm story: rank | "
            "rank story: start of the test climb | rank story: rank |")
    rows = [head, "|---|---|---|---|---|"]
    for key, (title, _) in INTERVENTIONS.items():
        p = PREDICTIONS[key]
        rows.append(f"| **{title}** | {cell(p['norm']['onset'])} | {cell(p['norm']['rank'])} | "
                    f"{cell(p['rank']['onset'])} | {cell(p['rank']['rank'])} |")
    if any(p.check for story in PREDICTIONS.values() for parts in story.values() for p in parts.values()):
        rows.append("\n*Check:* what a penalty sets out to do to the rank, which neither story predicts from its "
                    "own account. It is read as a check that the intervention acted, reported apart from the "
                    "predictions, and counts toward neither story's badge. These cells were marked as checks after "
                    "every intervention run was seen; their words and tests are the ones stated before any run.")
    return "\n".join(rows)


def interventions_md() -> str:
    """The four interventions in words, a numbered Markdown list."""
    return "\n".join(f"{i}. **{title}**: {what}." for i, (title, what) in enumerate(INTERVENTIONS.values(), 1))


def measures_md(runs, control_measures=None) -> str:
    """One row per run: start of the test climb, its shift against the control's median (the control's own seeds'
    range in the header), final test accuracy, first fall and last value of the mean hidden-layer rank (paper-exact),
    weight norm at the start of the climb and at the end, wall time. A stand-in says so."""
    import numpy as np

    from .events import run_label
    from .fmt import signed
    from .records import is_stand_in

    ons = [c.onset for c in control_measures or [] if c.onset is not None]
    mid = float(np.median(ons)) if ons else None
    width = runs[0].config.width if runs else 0
    spread = (f" (its seeds: {signed(min(ons) - mid)} to {signed(max(ons) - mid)} steps)" if ons else "")
    rows = [f"| run | start of the test climb | shift against the control's median{spread} | final test accuracy | "
            f"first rank fall | mean hidden-layer rank at the end (of {width:,}) | "
            "weight norm at the start of the climb → at the end | wall time |",
            "|---" * 8 + "|"]
    for r in runs:
        m = measure(r)
        shift = "–" if m.onset is None or mid is None or untestable(m) else f"{signed(m.onset - mid)} steps"
        onset = "never fit" if untestable(m) else "no climb" if m.onset is None else f"step {m.onset:,}"
        fall = "no fall" if m.rank_fall is None else f"step {m.rank_fall:,}"
        rows.append(f"| {run_label(r)}{' (stand-in)' if is_stand_in(r) else ''} | "
                    f"{onset} | {shift} | {_num(m.final_acc, 'accuracy')} | {fall} | {_num(m.rank_end)} | "
                    f"{_num(None if untestable(m) else m.norm_at_onset)} → {_num(m.norm_end)} | "
                    f"{m.wall_min:,.1f} min |")
    return "\n".join(rows) + "\n"


def recorded_line(configs, records_dir=None) -> str:
    """How many of the grid's runs have a record in the results folder, and which do not yet."""
    from .events import config_label
    from .records import record_path

    todo = [config_label(c) for c in configs if not record_path(c, records_dir).exists()]
    n = len(configs) - len(todo)
    line = f"{n} of the {len(configs)} intervention runs {'is' if n == 1 else 'are'} recorded"
    return line + (f"; not recorded yet: {'; '.join(todo)}." if todo else ".")


BENCH_FILE = "bench/cpu_1thread.json"  # the shipped one-thread benchmark (`python -m grokkit bench --threads 1`)


def bench_variant(key: str) -> str:
    """The benchmark's name (grokkit.bench.variant_name) for the step of intervention `key`: the full-scale runs'
    penalties are on sweep.RANK_PENALTY_SCALE."""
    from .bench import variant_name
    from .sweep import RANK_PENALTY_SCALE

    if key in ("norm_init", "norm_low"):
        return "norm_clamp"
    return variant_name({v: k for k, v in PENALTY_KEYS.items()}[key], RANK_PENALTY_SCALE)


def _span(values, unit: str) -> str:
    """'1.6–1.7 h' (one decimal, the unit once), or '1.6 h' when both ends read the same."""
    lo, hi = f"{min(values):.1f}", f"{max(values):.1f}"
    return (lo if lo == hi else f"{lo}–{hi}") + unit


def cost_md(bench: dict | None, by_key: dict) -> str:
    """What an intervention run costs, for a reader deciding whether to train the missing ones: each intervention's
    training step against the paper's, timed side by side (a grokkit.bench result with its "interventions" entry, as
    in BENCH_FILE), the projected hours of a full-scale run on the benchmark's threads, and the wall time of the runs
    recorded (measure's wall_min and threads, by intervention key as `measured_by_key`). "" when `bench` has no
    intervention timings (a benchmark from before they were kept)."""
    from .sweep import INTERVENTION_BASE as b
    from .sweep import RANK_PENALTY_SCALE

    iv = (bench or {}).get("interventions")
    if not iv or "full_run_s" not in iv:
        return ""
    n = min(b.batch_size, b.width)  # the side of the Gram matrix a penalty decomposes (penalties.rank_penalty)
    clamp, pens = ("norm_init", "norm_low"), ("rank_down", "rank_up")
    ratio = {k: iv["ratio"][bench_variant(k)] for k in clamp + pens}
    hours = {k: iv["full_run_s"][bench_variant(k)] / 3600 for k in clamp + pens}
    threads = _threads(bench.get("threads"))
    work = f"{b.depth - 1} eigendecompositions of {n:,} × {n:,} float64 matrices" + (
        " and a second backward pass" if RANK_PENALTY_SCALE == "gradient" else "")
    out = (f"**What a run costs.** Timed side by side on {threads} (`{BENCH_FILE}`), a training step with the norm "
           f"clamp costs {_span([ratio[k] for k in clamp], '×')} a paper step (one rescaling of every parameter), "
           f"and one with a rank penalty {_span([ratio[k] for k in pens], '×')} ({work}). Over {b.steps:,} steps, "
           f"with this page's evaluation schedule, that projects to {_span([hours[k] for k in clamp], ' h')} for a "
           f"clamped run and {_span([hours[k] for k in pens], ' h')} for a penalised one on {threads}")
    for keys, what in ((clamp, "clamped"), (pens, "penalised")):
        ms = [m for k in keys for m in by_key.get(k, ()) if m.wall_min]
        if ms:
            on = {m.threads for m in ms}  # None: not recorded, or resumed on another count
            out += (f"; the {'one' if len(ms) == 1 else f'{len(ms):,}'} {what} run{'s' * (len(ms) > 1)} recorded so "
                    f"far took {_span([m.wall_min / 60 for m in ms], ' h')} of wall time"
                    + (f" on {_threads(on.pop())}{' each' * (len(ms) > 1)}" if len(on) == 1 and None not in on
                       else ""))
    return out + ".\n"


def _threads(n) -> str:
    """'one CPU thread' / '2 CPU threads' / 'the machine's threads' (n unknown)."""
    return "the machine's threads" if not n else "one CPU thread" if n == 1 else f"{n:,} CPU threads"


def verdict_rows(records_, control_records) -> list[tuple[str, str, str, int, int]]:
    """The grades as rows for a table: (intervention title, story or "check", part ("climb" / "rank"), seeds held,
    seeds tested), each story's predictions then each penalty's checks (story_results, check_results) under the
    declared reading (DECLARED); [] when no intervention run is recorded at full scale."""
    every = graded(records_, control_records)
    if not every[DECLARED][0]:
        return []
    results = every[DECLARED][1]
    checks = graded_checks(every, control_records)[DECLARED]
    rows = [(t, story, "climb" if part == "onset" else "rank", sum(res), len(res))
            for story in STORIES for t, part, _, res in results[story]]
    return rows + [(t, "check", "rank", sum(res), len(res)) for t, _, res in checks]


def verdicts_table_md(records_, control_records) -> str:
    """verdict_rows as a Markdown table, with short labels."""
    rows = verdict_rows(records_, control_records)
    if not rows:
        return "No intervention run is recorded at full scale yet.\n"
    name = {"norm": "weight norm", "rank": "rank", "check": "check (neither)"}
    return ("| intervention | story | predicts the | held on |\n|---|---|---|---|\n"
            + "".join(f"| {t} | {name[s]} | {part} | {k} of {n} seeds |\n" for t, s, part, k, n in rows))


# Omnigrok's own MNIST runs with the weight norm held fixed (its "reduced landscape" runs; the code:
# github.com/KindXiaoming/Omnigrok, mnist/landscape/mnist-landscape.ipynb): an MLP of 3 Linear layers of width 200,
# AdamW (lr 1e-3, no weight decay), the total norm rescaled after every step to α x its initial value, for 21 values
# of α from 0.1 to 10 crossed with training sets of 10 to 60,000 images; 10,000 steps of batch 100; each run reports
# the best train and test accuracy it read (on 2,000 images every 50 steps). Ours are read on the whole sets at the
# shipped evaluation steps, from step 0.
OMNIGROK_FIXED_NORM = {"layers": 3, "width": 200, "steps": 10_000, "alpha": (0.1, 10), "n_train": (10, 60_000)}
OMNIGROK_URL = "https://github.com/KindXiaoming/Omnigrok/blob/main/mnist/landscape/mnist-landscape.ipynb"


def best_until(run, key: str, step: int) -> float:
    """The best `key` ("train_acc" / "test_acc") a run's history reads at or before `step` (Omnigrok's reading)."""
    import numpy as np

    h = run.history
    return float(np.max(np.asarray(h[key])[np.asarray(h["step"]) <= step]))


