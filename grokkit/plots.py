"""The book's figures (matplotlib), shared by every chapter.

Conventions, the same in all chapters:
- accuracy: blue = train, orange = test, as in the paper ("blue = train accuracy and orange = test accuracy",
  Fig 2 caption); when several depths share an axis, the depth's colour with train solid and test dashed;
- one fixed colour per depth (DEPTH_COLORS) and one colour per layer (viridis, first -> last layer);
- steps on a log axis, as in Omnigrok's MNIST plots (Liu et al. 2023, Fig 3), from the first logged step > 0;
- a configuration with several recorded seeds: every seed as a thin line, their median as the thick one (never
  one seed alone); a panel takes a Run or a list of seed Runs of one configuration;
- the start of the test climb (grokkit.events: climb_onset_step, "the beginning of generalization") marked with a
  dotted vertical line;
- a figure drawn from a small-scale stand-in (a missing record, or smoke mode) says so in its title;
- made for the page: every figure is at most TEXT_WIDTH wide and is shown at that size (grokkit.book.show embeds it
  at twice the pixel density with its width in CSS px, SHOWN_DPI px per inch), so its 9-point tick labels read as
  9 points; a figure with more panels gets more rows, never a smaller scale. Importing this module sets the book's
  font sizes (STYLE) in matplotlib's rcParams, so that ticks created at draw time get them too;
- step axes cover where the data are: log axes start at the first rank snapshot (667 steps at full scale; every
  recorded run is still near chance level there, train accuracy at most 0.19), and the two-stage figure has a
  linear step axis, where a shoulder of a few thousand steps is visible.
"""
from __future__ import annotations

import copy
import functools
import re
import textwrap

import matplotlib
import matplotlib.lines
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

from .events import (
    PAPER_RTOL,
    events,
    hidden_mean,
    rank_matrix,
    run_label,
    tolerance_def,
    tolerance_sweep,
    tunnel_threshold,
)
from .metrics import tunnel_length
from .records import is_stand_in, stands_for

TEXT_WIDTH = 6.8  # inches: the book's text column is about 690 CSS px wide at a 1280 px window
SHOWN_DPI = 100  # CSS px per inch of figure as shown: a 6.8-inch figure is shown 680 px wide, at 100 %
STYLE = {"font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "xtick.labelsize": 9, "ytick.labelsize": 9,
         "legend.fontsize": 9, "legend.title_fontsize": 9, "figure.titlesize": 10.5}  # points, as shown
matplotlib.rcParams.update(STYLE)

TRAIN, TEST = "tab:blue", "tab:orange"
SEED_COLORS = ("tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:gray")  # none of train, test or a depth
DEPTH_COLORS = {4: "tab:green", 8: "tab:purple", 12: "tab:red"}
STAND_IN = "small-scale stand-in — the full-scale record is not shipped yet"  # in a title a reader sees


def setting(c: dict) -> str:
    """'d = 12, N = 5,000, γ = 0.01': a configuration (an identity dict, records.stands_for) as a figure names it."""
    return f"d = {c['depth']}, N = {c['n_train']:,}, γ = {c['weight_decay']:g}"


def depth_color(depth: int) -> str:
    return DEPTH_COLORS.get(depth, "tab:gray")


def layer_colors(n: int):
    return plt.cm.viridis(np.linspace(0, 0.95, n))


def label(run) -> str:
    """'d = 12, N = 5000, γ = 0.01, seed 0' -- what the run stands for (the full-scale config for a stand-in)."""
    return run_label(run)


def title(run, what: str = "") -> str:
    t = f"{what} {label(run)}".strip()
    return f"{t}\n({STAND_IN})" if is_stand_in(run) else t


def any_stand_in(runs) -> bool:
    return any(is_stand_in(r) for r in runs)


