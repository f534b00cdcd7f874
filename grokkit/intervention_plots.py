"""The interventions' figures against their control, every seed: the first round (issue 26: test accuracy, the mean
hidden-layer rank, the total weight norm) and the second (issue 44: test accuracy, the output scale s_out (log), the
mean hidden-layer rank and the total weight norm, with the step of each one-off intervention marked;
grokkit.round_two)."""
from __future__ import annotations

import copy
import textwrap

from matplotlib.lines import Line2D

from .events import hidden_mean
from .plots import _figure, _seed_lines, _steps, any_stand_in, mark_onset, median_legend, setting, suptitle
from .records import is_stand_in, stands_for
from .round_two import INTERVENTIONS, intervention_step, key_of
from .scale import output_scale

CONTROL = "0.55"  # the control's grey in the interventions figure; the intervention in red
INTERVENED = "tab:red"
COLUMNS = (("test_acc", "test accuracy", "step"), ("s_out", "output scale s_out\n(test images, log)", "s_out_step"),
           ("mean_rank", "mean hidden rank", "rank_step"), ("weight_norm", "weight norm", "step"))


def _with_scale_and_rank(runs) -> list:
    """Copies of `runs` whose history also holds s_out (grokkit.scale.output_scale, on "s_out_step") and the mean
    hidden-layer rank ("mean_rank", paper-exact, on "rank_step")."""
    out = []
    for r in runs:
        s_step, s_out, _ = output_scale(r)
        c = copy.copy(r)
        c.history = {**r.history, "s_out": s_out, "s_out_step": s_step, "mean_rank": hidden_mean(r.history["rank"])}
        out.append(c)
    return out


def round_two_figure(runs, controls):
    """One row per second-round intervention (grokkit.round_two.INTERVENTIONS order), four columns on one y scale each:
    test accuracy, s_out on the test images (log; a grey line at 1, the targets' scale), the paper-exact mean
    hidden-layer rank and the total weight norm. The control (`controls`, every seed) in grey in every panel, the
    intervention's seeds in red (several: thin lines and their median); dotted lines at each one's median start of
    the test climb, a dashed black line at the step of a reset or a cut. Beside a full-scale control, an intervention
    with smoke-scale stand-ins only is not drawn (its row says it is not recorded yet), and one with some full-scale
    seeds is drawn with those alone."""
    groups = {k: [r for r in runs if key_of(stands_for(r)) == k] for k in INTERVENTIONS}
    full_control = bool(controls) and not any_stand_in(controls)
    if full_control:  # beside full-scale records, a seed not recorded yet is left out, not drawn as a stand-in
        groups = {k: [r for r in rs if not is_stand_in(r)] or rs for k, rs in groups.items()}
    hidden = {k for k, rs in groups.items() if not rs or (full_control and all(is_stand_in(r) for r in rs))}
    fig, axes = _figure(len(groups), len(COLUMNS), 1.9, sharex=True, sharey="col")
    control = _with_scale_and_rank(controls)
    for i, (k, rs) in enumerate(groups.items()):
        drawn = ((control, CONTROL, "control"),) + (() if k in hidden else
                                                    ((_with_scale_and_rank(rs), INTERVENED, "intervention"),))
        for group, color, name in drawn:
            for j, (key, _, step_key) in enumerate(COLUMNS):
                _seed_lines(axes[i, j], group, key, color, name=name if j == 0 else "", step_key=step_key, lw=1.2)
                mark_onset(axes[i, j], group, color, f"{name}: start of the test climb" if j == 0 else "")
        at = None if k in hidden else intervention_step(stands_for(rs[0]))
        for j, (_, label, _) in enumerate(COLUMNS):
            ax = axes[i, j]
            if at:
                ax.axvline(at, color="k", ls="--", lw=1.0, zorder=0,
                           label="the reset or the cut" if j == 0 else None)
            _steps(ax, [*([] if k in hidden else rs), *controls])
            ax.set_ylabel(label if i == 0 else label.split("\n")[0])
            if i < len(groups) - 1:
                ax.set_xlabel("")
        axes[i, 1].set_yscale("log")
        axes[i, 1].axhline(1, color="0.55", lw=0.9, zorder=0)
        axes[i, 0].set_ylim(0, 1.02)
        state = " (not recorded yet: only the control is drawn)" if k in hidden else (
            " (stand-in)" if any_stand_in(rs) else "")
        # over the row's middle; 44 characters a line fit a phone's width too (grokkit.picture)
        axes[i, 1].set_title(textwrap.fill(INTERVENTIONS[k] + state, 44), fontsize=9.5)
    shown = [i for i, k in enumerate(groups) if k not in hidden]
    handles, labels = median_legend(axes[shown[0] if shown else 0, 0])
    if not any(lab == "the reset or the cut" for lab in labels) and shown:
        handles.append(Line2D([], [], color="k", ls="--", lw=1.0))
        labels.append("the reset or the cut")
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=8.5)
    base = f", {setting(stands_for(controls[0]))}" if controls else ""  # the control's configuration, as recorded
    suptitle(fig, f"Second round: each intervention against the control{base} (thin lines: seeds)",
             [*(r for k, rs in groups.items() if k not in hidden for r in rs), *controls])
    return fig


