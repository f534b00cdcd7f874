"""Chapter helpers: the cells every chapter of book/ repeats, as one-line calls.

    from grokkit import book
    book.banner(device)                               # smoke-mode and CPU notes
    runs = book.load(configs, train_missing)          # the chapter's runs, and where each comes from
    book.found([1, 2, 9])                             # "What we found": each claim's grade and parts, a link
    seeded = book.with_seeds(runs)
    book.show(plots.accuracy_panels(seeded), seeded, "depth-accuracy", book.ACCURACY, paper=(2, "a–c"),
              claims=[1, 2])                          # the paper's caption, our figure, its data, same or different
    book.verdicts([1, 2, 9], runs)                    # the claims, on the shipped records; the reader's runs' events

A chapter's verdicts concern the paper's configurations, so they always come from the shipped run records
(`paper_records`), whatever parameters the chapter was run with; the runs the reader chose get their measured events
in a table beside them.
"""
from __future__ import annotations

import functools
import json

from IPython.display import HTML, Markdown, display

from . import claim_plots, export, intervention_plots, paper, picture, plots, records, report, run_tables
from .chapters import chapter_run, chapter_runs, paper_config
from .claims import detector, judge
from .config import resolve_device, smoke
from .records import paper_records, with_seeds  # re-exported: the chapters' book.with_seeds(...)


def md(text: str) -> None:
    display(Markdown(text))


def banner(device: str) -> None:
    """The notes every chapter opens with: smoke mode, and training on a CPU."""
    if smoke():
        md("> **Smoke mode** (`GROKKIT_SMOKE=1`): the runs drawn below are seconds-long smoke-scale stand-ins, so no "
           "figure on this page is a result; the verdicts still come from the shipped run records.")
    if resolve_device(device) == "cpu":
        md("> **This chapter runs on CPU.** Run records load in milliseconds, but training a missing full-scale run "
           "(`train_missing=True`) is slow on a CPU; on Colab pick *Runtime → Change runtime type → GPU* first.")


def load(configs, train_missing: bool = False) -> list:
    """The chapter's runs (grokkit.chapters.chapter_runs: the missing ones of a depth train batched on a GPU when
    `train_missing`), and a table of where each comes from (run_tables.sources)."""
    runs = chapter_runs(configs, train_missing=train_missing)
    md(run_tables.sources(runs))
    return runs


# The quantities each kind of figure draws: its "download data (CSV)" file holds these (grokkit.export.QUANTITIES).
ACCURACY = ("train_acc", "test_acc")                       # Fig 2, accuracy panels and overlays, seed bands
FIG1 = ("rank", "train_acc", "test_acc", "probe_acc")      # Fig 1 grid (rank, accuracy, probes per layer)
TUNNEL = ("rank",)                                         # Figs 3-4: the final rank per layer
FIG5 = ("train_acc", "test_acc", "weight_norm", "rank")    # Fig 5: accuracy, weight norm, second-last rank
RANKS = ("rank", "robust_rank")                            # paper-exact versus tolerance-robust rank
ROUND_TWO = ("test_acc", "test_loss", "weight_norm", "rank")  # the second round: accuracy, s_out's source, norm, rank

# Figs 6-7 [DG §4]: the weight-decay phases at one training-set size -> (paper figure, the claims it tests)
PHASE_FIGURES = {2000: (6, (11, 13)), 5000: (7, (12, 13))}


def show(fig, runs, slug: str, quantities=None, paper_figure=None, claims=()) -> None:
    """Display one figure of the chapter and close it; every figure a chapter shows goes through here.
    `runs`: the runs the figure draws (Runs, or panels of seed Runs); their `quantities` (default: all) go to
    book/_static/data/<slug>.csv, linked under the figure ("download data (CSV)", grokkit.export.figure_download);
    `slug` is unique in the book. `paper_figure`: the paper's figure this one reproduces, N or (N, "a–c"): its
    caption and link come first (grokkit.paper.paper_figure_md). `claims`: the claims the figure tests; a line
    under it says where it is the same as the paper's and where different (grokkit.report.same_or_different).
    The figure itself: a desktop and a phone rendering with alt text naming its panels, runs, seeds and claims
    (grokkit.picture)."""
    if paper_figure is not None:
        n, panels = paper_figure if isinstance(paper_figure, tuple) else (paper_figure, "")
        md(paper.paper_figure_md(n, panels))
    display(HTML(picture.picture(fig, picture.alt_text(fig, runs, claims))))
    display(export.figure_download(flat(runs), slug, quantities))
    compare(claims)


