"""Tables of a chapter's own runs, for a person: the measured events, the tunnel, the rank measures, the float32
against float64 twins, the compute each record cost, the phases of Figs 6-7 and what moves with the climb
(grokkit.indicators); number formats from grokkit.fmt.

    from grokkit import records, run_tables
    print(run_tables.events_table(records.load_all()))
"""
from __future__ import annotations

import html as _html
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .claims import THRESHOLDS, Verdict, detector
from .events import events
from .events import run_label as run_label_of
from .events import unit as event_unit
from .fmt import num, signed
from .records import is_stand_in


def _md(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def tolerance_sweep_table(runs, det) -> str:
    """For each run that keeps spectra (Markdown, one row per run): the relative tolerances at which its mean
    hidden-layer rank shows a double descent, and its tunnel length in layers at each tolerance of the sweep, from
    the paper's to 1e-2, with the threshold scaled to the rank at initialization and with the paper's fixed 300."""
    from .events import rtol_label, tolerance_sweep

    rows = {id(r): tolerance_sweep(r, det) for r in runs}
    first = next(iter(rows.values()), [])
    span = f"{rtol_label(first[0]['rtol'])} → {rtol_label(first[-1]['rtol'])}" if first else ""
    lines = [f"| run | hidden layers | double descent at tolerance | tunnel, scaled threshold ({span}) | "
             f"tunnel, fixed 300 ({span}) |", "|---|---:|---|---|---|"]
    for r in runs:
        sweep = rows[id(r)]
        dd = [x["rtol"] for x in sweep if x["double_descent"]]
        where = "none" if not dd else "all" if len(dd) == len(sweep) else ", ".join(rtol_label(t) for t in dd)
        lines.append(f"| {run_label_of(r)} | {r.config.depth - 1} | {where} | "
                     + " → ".join(str(x["tunnel_scaled_layers"]) for x in sweep) + " | "
                     + " → ".join(str(x["tunnel_fixed_layers"]) for x in sweep) + " |")
    return "\n".join(lines) + "\n"


EVENT_TABLES = (("when", ("train fit", "fit_step", "steps"), ("start of the test climb", "climb_onset_step", "steps"),
                  ("test half-rise", "test_half_step", "steps"), ("climb duration", "climb_rise_steps", "steps"),
                  ("final test accuracy", "test_final_acc", "accuracy")),
                 ("stages and ranks", ("gained after the fit", "post_fit_gain", "accuracy"),
                  ("first-stage level", "first_stage_acc", "accuracy"), ("shoulder", "shoulder_steps", "steps"),
                  ("rank-descent lag", "rank_lag_steps", "steps"), ("tunnel", "tunnel_layers", "layers")))

def _cell(v, unit: str) -> str:
    """A table cell: the number alone (its unit is in the column head)."""
    text = num(v, unit)
    return text.removesuffix(" steps").removesuffix(" layers").removesuffix(" layer")

def events_table(runs, tables=EVENT_TABLES) -> str:
    """The measured events of the runs a reader chose (Markdown), in tables narrow enough for the text column: one
    row per run, one table per (title, *columns) of `tables` (default: when things happen, then the stages and
    ranks with the run's phase); units in the column heads."""
    det = detector()
    out = []
    for title, *cols in tables:
        heads = [c[0] + (f" ({event_unit(c[1])})" if event_unit(c[1]) in ("step", "steps", "layers") else "")
                 for c in cols]
        head = "| run | " + ("phase | " if title != "when" else "") + " | ".join(heads) + " |"
        lines = [head, "|---" * (len(cols) + 1 + (title != "when")) + "|"]
        for r in runs:
            e = events(r, det)
            name = e.label + (" (stand-in)" if e.stand_in else "")
            lines.append(f"| {name} | " + (f"{e.phase} | " if title != "when" else "")
                         + " | ".join(_cell(getattr(e, a), u) for _, a, u in cols) + " |")
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)

def _minutes(seconds) -> str:
    """Wall-clock minutes for a table cell: one decimal under ten minutes ('0.4'), whole minutes above ('98')."""
    m = float(seconds or 0) / 60
    return f"{m:.1f}" if m < 10 else f"{m:,.0f}"

