"""The interventions chapter's tables (Markdown), computed from the records: the predictions, the measures, the
grades as rows (verdict_rows); and its facts: a step's cost (Cost), Omnigrok's horizon.
The chapter's findings are written in the chapter itself."""
from __future__ import annotations

from dataclasses import dataclass

from .fmt import num as _num
from .interventions import (
    DECLARED,
    INTERVENTIONS,
    PENALTY_KEYS,
    STORIES,
    graded,
    graded_checks,
    measure,
    untestable,
)


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


BENCH_FILE = "bench/cpu_1thread.json"  # the shipped one-thread benchmark (`python -m grokkit bench --threads 1`)


def bench_variant(key: str) -> str:
    """The benchmark's name (grokkit.bench.variant_name) for the step of intervention `key`: the full-scale runs'
    penalties are on sweep.RANK_PENALTY_SCALE."""
    from .bench import variant_name
    from .sweep import RANK_PENALTY_SCALE

    if key in ("norm_init", "norm_low"):
        return "norm_clamp"
    return variant_name({v: k for k, v in PENALTY_KEYS.items()}[key], RANK_PENALTY_SCALE)


@dataclass(frozen=True)
class Cost:
    """What an intervention's training step costs, from a benchmark (grokkit.bench, as in BENCH_FILE) that timed each
    step side by side with the paper's. threads: the CPU threads it ran on (None: not recorded); ratio: per
    intervention key, its step's time over a paper step's (×); hours: per key, the projected wall time of a full-scale
    run of `steps` steps with the shipped evaluation schedule (hours); eigendecompositions, side: what a penalised
    step adds (penalties.rank_penalty), one symmetric eigendecomposition of a side × side float64 matrix per hidden
    layer; second_backward: whether it also takes a second backward pass (sweep.RANK_PENALTY_SCALE "gradient")."""
    threads: int | None
    ratio: dict
    hours: dict
    steps: int
    eigendecompositions: int
    side: int
    second_backward: bool


def cost(bench: dict | None) -> Cost | None:
    """The Cost of each intervention's step in a grokkit.bench result with its "interventions" entry; None when
    `bench` has no intervention timings (a benchmark from before they were kept)."""
    from .sweep import INTERVENTION_BASE as b
    from .sweep import RANK_PENALTY_SCALE

    iv = (bench or {}).get("interventions")
    if not iv or "full_run_s" not in iv:
        return None
    return Cost(threads=bench.get("threads"), ratio={k: iv["ratio"][bench_variant(k)] for k in INTERVENTIONS},
                hours={k: iv["full_run_s"][bench_variant(k)] / 3600 for k in INTERVENTIONS}, steps=b.steps,
                eigendecompositions=b.depth - 1, side=min(b.batch_size, b.width),
                second_backward=RANK_PENALTY_SCALE == "gradient")


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


