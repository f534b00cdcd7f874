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
- a figure drawn from a smoke-scale stand-in says so in its title.
"""
from __future__ import annotations

import copy
import functools
import io

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

from .events import (
    PAPER_RTOL,
    events,
    rank_matrix,
    run_label,
    tolerance_def,
    tolerance_sweep,
    tunnel_threshold,
)
from .metrics import tunnel_length
from .records import is_stand_in, stands_for

TRAIN, TEST = "tab:blue", "tab:orange"
DEPTH_COLORS = {4: "tab:green", 8: "tab:purple", 12: "tab:red"}
STAND_IN = "smoke-scale stand-in — the full-scale record is not shipped yet"


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
    """A figure-level title; if any run is a stand-in, the title says so."""
    n = sum(is_stand_in(r) for r in runs)
    if n:
        text += f"\n[{n} of {len(runs)} runs: {STAND_IN}]"
    fig.suptitle(text, fontsize=11)


# ---- onsets ----------------------------------------------------------------------------------------------
def climb_onset(run):
    """The step where generalization begins: grokkit.events' climb_onset_step (10 % of the whole test climb;
    claims.THRESHOLDS' defaults). None if the test accuracy never climbs."""
    from .claims import detector

    return events(run, detector()).climb_onset_step


def mark_onset(ax, run) -> None:
    s = climb_onset(run)
    if s:
        ax.axvline(s, color="0.4", lw=1, ls=":", zorder=0)


def _steps(ax, log: bool = True) -> None:
    if log:
        ax.set_xscale("log")
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


def _seed_lines(ax, runs, key, color, ls="-", name="", step_key="step", lw=1.5) -> None:
    """One configuration's seeds: thin lines for each seed and a thick median (a single seed: one line)."""
    if len(runs) > 1:
        for r in runs:
            x, y = _pos(r.history[step_key], r.history[key])
            ax.plot(x, y, color=color, lw=0.6, alpha=0.45, ls=ls)
        x, y = _pos(*median_curve(runs, key, step_key))
        ax.plot(x, y, color=color, lw=lw + 0.3, ls=ls, label=f"{name} (median of {len(runs)} seeds)".strip())
    else:
        x, y = _pos(runs[0].history[step_key], runs[0].history[key])
        ax.plot(x, y, color=color, lw=lw, ls=ls, label=name or None)


def accuracy(ax, run, color=None, name: str = "", log: bool = True, onset: bool = True) -> None:
    """Train and test accuracy against steps: blue/orange, or `color` with train solid and test dashed; several
    seeds of one configuration as thin lines with their median."""
    runs = seeds(run)
    _seed_lines(ax, runs, "train_acc", color or TRAIN, "-", f"{name} train".strip())
    _seed_lines(ax, runs, "test_acc", color or TEST, "--" if color else "-", f"{name} test".strip())
    if onset:
        mark_onset(ax, runs[0])
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("accuracy")
    _steps(ax, log)


def _layers(ax, runs, key, step_key) -> None:
    """One line per layer (viridis); several seeds: each layer's median over them."""
    if len(runs) > 1:
        x, r = median_curve(runs, key, step_key)
    else:
        x, r = np.asarray(runs[0].history[step_key]), np.asarray(runs[0].history[key], dtype=float)
    for j, c in enumerate(layer_colors(r.shape[1])):
        xs, y = _pos(x, r[:, j])
        ax.plot(xs, y, color=c, lw=1.2, label=f"layer {j + 1}")


def ranks(ax, run, key: str = "rank", log: bool = True, onset: bool = True) -> None:
    """Per-layer feature rank against steps, one colour per layer (§2 of the paper: matrix_rank(cov(H.T)) of every
    Linear layer's pre-activations on the 10k test set; key='robust_rank' for the rtol=1e-3 rank); several seeds:
    each layer's median."""
    runs = seeds(run)
    _layers(ax, runs, key, "rank_step")
    if onset:
        mark_onset(ax, runs[0])
    ax.set_ylabel("feature rank" if key == "rank" else "feature rank (tolerance-robust)")
    _steps(ax, log)