def sources(runs) -> str:
    """Where each run comes from (a Markdown table): a full-scale record, or a smoke-scale stand-in; each with its
    width, steps, dtype, device and wall-clock minutes."""
    lines = ["| run | source | width | steps | dtype | device | minutes |", "|---|---|---:|---:|---|---|---:|"]
    for r in runs:
        e = events(r, detector())
        source = "smoke-scale stand-in" if is_stand_in(r) else "full-scale record"
        lines.append(f"| {e.label} | {source} | {r.config.width} | {r.config.steps:,} | "
                     f"{r.meta.get('dtype') or r.config.dtype} | {str(r.meta.get('device') or '–').upper()} | "
                     f"{_minutes(r.meta.get('wall_time_s'))} |")
    return "\n".join(lines) + "\n"

def tunnel_table(runs) -> str:
    """Tunnel lengths at the last step (hidden layers only, and with the 10-d output layer, whose rank is at most
    10 and so always below the threshold), beside the paper's count [DG Figs 3-4] where it gives one (Markdown)."""
    from .config import PAPER_TUNNEL
    from .events import tunnel_threshold
    from .metrics import tunnel_length

    lines = ["| run | tunnel, hidden layers | tunnel, output layer counted | the paper |", "|---|---|---|---|"]
    for r in runs:
        e = events(r, detector())
        thr = tunnel_threshold(r.config.width)
        counted = tunnel_length(np.asarray(r.history["rank"])[-1], thr)
        paper = PAPER_TUNNEL.get(e.n_train, {}).get(e.depth)
        lines.append(f"| {e.label}{' (stand-in)' if e.stand_in else ''} | {num(e.tunnel_layers, 'layers')} | "
                     f"{num(counted, 'layers')} | {'–' if paper is None else num(paper, 'layers')} |")
    return "\n".join(lines) + "\n"

def rank_measures_table(runs) -> str:
    """Paper-exact rank versus the tolerance-robust rank (rtol 1e-3): the events each gives (Markdown)."""
    import copy

    det = detector()
    lines = ["| run | rank descent, exact → robust | lag to the onset, exact → robust | double descent, exact → robust "
             "| tunnel, exact → robust |", "|---|---|---|---|---|"]
    for r in runs:
        robust = copy.copy(r)
        robust.history = {**r.history, "rank": r.history["robust_rank"]}
        a, b = events(r, det), events(robust, det)
        first = lambda e: e.rank_descent_steps[0] if e.rank_descent_steps else None  # noqa: E731
        dd = lambda e: "yes" if e.double_descent_steps else "no"  # noqa: E731
        lines.append(f"| {a.label} | {num(first(a), 'steps')} → {num(first(b), 'steps')} | "
                     f"{num(a.rank_lag_steps, 'steps')} → {num(b.rank_lag_steps, 'steps')} | {dd(a)} → {dd(b)} | "
                     f"{num(a.tunnel_layers, 'layers')} → {num(b.tunnel_layers, 'layers')} |")
    return "\n".join(lines) + "\n"

DTYPE_ACC = 0.02    # float32 keeps the behaviour: final test accuracies within 2 points ...

DTYPE_ONSET = 0.25  # ... and each onset within 25 % of the float64 one (or one paper rank interval, 3,335 steps)

def dtype_table(r32, r64) -> str:
    """float32 versus its float64 twin (the authors' dtype): the events the claims read, side by side, and whether
    float32 keeps the behaviour: same phase and tunnel, final test accuracy within DTYPE_ACC, the fit, the
    start of the test climb and the first rank descent within DTYPE_ONSET (Markdown)."""
    return _dtype_check(r32, r64)[1]

def _dtype_rows(r32, r64) -> list:
    """dtype_table's checks: (event, float32 value, float64 value, same behaviour?) for each, values in words."""
    det = detector()
    a, b = events(r32, det), events(r64, det)
    first = lambda e: e.rank_descent_steps[0] if e.rank_descent_steps else None  # noqa: E731
    rows = [("phase", a.phase, b.phase, a.phase == b.phase),
            ("tunnel", num(a.tunnel_layers, "layers"), num(b.tunnel_layers, "layers"),
             a.tunnel_layers == b.tunnel_layers),
            ("final test accuracy", num(a.test_final_acc, "accuracy"), num(b.test_final_acc, "accuracy"),
             abs(a.test_final_acc - b.test_final_acc) <= DTYPE_ACC)]
    for name, x, y in (("train fit", a.fit_step, b.fit_step), ("start of the test climb", a.climb_onset_step,
                                                                 b.climb_onset_step),
                       ("first rank descent", first(a), first(b))):
        ok = (x is None) == (y is None) and (x is None or abs(x - y) <= max(DTYPE_ONSET * y, 5 * r64.config.log_period))
        rows.append((name, num(x, "steps"), num(y, "steps"), ok))
    return rows