def suptitle(fig, text: str, runs) -> None:
    """A figure-level title, wrapped to the figure's width; if any run is a stand-in, the title says so."""
    n = sum(is_stand_in(r) for r in runs)
    if n:
        text += f" [{n} of {len(runs)} runs: {STAND_IN}]"
    chars = int(fig.get_figwidth() * 72 / (0.55 * STYLE["figure.titlesize"]))  # about 0.55 em per character
    fig.suptitle(textwrap.fill(text, chars))


def _unique_legend(axes) -> tuple:
    """(handles, labels) of all `axes` together, each label once: one legend for a figure whose panels repeat it."""
    seen = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    return list(seen.values()), list(seen)


def median_legend(ax) -> tuple:
    """(handles, labels) of `ax` for a legend shared by the whole figure, whose panels may differ in their number of
    seeds: '(median of 3 seeds)' becomes '(median)'."""
    handles, labels = ax.get_legend_handles_labels()
    return handles, [re.sub(r" \(median of \d+ seeds\)", " (median)", lab) for lab in labels]


def _figure(rows: int, cols: int, row_height: float, **kw):
    """A TEXT_WIDTH-wide figure of rows x cols panels, laid out by matplotlib's constrained layout."""
    return plt.subplots(rows, cols, figsize=(TEXT_WIDTH, row_height * rows + 0.6), squeeze=False,
                        layout="constrained", **kw)


# ---- onsets ----------------------------------------------------------------------------------------------
def climb_onset(run):
    """The step where generalization begins: grokkit.events' climb_onset_step (10 % of the whole test climb;
    claims.THRESHOLDS' defaults). None if the test accuracy never climbs."""
    from .claims import detector

    return events(run, detector()).climb_onset_step


def median_onset(runs):
    """The median over the seeds of the start of the test climb (steps), None if no seed climbs."""
    got = [s for s in (climb_onset(r) for r in runs) if s]
    return float(np.median(got)) if got else None


ONSET_NAME = "start of the test climb"


def mark_onset(ax, runs, color="0.35", name: str = ONSET_NAME) -> None:
    """A dotted vertical line at the seeds' median start of the test climb, named in the legend."""
    s = median_onset(seeds(runs))
    if s:
        many = len(seeds(runs)) > 1
        ax.axvline(s, color=color, lw=1.2, ls=":", zorder=0, label=name + (" (median)" if many else ""))


def step_range(runs) -> tuple:
    """(first, last) step of a log step axis: from the first positive rank snapshot (where the data of every row of
    Fig 1 exist; before it every recorded run is near chance level) to the last logged step."""
    firsts = [np.asarray(r.history["rank_step"])[np.asarray(r.history["rank_step"]) > 0] for r in runs]
    first = min((f[0] for f in firsts if len(f)), default=1)
    return first, max(int(np.asarray(r.history["step"])[-1]) for r in runs)


def _steps(ax, runs=(), log: bool = True) -> None:
    if log:
        ax.set_xscale("log")
        if runs:
            lo, hi = step_range(runs)
            ax.set_xlim(lo * 0.9, hi * 1.1)
    else:
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1000:g}k" if v else "0"))
    ax.set_xlabel("step" + (" (log)" if log else ""))


def _pos(x, *ys):
    """Drop step 0 for log axes."""
    keep = np.asarray(x) > 0
    return (np.asarray(x)[keep], *[np.asarray(y)[keep] for y in ys])


# ---- panels ----------------------------------------------------------------------------------------------
def seeds(run) -> list:
    """A panel's runs: a list of seed Runs of one configuration, or [run]."""
    return list(run) if isinstance(run, (list, tuple)) else [run]


def median_curve(runs, key: str, step_key: str = "step"):
    """(steps, median over the runs of history[key]) on the steps every run logged (a diverged seed stops early)."""
    common = functools.reduce(np.intersect1d, [np.asarray(r.history[step_key]) for r in runs])
    ys = [np.asarray(r.history[key], dtype=float)[np.isin(r.history[step_key], common)] for r in runs]
    return common, np.median(ys, axis=0)


