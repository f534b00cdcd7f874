"""The indicators against the climb (issue 42): the weight norm over its decay clock, the output scale and the mean
hidden-layer rank, every seed, on a step axis centred on each run's start of the test climb (grokkit.indicators)."""
from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

from .claims import detector
from .events import events, hidden_mean
from .plots import _figure, suptitle
from .records import stands_for
from .scale import decay_clock, output_scale

N_COLORS = {2000: "tab:olive", 5000: "tab:blue", 7000: "tab:orange"}  # one colour per training-set size
WINDOW = 25_000  # steps drawn each side of the climb's start
ROWS = ("test accuracy", "weight norm ÷\nits decay clock", "output scale\ns_out (log)", "mean hidden\nrank")


def _curves(run):
    """{row name: (steps, values)} of one run, steps relative to its start of the test climb; None if it never
    climbs."""
    e = events(run, detector())
    on = e.climb_onset_step
    if on is None or e.stuck_steps:  # no climb, or a collapse whose "climb" is a blip (grokkit.indicators.rows)
        return None
    h = run.history
    step = np.asarray(h["step"])
    s_step, s_out, _ = output_scale(run)
    return {ROWS[0]: (step - on, np.asarray(h["test_acc"], dtype=float)),
            ROWS[1]: (step - on, np.asarray(h["weight_norm"], dtype=float) / decay_clock(run)),
            ROWS[2]: (s_step - on, s_out),
            ROWS[3]: (np.asarray(h["rank_step"]) - on, hidden_mean(h["rank"]))}


def indicators_figure(columns):
    """One column per entry of `columns` ([(title, [Run, ...])], e.g. one per depth), four rows: test accuracy, the
    total weight norm divided by AdamW's decay clock (1 while decay alone sets it), the output scale s_out (log; a
    grey line at 1, the targets' scale) and the mean hidden-layer rank (paper-exact). Every run is one thin line,
    coloured by its training-set size, its x axis the steps from its own start of the test climb (the dotted line
    at 0); a run that never climbs, or sits at a constant predictor for a stretch (its "climb" is not the others'),
    is left out and the column's title says how many."""
    fig, axes = _figure(len(ROWS), len(columns), 1.45, sharex=True, sharey="row")
    fig.phone_order = "columns"  # on a phone one depth's panels stay together, under its title (grokkit.picture)
    sizes = set()
    for j, (name, runs) in enumerate(columns):
        left = 0
        for r in runs:
            cur = _curves(r)
            if cur is None:
                left += 1
                continue
            n = stands_for(r)["n_train"]
            sizes.add(n)
            for i, row in enumerate(ROWS):
                x, y = cur[row]
                keep = np.abs(x) <= WINDOW
                axes[i, j].plot(x[keep], y[keep], color=N_COLORS.get(n, "tab:gray"), lw=0.9, alpha=0.8)
        axes[0, j].set_title(name + (f"\n({left} left out: no climb, or a\ncollapse to a constant output)" if left
                                     else ""),
                             fontsize=9.5)
        for i in range(len(ROWS)):
            ax = axes[i, j]
            ax.axvline(0, color="0.3", ls=":", lw=1.1, zorder=0)
            if i == 2:
                ax.set_yscale("log")
                ax.axhline(1, color="0.55", lw=0.9, zorder=0)
            ax.set_xlim(-WINDOW, WINDOW)
            ax.xaxis.set_major_formatter(lambda v, _: f"{v / 1000:+g}k".replace("-", "−") if v else "0")
        axes[-1, j].set_xlabel("steps from the climb's start")
    for i, row in enumerate(ROWS):
        axes[i, 0].set_ylabel(row)
    axes[0, 0].set_ylim(0, 1.02)
    handles = [Line2D([], [], color=N_COLORS[n], lw=1.5) for n in sorted(sizes)]
    labels = [f"N = {n:,}" for n in sorted(sizes)]
    handles.append(Line2D([], [], color="0.3", ls=":", lw=1.1))
    labels.append("start of the test climb")
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8.5)
    suptitle(fig, "What moves with the climb: weight norm, output scale, rank (every seed, γ = 0.01)",
             [r for _, runs in columns for r in runs])
    return fig
