"""A figure as the page shows it: a desktop PNG and a phone PNG in one responsive <picture>, with alt text and the
measurements the browser check reads (grokkit.book.show and the explorer embed every figure through `picture`).

    html = picture(fig, alt_text(fig, runs, claims=[1, 2]))   # closes fig

Why two renderings: every figure is drawn TEXT_WIDTH (6.8 in) wide and shown 680 CSS px wide on a desktop, where its
9-point tick labels read at 12.5 px. A phone's text column is about 360 px wide, so the same PNG is shown at about
half that size, its ticks at about 6.6 px. The phone rendering is the same figure laid out again PHONE_WIDTH wide, one
panel per row (`phone_layout`), so that it is shown at about 90 % and its ticks read at about 11 px. The browser picks
the rendering by the window's width (PHONE_MEDIA), the desktop one stays as drawn.

The <img> carries, per rendering, the CSS px width it is designed for and the size of its smallest text at that width
(data-font-px, data-phone-font-px; `smallest_font_px`), and how many plotted points the figure's legends cover
(data-legend-covers; `legend_covers`): scripts/check_book.py turns them into the size the text is displayed at.
"""
from __future__ import annotations

import base64
import io
import textwrap
from html import escape

import matplotlib.pyplot as plt
import numpy as np

from .plots import SHOWN_DPI, shown_width

PHONE_WIDTH = 4.0   # inches: the phone rendering is 400 CSS px wide, shown at about 90 % in a 360 px text column
PHONE_MEDIA = "(max-width: 600px)"  # the windows that get the phone rendering
PANEL_HEIGHT = 1.7  # inches: the least height of a panel's plotting area in the phone rendering


def png(fig, dpi: int = 2 * SHOWN_DPI) -> bytes:
    """The figure as PNG bytes at `dpi` (twice SHOWN_DPI: sharp on high-density screens), in 256 colours (a third of
    the bytes of a full-colour PNG, the difference invisible on line plots: the pages inline them); the figure stays
    open."""
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    image = Image.open(buf).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="png", optimize=True)
    return out.getvalue()


def smallest_font_px(fig) -> float:
    """The size of the figure's smallest visible text, in CSS px at its design width (points / 72 x SHOWN_DPI)."""
    sizes = [t.get_fontsize() for t in fig.findobj(plt.Text) if t.get_visible() and t.get_text().strip()
             and _drawn(t)]
    return round(min(sizes, default=0) / 72 * SHOWN_DPI, 1)


def _drawn(text) -> bool:
    """False for a tick label matplotlib made but does not draw (outside the axis limits, or hidden ticks)."""
    axis = getattr(text, "axes", None)
    return axis is None or axis.get_visible()


def legend_covers(fig) -> int:
    """How many plotted data points (line vertices and scatter points) lie under a legend drawn inside an axes:
    0 when every legend sits in an empty part of its panel or outside the panels. Draws the figure."""
    fig.canvas.draw()
    covered = 0
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is None or not leg.get_visible():
            continue
        box = leg.get_window_extent().padded(-2)
        inside = ax.get_window_extent()
        for line in ax.get_lines():
            xy = ax.transData.transform(np.column_stack(line.get_data()).astype(float))
            covered += _inside(xy, box, inside)
        for coll in ax.collections:
            if coll.get_offsets() is not None and len(coll.get_offsets()) and coll.get_label().startswith("_") is False:
                covered += _inside(coll.get_offset_transform().transform(coll.get_offsets()), box, inside)
    return covered


def _inside(xy, box, axes_box) -> int:
    """Points of `xy` (display coordinates) inside `box` that are also inside the axes (drawn, not clipped)."""
    xy = xy[np.isfinite(xy).all(axis=1)]
    x, y = xy[:, 0], xy[:, 1]
    seen = (x >= axes_box.x0) & (x <= axes_box.x1) & (y >= axes_box.y0) & (y <= axes_box.y1)
    return int(np.sum(seen & (x > box.x0) & (x < box.x1) & (y > box.y0) & (y < box.y1)))


def _panels(fig) -> list:
    """The figure's panels: visible axes laid out on a grid (colour bars and switched-off axes excluded)."""
    return [ax for ax in fig.axes if ax.get_subplotspec() is not None and ax.axison
            and not hasattr(ax, "_colorbar")]