def compare(claim_numbers) -> None:
    """The same-or-different line for the claims a figure tests (judged on the shipped records)."""
    vs = paper_verdicts(claim_numbers) if claim_numbers else []
    if vs:
        display(HTML(report.same_or_different(vs)))


def show_phases(row, slug: str) -> None:
    """Figs 6-7: one training-set size's weight-decay phases (a row of Runs, every recorded seed drawn), after the
    paper's figure for that size (PHASE_FIGURES) and followed by its same-or-different line, then the paper's phase
    and ours per seed as a table (run_tables.phase_table). The figure's data goes to `<slug>-n<N>.csv`, N the size
    the row stands for (a stand-in's own N is smaller)."""
    seeded = with_seeds(row)
    n = records.stands_for(row[0])["n_train"]
    figure, tested = PHASE_FIGURES.get(n, (None, ()))
    show(plots.rank_acc_probe(seeded), seeded, f"{slug}-n{n}", FIG1, figure, tested)
    md(run_tables.phase_table(seeded))


def sensitivity(verdicts) -> None:
    """The thresholds: every grade that changes over a threshold's range or under another rank definition, as one
    table folded in a dropdown (the slider above shows the same, one threshold at a time), then the thresholds
    themselves with their defaults and ranges."""
    md(":::{dropdown} Every grade that changes, threshold by threshold (the slider's data as one table)\n"
       + report.sensitivity(verdicts) + "\n:::\n")
    md(report.thresholds_table())


def tunnel(panels, slug: str) -> None:
    """Figs 3-4: the final rank per layer (plots.tunnel), then each run's tunnel in a table."""
    show(plots.tunnel(panels), panels, slug, TUNNEL, claims=[9])
    md(run_tables.tunnel_table(flat(panels)))


def rank_measures() -> None:
    """The Fig 1 runs (d = 12, N = 2000, 5000, 7000, every recorded seed): each rank measure, paper-exact and
    robust, in one table (run_tables.rank_measures_table)."""
    runs = [r for n in (2000, 5000, 7000) for r in records.seeds_of(paper_records(), 12, n)]
    md(run_tables.rank_measures_table(runs))


def seed_bands(depths, seeds, n_train: int, weight_decay: float, steps: int, device: str, train_missing: bool,
               slug: str) -> None:
    """Seed to seed (plots.seed_bands): every seed of `seeds` at each depth of `depths` (N = n_train, γ =
    weight_decay), then their measured events. Only records are drawn (a seed not recorded yet is left out, never
    replaced by a stand-in), except in smoke mode."""
    rows = [[chapter_run(paper_config(d, n_train, weight_decay, steps, s, device), train_missing=train_missing)
             for s in seeds] for d in depths]
    shown = [[r for r in row if smoke() or not records.is_stand_in(r)] for row in rows]
    show(plots.seed_bands(shown), shown, slug, ACCURACY)
    events(shown)


def phases(depth: int, n_trains, weight_decays, steps: int, seed: int, device: str, train_missing: bool,
           slug: str) -> None:
    """Figs 6-7: for each training-set size of `n_trains`, its weight-decay phases at `depth` (show_phases, every
    recorded seed), then the measured events of every run drawn."""
    rows = [[chapter_run(paper_config(depth, n, w, steps, seed, device), train_missing=train_missing)
             for w in weight_decays] for n in n_trains]
    for row in rows:
        show_phases(row, slug)
    events([p for row in rows for p in with_seeds(row)])


def show_measures(fig, verdicts, slug: str) -> None:
    """Display a figure drawn from verdicts (the scoreboard's summary) with the effect measures behind it as CSV
    (grokkit.export.measures_download)."""
    display(HTML(picture.picture(fig, claim_plots.measures_alt(verdicts))))
    display(export.measures_download(verdicts, slug))


def scoreboard(verdicts) -> None:
    """The scoreboard in layers: one row per claim (the paper's statement, grade badge, robust or fragile, each
    part's count), then one collapsed block per claim with the rule, its parts table and its robustness
    (grokkit.report)."""
    display(HTML(report.scoreboard(verdicts, html=True) + report.claim_details_html(verdicts)))


def robustness(verdicts) -> None:
    """Pick a threshold or the rank definition and slide it: every claim's grade at that value (works offline,
    without a kernel: grokkit.widgets.robustness_explorer)."""
    from .widgets import robustness_explorer

    display(robustness_explorer(verdicts))