def probes(ax, run, log: bool = True, onset: bool = True) -> None:
    """Per-layer linear-probe test accuracy against steps (§2 of the paper), one colour per layer; several seeds:
    each layer's median."""
    runs = seeds(run)
    if any(np.asarray(r.history.get("probe_acc", np.zeros((0, 0)))).size == 0 for r in runs):
        ax.text(0.5, 0.5, "no probes in this record", ha="center", transform=ax.transAxes)
        return
    _layers(ax, runs, "probe_acc", "probe_step")
    if onset:
        mark_onset(ax, runs[0])
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("linear-probe accuracy")
    _steps(ax, log)


def weight_norm(ax, run, color=None, name: str = "", log: bool = True, ls: str = "-") -> None:
    """Total L2 norm of all parameters, biases included (§3, Fig 5)."""
    _seed_lines(ax, seeds(run), "weight_norm", color or "k", ls, name)
    ax.set_ylabel("weight norm (all parameters)")
    _steps(ax, log)


def second_last_rank(ax, run, color=None, name: str = "", log: bool = True, ls: str = "-") -> None:
    """Rank of "the second-last layer (the layer before output layer)" [DG Fig 5], i.e. Linear depth-1."""
    runs = [copy.copy(r) for r in seeds(run)]
    for r in runs:
        r.history = {**r.history, "penult_rank": np.asarray(r.history["rank"])[:, -2]}
    _seed_lines(ax, runs, "penult_rank", color or "k", ls, name, step_key="rank_step")
    ax.set_ylabel("rank, second-last layer")
    _steps(ax, log)


def panel_label(run) -> str:
    """A panel's title: the run's label, or the configuration and how many seeds; '(stand-in)' when it is one."""
    runs = seeds(run)
    text = label(runs[0]) if len(runs) == 1 else label(runs[0]).rsplit(", seed", 1)[0] + f", {len(runs)} seeds"
    return text + (" (stand-in)" if any_stand_in(runs) else "")


def _flat(panels) -> list:
    return [r for p in panels for r in seeds(p)]


# ---- figures ---------------------------------------------------------------------------------------------
def rank_acc_probe(panels, key: str = "rank"):
    """Fig 1: one column per configuration (a Run or a list of its seeds); rows = per-layer rank, train/test
    accuracy, per-layer probe accuracy."""
    fig, axes = plt.subplots(3, len(panels), figsize=(4.2 * len(panels), 8.4), squeeze=False, sharex="col")
    for j, p in enumerate(panels):
        ranks(axes[0, j], p, key)
        accuracy(axes[1, j], p)
        probes(axes[2, j], p)
        axes[0, j].set_title(panel_label(p), fontsize=10)
        for ax in axes[:2, j]:
            ax.set_xlabel("")
    axes[1, 0].legend(loc="lower right", fontsize=8)
    n_layers = len(seeds(panels[-1])[0].history[key][0])
    axes[0, -1].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, ncol=1 + n_layers // 13)
    suptitle(fig, "Feature rank, accuracy and linear probes per layer (several seeds: medians; dotted line: the "
                  "start of the test climb)", _flat(panels))
    fig.tight_layout()
    return fig


def accuracy_panels(panels, what: str = "Train (blue) and test (orange) accuracy"):
    """Fig 2: one accuracy panel per configuration (a Run or a list of its seeds), side by side."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False, sharey=True)
    for ax, p in zip(axes[0], panels):
        accuracy(ax, p)
        ax.set_title(panel_label(p), fontsize=10)
    axes[0, 0].legend(loc="lower right", fontsize=8)
    suptitle(fig, what + " (thin lines: seeds; dotted line: the start of the test climb)", _flat(panels))
    fig.tight_layout()
    return fig


def depth_overlay(panels):
    """All depths on one axis: the depth's colour, train solid, test dashed -- the delays side by side."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for p in panels:
        run = seeds(p)[0]
        d = run.config.depth
        accuracy(ax, p, color=depth_color(d), name=f"d = {d}", onset=False)
        s = climb_onset(run)
        if s:
            ax.axvline(s, color=depth_color(d), lw=1, ls=":")
    ax.legend(fontsize=8, ncol=2, loc="lower right")
    suptitle(fig, "Accuracy by depth (solid: train, dashed: test, dotted: the start of the test climb)", _flat(panels))
    fig.tight_layout()
    return fig


def _threshold(run) -> float:
    return tunnel_threshold(run.config.width)


