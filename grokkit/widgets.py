"""The explorer over two of depth, training-set size and weight decay: works in static HTML (no kernel) and in a
live kernel.

The design: pre-render one figure per point of the chapter's two-axis grid (e.g. depth x weight decay), put them in
an `ipywidgets.Stack`, and `jslink` the two controls to it, so the page needs no kernel; in a live
kernel the same controls train or load the chosen run.

Layout: a Stack of Stacks -- one inner Stack per value of the first axis, holding one pre-rendered PNG per value of
the second. The first control is jslinked to the outer Stack's selected_index, the second to every inner Stack's, so
the browser alone switches figures. In a live kernel the controls also call `chapter_run` for the chosen point (loading
a record that appeared since, or training it when train_missing) and redraw that figure.
"""
from __future__ import annotations

import ipywidgets as W

from . import picture, plots

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
from .chapters import chapter_run
from .records import with_seeds

# how each explorable field is named and its values labelled on the controls
AXES = {"depth": ("depth", lambda v: f"{v} layers", "90px"),
        "n_train": ("training set", lambda v: f"N = {v:,}", "100px"),
        "weight_decay": ("weight decay", lambda v: f"{v:g}", "70px")}


def explorer(rows, cols, make_config, start=None, train_missing: bool = False, render=plots.summary,
             names=("depth", "weight_decay")):
    """A rows x cols grid of `render(panel)` figures, one control per axis; `names` are the RunConfig fields the two
    axes set (AXES: depth, n_train, weight_decay) and make_config(row_value, col_value) -> RunConfig. A shipped
    configuration draws every recorded seed (grokkit.records.with_seeds), a stand-in or the reader's run alone.
    The pre-rendered figures never train a full-scale run (a missing record shows its smoke-scale stand-in);
    with train_missing=True a live kernel trains the point the reader picks."""
    rows, cols = list(rows), list(cols)
    r0, c0 = start or (rows[-1], cols[len(cols) // 2])
    r0 = r0 if r0 in rows else rows[0]
    c0 = c0 if c0 in cols else cols[0]

    def figure(a, b, train=False):  # every recorded seed of a shipped configuration (records.with_seeds)
        panel = with_seeds([chapter_run(make_config(a, b), train_missing=train)])[0]
        fig = render(panel)
        return picture.picture(fig, picture.alt_text(fig, [panel]), "widget-image")

    def image(a, b):  # HTML, not an ipywidgets Image: an <img> with alt text and a phone rendering (grokkit.picture)
        return W.HTML(figure(a, b))

    images = [[image(a, b) for b in cols] for a in rows]
    inner = [W.Stack(children=row, selected_index=cols.index(c0)) for row in images]
    outer = W.Stack(children=inner, selected_index=rows.index(r0))

    def control(name, values, value):
        words, fmt, width = AXES[name]
        return W.ToggleButtons(options=[(fmt(v), v) for v in values], value=value, description=words,
                               style={"button_width": width, "description_width": "90px"})

    first, second = control(names[0], rows, r0), control(names[1], cols, c0)
    # static HTML: the browser does the switching through these links (no kernel needed)
    links = [W.jslink((first, "index"), (outer, "selected_index"))]
    links += [W.jslink((second, "index"), (s, "selected_index")) for s in inner]
    status = W.HTML("")

    def redraw(_change):  # only ever called in a live kernel
        i, j = first.index, second.index
        what = "loading or training" if train_missing else "loading"
        status.value = f"<i>{what} {AXES[names[0]][1](rows[i])}, {AXES[names[1]][1](cols[j])} …</i>"
        images[i][j].value = figure(rows[i], cols[j], train_missing)
        status.value = ""

    first.observe(redraw, "index")
    second.observe(redraw, "index")
    box = W.VBox([first, second, outer, status])
    box.links = links  # keep the link widgets referenced alongside the box
    return box


def robustness_explorer(verdicts):
    """The scoreboard's robustness, shown: pick a threshold (or the rank definition) and slide its value over its
    swept range; the table shows every claim's grade at that value (a claim that does not read the threshold keeps
    its grade, marked so). Precomputed from each Verdict's `sweeps` and switched by jslinks, so it works in static
    HTML without a kernel, like the explorer."""
    from html import escape

    from .claims import RANK_DEF, THRESHOLDS
    from .report import GRADE_WORDS, badge_span

    names = [n for n in [*THRESHOLDS, RANK_DEF] if any(name == n for v in verdicts for name, *_ in v.sweeps)]

    def table(name, idx):
        rows = []
        for v in verdicts:
            grid = next((g for nm, _, _, g in v.sweeps if nm == name), None)
            grade = v.grade if grid is None else grid[idx][1]
            cls = "grokkit-" + grade.replace(" ", "-")
            note = "does not read it" if grid is None else ("same as at the default" if grade == v.grade else
                                                            f"changed (default: {v.grade})")
            rows.append(f"<tr><td>{v.claim}. {escape(v.title)}</td><td>{badge_span(cls, grade, GRADE_WORDS[grade])}"
                        f"</td><td>{note}</td></tr>")
        return W.HTML("<table class='grokkit-claims'><thead><tr><th>claim</th><th>grade</th><th></th></tr></thead>"
                      f"<tbody>{''.join(rows)}</tbody></table>")

    panels, links = [], []
    for name in names:
        values = next(g for v in verdicts for nm, _, _, g in v.sweeps if nm == name)
        labels = stop_labels([val for val, _ in values])
        default = "paper-exact" if name == RANK_DEF else f"{THRESHOLDS[name].value:,g}"
        want = "paper-exact" if name == RANK_DEF else THRESHOLDS[name].value
        start = next((i for i, (val, _) in enumerate(values)
                      if val == want or isinstance(val, str) and val.startswith(str(want))), 0)
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


def stop_labels(values) -> list[str]:
    """A slider's stops as a reader reads them: numbers with the fewest significant digits (3 or more) that keep
    every stop distinct ('0.976', not '0.9762'; '1,000'), text as it is."""
    for digits in range(3, 10):
        labels = [v if isinstance(v, str) else f"{v:,.0f}" if float(v).is_integer() else f"{v:,.{digits}g}"
                  for v in values]
        if len(set(labels)) == len(labels):
            return labels
    return [v if isinstance(v, str) else f"{v:,g}" for v in values]