def glance(verdicts, slug: str) -> None:
    """The opening page's figure: every claim at a glance (grokkit.claim_plots.claims_at_a_glance), with its alt
    text and the parts behind it as CSV (grokkit.export.parts_download)."""
    display(HTML(picture.picture(claim_plots.claims_at_a_glance(verdicts), claim_plots.glance_alt(verdicts))))
    display(export.parts_download(verdicts, slug))


def claims_detail() -> None:
    """The opening page's detail, after its written answer: the grades defined, the parts that did not hold or were
    not tested, the float64 twins outside the float32 seeds' spread, then the compact claims table (grokkit.report),
    from the shipped records."""
    vs = paper_verdicts()
    display(HTML(report.grades_html() + report.not_held_html(vs) + report.twins_outside_html(paper_records())
                 + report.claims_table_html(vs)))


def explorer(depth, n_train, weight_decay, steps: int, seed: int, device: str, train_missing: bool, start=None,
             quantities=("accuracy", "rank"), log: bool = True):
    """The chapter's explorer (grokkit.widgets.explorer) over the two of `depth`, `n_train`, `weight_decay` (the
    chapter's explore_* parameters, lists) that hold several values, the third fixed; each point drawn with
    plots.summary(quantities, log). `start`: the point shown first, (first axis value, second axis value).
    Raises a one-line ValueError when all three hold several values."""
    from .widgets import explorer as grid

    values = {"depth": list(depth), "n_train": list(n_train), "weight_decay": list(weight_decay)}
    axes = [k for k, v in values.items() if len(v) > 1]
    if len(axes) > 2:
        raise ValueError(f"explore_depth, explore_n_train and explore_weight_decay: at most two may hold several "
                         f"values (got {', '.join(f'{k} = {v}' for k, v in values.items())})")
    axes += [k for k in ("depth", "weight_decay", "n_train") if k not in axes][:2 - len(axes)]
    axes = [k for k in values if k in axes]  # the order depth, n_train, weight_decay

    def make(a, b):
        point = {k: v[0] for k, v in values.items()} | {axes[0]: a, axes[1]: b}
        return paper_config(point["depth"], point["n_train"], point["weight_decay"], steps, seed, device)

    def render(panel):
        return plots.summary(panel, quantities, log)

    display(grid(values[axes[0]], values[axes[1]], make, start, train_missing, render, names=tuple(axes)))


def exact_vs_robust() -> None:
    """The Fig 1 configurations' per-layer ranks, paper-exact against tolerance-robust (every recorded seed)."""
    shown = [r for r in (records.pick(paper_records(), 12, n) for n in (2000, 5000, 7000)) if r is not None]
    if shown:
        seeded = with_seeds(shown)
        show(plots.exact_vs_robust(seeded), seeded, "scoreboard-exact-vs-robust-rank", RANKS)


def tolerance_sweep() -> None:
    """The rank definition swept: for every shipped float32 record that keeps its covariance spectra, where the double
    descent and the tunnel appear and vanish as the relative tolerance grows (grokkit.plots.tolerance_sweep_figure),
    with the same as a table; one line when no shipped record keeps spectra."""
    from .claims import detector
    from .events import has_spectra

    runs = [r for r in paper_records() if has_spectra(r) and records.full_scale(r) and not records.intervened(r)
            and records.stands_for(r)["dtype"] == "float32"]  # the float64 twins have their own section
    if not runs:
        md("No shipped record keeps its covariance spectra yet, so no tolerance other than the three above can be "
           "applied.")
        return
    show(plots.tolerance_sweep_figure(runs, detector()), runs, "scoreboard-tolerance-sweep", RANKS)
    md(run_tables.tolerance_sweep_table(runs, detector()))


def flat(panels) -> list:
    """The runs of a list of panels (each a Run or a list of seed Runs)."""
    return [r for p in panels for r in (p if isinstance(p, list) else [p])]


def events(runs) -> None:
    """The measured events of the chapter's runs, one row per run."""
    md(run_tables.events_table(flat(runs)))


@functools.lru_cache(maxsize=32)
def _verdict(folder: str, n: int):
    return judge(n, list(records.loaded(folder)))


def forget() -> None:
    """Drop the records and verdicts loaded so far (after new runs were trained into the results folder)."""
    records.loaded.cache_clear()
    _verdict.cache_clear()


def paper_verdicts(claim_numbers=range(1, 16)) -> list:
    """The claims' verdicts on the shipped records (paper_records), each judged once per kernel."""
    folder = str(records.results_folder(must_exist=True))
    return [_verdict(folder, n) for n in claim_numbers] if records.loaded(folder) else []