def phone_layout(fig):
    """Lay `fig` out again for a phone, in place: PHONE_WIDTH wide, one panel per row, each panel's plotting area at
    least PANEL_HEIGHT tall. Panels go row by row, or column by column when the figure was drawn with one
    configuration per column (fig.phone_order == "columns", e.g. Fig 1: rank, accuracy and probes of one
    configuration stay together); a figure whose panels need more than PANEL_HEIGHT sets fig.phone_panel_height
    (inches). Every panel gets its tick labels and axis labels back (a grid shares them along
    rows and columns); a row's title drawn over a later panel of the row moves over its first (it would otherwise
    head the wrong panel once the row is stacked); panel and figure titles are wrapped again and figure legends take
    at most two columns. Returns fig."""
    panels = _panels(fig)
    grid = panels[0].get_subplotspec().get_gridspec() if panels else None
    rows, cols = grid.get_geometry() if grid else (1, 1)
    spec = {ax: ax.get_subplotspec() for ax in panels}
    by_column = getattr(fig, "phone_order", "rows") == "columns"
    order = sorted(panels, key=lambda ax: _key(spec[ax], by_column))
    first = {(s.rowspan.start, s.colspan.start): ax for ax, s in spec.items()}
    for ax in panels:
        s = spec[ax]
        if not ax.get_ylabel():  # shared along a row: the label of the row's first panel
            left = first.get((s.rowspan.start, 0))
            ax.set_ylabel(left.get_ylabel() if left else "")
        if not ax.get_xlabel():  # shared along a column: the label of the column's last panel
            below = [a for a, t in spec.items() if t.colspan.start == s.colspan.start and a.get_xlabel()]
            ax.set_xlabel(below[-1].get_xlabel() if below else "")
        ax.tick_params(labelleft=True, labelbottom=True)
    for ax in panels:  # a row's title, drawn over one of its later panels, goes over the row's first on a phone
        left = first.get((spec[ax].rowspan.start, 0))
        if not by_column and left not in (None, ax) and ax.get_title() and not left.get_title():
            left.set_title(ax.get_title(), fontsize=ax.title.get_fontsize(), color=ax.title.get_color())
            ax.title.set_text("")
    for ax in panels:  # and a title line longer than the panel is wide is wrapped
        chars = int(0.8 * PHONE_WIDTH * 72 / (0.55 * ax.title.get_fontsize()))
        if any(len(line) > chars for line in ax.get_title().split("\n")):
            ax.title.set_text("\n".join(textwrap.fill(line, chars) for line in ax.get_title().split("\n")))
    new = fig.add_gridspec(max(len(order), 1), 1)
    for i, ax in enumerate(order):
        ax.set_subplotspec(new[i, 0])
    for ax in fig.axes:
        if ax.get_subplotspec() is not None and not ax.axison and ax not in panels:
            ax.remove()  # an unused cell of the desktop grid
    for leg in list(fig.legends):  # drawn again: a legend's columns are fixed when it is made
        size = leg.get_texts()[0].get_fontsize() if leg.get_texts() else 9
        chars = int(PHONE_WIDTH * 72 / (0.55 * size)) - 8  # the line's handle takes about 8 characters
        labels = [textwrap.fill(t.get_text(), chars) for t in leg.get_texts()]
        leg.remove()
        fig.legend(leg.legend_handles, labels, loc="outside lower center", fontsize=size,
                   ncol=1 if max(map(len, labels), default=0) > 24 else max(min(2, len(labels)), 1))
    title = fig._suptitle
    if title is not None and title.get_text():
        chars = int(PHONE_WIDTH * 72 / (0.55 * title.get_fontsize()))
        title.set_text(textwrap.fill(" ".join(title.get_text().split()), chars))
    lines = title.get_text().count("\n") + 1 if title is not None and title.get_text() else 0
    legend_lines = sum(-(-sum(t.get_text().count("\n") + 1 for t in leg.get_texts()) // leg._ncols)
                       for leg in fig.legends)
    least_height = getattr(fig, "phone_panel_height", PANEL_HEIGHT)  # a figure may ask for taller panels
    height = max(len(order), 1) * (least_height + 0.7) + 0.2 * lines + 0.2 * legend_lines + 0.9
    fig.set_size_inches(PHONE_WIDTH, height)
    fig.canvas.draw()
    for ax in order:
        slant_crowded_ticks(ax)
    for _ in range(3):  # grow until the smallest panel has its height (titles, legends and colour bars take room)
        fig.canvas.draw()
        least = min((ax.get_position().height * height for ax in order), default=least_height)
        if least >= least_height - 0.05:
            break
        height += (least_height - least) * len(order) + 0.1
        fig.set_size_inches(PHONE_WIDTH, height)
    return fig


def slant_crowded_ticks(ax) -> bool:
    """Where the x tick labels of `ax` overlap as drawn, write each on one slanted line instead (a configuration
    label 'd=12\nN=5000' becomes 'd=12, N=5000' at 40 degrees). Needs a drawn figure; True if it changed them."""
    labels = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
    boxes = [t.get_window_extent() for t in labels]
    if not any(a.x1 > b.x0 - 3 for a, b in zip(boxes, boxes[1:])):  # 3 px apart at least
        return False
    ax.set_xticks(ax.get_xticks(), [t.get_text().replace("\n", ", ") for t in ax.get_xticklabels()], rotation=40,
                  ha="right", rotation_mode="anchor")
    return True


def _key(spec, by_column: bool) -> tuple:
    r, c = spec.rowspan.start, spec.colspan.start
    return (c, r) if by_column else (r, c)


def alt_text(fig, runs=(), claims=()) -> str:
    """What the figure shows, in words, for a reader who does not see it: its title, what each panel plots (titles
    and axes), the configurations and their seeds (`runs`: Runs or panels of seed Runs), the claims it tests."""
    from .records import stands_for

    title = fig._suptitle.get_text() if fig._suptitle is not None else ""
    parts = [" ".join(title.split())] if title else []
    seen = []
    for ax in _panels(fig):
        what = " ".join(ax.get_title().split())
        y, x = (" ".join(t.split()) for t in (ax.get_ylabel(), ax.get_xlabel()))
        axis = f"{y} against {x}" if y and x.startswith(("step", "layer")) else y
        item = ", ".join(x for x in (what, axis) if x)
        if item and item not in seen:
            seen.append(item)
    if seen:
        parts.append("Panels: " + "; ".join(seen))
    configs: dict = {}
    for r in (r for p in runs for r in (p if isinstance(p, (list, tuple)) else [p])):
        c = stands_for(r)
        name = f"d = {c['depth']}, N = {c['n_train']:,}, γ = {c['weight_decay']:g}"
        configs.setdefault(name, []).append(c["seed"])
    if configs:
        parts.append("Runs: " + "; ".join(f"{k} (seed{'s' * (len(v) > 1)} {', '.join(map(str, sorted(v)))})"
                                          for k, v in configs.items()))
    if claims:
        parts.append(f"Tests claim{'s' * (len(claims) > 1)} {', '.join(map(str, claims))} of the paper")
    return ". ".join(parts) + "." if parts else "A figure."


def picture(fig, alt: str, css_class: str = "") -> str:
    """The figure as a responsive <picture> (HTML; closes fig): its desktop rendering at its design width, and below
    PHONE_MEDIA its phone rendering (phone_layout), both PNGs at twice SHOWN_DPI and inlined, so that the page, a
    notebook and Colab show them without files beside them. `css_class`: the <img>'s class (the explorer's
    "widget-image"). Raises ValueError on empty alt text."""
    try:
        if not alt or not alt.strip():
            raise ValueError("alt: a figure needs alt text saying what it shows, got an empty string")
        desk = png(fig)
        width, height = shown_width(fig), round(fig.get_figheight() * SHOWN_DPI)
        font, covers = smallest_font_px(fig), legend_covers(fig)
        phone_layout(fig)
        phone = png(fig)
        p_width, p_height = shown_width(fig), round(fig.get_figheight() * SHOWN_DPI)
        p_font, p_covers = smallest_font_px(fig), legend_covers(fig)
    finally:
        plt.close(fig)
    b64 = lambda data: "data:image/png;base64," + base64.b64encode(data).decode("ascii")  # noqa: E731
    return (f'<picture class="grokkit-figure"><source media="{PHONE_MEDIA}" srcset="{b64(phone)}" width="{p_width}" '
            f'height="{p_height}"><img class="{css_class}" src="{b64(desk)}" width="{width}" height="{height}" '
            f'alt="{escape(alt)}" '
            f'data-font-px="{font:g}" data-phone-font-px="{p_font:g}" data-width="{width}" '
            f'data-phone-width="{p_width}" data-legend-covers="{covers + p_covers}"></picture>')