def _seed_lines(ax, runs, key, color, ls="-", name="", step_key="step", lw=1.5, log=True) -> None:
    """One configuration's seeds: thin lines for each seed and a thick median (a single seed: one line)."""
    cut = _pos if log else (lambda *a: a)
    if len(runs) > 1:
        for r in runs:
            x, y = cut(r.history[step_key], r.history[key])
            ax.plot(x, y, color=color, lw=0.7, alpha=0.45, ls=ls)
        x, y = cut(*median_curve(runs, key, step_key))
        ax.plot(x, y, color=color, lw=lw + 0.3, ls=ls, label=f"{name} (median of {len(runs)} seeds)".strip())
    else:
        x, y = cut(runs[0].history[step_key], runs[0].history[key])
        ax.plot(x, y, color=color, lw=lw, ls=ls, label=name or None)


def accuracy(ax, run, color=None, name: str = "", log: bool = True, onset: bool = True, train: bool = True) -> None:
    """Train and test accuracy against steps: blue/orange, or `color` with train solid and test dashed; several
    seeds of one configuration as thin lines with their median. train=False: test accuracy only."""
    runs = seeds(run)
    if train:
        _seed_lines(ax, runs, "train_acc", color or TRAIN, "-", f"{name} train".strip(), log=log)
    _seed_lines(ax, runs, "test_acc", color or TEST, "--" if color and train else "-",
                f"{name} test".strip() if train else name, log=log)
    if onset:
        mark_onset(ax, runs)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("accuracy" if train else "test accuracy")
    _steps(ax, runs, log)


def _layers(ax, runs, key, step_key) -> None:
    """One line per layer, coloured by its relative position (viridis, first -> last); several seeds: each layer's
    median over them, and the seeds' min-max band in the layer's colour. The colour scale is drawn once per figure
    (layer_colorbar)."""
    if len(runs) > 1:
        x, r = median_curve(runs, key, step_key)
        every = np.array([np.asarray(run.history[key], dtype=float)[np.isin(run.history[step_key], x)]
                          for run in runs])
    else:
        x, r = np.asarray(runs[0].history[step_key]), np.asarray(runs[0].history[key], dtype=float)
        every = None
    for j, c in enumerate(layer_colors(r.shape[1])):
        xs, y = _pos(x, r[:, j])
        ax.plot(xs, y, color=c, lw=1.2)
        if every is not None:
            _, lo, hi = _pos(x, every[:, :, j].min(0), every[:, :, j].max(0))
            ax.fill_between(xs, lo, hi, color=c, alpha=0.12, lw=0)


def layer_colorbar(fig, axes) -> None:
    """The layer colour scale under a figure: colours mean the layer's relative position, first to last Linear
    layer, at every depth (d = 4 has 4 colours spread over the same scale as d = 12's 12)."""
    sm = plt.cm.ScalarMappable(cmap=plt.cm.viridis, norm=matplotlib.colors.Normalize(0, 1 / 0.95))
    cb = fig.colorbar(sm, ax=axes, orientation="horizontal", fraction=0.04, aspect=50, pad=0.02)
    cb.set_ticks([0, 0.5 / 0.95, 1])
    cb.set_ticklabels(["first linear layer", "middle", "last (output)"])
    ends = cb.ax.get_xticklabels()
    ends[0].set_horizontalalignment("left")  # the end labels stay inside the figure
    ends[-1].set_horizontalalignment("right")
    cb.set_label("layer colour = relative position")


def ranks(ax, run, key: str = "rank", log: bool = True, onset: bool = True) -> None:
    """Per-layer feature rank against steps, one colour per layer (§2 of the paper: matrix_rank(cov(H.T)) of every
    Linear layer's pre-activations on the 10k test set; key='robust_rank' for the rtol=1e-3 rank); several seeds:
    each layer's median."""
    runs = seeds(run)
    _layers(ax, runs, key, "rank_step")
    if onset:
        mark_onset(ax, runs)
    ax.set_ylabel("feature rank" if key == "rank" else "feature rank (robust)")
    _steps(ax, runs, log)