def found(claim_numbers) -> None:
    """The "What we found" box at the top of a chapter: the claims judged there as a table, each with its grade as a
    badge, robust or fragile, each part's count and a link to its scoreboard row (grokkit.report.found_html), judged
    on the shipped records."""
    vs = paper_verdicts(claim_numbers)
    if vs:
        display(HTML(report.found_html(vs)))
    else:
        md("No full-scale run records found: the verdicts need the shipped records in results/.")


def params_line(values: dict, names) -> str:
    """The chapter's parameters for a reader, one line: 'Parameters: depth = 4, 8, 12; ...; train_missing = no'
    (lists comma-separated, booleans yes/no, numbers of five digits or more with thousands separators)."""
    def word(v):
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, (list, tuple)):
            return ", ".join(word(x) for x in v)
        if isinstance(v, int) and abs(v) >= 10_000:
            return f"{v:,}"
        return f"{v:g}" if isinstance(v, float) else str(v)

    return "Parameters: " + "; ".join(f"{k} = {word(values[k])}" for k in names)


# ---- the interventions chapter (book/interventions.ipynb, issue 26) ------------------------------------------------
INTERVENTION = ("test_acc", "rank", "robust_rank", "weight_norm")  # the interventions figure's quantities


def _control_records() -> list:
    """The control's shipped full-scale records (d = 12, N = 5000, γ = 0.01, every recorded seed)."""
    return [r for r in records.seeds_of(paper_records(), 12, 5000, 0.01) if records.full_scale(r)]


def _intervention_records() -> list:
    return [r for r in paper_records() if records.intervened(r)]


def _recorded(configs) -> list:
    """The shipped records of those of `configs` that are recorded, in their order."""
    folder = records.results_folder(must_exist=True)
    return [records.load(records.record_path(c, folder)) for c in configs if records.record_path(c, folder).exists()]


def _fallback_keys() -> frozenset:
    """The interventions whose penalty strength deviates from the pilots' rule as committed (the collapse amendment
    or the fallback: grokkit.pilots.full_scale_strength), from the shipped second-round pilots, once the pick is
    decided: {"rank_down" / "rank_up"}. Cached per results folder: the opening page and the chapter ask it several
    times of the same records."""
    return _fallback_keys_in(records.results_folder(must_exist=True))


@functools.cache
def _fallback_keys_in(folder) -> frozenset:
    from .interventions import PENALTY_KEYS
    from .pilots import choose_strength, full_scale_strength, pick_decided, pilot_measure, pilots_by_kind
    from .sweep import PILOT_STRENGTHS_GRADIENT, pilot_grid

    grid = pilot_grid("gradient")
    runs = _recorded(grid)
    if not runs or runs[0].config != grid[0]:
        return frozenset()
    ref, by_kind = pilot_measure(runs[0]), pilots_by_kind(runs, "gradient")
    out = set()
    for kind, key in PENALTY_KEYS.items():
        pilots = by_kind.get(kind, {})
        deviates = full_scale_strength(kind, pilots, ref)[1]
        decided = pick_decided(choose_strength(kind, pilots, ref), pilots, PILOT_STRENGTHS_GRADIENT)
        if deviates and decided:
            out.add(key)
    return frozenset(out)


def intervention_control() -> None:
    """The control's seeds measured, as a table (grokkit.intervention_tables.measures_md), from the shipped records."""
    from .intervention_tables import measures_md
    from .interventions import measure

    runs = _control_records()
    display(HTML(run_tables.stack_table_html(measures_md(runs, [measure(r) for r in runs]))))  # shifts: its own spread


def intervention_controls(train_missing: bool = False) -> list:
    """The control's runs as this page draws them: its shipped seeds (smoke-scale stand-ins in smoke mode)."""
    from .sweep import CONTROL_SEEDS, INTERVENTION_BASE

    return chapter_runs([INTERVENTION_BASE.replace(seed=s) for s in CONTROL_SEEDS], train_missing=train_missing)


def intervention_runs(configs, train_missing: bool = False) -> list:
    """The intervention runs this page draws (records, or stand-ins for an intervention with no record yet), and
    where each comes from."""
    from .interventions import key_of

    runs = chapter_runs(configs, train_missing=train_missing)
    # an intervention with a full-scale record is drawn from its records only: a stand-in beside it (another seed
    # not recorded yet) would put a 300-step curve among the 10⁵-step ones
    recorded = {key_of(records.stands_for(r)) for r in runs if not records.is_stand_in(r)}
    runs = [r for r in runs if not (records.is_stand_in(r) and key_of(records.stands_for(r)) in recorded)]
    md(run_tables.sources(runs))
    return runs