def _dtype_check(r32, r64) -> tuple:
    """(whether float32 keeps the behaviour, dtype_table's Markdown)."""
    rows = _dtype_rows(r32, r64)
    lines = ["| event | float32 | float64 | same behaviour |", "|---|---|---|---|"]
    lines += [f"| {n} | {x} | {y} | {'yes' if ok else '**no**'} |" for n, x, y, ok in rows]
    return all(ok for *_, ok in rows), "\n".join(lines) + "\n"

def dtype_tables(runs) -> str:
    """Every float64 twin of `runs` (grokkit.twins) read against the float32 seed-to-seed spread, Markdown: one row
    per twin with its trajectory distances (test accuracy, mean hidden-layer rank) beside the float32 seeds' largest
    distance, the phases of every float32 seed and of the twin, and whether the dtype's difference is within the
    seed spread; then each twin's events side by side in a collapsed block (a MyST dropdown). Says so when no twin
    is recorded."""
    from .records import pick
    from .twins import twins

    ts = twins(runs)
    if not ts:
        return "No float64 twin is recorded yet.\n"

    def ratio(v):
        return "–" if v is None else f"{v:.2f} ×" if np.isfinite(v) else "apart; seeds identical"
    lines = ["| configuration | seed | float32 vs float64 ÷ seed vs seed: test accuracy | … mean hidden rank | "
             "float32 seeds' phases | float64 phase | within the seed spread |", "|---|---:|---:|---:|---|---|---|"]
    details = []
    for t in ts:
        within = {None: "– (one float32 seed)", True: "yes", False: "**no**"}[t.within_spread]
        phases = ", ".join(f"{p} ({n} seed{'s' * (n != 1)})" for p, n in Counter(t.phases32).items())
        lines.append(f"| {t.label} | {t.seed} | {ratio(t.acc_ratio)} | {ratio(t.rank_ratio)} | {phases} | "
                     f"{t.phase64}{'' if t.phase_within_spread else ' (no float32 seed)'} | {within} |")
        r32 = pick(runs, t.depth, t.n_train, t.weight_decay, "float32", t.seed)
        r64 = pick(runs, t.depth, t.n_train, t.weight_decay, "float64", t.seed)
        spread = t.seed_spread
        dist = ("" if spread is None else
                "| mean gap over the run | float32 against float64 | float32 seeds, largest |\n|---|---:|---:|\n"
                f"| test accuracy | {t.dtype.acc:.3g} | {spread.acc:.3g} |\n"
                f"| mean hidden rank | {t.dtype.rank:.3g} | {spread.rank:.3g} |\n\n")
        details.append(f":::{{dropdown}} {t.label}, seed {t.seed}: every event, float32 against float64\n"
                       f"{dist}{_dtype_check(r32, r64)[1]}\n:::\n")
    table = (":::{dropdown} Each twin against the float32 seed spread: distances and phases\n" + "\n".join(lines)
             + "\n:::\n")
    return table + "\n" + "\n".join(details)

def stack_table_html(markdown: str) -> str:
    """A pipe-table in Markdown (its first line the header, its second the rule; no '|' inside a cell; **bold**
    allowed) as an HTML table of class grokkit-stack: at phone width (book/_static/grokkit.css) each row becomes a
    block and each cell is labelled with its column's header, so a many-column table reads without squeezing its
    numbers into one-character columns. Text is escaped. ValueError when the text is not a pipe-table."""
    import re

    lines = [ln.strip() for ln in markdown.strip().splitlines()]
    if len(lines) < 2 or not all(ln.startswith("|") and ln.endswith("|") for ln in lines) or "---" not in lines[1]:
        raise ValueError("markdown: not a pipe-table (a header line, a |---| rule, then rows)")

    def cells(ln):
        return [c.strip() for c in ln[1:-1].split("|")]

    def inline(text):
        return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", _html.escape(text))

    head = cells(lines[0])
    rows = "".join("<tr>" + "".join(f'<td data-label="{_html.escape(h)}">{inline(c)}</td>'
                                    for h, c in zip(head, cells(ln))) + "</tr>" for ln in lines[2:])
    return ('<table class="grokkit-stack"><thead><tr>' + "".join(f"<th>{inline(h)}</th>" for h in head)
            + f"</tr></thead><tbody>{rows}</tbody></table>")

