"""The scoreboard's summary figure: each claim's effect measure per configuration, every seed a point, the panel in
its grade's badge colour; and the figure's alt text (grokkit.book.show_measures shows both)."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import matplotlib.ticker

from .plots import TEXT_WIDTH

GRADE_COLORS = {"reproduced": "#1a7f37", "partly reproduced": "#8a5a00", "not reproduced": "#b3261e",
                "inconclusive": "#57606a"}  # the badges' colours (book/_static/grokkit.css), >= 4.5:1 on white


def claim_measures(verdicts):
    """The scoreboard's summary: one panel per claim, its first effect measure that varies per configuration (x)
    with every seed as a point, the panel titled with the grade in the badges' colour (GRADE_COLORS); measures that
    are the same in every run (claim 14's plateaus: 0 steps) are named in the title instead. Two panels a row; a
    claim measured on more than four configurations (or left alone) takes a whole row, so its labels never collide.
    Integer measures (layers) get integer ticks."""
    spans, row = [], []
    for v in verdicts:  # rows of one wide panel or two narrow ones, in claim order
        if len(_measure_groups(v)[2]) > 4:
            spans += [row] if row else []
            spans.append([v])
            row = []
        else:
            row.append(v)
            if len(row) == 2:
                spans.append(row)
                row = []
    spans += [row] if row else []
    fig = plt.figure(figsize=(TEXT_WIDTH, 2.05 * len(spans) + 0.6), layout="constrained")
    grid = fig.add_gridspec(max(len(spans), 1), 2)
    for r, vs in enumerate(spans):
        for c, v in enumerate(vs):
            _claim_panel(fig.add_subplot(grid[r, c] if len(vs) == 2 else grid[r, :]), v, wide=len(vs) == 1)
    fig.suptitle("Each claim's effect measure per configuration, every seed a point")
    return fig


def _measure_groups(v) -> tuple:
    """(name, measure, {configuration: [values]}, the measures left out as the same in every run) of a verdict."""
    same = [(k, m) for k, m in v.measures.items() if len(set(m["values"].values())) == 1]
    varied = [(k, m) for k, m in v.measures.items() if len(set(m["values"].values())) > 1]
    name, m = (varied or same or [(None, None)])[0]
    groups: dict = {}
    for lab, val in (m["values"].items() if m else []):
        groups.setdefault(lab.split(", seed")[0].split(": ")[0], []).append(val)
    return name, m, groups, same if varied else []


def _claim_panel(ax, v, wide: bool) -> None:
    name, m, groups, same = _measure_groups(v)
    note = "".join(f"\n{k}: {_num(next(iter(s['values'].values())))} {s['unit']} in all {len(s['values'])} runs"
                   for k, s in same[:1])
    ax.set_title(f"claim {v.claim}: {v.grade}" + ("" if v.robust else " (fragile)") + note, fontsize=9.5,
                 color=GRADE_COLORS[v.grade])
    if not groups:
        ax.text(0.5, 0.5, "no effect measure: the claim is graded on its rule alone", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    for i, vals in enumerate(groups.values()):
        ax.plot([i] * len(vals), vals, "o", ms=4, alpha=0.7, color=GRADE_COLORS[v.grade])
    ax.set_xticks(range(len(groups)))
    ticks, shared = config_ticks(list(groups))
    if len(groups) > (8 if wide else 6):  # too many for stacked labels: one slanted line each
        ax.set_xticklabels([t.replace("\n", ", ") for t in ticks], fontsize=8.5, rotation=40, ha="right",
                           rotation_mode="anchor")
    else:
        ax.set_xticklabels(ticks, fontsize=9 if len(groups) <= 4 else 8.5)
    ax.set_xlabel(shared, fontsize=9)
    ax.set_xlim(-0.5, len(groups) - 0.5)
    ax.set_ylabel("\n".join(textwrap.wrap(f"{name} ({m['unit']})" if m["unit"] else name, 28)), fontsize=9)
    values = [x for vals in groups.values() for x in vals]
    if all(float(x).is_integer() for x in values):  # layers, steps: no tick between two whole numbers
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5, integer=True))
    if max(abs(x) for x in values) >= 1000:  # steps: thousands separators
        ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))


def _num(x) -> str:
    """A measured value for a label: '1,334' for a whole number, else three significant digits."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:.3g}"


def config_ticks(labels):
    """Tick labels for configurations ('d = 12, N = 5000, γ = 0.01', ...): only the parts that differ, one per line,
    and the parts they share as one line for the axis label. With five or more labels, 'd=12' for 'd = 12'."""
    parts = [lab.split(", ") for lab in labels]
    if len({len(p) for p in parts}) != 1:
        return [lab.replace(", ", "\n") for lab in labels], ""
    same = [i for i in range(len(parts[0])) if len({p[i] for p in parts}) == 1]
    ticks = ["\n".join(x for i, x in enumerate(p) if i not in same) or p[0] for p in parts]
    if len(labels) > 4:
        ticks = [t.replace(" = ", "=") for t in ticks]
    return ticks, ", ".join(parts[0][i] for i in same)


def measures_alt(verdicts) -> str:
    """Alt text of the scoreboard's claim-measure figure (claim_measures): per claim its grade, the
    measure drawn and the range of its values over the runs."""
    parts = []
    for v in verdicts:
        name, m, groups, _ = _measure_groups(v)
        vals = [x for g in groups.values() for x in g]
        span = (f"{name}, {_num(min(vals))} to {_num(max(vals))} {m['unit']} over {len(vals)} runs in "
                f"{len(groups)} configuration{'s' * (len(groups) > 1)}") if vals else "no effect measure"
        parts.append(f"claim {v.claim} ({v.grade}{'' if v.robust else ', fragile'}): {span}")
    return "Each claim's first effect measure per configuration, every seed a point. " + "; ".join(parts) + "."


# ---- the opening page: every claim at a glance ---------------------------------------------------------------------
STATUS_COLORS = {"held": GRADE_COLORS["reproduced"], "some": GRADE_COLORS["partly reproduced"],
                 "failed": GRADE_COLORS["not reproduced"], "untested": GRADE_COLORS["inconclusive"]}
STATUS_LABELS = {"held": "a part that holds on every seed", "some": "holds on some seeds",
                 "failed": "holds on none", "untested": "untested (no run)"}
GLANCE_CHARS = 46  # a claim's title wraps here: at 9 points it stays inside its column of a 6.8-inch figure


def claims_at_a_glance(verdicts):
    """Every claim in one figure (the opening page): a row per claim, its number and title, then one block per
    counted part (grokkit.grades.Part.counted: baselines and parts decided by construction are left out) in the
    colour of its `grades.part_status`, parts that hold first, and the claim's grade, with "fragile" where a
    threshold or the rank definition changes it. Two columns of rows on a desktop; the phone rendering stacks them
    (fig.phone_panel_height keeps every row readable). Raises ValueError on no verdicts."""
    from matplotlib.patches import Patch

    from .grades import PART_STATUSES, part_status

    verdicts = list(verdicts)
    if not verdicts:
        raise ValueError("verdicts: need at least one claim's verdict")
    half = -(-len(verdicts) // 2)
    columns = [verdicts[:half], verdicts[half:]]
    labels = {v.claim: textwrap.wrap(f"{v.claim}. {v.title}", GLANCE_CHARS) for v in verdicts}
    heights = [sum(len(labels[v.claim]) + 1.7 for v in col) for col in columns]
    fig, axes = plt.subplots(1, 2, figsize=(TEXT_WIDTH, 0.16 * max(heights) + 0.55), layout="constrained")
    width = max(sum(p.counted for p in v.parts) for v in verdicts) + 5.5  # the blocks, then the grade's words
    seen = set()
    for ax, col in zip(axes, columns):
        y = 0.0
        for v in col:
            for line in labels[v.claim]:
                ax.text(0, y + 0.5, line, fontsize=9, va="center", ha="left")
                y += 1
            statuses = sorted((part_status(p) for p in v.parts if p.counted), key=PART_STATUSES.index)
            seen |= set(statuses)
            for i, s in enumerate(statuses):
                ax.add_patch(plt.Rectangle((i, y + 0.1), 0.9, 0.8, color=STATUS_COLORS[s], lw=0))
            ax.text(len(statuses) + 0.3, y + 0.5, v.grade + ("" if v.robust else ", fragile"), fontsize=9,
                    va="center", ha="left", color=GRADE_COLORS[v.grade], fontweight="bold")
            y += 1.7
        ax.set_xlim(0, width)
        ax.set_ylim(max(heights), 0)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
    handles = [Patch(color=STATUS_COLORS[s], label=STATUS_LABELS[s]) for s in PART_STATUSES if s in seen]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9, frameon=False,
               handlelength=1.2, columnspacing=1.2)
    fig.phone_panel_height = 0.16 * max(heights)  # inches: the stacked columns keep their rows' height
    return fig


def glance_alt(verdicts) -> str:
    """Alt text of `claims_at_a_glance`: per claim its grade and how many of its counted parts hold on every seed,
    on some, on none."""
    from .grades import part_status

    def counts(v):
        s = [part_status(p) for p in v.parts if p.counted]
        return ", ".join(f"{s.count(k)} {w}" for k, w in (("held", "on every seed"), ("some", "on some"),
                                                        ("failed", "on none"), ("untested", "untested"))
                         if s.count(k))
    return ("Every claim of the paper, one row each: its grade and its parts, by whether each holds on every "
            "recorded seed, on some or on none. " + "; ".join(
                f"claim {v.claim}, {v.title}: {v.grade}{'' if v.robust else ', fragile'} ({counts(v)})"
                for v in verdicts) + ".")