def _shipped_bench() -> dict | None:
    """The shipped one-thread benchmark (grokkit.intervention_tables.BENCH_FILE, JSON), or None when the clone lacks
    it."""
    from .config import home
    from .intervention_tables import BENCH_FILE

    path = home() / BENCH_FILE
    return json.loads(path.read_text()) if path.exists() else None


def _pilot_runs() -> tuple:
    """The recorded pilots (grokkit.sweep.pilot_grid): (the reference, the first round's penalised pilots, the second
    round's), each a list of records in the grid's order; the reference None when it is not recorded."""
    from .sweep import pilot_grid

    first, second = _recorded(pilot_grid()), _recorded(pilot_grid("gradient")[1:])
    ref = next((r for r in first if r.config.rank_penalty_kind == "none"), None)
    return ref, [r for r in first if r is not ref], second


def intervention_pilots(scale: str) -> None:
    """One round of pilots as a table (grokkit.pilots.pilot_table, which raises ValueError without the reference):
    `scale` "loss" the first round, "gradient" the second. The chapter says (and checks) which are recorded."""
    from .pilots import pilot_table

    ref, first, second = _pilot_runs()
    have = first if scale == "loss" else second
    display(HTML(run_tables.stack_table_html(pilot_table(([ref] if ref else []) + have, scale)[0])))


def intervention_figure(runs, controls) -> None:
    """The chapter's figure (grokkit.intervention_plots.interventions_figure): each intervention against the
    control, with its data as CSV."""
    show(intervention_plots.interventions_figure(runs, controls), runs + controls, "interventions-curves", INTERVENTION)


def intervention_verdicts(runs) -> None:
    """Every drawn run measured against the control, then each prediction's and check's grade on the shipped
    full-scale intervention records, as a table (grokkit.intervention_tables.verdicts_table_md)."""
    from .intervention_tables import measures_md, verdicts_table_md
    from .interventions import measure

    control = _control_records()
    display(HTML(run_tables.stack_table_html(measures_md(runs, [measure(r) for r in control]))))
    md(verdicts_table_md(_intervention_records(), control))


def verdicts(claim_numbers, runs=()) -> None:
    """The chapter's claims judged on the shipped paper records (every recorded seed, robustness-checked): per
    claim its grade, its rule, its parts table and its robustness table (grokkit.report.verdict_layers_html).
    `runs` is accepted for older calls; the measured events of the chapter's runs are shown once, by `events`."""
    vs = paper_verdicts(claim_numbers)
    if not vs:
        md("No full-scale run records found: the verdicts need the shipped records in results/.")
        return
    display(HTML("".join(report.verdict_layers_html(v) for v in vs)))


def round_two_runs(configs, controls, train_missing: bool = False):
    """The second round of interventions (grokkit.round_two) on this page: its figure against the control (`controls`,
    every seed; grokkit.intervention_plots), then per recorded run its measures (round_two.runs_md). Returns
    (by_key, control_onsets, checks) for the predictions and the manipulation checks the chapter shows next: only
    records are read (smoke-scale stand-ins in smoke mode, where nothing else exists)."""
    from . import round_two as r2
    from .intervention_plots import round_two_figure
    from .sweep import control_norm_at_onset

    runs = chapter_runs(configs, train_missing=train_missing)
    read = [r for r in runs if smoke() or not records.is_stand_in(r)]
    show(round_two_figure(runs, controls), [*read, *controls], "round-two", ROUND_TWO)
    norm, det = control_norm_at_onset(), detector()
    control = [r2.measure(r, norm, det) for r in controls]
    onsets = [c.climb_onset_step for c in control]
    measured = [(k, r, r2.measure(r, norm, det)) for r in read if (k := r2.key_of(records.stands_for(r)))]
    by_key = {k: [m for kk, _, m in measured if kk == k] for k in r2.INTERVENTIONS}
    checks = [r2.check(k, m, norm, r.config.rank_cut_rank or None, r.config.width) for k, r, m in measured]
    if measured:  # seven columns: a table that stacks its rows on a phone and fits the text column
        display(HTML(run_tables.stack_table_html(r2.runs_md(by_key, control))))
    return by_key, onsets, checks