def compute_table(runs) -> str:
    """The compute behind the records (Markdown): per configuration, the records (how many resumed from a
    checkpoint), the device and CPU threads they ran on (thread_counts) and the wall-clock hours read from each
    record's meta (a resumed run's wall time includes the time before its checkpoint), and the total."""
    from .config import FULL_STEPS, INTERVENTION_DEFAULTS
    from .events import config_label
    from .records import stands_for

    groups: dict = {}
    for r in sorted(runs, key=lambda r: tuple(stands_for(r)[k] for k in ("depth", "n_train", "weight_decay", "dtype"))):
        c = dict(stands_for(r))
        key = config_label({**c, "seed": 0}).replace(", seed 0", "")
        if c["steps"] != FULL_STEPS:  # short runs (the interventions' pilots): one row, whatever their penalty
            key = config_label({k: v for k, v in c.items() if k not in INTERVENTION_DEFAULTS}
                               | {"seed": 0, "steps": FULL_STEPS})
            key = key.replace(", seed 0", f", {c['steps']:,}-step runs")
        g = groups.setdefault(key, {"n": 0, "hours": 0.0, "device": set(), "threads": set(), "resumed": 0})
        g["n"] += 1
        g["hours"] += float(r.meta.get("wall_time_s") or 0) / 3600
        g["device"].add(str(r.meta.get("device") or "–").upper())
        g["threads"].add(_threads_cell(r.meta))
        g["resumed"] += bool(r.meta.get("resumed_from"))
    lines = ["| configuration | records | resumed | device | threads | wall-clock hours |",
             "|---|---:|---:|---|---|---:|"]
    for key, g in groups.items():
        lines.append(f"| {key} | {g['n']} | {g['resumed']} | {', '.join(sorted(g['device']))} | "
                     f"{'; '.join(sorted(g['threads']))} | {g['hours']:,.1f} |")
    total = sum(g["hours"] for g in groups.values())
    resumed = sum(g["resumed"] for g in groups.values())
    lines.append(f"| **all** | **{sum(g['n'] for g in groups.values())}** | **{resumed}** | | | **{total:,.1f}** |")
    return "\n".join(lines) + "\n"

def thread_counts(meta: dict) -> tuple:
    """The CPU threads a record trained on, from its meta: (the distinct counts recorded, sorted; the step from which
    they are recorded when an earlier stretch of a resumed run (grokkit.train.RunLog.run's "thread_segments") did not
    record its count, else None). ((), None) when no count is recorded."""
    if n := meta.get("threads"):
        return (n,), None
    segs = meta.get("thread_segments", ())
    known = tuple(sorted({t for _, t in segs if t}))
    if not known or all(t for _, t in segs):
        return known, None
    return known, next(s for s, t in segs if t)

def _threads_cell(meta: dict) -> str:
    """compute_table's threads cell: '1', '1 and 2', '2 (from step 100)', '–'."""
    counts, since = thread_counts(meta)
    if not counts:
        return "–"
    return " and ".join(f"{n:,}" for n in counts) + ("" if since is None else f" (from step {since:,})")

def indicators_table(rows) -> str:
    """Every climbing full-scale run's three indicators against its start of the test climb (grokkit.indicators
    rows), Markdown: the climb's start, the step the output scale first reaches 1 (and where that reading comes
    from), the weight norm at the climb and its largest gap to the decay clock, the rank's fall nearest the climb;
    each lag signed (minus: before the climb)."""
    from .scale import SCALE_SOURCES

    lines = ["| run | start of the test climb | output scale reaches 1 (lag) | s_out | weight norm at the climb "
             "(gap to its decay clock) | rank's fall nearest the climb (lag) |", "|---|---:|---:|---|---:|---:|"]
    for r in rows:
        def at(step, lag):
            return "never" if step is None else f"{step:,} ({signed(lag)})"
        gap = "–" if r.clock_dev_frac is None else f"{100 * r.clock_dev_frac:.1f} %"
        lines.append(f"| {r.label} | {r.climb_onset_step:,} | {at(r.scale_one_step, r.scale_lag_steps)} | "
                     f"{SCALE_SOURCES[r.scale_source]} | {r.norm_at_onset:,.1f} ({gap}) | "
                     f"{at(r.rank_fall_step, r.rank_lag_steps)} |")
    return "\n".join(lines) + "\n"

def phase_groups(runs) -> dict:
    """{(N, γ): [Events]} of every d = 12 weight-decay phase run (claims 11-12's configurations), float32 seeds
    then float64 twins, at the claims' default detector."""
    from .claims import PAPER_PHASES
    from .records import seeds_of

    det = detector()
    return {(n, wd): [events(r, det) for dt in ("float32", "float64") for r in seeds_of(runs, 12, n, wd, dt)]
            for n, phases in PAPER_PHASES.items() for wd in phases}