def probes(ax, run, log: bool = True, onset: bool = True) -> None:
    """Per-layer linear-probe test accuracy against steps (§2 of the paper), one colour per layer; several seeds:
    each layer's median."""
    runs = seeds(run)
    if any(np.asarray(r.history.get("probe_acc", np.zeros((0, 0)))).size == 0 for r in runs):
        ax.text(0.5, 0.5, "no probes in this record", ha="center", transform=ax.transAxes)
        return
    _layers(ax, runs, "probe_acc", "probe_step")
    if onset:
        mark_onset(ax, runs)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("linear-probe accuracy")
    _steps(ax, runs, log)


def weight_norm(ax, run, color=None, name: str = "", log: bool = True, ls: str = "-") -> None:
    """Total L2 norm of all parameters, biases included (§3, Fig 5)."""
    runs = seeds(run)
    _seed_lines(ax, runs, "weight_norm", color or "k", ls, name)
    ax.set_ylabel("weight norm (all parameters)")
    _steps(ax, runs, log)


def second_last_rank(ax, run, color=None, name: str = "", log: bool = True, ls: str = "-") -> None:
    """Rank of "the second-last layer (the layer before output layer)" [DG Fig 5], i.e. Linear depth-1."""
    runs = [copy.copy(r) for r in seeds(run)]
    for r in runs:
        r.history = {**r.history, "penult_rank": np.asarray(r.history["rank"])[:, -2]}
    _seed_lines(ax, runs, "penult_rank", color or "k", ls, name, step_key="rank_step")
    ax.set_ylabel("rank, second-last layer")
    _steps(ax, runs, log)


def panel_label(run, wrap: bool = False) -> str:
    """A panel's title: the run's label, or the configuration and how many seeds; '(stand-in)' when it is one;
    wrap=True: the seeds on a second line (narrow panels)."""
    runs = seeds(run)
    text = label(runs[0]) if len(runs) == 1 else label(runs[0]).rsplit(", seed", 1)[0] + f", {len(runs)} seeds"
    text += " (stand-in)" if any_stand_in(runs) else ""
    return text.replace(", γ", ",\nγ", 1) if wrap else text


def _flat(panels) -> list:
    return [r for p in panels for r in seeds(p)]


# ---- figures ---------------------------------------------------------------------------------------------
def rank_acc_probe(panels, key: str = "rank", notes=None):
    """Fig 1: one column per configuration (a Run or a list of its seeds, at most 3 columns); rows = per-layer rank,
    train/test accuracy, per-layer probe accuracy; the layer colour scale underneath. `notes`: one line per panel
    added to its title (the phases of Figs 6-7: the paper's and ours)."""
    fig, axes = _figure(3, len(panels), 2.1, sharex="col", sharey="row")
    fig.phone_order = "columns"  # on a phone one configuration's three panels stay together (grokkit.picture)
    for j, p in enumerate(panels):
        ranks(axes[0, j], p, key)
        accuracy(axes[1, j], p)
        probes(axes[2, j], p)
        axes[0, j].set_title(panel_label(p, wrap=True) + (f"\n{notes[j]}" if notes else ""), fontsize=9.5)
        for ax in axes[:2, j]:
            ax.set_xlabel("")
        for ax in axes[:, j] if j else []:
            ax.set_ylabel("")
    layer_colorbar(fig, axes)
    fig.legend(*median_legend(axes[1, 0]), loc="outside lower center", ncol=3, fontsize=8.5)
    suptitle(fig, "Feature rank, accuracy and linear probes per layer (several seeds: medians, shaded: the seeds' "
                  "range; dotted: the start of the test climb)", _flat(panels))
    return fig