def tunnel(panels):
    """Figs 3/4: the final feature rank of every layer, one line per configuration in its depth's colour (several
    seeds: each seed thin, the per-layer median thick), with the "rank lower than 300" tunnel threshold [DG Fig 3/4
    captions]; the legend gives each median tunnel length (hidden layers)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for p in panels:
        runs = seeds(p)
        finals = np.array([np.asarray(r.history["rank"])[-1] for r in runs], dtype=float)
        c = depth_color(runs[0].config.depth)
        for f in finals if len(runs) > 1 else []:
            ax.plot(np.arange(1, len(f) + 1), f, "-", color=c, lw=0.6, alpha=0.45)
        med = np.median(finals, axis=0)
        n = int(np.median([tunnel_length(f, _threshold(runs[0]), include_output=False) for f in finals]))
        ax.plot(np.arange(1, len(med) + 1), med, "o-", color=c,
                label=f"{panel_label(p)}: tunnel {n} hidden layer{'s' * (n != 1)}")
    runs = _flat(panels)
    for threshold in sorted({_threshold(run) for run in runs}):  # stand-ins (width 32) get a scaled threshold
        who = "" if len({_threshold(run) for run in runs}) == 1 else (
            " (stand-ins)" if all(is_stand_in(r) for r in runs if _threshold(r) == threshold) else " (full scale)")
        ax.axhline(threshold, color="0.3", ls="--", lw=1)
        ax.text(1, threshold, f" tunnel threshold: rank < {threshold:g}{who}", va="bottom", fontsize=8, color="0.3")
    ax.set_xlabel("layer (1 = first Linear, last = 10-d output)")
    ax.set_ylabel("feature rank at the last step")
    ax.legend(fontsize=8)
    suptitle(fig, "Tunnel: final rank per layer", runs)
    fig.tight_layout()
    return fig


def norm_vs_rank(pairs):
    """Fig 5: for each depth, two training-set sizes (each a Run or a list of its seeds): accuracy (test dashed),
    the total weight norm, and the second-last layer's rank against steps. `pairs` = [(a, b), ...], one row each."""
    fig, axes = plt.subplots(len(pairs), 3, figsize=(13, 3.3 * len(pairs)), squeeze=False)
    for row, pair in zip(axes, pairs):
        for p, ls in zip(pair, ("-", "--")):
            run = seeds(p)[0]
            c = depth_color(run.config.depth)
            name = panel_label(p)
            accuracy(row[0], p, color=c, name=name.split(", γ")[0], onset=False)
            weight_norm(row[1], p, color=c, name=name, ls=ls)
            second_last_rank(row[2], p, color=c, name=name, ls=ls)
            s = climb_onset(run)
            for ax in row[1:]:
                if s:
                    ax.axvline(s, color=c, lw=1, ls=":", alpha=0.7)
        row[0].set_title("accuracy (solid: train, dashed: test)", fontsize=10)
        row[1].set_title("weight norm", fontsize=10)
        row[2].set_title("rank of the second-last layer", fontsize=10)
        row[1].legend(fontsize=7)
        row[0].legend(fontsize=7, loc="lower right")
    suptitle(fig, "Weight norm vs feature rank, same depth, two training-set sizes (thin lines: seeds; dotted: "
                  "starts of the test climb)", [r for p in pairs for q in p for r in seeds(q)])
    fig.tight_layout()
    return fig


