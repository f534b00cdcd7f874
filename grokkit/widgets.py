"""The depth / weight-decay explorer: works in static HTML (no kernel) and in a live kernel.

The design: pre-render one figure per (depth, weight decay) point of the chapter's grid, put them in an
`ipywidgets.Stack`, and `jslink` the depth and weight-decay controls to it, so the page needs no kernel; in a live
kernel the same controls train or load the chosen run.

Layout: a Stack of Stacks -- one inner Stack per depth, holding one pre-rendered PNG per weight decay. The depth
control is jslinked to the outer Stack's selected_index, the weight-decay control to every inner Stack's, so the
browser alone switches figures. In a live kernel the controls also call `chapter_run` for the chosen point (loading
a record that appeared since, or training it when train_missing) and redraw that figure.
"""
from __future__ import annotations

import ipywidgets as W

from . import plots

if not hasattr(W, "Stack"):  # ipywidgets 7 (Colab's preinstalled one, or an older environment): no Stack
    def _installed() -> str:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("ipywidgets")
        except PackageNotFoundError:
            return "none"

    raise ImportError(f"the explorer needs ipywidgets >= 8, but this kernel has ipywidgets "
                      f"{getattr(W, '__version__', '?')} loaded (installed: {_installed()}): run "
                      f"pip install 'ipywidgets>=8', then restart the kernel (on Colab: Runtime -> Restart session) "
                      f"and run the cells again")
from .book import with_seeds
from .sweep import chapter_run


def explorer(depths, weight_decays, make_config, start=None, train_missing: bool = False, render=plots.summary):
    """depths x weight_decays grid of `render(panel)` figures; make_config(depth, weight_decay) -> RunConfig; a
    shipped configuration draws every recorded seed (grokkit.book.with_seeds), a stand-in or the reader's run alone.
    The pre-rendered figures never train a full-scale run (a missing record shows its smoke-scale stand-in);
    with train_missing=True a live kernel trains the point the reader picks."""
    depths, weight_decays = list(depths), list(weight_decays)
    d0, w0 = start or (depths[-1], weight_decays[len(weight_decays) // 2])
    d0 = d0 if d0 in depths else depths[0]
    w0 = w0 if w0 in weight_decays else weight_decays[0]

    def figure(depth, wd, train=False):  # every recorded seed of a shipped configuration (book.with_seeds)
        return plots.png(render(with_seeds([chapter_run(make_config(depth, wd), train_missing=train)])[0]))

    images = [[W.Image(value=figure(d, w), format="png", layout=W.Layout(width="100%", max_width="700px"))
               for w in weight_decays] for d in depths]
    inner = [W.Stack(children=row, selected_index=weight_decays.index(w0)) for row in images]
    outer = W.Stack(children=inner, selected_index=depths.index(d0))
    depth = W.ToggleButtons(options=[(f"{d} layers", d) for d in depths], value=d0, description="depth",
                            style={"button_width": "90px"})
    wd = W.ToggleButtons(options=[(f"{w:g}", w) for w in weight_decays], value=w0, description="weight decay",
                         style={"button_width": "70px", "description_width": "90px"})
    # static HTML: the browser does the switching through these links (no kernel needed)
    links = [W.jslink((depth, "index"), (outer, "selected_index"))]
    links += [W.jslink((wd, "index"), (s, "selected_index")) for s in inner]
    status = W.HTML("")

    def redraw(_change):  # only ever called in a live kernel
        i, j = depth.index, wd.index
        what = "loading or training" if train_missing else "loading"
        status.value = f"<i>{what} d={depths[i]}, γ={weight_decays[j]:g} …</i>"
        images[i][j].value = figure(depths[i], weight_decays[j], train_missing)
        status.value = ""

    depth.observe(redraw, "index")
    wd.observe(redraw, "index")
    box = W.VBox([depth, wd, outer, status])
    box.links = links  # keep the link widgets referenced alongside the box
    return box


def robustness_explorer(verdicts):
    """The scoreboard's robustness, shown: pick a threshold (or the rank definition) and slide its value over its
    swept range; the table shows every claim's grade at that value (a claim that does not read the threshold keeps
    its grade, marked so). Precomputed from each Verdict's `sweeps` and switched by jslinks, so it works in static
    HTML without a kernel, like the explorer."""
    from html import escape

    from .claims import RANK_DEF, THRESHOLDS
    from .report import GRADE_WORDS

    names = [n for n in [*THRESHOLDS, RANK_DEF] if any(name == n for v in verdicts for name, *_ in v.sweeps)]

    def table(name, idx):
        rows = []
        for v in verdicts:
            grid = next((g for nm, _, _, g in v.sweeps if nm == name), None)
            grade = v.grade if grid is None else grid[idx][1]
            cls = "grokkit-" + grade.replace(" ", "-")
            note = "does not read it" if grid is None else ("same as at the default" if grade == v.grade else
                                                            f"changed (default: {v.grade})")
            rows.append(f"<tr><td>{v.claim}. {escape(v.title)}</td><td><span class='grokkit-badge {cls}' "
                        f"title='{escape(GRADE_WORDS[grade])}'>{escape(grade)}</span></td><td>{note}</td></tr>")
        return W.HTML("<table class='grokkit-claims'><thead><tr><th>claim</th><th>grade</th><th></th></tr></thead>"
                      f"<tbody>{''.join(rows)}</tbody></table>")

    panels, links = [], []
    for name in names:
        values = next(g for v in verdicts for nm, _, _, g in v.sweeps if nm == name)
        labels = [val if isinstance(val, str) else f"{val:,g}" for val, _ in values]
        default = "paper-exact" if name == RANK_DEF else f"{THRESHOLDS[name].value:,g}"
        start = next((i for i, lab in enumerate(labels) if lab.startswith(default)), 0)
        slider = W.SelectionSlider(options=labels, index=start, description="value", continuous_update=True,
                                   layout=W.Layout(width="95%"), style={"description_width": "60px"})
        stack = W.Stack(children=[table(name, i) for i in range(len(labels))], selected_index=start)
        links.append(W.jslink((slider, "index"), (stack, "selected_index")))
        what = "rank definition" if name == RANK_DEF else \
            f"{THRESHOLDS[name].words} ({THRESHOLDS[name].unit}; default {default})"
        panels.append(W.VBox([W.HTML(f"<p>{escape(what)}</p>"), slider, stack]))
    pick = W.Dropdown(options=[(("the rank definition" if n == RANK_DEF else THRESHOLDS[n].words), i)
                               for i, n in enumerate(names)], value=0, description="threshold",
                      layout=W.Layout(width="95%"), style={"description_width": "80px"})
    outer = W.Stack(children=panels, selected_index=0)
    links.append(W.jslink((pick, "index"), (outer, "selected_index")))
    box = W.VBox([pick, outer])
    box.links = links
    return box