def accuracy_panels(panels, what: str = "Train (blue) and test (orange) accuracy"):
    """Fig 2: one accuracy panel per configuration (a Run or a list of its seeds), side by side (at most 3)."""
    fig, axes = _figure(1, len(panels), 2.7, sharey=True)
    for ax, p in zip(axes[0], panels):
        accuracy(ax, p)
        ax.set_title(panel_label(p, wrap=True), fontsize=9.5)
    for ax in axes[0, 1:]:
        ax.set_ylabel("")
    fig.legend(*median_legend(axes[0, 0]), loc="outside lower center", ncol=3, fontsize=8.5)
    suptitle(fig, what + " (thin lines: seeds)", _flat(panels))
    return fig


def depth_overlay(panels):
    """All depths on one axis: the depth's colour, train solid, test dashed -- the delays side by side; each depth's
    start of the test climb (median over its seeds) a dotted line labelled with the depth."""
    fig, axes = _figure(1, 1, 3.4)
    ax = axes[0, 0]
    for p in panels:
        runs = seeds(p)
        d = runs[0].config.depth
        accuracy(ax, p, color=depth_color(d), name=f"d = {d}", onset=False)
        s = median_onset(runs)
        if s:
            ax.axvline(s, color=depth_color(d), lw=1.2, ls=":")
            ax.annotate(f"{d}", (s, 1.0), xytext=(0, 2), textcoords="offset points", va="bottom", ha="center",
                        fontsize=9, color=depth_color(d), xycoords=("data", "axes fraction"))
    _steps(ax, _flat(panels))
    fig.legend(*median_legend(ax), fontsize=8.5, ncol=2, loc="outside lower center")  # below: never over a curve
    suptitle(fig, "Accuracy by depth (solid: train, dashed: test; dotted: each depth's start of the test climb, "
                  "median over its seeds, its depth written above the panel)", _flat(panels))
    return fig


def two_stages(panels):
    """The two stages on a linear step axis, one row per configuration: every seed's test accuracy (train
    accuracy of the median in pale blue), each seed's measured shoulder shaded (grokkit.events: shoulder_start_step,
    shoulder_steps) and its second onset marked. A shoulder of a few thousand steps, invisible on a log axis, is
    plain here."""
    from .claims import detector

    fig, axes = _figure(len(panels), 1, 2.1, sharex=True, sharey=True)
    for ax, p in zip(axes[:, 0], panels):
        runs = seeds(p)
        x, tr = median_curve(runs, "train_acc")
        ax.plot(x, tr, color=TRAIN, lw=1, alpha=0.5, label="train (median)" if len(runs) > 1 else "train")
        for i, r in enumerate(runs):
            e = events(r, detector())
            c = SEED_COLORS[i % len(SEED_COLORS)]
            ax.plot(r.history["step"], r.history["test_acc"], color=c, lw=1.3,
                    label=f"test, seed {stands_for(r)['seed']}")
            if e.shoulder_start_step is not None and e.shoulder_steps:
                ax.axvspan(e.shoulder_start_step, e.shoulder_start_step + e.shoulder_steps, color=c, alpha=0.15,
                           lw=0)
            if e.second_onset_step:
                ax.axvline(e.second_onset_step, color=c, lw=1, ls=":")
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("accuracy")
        ax.set_title(panel_label(p), fontsize=9.5)
        _steps(ax, log=False)
    for ax in axes[:-1, 0]:
        ax.set_xlabel("")
    fig.legend(*_unique_legend(axes.flat), loc="outside lower center", ncol=4, fontsize=8.5)
    suptitle(fig, "Two stages on a linear step axis: shaded, each seed's shoulder (its measured plateau); dotted, "
                  "the onset of its second surge", _flat(panels))
    return fig


def _threshold(run) -> float:
    return tunnel_threshold(run.config.width)


