"""The book's figures (matplotlib), shared by every chapter.

Conventions, the same in all chapters:
- accuracy: blue = train, orange = test, as in the paper ("blue = train accuracy and orange = test accuracy",
  PAPER §3); when several depths share an axis, the depth's colour with train solid and test dashed;
- one fixed colour per depth (DEPTH_COLORS) and one colour per layer (viridis, first -> last layer);
- steps on a log axis, as in Omnigrok's MNIST plots (PAPER §4), from the first logged step > 0;
- the generalization onset (grokkit.events: gen_onset_step) marked with a dotted vertical line;
- a figure drawn from a smoke-scale stand-in says so in its title.
"""
from __future__ import annotations

import functools
import io

import matplotlib.pyplot as plt
import numpy as np

from .config import FULL_WIDTH, TUNNEL_THRESHOLD
from .events import events, run_label
from .metrics import tunnel_length
from .records import stands_for

TRAIN, TEST = "tab:blue", "tab:orange"
DEPTH_COLORS = {4: "tab:green", 8: "tab:purple", 12: "tab:red"}
STAND_IN = "smoke-scale stand-in — the full-scale record is not shipped yet"


def depth_color(depth: int) -> str:
    return DEPTH_COLORS.get(depth, "tab:gray")


def layer_colors(n: int):
    return plt.cm.viridis(np.linspace(0, 0.95, n))


def is_stand_in(run) -> bool:
    return bool(run.meta.get("stand_in"))


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
def grokking_onset(run):
    """The step where generalization begins: grokkit.events' gen_onset_step (10 % of the test climb after the fit
    when the run groks, else of the whole climb; claims.THRESHOLDS' defaults). None if neither."""
    from .claims import detector

    return events(run, detector()).gen_onset_step


def mark_onset(ax, run) -> None:
    s = grokking_onset(run)
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
def accuracy(ax, run, color=None, name: str = "", log: bool = True, onset: bool = True) -> None:
    """Train and test accuracy against steps: blue/orange, or `color` with train solid and test dashed."""
    x, tr, te = _pos(run.history["step"], run.history["train_acc"], run.history["test_acc"])
    ax.plot(x, tr, color=color or TRAIN, lw=1.5, label=f"{name} train".strip())
    ax.plot(x, te, color=color or TEST, lw=1.5, ls="--" if color else "-", label=f"{name} test".strip())
    if onset:
        mark_onset(ax, run)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("accuracy")
    _steps(ax, log)


def ranks(ax, run, key: str = "rank", log: bool = True, onset: bool = True) -> None:
    """Per-layer feature rank against steps, one colour per layer (PAPER §2.2: matrix_rank(cov(H.T)) of every
    Linear layer's pre-activations on the 10k test set; key='robust_rank' for the rtol=1e-3 rank)."""
    r = np.asarray(run.history[key])
    for j, c in enumerate(layer_colors(r.shape[1])):
        x, y = _pos(run.history["rank_step"], r[:, j])
        ax.plot(x, y, color=c, lw=1.2, label=f"layer {j + 1}")
    if onset:
        mark_onset(ax, run)
    ax.set_ylabel("feature rank" if key == "rank" else f"feature rank ({key.replace('_', ' ')})")
    _steps(ax, log)


def probes(ax, run, log: bool = True, onset: bool = True) -> None:
    """Per-layer linear-probe test accuracy against steps (PAPER §2.3), one colour per layer."""
    p = np.asarray(run.history.get("probe_acc", np.zeros((0, 0))))
    if p.size == 0:
        ax.text(0.5, 0.5, "no probes in this record", ha="center", transform=ax.transAxes)
        return
    for j, c in enumerate(layer_colors(p.shape[1])):
        x, y = _pos(run.history["probe_step"], p[:, j])
        ax.plot(x, y, color=c, lw=1.2, label=f"layer {j + 1}")
    if onset:
        mark_onset(ax, run)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("linear-probe accuracy")
    _steps(ax, log)


def weight_norm(ax, run, color=None, name: str = "", log: bool = True) -> None:
    """Total L2 norm of all parameters, biases included (PAPER §2.4)."""
    x, y = _pos(run.history["step"], run.history["weight_norm"])
    ax.plot(x, y, color=color or "k", lw=1.5, label=name or None)
    ax.set_ylabel("weight norm (all parameters)")
    _steps(ax, log)


def second_last_rank(ax, run, color=None, name: str = "", log: bool = True) -> None:
    """Rank of "the second-last layer (the layer before output layer)" [DG Fig 5], i.e. Linear depth-1."""
    x, y = _pos(run.history["rank_step"], np.asarray(run.history["rank"])[:, -2])
    ax.plot(x, y, color=color or "k", lw=1.5, label=name or None)
    ax.set_ylabel("rank, second-last layer")
    _steps(ax, log)


