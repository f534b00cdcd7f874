"""What training costs, measured: the wall time of one full-scale run per depth and of `sweep paper`, read from the
run records' meta (wall_time_s, device, threads), for the "Run it yourself" page. Nothing here is an estimate: a
device with no record (a GPU, so far) is said to be unmeasured."""
from __future__ import annotations

import statistics

from .records import full_scale


def run_times(runs, grid) -> dict:
    """{"depths": {depth: (median minutes, min, max, n records)}, "grid": (hours, records, grid size), "devices":
    {device: n records}} over the full-scale float32 records among `runs` of the configurations in `grid`
    (RunConfigs, e.g. grokkit.sweep.paper_grid()); the grid's hours sum every record of it, float64 included."""
    ids = {c.id for c in grid}
    mine = [r for r in runs if r.config.id in ids and full_scale(r) and r.meta.get("wall_time_s")]
    depths = {}
    for d in sorted({r.config.depth for r in mine}):
        m = [r.meta["wall_time_s"] / 60 for r in mine if r.config.depth == d and r.config.dtype == "float32"]
        if m:
            depths[d] = (statistics.median(m), min(m), max(m), len(m))
    devices: dict = {}
    for r in mine:
        devices[str(r.meta.get("device", "?"))] = devices.get(str(r.meta.get("device", "?")), 0) + 1
    return {"depths": depths, "grid": (sum(r.meta["wall_time_s"] for r in mine) / 3600, len(mine), len(ids)),
            "devices": devices}


def times_md(runs, grid) -> str:
    """run_times as the page's Markdown: a table of one run per depth, the whole grid, and what a GPU takes."""
    t = run_times(runs, grid)
    if not t["depths"]:
        return "No full-scale record has a measured wall time yet, so no time is given here.\n"
    where = ", ".join(f"{n} on {d.upper()}" for d, n in sorted(t["devices"].items()))
    lines = ["| what | wall-clock time on this project's CPU (2 cores) |", "|---|---|"]
    for d, (med, lo, hi, n) in t["depths"].items():
        lines.append(f"| one full-scale run, d = {d} (10⁵ steps) | {med:,.0f} min (median of {n} records; "
                     f"{lo:,.0f}–{hi:,.0f} min) |")
    hours, n, size = t["grid"]
    lines.append(f"| `sweep paper`, the {size} runs of the paper's grid | {hours:,.1f} h for the {n} recorded "
                 f"one{'s' * (n != 1)}, one after another |")
    gpu = "cuda" in t["devices"]
    lines.append("| the same on a GPU | " + ("see the records trained on one (`python -m grokkit list`)" if gpu else
                 "not measured: no record was trained on a GPU yet") + " |")
    return (f"Measured from the records' meta ({where}; a run resumed from a checkpoint counts the time before it "
            "too):\n\n" + "\n".join(lines) + "\n")


def show() -> None:
    """Display times_md for the shipped records and the paper's grid (the "Run it yourself" page)."""
    from IPython.display import Markdown, display

    from .records import paper_records
    from .sweep import paper_grid

    display(Markdown(times_md(paper_records(), paper_grid())))