def phase_table(panels) -> str:
    """Figs 6-7's phases (Markdown): per panel (the seed Runs of one configuration), the phase the paper reports for
    its (N, γ) at d = 12 (claims.PAPER_PHASES; – at another depth or where it reports none) and the phase measured
    on each seed, in seed order."""
    from .claims import PAPER_PHASES
    from .events import config_label
    from .records import stands_for

    det = detector()
    lines = ["| configuration | the paper's phase | measured phase, by seed |", "|---|---|---|"]
    for p in panels:
        c = stands_for(p[0])
        paper = PAPER_PHASES.get(c["n_train"], {}).get(c["weight_decay"]) if c["depth"] == 12 else None
        ours = "; ".join(f"seed {stands_for(r)['seed']}: {events(r, det).phase}" for r in p)
        lines.append(f"| {config_label({**c, 'seed': 0}).replace(', seed 0', '')} | {paper or '–'} | {ours} |")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Collapse:
    """A full-scale paper run that sits at a constant predictor for a stretch (grokkit.events: stuck_steps): from
    which step and for how many, its own start of the test climb, train fit (None without one) and final test
    accuracy, and its configuration's seeds (every recorded one among the runs given) with their median start of
    the test climb with it and without it (None where no seed climbs). `config`: the configuration it stands for
    (grokkit.records.stands_for)."""
    label: str
    config: dict
    start_step: int
    steps: int
    climb_onset_step: int | None
    fit_step: int | None
    test_final_acc: float
    seeds: int
    median_with: float | None
    median_without: float | None


def collapses(runs) -> list[Collapse]:
    """Every full-scale paper run among `runs` (interventions left out: their chapter reads their collapses) that
    sits at a constant predictor, as a Collapse, in the order of `runs`."""
    from statistics import median

    from .events import config_label
    from .records import full_scale, intervened, stands_for

    det = detector()
    groups: dict = {}
    for r in runs:
        if full_scale(r) and not intervened(r):
            groups.setdefault(config_label({**stands_for(r), "seed": 0}), []).append((r, events(r, det)))
    out = []
    for pairs in groups.values():
        evs = [e for _, e in pairs]
        for r, e in pairs:
            if e.stuck_steps:
                on = [x.climb_onset_step for x in evs if x.climb_onset_step is not None]
                rest = [x.climb_onset_step for x in evs if x is not e and x.climb_onset_step is not None]
                out.append(Collapse(e.label, dict(stands_for(r)), e.stuck_start_step, e.stuck_steps,
                                    e.climb_onset_step, e.fit_step, e.test_final_acc, len(evs),
                                    median(on) if on else None, median(rest) if rest else None))
    return out


@dataclass(frozen=True)
class RankTiming:
    """The rank's fall timed against the start of the test climb, over the runs a verdict's parts time (claim 5):
    the runs on which it falls after the climb starts, at the same log step, before (Part.lag_signs); the lags'
    range in steps and as a share of the climb's rise (None without a lag); the lag tolerance and the low end of its
    range, with how many runs still "coincide" there (None when the sweep did not reach it)."""
    after: int
    same: int
    before: int
    lag_lo: float | None
    lag_hi: float | None
    share_lo: float | None
    share_hi: float | None
    tol: float
    tol_lo: float
    k_at_tol_lo: int | None

    @property
    def n(self) -> int:
        return self.after + self.same + self.before


def rank_timing(v: Verdict) -> RankTiming:
    """The rank's timing against the climb (RankTiming) from a verdict whose parts time it (claim 5)."""
    signs = [p.lag_signs for p in v.parts if p.lag_signs]
    after, same, before = (sum(s[i] for s in signs) for i in range(3))
    m = v.measures
    steps = list(m.get("rank-descent lag", {}).get("values", {}).values())
    share = list(m.get("rank-descent lag as a share of the test rise", {}).get("values", {}).values())
    lo = THRESHOLDS["lag_tol"].lo
    at_lo = [counts for name, grid in v.part_sweeps if name == "lag_tol" for val, counts in grid if val == lo]
    return RankTiming(after, same, before, min(steps, default=None), max(steps, default=None),
                      min(share, default=None), max(share, default=None), THRESHOLDS["lag_tol"].value, lo,
                      sum(k for k, _, _ in at_lo[0]) if at_lo else None)