# ---- figures ---------------------------------------------------------------------------------------------
def rank_acc_probe(runs, key: str = "rank"):
    """Fig 1: one column per run; rows = per-layer rank, train/test accuracy, per-layer probe accuracy."""
    fig, axes = plt.subplots(3, len(runs), figsize=(4.2 * len(runs), 8.4), squeeze=False, sharex="col")
    for j, run in enumerate(runs):
        ranks(axes[0, j], run, key)
        accuracy(axes[1, j], run)
        probes(axes[2, j], run)
        axes[0, j].set_title(label(run) + (" (stand-in)" if is_stand_in(run) else ""), fontsize=10)
        for ax in axes[:2, j]:
            ax.set_xlabel("")
    axes[1, 0].legend(loc="lower right", fontsize=8)
    axes[0, -1].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, ncol=1 + len(runs[-1].history[key][0]) // 13)
    suptitle(fig, "Feature rank, accuracy and linear probes per layer (dotted line: onset of the test-accuracy rise)", runs)
    fig.tight_layout()
    return fig


def accuracy_panels(runs, what: str = "Train (blue) and test (orange) accuracy"):
    """Fig 2: one accuracy panel per run, side by side, the onset of the test-accuracy rise marked."""
    fig, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.4), squeeze=False, sharey=True)
    for ax, run in zip(axes[0], runs):
        accuracy(ax, run)
        ax.set_title(label(run) + (" (stand-in)" if is_stand_in(run) else ""), fontsize=10)
    axes[0, 0].legend(loc="lower right", fontsize=8)
    suptitle(fig, what + " (dotted line: onset of the test-accuracy rise)", runs)
    fig.tight_layout()
    return fig


def depth_overlay(runs):
    """All depths on one axis: the depth's colour, train solid, test dashed -- the delays side by side."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for run in runs:
        accuracy(ax, run, color=depth_color(run.config.depth), name=f"d={run.config.depth}", onset=False)
        s = grokking_onset(run)
        if s:
            ax.axvline(s, color=depth_color(run.config.depth), lw=1, ls=":")
    ax.legend(fontsize=8, ncol=2, loc="lower right")
    suptitle(fig, "Accuracy by depth (solid: train, dashed: test, dotted: onset of the test-accuracy rise)", runs)
    fig.tight_layout()
    return fig


def _threshold(run) -> float:
    """"rank lower than 300" [DG Fig 3/4] at width 400; a narrower stand-in keeps the same 3/4 of its width."""
    return TUNNEL_THRESHOLD * run.config.width / FULL_WIDTH


def tunnel(runs):
    """Figs 3/4: the final feature rank of every layer, one line per run in its depth's colour, with the
    "rank lower than 300" tunnel threshold [DG Fig 3/4 captions]; the legend gives each tunnel length."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for run in runs:
        r = np.asarray(run.history["rank"])[-1]
        n = tunnel_length(r, _threshold(run))
        ax.plot(np.arange(1, len(r) + 1), r, "o-", color=depth_color(run.config.depth),
                label=f"{label(run)}: tunnel {n} layer{'s' * (n != 1)}")
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
    """Fig 5: for each depth, two training-set sizes: accuracy (test dashed), the total weight norm, and the
    second-last layer's rank against steps. `pairs` = [(run_a, run_b), ...], one row per depth."""
    fig, axes = plt.subplots(len(pairs), 3, figsize=(13, 3.3 * len(pairs)), squeeze=False)
    for row, pair in zip(axes, pairs):
        for run, ls in zip(pair, ("-", "--")):
            c = depth_color(run.config.depth)
            name = label(run) + (" (stand-in)" if is_stand_in(run) else "")
            accuracy(row[0], run, color=c, name=name.split(", γ")[0], onset=False)
            row[0].lines[-2].set_alpha(0.45)
            row[1].set_title("weight norm", fontsize=10)
            weight_norm(row[1], run, color=c, name=name)
            row[1].lines[-1].set_linestyle(ls)
            second_last_rank(row[2], run, color=c, name=name)
            row[2].lines[-1].set_linestyle(ls)
            for ax in row[1:]:
                s = grokking_onset(run)
                if s:
                    ax.axvline(s, color=c, lw=1, ls=":", alpha=0.7)
        row[0].set_title("accuracy (faint: train, dashed: test)", fontsize=10)
        row[2].set_title("rank of the second-last layer", fontsize=10)
        row[1].legend(fontsize=7)
        row[0].legend(fontsize=7, loc="lower right")
    suptitle(fig, "Weight norm vs feature rank, same depth, two training-set sizes (dotted: onsets of the test-accuracy rise)",
             [r for p in pairs for r in p])
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
        ax.set_title(f"d={c['depth']}, N={c['n_train']}, γ={c['weight_decay']:g}"
                     + (" (stand-ins)" if any_stand_in(row) else ""), fontsize=10)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("accuracy")
        _steps(ax)
        ax.legend(loc="upper left", fontsize=7)
    suptitle(fig, "Seed to seed: train and test accuracy of every recorded seed", [r for row in rows for r in row])
    fig.tight_layout()
    return fig


def summary(run, size=(8.4, 3.0), dpi: int = 80):
    """The explorer's small figure for one run: accuracy and per-layer rank, side by side."""
    fig, (a, b) = plt.subplots(1, 2, figsize=size, dpi=dpi)
    accuracy(a, run)
    a.legend(loc="lower right", fontsize=7)
    ranks(b, run)
    fig.suptitle(title(run), fontsize=9)
    fig.tight_layout()
    return fig


def png(fig, dpi: int | None = None) -> bytes:
    """The figure as PNG bytes (closed afterwards, so nothing is shown twice)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()