def tunnel(panels):
    """Figs 3/4: the final feature rank of every layer, one line per configuration in its depth's colour (several
    seeds: each seed thin, the per-layer median thick), with the "rank lower than 300" tunnel threshold [DG Fig 3/4
    captions]; the legend gives each median tunnel length (hidden layers)."""
    fig, axes = _figure(1, 1, 3.6)
    ax = axes[0, 0]
    for p in panels:
        runs = seeds(p)
        finals = np.array([np.asarray(r.history["rank"])[-1] for r in runs], dtype=float)
        c = depth_color(runs[0].config.depth)
        for f in finals if len(runs) > 1 else []:
            ax.plot(np.arange(1, len(f) + 1), f, "-", color=c, lw=0.7, alpha=0.45)
        med = np.median(finals, axis=0)
        n = int(np.median([tunnel_length(f, _threshold(runs[0]), include_output=False) for f in finals]))
        ax.plot(np.arange(1, len(med) + 1), med, "o-", color=c,
                label=f"{panel_label(p)}: tunnel {n} hidden layer{'s' * (n != 1)}")
    runs = _flat(panels)
    for threshold in sorted({_threshold(run) for run in runs}):  # stand-ins (width 32) get a scaled threshold
        who = "" if len({_threshold(run) for run in runs}) == 1 else (
            " (stand-ins)" if all(is_stand_in(r) for r in runs if _threshold(r) == threshold) else " (full scale)")
        ax.axhline(threshold, color="0.3", ls="--", lw=1, label=f"tunnel threshold: rank < {threshold:g}{who}")
    ax.set_xlabel("layer (1 = first, last = the 10-unit output)")
    ax.set_ylabel("feature rank at the last step")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    fig.legend(*ax.get_legend_handles_labels(), fontsize=8.5, loc="outside lower center")  # below the points
    suptitle(fig, "Tunnel: final rank per layer", runs)
    return fig


def by_depth(panels) -> list:
    """Panels (Runs or lists of seed Runs) grouped into one row per depth, in order of depth: Fig 5's rows."""
    depths = sorted({seeds(p)[0].config.depth for p in panels})
    return [[p for p in panels if seeds(p)[0].config.depth == d] for d in depths]


def norm_vs_rank(pairs):
    """Fig 5: for each depth (a row), two training-set sizes (each a Run or a list of its seeds; the first solid, the
    second dashed in every panel): test accuracy, the total weight norm, and the second-last layer's rank against
    steps, each size's start of the test climb dotted. `pairs` = [(a, b), ...], one row each."""
    fig, axes = _figure(len(pairs), 3, 2.2)
    for row, pair in zip(axes, pairs):
        for p, ls in zip(pair, ("-", "--")):
            runs = seeds(p)
            c = depth_color(runs[0].config.depth)
            name = f"N = {stands_for(runs[0])['n_train']:,}"
            _seed_lines(row[0], runs, "test_acc", c, ls, name)
            weight_norm(row[1], p, color=c, ls=ls)
            second_last_rank(row[2], p, color=c, ls=ls)
            s = median_onset(runs)
            for ax in row:
                if s:
                    ax.axvline(s, color=c, lw=1, ls=":", alpha=0.8)
        d = seeds(pair[0])[0].config.depth
        row[0].set_ylim(0, 1.02)
        row[0].set_ylabel("test accuracy")
        _steps(row[0], _flat(pair))
        row[0].set_title(f"d = {d}: test accuracy", fontsize=9.5)
        row[1].set_title("weight norm", fontsize=9.5)
        row[2].set_title("second-last rank", fontsize=9.5)
        row[1].set_ylabel("weight norm")
        row[2].set_ylabel("rank")
    sizes = {tuple(stands_for(seeds(p)[0])["n_train"] for p in pair) for pair in pairs}
    names = [f"N = {n:,}" for n in next(iter(sizes))] if len(sizes) == 1 else ["first size", "second size"]
    fig.legend([matplotlib.lines.Line2D([], [], color="0.3", ls=ls) for ls in ("-", "--")], names, fontsize=8.5,
               loc="outside lower center", ncol=2, handlelength=2.5)  # below the panels, never over a curve
    for row in axes[:-1]:
        for ax in row:
            ax.set_xlabel("")
    suptitle(fig, "Weight norm vs feature rank, two training-set sizes per depth (solid: the first size, dashed: the "
                  "second; thin lines: seeds; dotted: each size's start of the test climb)",
             [r for p in pairs for q in p for r in seeds(q)])
    return fig