def claim_measures(verdicts, cols: int = 3):
    """The scoreboard's summary: one panel per claim, its first effect measure per configuration (x) with every
    seed as a point, the panel titled with the grade. Three columns, so that each panel stays legible in the book's
    text column (about 800 px wide)."""
    rows = -(-len(verdicts) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.8 * cols, 2.9 * rows), squeeze=False)
    colors = {"reproduced": "tab:green", "partly reproduced": "tab:olive", "not reproduced": "tab:red",
              "inconclusive": "0.5"}
    for ax, v in zip(axes.flat, verdicts):
        ms = v.measures
        ax.set_title(f"claim {v.claim}: {v.grade}" + ("" if v.robust else " (fragile)"), fontsize=9,
                     color=colors[v.grade])
        if not ms:
            ax.text(0.5, 0.5, "no measure", ha="center", va="center", transform=ax.transAxes)
            ax.set_xticks([])
            continue
        name, m = next(iter(ms.items()))
        groups: dict = {}
        for lab, val in m["values"].items():
            groups.setdefault(lab.split(", seed")[0].split(": ")[0], []).append(val)
        for i, vals in enumerate(groups.values()):
            ax.plot([i] * len(vals), vals, "o", ms=4, alpha=0.7, color=colors[v.grade])
        ax.set_xticks(range(len(groups)))
        ticks = [g.replace(", γ = ", "\nγ = ").replace(", N", "\nN") for g in groups]
        if len(groups) > 4:  # six configurations side by side: "d=12" instead of "d = 12", so labels do not collide
            ticks = [t.replace(" = ", "=") for t in ticks]
        ax.set_xticklabels(ticks, fontsize=7)
        ax.set_ylabel(f"{name}\n({m['unit']})" if m["unit"] else name, fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        if max(abs(x) for vals in groups.values() for x in vals) >= 1000:  # steps: thousands separators
            ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    for ax in list(axes.flat)[len(verdicts):]:
        ax.axis("off")
    fig.suptitle("Each claim's effect measure per configuration, every seed a point", fontsize=11)
    fig.tight_layout()
    return fig


SEED_STYLES = ("-", "--", ":", "-.")


def seed_bands(rows):
    """One panel per depth: every seed's train (blue) and test (orange) accuracy, one line style per seed, and
    the min-max band of test accuracy over the seeds (where they share their logged steps). `rows` = [[run, ...]]."""
    rows = [row for row in rows if row]
    fig, axes = plt.subplots(1, max(len(rows), 1), figsize=(5.2 * max(len(rows), 1), 3.6), squeeze=False, sharey=True)
    for ax, row in zip(axes[0], rows):
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
        ax.set_title(f"d = {c['depth']}, N = {c['n_train']}, γ = {c['weight_decay']:g}"
                     + (" (stand-ins)" if any_stand_in(row) else ""), fontsize=10)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("accuracy")
        _steps(ax)
        ax.legend(loc="upper left", fontsize=7)
    suptitle(fig, "Seed to seed: train and test accuracy of every recorded seed", [r for row in rows for r in row])
    fig.tight_layout()
    return fig


def summary(run, size=(8.4, 3.0), dpi: int = 80):
    """The explorer's small figure for one configuration (a Run or a list of its seeds): accuracy and per-layer
    rank, side by side; several seeds: thin lines per seed, the median in bold, each layer's median rank."""
    runs = seeds(run)
    fig, (a, b) = plt.subplots(1, 2, figsize=size, dpi=dpi)
    accuracy(a, runs)
    a.legend(loc="lower right", fontsize=7)
    ranks(b, runs)
    fig.suptitle(title(runs[0]) if len(runs) == 1 else panel_label(runs), fontsize=9)
    fig.tight_layout()
    return fig


def exact_vs_robust(panels):
    """Per-layer rank under the paper's machine-precision tolerance (top row) and the tolerance-robust 1e-3 (bottom),
    one column per configuration (a Run or a list of its seeds: medians)."""
    fig, axes = plt.subplots(2, len(panels), figsize=(4.2 * len(panels), 6), squeeze=False, sharex="col")
    for j, p in enumerate(panels):
        ranks(axes[0, j], p, "rank")
        ranks(axes[1, j], p, "robust_rank")
        axes[0, j].set_title(panel_label(p), fontsize=10)
    suptitle(fig, "Per-layer rank, median over seeds: paper-exact (top) and tolerance-robust, rtol 1e-3 (bottom)",
             _flat(panels))
    fig.tight_layout()
    return fig


def rtol_label(rtol: float) -> str:
    """'paper (8.9e-14)' for the paper's machine-precision tolerance, else '1e-06'."""
    return f"paper ({rtol:.1e})" if rtol == PAPER_RTOL else f"{rtol:g}"


def tolerance_sweep_figure(runs, det, shown=(PAPER_RTOL, 1e-8, 1e-5, 1e-3, 1e-2)):
    """Where the double descent and the tunnel appear and vanish as the rank's relative tolerance grows from the
    paper's machine precision to 1e-2 (records that keep spectra; one row per run). Left: the mean hidden-layer
    rank over training, relative to its value at initialization, at the `shown` tolerances (linear step axis, where
    the double descent lives). Right: tunnel length at every swept tolerance (events.SWEEP_RTOLS), with the
    threshold scaled to the rank at initialization (the claims' definition) and with the paper's fixed 300; a
    filled marker where the mean hidden-layer rank shows a double descent."""
    colors = plt.cm.plasma(np.linspace(0, 0.85, len(shown)))
    fig, axes = plt.subplots(len(runs), 2, figsize=(8.4, 3.3 * len(runs)), squeeze=False)
    for (a, b), run in zip(axes, runs):
        step = np.asarray(run.history["rank_step"])
        for rtol, c in zip(shown, colors):
            m = rank_matrix(run, tolerance_def(rtol))[:, :-1].mean(1)
            a.plot(step, m / m[0], color=c, lw=1.3, label=rtol_label(rtol))
        a.set_xlabel("step")
        a.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        a.set_ylabel("mean hidden rank / initial")
        a.set_title(run_label(run), fontsize=10)
        a.legend(fontsize=7, title="relative tolerance", title_fontsize=7, loc="lower left")
        rows = tolerance_sweep(run, det)
        x = [r["rtol"] for r in rows]
        b.plot(x, [r["tunnel_scaled_layers"] for r in rows], "-", color="tab:blue", label="threshold scaled")
        b.plot(x, [r["tunnel_fixed_layers"] for r in rows], "--", color="tab:gray", label="fixed 300")
        dd = [r["double_descent"] for r in rows]
        b.scatter(x, [r["tunnel_scaled_layers"] for r in rows], c=["tab:red" if d else "white" for d in dd],
                  edgecolors="tab:red", zorder=3, label="double descent (filled: present)")
        b.set_xscale("log")
        b.set_xlabel("relative tolerance (log)")
        b.set_ylabel("tunnel length (hidden layers)")
        b.set_ylim(-0.3, run.config.depth - 0.5)
        b.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def png(fig, dpi: int | None = None) -> bytes:
    """The figure as PNG bytes (closed afterwards, so nothing is shown twice)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


# ---- beyond the paper: the interventions (issue 26) -------------------------------------------------------------
INTERVENTION_ROWS = (("test_acc", "test accuracy"), ("rank", "mean hidden rank (paper-exact)"),
                     ("robust_rank", "mean hidden rank (robust)"), ("weight_norm", "total weight norm"))


def _curve(run, key):
    """(steps, values) of one quantity: a scalar history, or the mean over the hidden layers of a rank matrix."""
    h = run.history
    if key in ("rank", "robust_rank"):
        return h["rank_step"], np.asarray(h[key], dtype=float)[:, :-1].mean(1)
    return h["step"], h[key]


def interventions_figure(runs, controls):
    """One column per intervention among `runs` (grokkit.interventions order), rows INTERVENTION_ROWS; the control
    (`controls`, every seed) in grey in every panel, the intervention's seeds in colour, each seed thin and the median
    thick; dotted lines at each run's start of the test climb."""
    from .interventions import INTERVENTIONS, key_of

    groups = {k: [r for r in runs if key_of(stands_for(r)) == k] for k in INTERVENTIONS}
    groups = {k: v for k, v in groups.items() if v}
    fig, axes = plt.subplots(len(INTERVENTION_ROWS), max(len(groups), 1), figsize=(3.6 * max(len(groups), 1), 9.5),
                             squeeze=False, sharex=True)
    for j, (k, rs) in enumerate(groups.items()):
        for i, (key, what) in enumerate(INTERVENTION_ROWS):
            ax = axes[i, j]
            for group, color, name in ((controls, "0.55", "control"), (rs, "tab:red", INTERVENTIONS[k][0])):
                curves = [_curve(r, key) for r in group]
                for x, y in curves:
                    x, y = _pos(x, y)
                    ax.plot(x, y, color=color, lw=0.6 if len(curves) > 1 else 1.5, alpha=0.5 if len(curves) > 1 else 1)
                if len(curves) > 1:
                    common = functools.reduce(np.intersect1d, [np.asarray(x) for x, _ in curves])
                    med = np.median([np.asarray(y, dtype=float)[np.isin(x, common)] for x, y in curves], axis=0)
                    x, y = _pos(common, med)
                    ax.plot(x, y, color=color, lw=1.8, label=f"{name} (median of {len(curves)} seeds)")
                else:
                    ax.lines[-1].set_label(name)
                for r in group:
                    mark_onset(ax, r)
            _steps(ax)
            if j == 0:
                ax.set_ylabel(what)
            if i == 0:
                ax.set_title(INTERVENTIONS[k][0], fontsize=10)
                ax.legend(fontsize=7)
    suptitle(fig, "Interventions against the control, d = 12, N = 5000, γ = 0.01", [*runs, *controls])
    fig.tight_layout()
    return fig