# ---- the first round (issue 26) -------------------------------------------------------------


def _mean_ranks(runs) -> list:
    """Copies of `runs` whose history also holds the mean over the hidden layers of the paper-exact and the robust
    rank ("mean_rank", "mean_robust_rank", on rank_step)."""
    out = [copy.copy(r) for r in runs]
    for r in out:
        r.history = {**r.history, **{f"mean_{k}": hidden_mean(r.history[k]) for k in ("rank", "robust_rank")}}
    return out


def interventions_figure(runs, controls):
    """One row per intervention among `runs` (grokkit.interventions order), three columns on one y scale each: test
    accuracy, the mean hidden-layer rank (paper-exact solid, tolerance-robust dashed), the total weight norm. The
    control (`controls`, every seed) in grey in every panel, the intervention's seeds in red (several seeds: thin
    lines and their median); dotted lines at each one's median start of the test climb. Beside a full-scale control,
    an intervention with no record (smoke-scale stand-ins only: width 32, 300 steps) is not drawn -- its short curves
    on the full-scale axes would read as results -- and its row says so; with a stand-in control (smoke mode) it is.
    A row with seeds whose outputs end collapsed (grokkit.interventions.collapse) names them and the step in its
    title."""
    from matplotlib.lines import Line2D

    from .interventions import INTERVENTIONS, collapse, key_of

    groups = {k: [r for r in runs if key_of(stands_for(r)) == k] for k in INTERVENTIONS}
    groups = {k: v for k, v in groups.items() if v}
    full_control = bool(controls) and not any_stand_in(controls)
    hidden = {k for k, rs in groups.items() if full_control and all(is_stand_in(r) for r in rs)}
    fig, axes = _figure(max(len(groups), 1), 3, 1.9, sharex=True, sharey="col")
    control = _mean_ranks(controls)
    for i, (k, rs) in enumerate(groups.items()):
        ax_acc, ax_rank, ax_norm = axes[i]
        both = ((controls, control, CONTROL, "control"),) + (
            () if k in hidden else ((rs, _mean_ranks(rs), INTERVENED, "intervention"),))
        for group, ranked, color, name in both:  # onsets from the runs, whose events are cached, not the copies
            _seed_lines(ax_acc, group, "test_acc", color, name=name)
            mark_onset(ax_acc, group, color, f"{name}: start of the test climb")
            for key, ls in (("mean_rank", "-"), ("mean_robust_rank", "--")):
                _seed_lines(ax_rank, ranked, key, color, ls, step_key="rank_step", lw=1.2)
            _seed_lines(ax_norm, group, "weight_norm", color)
            for ax in (ax_rank, ax_norm):
                mark_onset(ax, group, color)
        ax_acc.set_ylim(0, 1.02)
        ax_acc.set_ylabel("test accuracy")
        ax_rank.set_ylabel("mean hidden rank")
        ax_norm.set_ylabel("weight norm")
        gone = [] if k in hidden or any_stand_in(rs) else [(r.config.seed, c.step) for r in rs if (c := collapse(r))]
        state = " (not recorded yet: only the control is drawn)" if k in hidden else (
            " (stand-in)" if any_stand_in(rs) else
            " (outputs collapsed: " + ", ".join(f"seed {sd} from step {st:,}" for sd, st in sorted(gone)) + ")"
            if gone else "")
        ax_rank.set_title(INTERVENTIONS[k] + state, fontsize=9.5)
        for ax in axes[i]:
            _steps(ax, [*([] if k in hidden else rs), *controls])
            if i < len(groups) - 1:
                ax.set_xlabel("")
    shown = [i for i, k in enumerate(groups) if k not in hidden]  # the legend from a row that draws an intervention
    handles, labels = median_legend(axes[shown[0] if shown else 0, 0])
    handles += [Line2D([], [], color="k", lw=1.2, ls=ls) for ls in ("-", "--")]
    labels += ["rank: paper-exact", "rank: tolerance-robust"]
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=8.5)
    drawn = [r for k, rs in groups.items() if k not in hidden for r in rs]
    base = f", {setting(stands_for(controls[0]))}" if controls else ""  # the control's configuration, as recorded
    suptitle(fig, f"Each intervention against the control{base} (thin lines: seeds)", [*drawn, *controls])
    return fig