SEED_STYLES = ("-", "--", ":", "-.")


def seed_bands(rows):
    """One panel per depth, stacked: every seed's train (blue) and test (orange) accuracy, one line style per seed,
    and the min-max band of test accuracy over the seeds (where they share their logged steps). `rows` = [[run,
    ...]]."""
    rows = [row for row in rows if row]
    fig, axes = _figure(max(len(rows), 1), 1, 2.2, sharex=True)
    for ax, row in zip(axes[:, 0], rows):
        for i, run in enumerate(row):
            ls, sd = SEED_STYLES[i % len(SEED_STYLES)], stands_for(run)["seed"]
            x, tr, te = _pos(run.history["step"], run.history["train_acc"], run.history["test_acc"])
            ax.plot(x, tr, color=TRAIN, ls=ls, lw=1.1, alpha=0.7, label=f"train, seed {sd}")
            ax.plot(x, te, color=TEST, ls=ls, lw=1.3, label=f"test, seed {sd}")
        common = functools.reduce(np.intersect1d, [np.asarray(r.history["step"]) for r in row])
        if len(row) > 1 and len(common):  # the band spans the steps every seed logged (a diverged seed stops early)
            te = [np.asarray(r.history["test_acc"])[np.isin(r.history["step"], common)] for r in row]
            x, lo, hi = _pos(common, np.min(te, axis=0), np.max(te, axis=0))
            ax.fill_between(x, lo, hi, color=TEST, alpha=0.18, lw=0, label="test, min-max over seeds")
        c = stands_for(row[0])
        ax.set_title(setting(c) + (" (stand-ins)" if any_stand_in(row) else ""), fontsize=9.5)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("accuracy")
        _steps(ax, row)
    for ax in axes[:-1, 0]:
        ax.set_xlabel("")
    if rows:  # one legend for the figure, from the panel with the most seeds
        most = max(axes[:, 0], key=lambda ax: len(ax.get_legend_handles_labels()[1]))
        fig.legend(*most.get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=8.5)
    suptitle(fig, "Seed to seed: train and test accuracy of every recorded seed", [r for row in rows for r in row])
    return fig


def summary(run, quantities=("accuracy", "rank"), log: bool = True):
    """The explorer's figure for one configuration (a Run or a list of its seeds), one panel per quantity side by
    side: 'accuracy', 'rank' (per layer), 'weight_norm', 'second_last_rank'; several seeds: thin lines per seed,
    the median in bold, each layer's median rank. log=False: a linear step axis (where two stages show)."""
    runs = seeds(run)
    fig, axes = _figure(1, len(quantities), 2.6)
    draw = {"accuracy": lambda ax: accuracy(ax, runs, log=log), "rank": lambda ax: ranks(ax, runs, log=log),
            "weight_norm": lambda ax: weight_norm(ax, runs, log=log),
            "second_last_rank": lambda ax: second_last_rank(ax, runs, log=log)}
    for ax, q in zip(axes[0], quantities):
        draw[q](ax)
    fig.legend(*median_legend(axes[0, 0]), loc="outside lower center", ncol=3, fontsize=8.5)  # never over a curve
    if "rank" in quantities:
        layer_colorbar(fig, axes[0, list(quantities).index("rank")])
    fig.suptitle(title(runs[0]) if len(runs) == 1 else panel_label(runs))
    return fig


def exact_vs_robust(panels):
    """Per-layer rank under the paper's machine-precision tolerance (top row) and the tolerance-robust 1e-3 (bottom),
    one column per configuration (a Run or a list of its seeds: medians)."""
    fig, axes = _figure(2, len(panels), 2.3, sharex="col", sharey=True)
    fig.phone_order = "columns"
    for j, p in enumerate(panels):
        ranks(axes[0, j], p, "rank")
        ranks(axes[1, j], p, "robust_rank")
        axes[0, j].set_title(panel_label(p, wrap=True), fontsize=9.5)
        axes[0, j].set_xlabel("")
        for ax in axes[:, j] if j else []:
            ax.set_ylabel("")
    layer_colorbar(fig, axes)
    suptitle(fig, "Per-layer rank, median over seeds: paper-exact (top) and tolerance-robust, relative tolerance 1e-3 "
                  "(bottom)", _flat(panels))
    return fig


def tolerance_sweep_figure(runs, det, shown=(PAPER_RTOL, 1e-8, 1e-5, 1e-3, 1e-2)):
    """Where the double descent and the tunnel appear and vanish as the rank's relative tolerance grows from the
    paper's machine precision to 1e-2 (records that keep spectra; one row per run). Left: the mean hidden-layer
    rank over training, relative to its value at initialization, at the `shown` tolerances (linear step axis, where
    the double descent lives). Right: tunnel length at every swept tolerance (events.SWEEP_RTOLS), with the
    threshold scaled to the rank at initialization (the claims' definition) and with the paper's fixed 300; a
    filled marker where the mean hidden-layer rank shows a double descent."""
    colors = plt.cm.plasma(np.linspace(0, 0.85, len(shown)))
    fig, axes = _figure(len(runs), 2, 3.0)
    for (a, b), run in zip(axes, runs):
        step = np.asarray(run.history["rank_step"])
        for rtol, c in zip(shown, colors):
            m = hidden_mean(rank_matrix(run, tolerance_def(rtol)))
            name = f"tolerance {rtol:.1e} (the paper's)" if rtol == PAPER_RTOL else f"tolerance {rtol:g}"
            a.plot(step, m / m[0], color=c, lw=1.3, label=name)
        _steps(a, log=False)
        a.set_ylabel("mean hidden rank / initial")
        a.set_title(run_label(run), fontsize=9.5)
        rows = tolerance_sweep(run, det)
        x = [r["rtol"] for r in rows]
        b.plot(x, [r["tunnel_scaled_layers"] for r in rows], "-", color="tab:blue", label="threshold scaled")
        fixed = tunnel_threshold(run.config.width, det.tunnel_rank)  # the paper's 300 at width 400
        b.plot(x, [r["tunnel_fixed_layers"] for r in rows], "--", color="tab:gray", label=f"fixed {fixed:g}")
        dd = [r["double_descent"] for r in rows]
        b.scatter(x, [r["tunnel_scaled_layers"] for r in rows], c=["tab:red" if d else "white" for d in dd],
                  edgecolors="tab:red", zorder=3, label="double descent\n(filled: present)")
        b.set_xscale("log")
        b.set_xlabel("relative tolerance (log)")
        b.set_ylabel("tunnel (hidden layers)")
        b.set_ylim(-0.3, run.config.depth - 0.5)
        b.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    if len(runs):  # one legend under the figure: the tolerances (left), the tunnel's lines (right)
        (h1, l1), (h2, l2) = axes[0, 0].get_legend_handles_labels(), axes[0, 1].get_legend_handles_labels()
        fig.legend(h1 + h2, l1 + l2, loc="outside lower center", ncol=3, fontsize=8.5)
    return fig


def shown_width(fig) -> int:
    """The width (CSS px) a figure is shown at: its width in inches x SHOWN_DPI."""
    return round(fig.get_figwidth() * SHOWN_DPI)
