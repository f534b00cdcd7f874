"""The data behind the figures: run records as one long table, written as CSV or JSON.

One row per (run, step, quantity[, layer]); the columns are COLUMNS:

    label         the run as the book names it (`grokkit.events.run_label`, e.g. "d = 12, N = 5000, γ = 0.01, seed 0");
                  a smoke-scale stand-in adds " (smoke-scale stand-in)" and its own, smaller config in the
                  columns that follow. A run that differs from the paper's setup in training says where
                  (", 10,000 steps", ", batch 61"); one that differs only in its evaluation schedule does not
    run           the record's file name without its extension (`grokkit.records.record_id`, e.g.
                  "d12_w400_n5000_a8_wd0.01_s0_t10000-bf39eb7ccc"), unique per run: it tells a pilot from the
                  full-scale run, and names the record the rows come from
    depth         number of Linear layers
    n_train       N, the first N MNIST training images
    weight_decay  AdamW's weight decay γ
    seed          seed of initialization and batch order
    dtype         training dtype (float32 | float64); ranks are always computed in float64
    step          optimizer steps done when the value was measured
    quantity      a record's history key, see QUANTITIES
    layer         for per-layer quantities, the Linear layer, 1 = first, `depth` = the 10-d output layer (as in the
                  book's figures, "layer 1" ...); empty (CSV) or null (JSON) for whole-network quantities
    value         the number, at full precision (shortest round-trip repr); a non-finite value of a diverged run is
                  written as nan/inf in CSV and null in JSON

A separate `layer` column (rather than names like rank_3) keeps the table tidy: one filter on `quantity` gives a
quantity for all layers, and a pivot on `layer` gives the paper's per-layer curves (Fig 1 rows, Figs 3/4).

    python -m grokkit export [--results results] [--format csv|json] [--out export] [--bom]

writes one file per record, named like the record (`d12_w400_n5000_a8_wd0.01_s0-<id>.csv`). Files are UTF-8
(labels hold γ); `--bom` starts a CSV with a UTF-8 byte-order mark, which spreadsheets (Excel) need to read it as
UTF-8 rather than cp1252 ("Î³"); pandas and Python's csv read either with encoding "utf-8-sig". In the book,
`figure_download(runs, slug)` writes the rows of one figure's runs to `book/_static/data/<slug>.csv` when the chapter
executes (Sphinx copies `book/_static` into the HTML after executing) and returns the "download data (CSV)" link.
"""
from __future__ import annotations

import csv
import html
import io
import json
import math
import os
import re
from pathlib import Path

import numpy as np

from . import texts
from .folders import unusable, writable
from .records import RecordError, Run, atomic_write, is_stand_in, list_records, load, record_id, results_folder

COLUMNS = ("label", "run", "depth", "n_train", "weight_decay", "seed", "dtype", "step", "quantity", "layer", "value")
FORMATS = ("csv", "json")

# Which step array dates each history key (grokkit.train writes them); what each measures, units in brackets, is
# grokkit/quantities.toml's entry of the same name. Whole-network quantities are logged on the evaluation schedule
# (`step`, the authors' logging cadence); per-layer ones are snapshots (`rank_step`, `probe_step`; layer_norm at every
# evaluation), one column per Linear layer. QUANTITIES: key -> (step array, what it measures).
_DATED_BY = {"train_loss": "step", "test_loss": "step", "train_acc": "step", "test_acc": "step", "weight_norm": "step",
             "last_layer_norm": "step", "layer_norm": "step", "output_scale": "step", "rank": "rank_step",
             "robust_rank": "rank_step", "eff_rank": "rank_step", "probe_acc": "probe_step",
             "spectrum_max": "rank_step"}
QUANTITIES = {key: (steps, texts.entry("quantities", key)) for key, steps in _DATED_BY.items()}
# The kept covariance spectra (`spectrum`: snapshots x layers x width, relative to the largest value) stay in the
# record itself (.npz, grokkit.rank.rank_at applies any tolerance to them): 4,800 numbers a snapshot would make
# the long table a hundred times longer than everything else in it.
IN_RECORD_ONLY = ("spectrum",)
STAND_IN_LABEL = " (smoke-scale stand-in)"
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")


def _steps_key(key: str) -> str:
    return QUANTITIES[key][0] if key in QUANTITIES else "step"


def rows(runs, quantities=None) -> list[tuple]:
    """The long table of `runs` (grokkit.records.Run): a list of tuples in COLUMNS order, run by run, quantity by
    quantity in the record's order, step by step, layer by layer. Values are Python ints/floats (not numpy).
    `quantities`: the history keys to keep (default: all). Raises ValueError for an unknown quantity or a history
    array that does not match its step array (a damaged or foreign record)."""
    from .events import run_label as label  # the book's one definition of a run's name

    if quantities is not None:
        quantities = list(quantities)
        unknown = sorted(set(quantities) - set(QUANTITIES))
        if unknown:
            raise ValueError(f"quantities: unknown {unknown}; allowed: {sorted(QUANTITIES)}")
    out = []
    for run in runs:
        c, h = run.config, run.history
        name = label(run) + (STAND_IN_LABEL if is_stand_in(run) else "")
        head = (name, record_id(run), c.depth, c.n_train, c.weight_decay, c.seed, c.dtype)
        for key, arr in h.items():
            if key.endswith("step") or key in IN_RECORD_ONLY or (quantities is not None and key not in quantities):
                continue
            sk = _steps_key(key)
            steps = h.get(sk)
            arr = np.asarray(arr)
            if steps is None or arr.ndim not in (1, 2) or arr.shape[0] != len(steps):
                raise ValueError(f"{run.config.name}: history {key!r} {arr.shape} does not match {sk!r} "
                                 f"{None if steps is None else len(steps)}")
            vals = arr.tolist()  # numpy -> Python numbers, exactly
            for s, v in zip(steps.tolist(), vals):
                if arr.ndim == 1:
                    out.append((*head, s, key, None, v))
                else:
                    out.extend((*head, s, key, j + 1, x) for j, x in enumerate(v))
    return out


def _cell(v) -> str:
    return "" if v is None else repr(v) if isinstance(v, float) else str(v)


def to_csv(runs, quantities=None) -> str:
    """The long table as CSV text (header COLUMNS; floats in shortest round-trip form)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    w.writerows([_cell(v) for v in r] for r in rows(runs, quantities))
    return buf.getvalue()


def to_json(runs) -> str:
    """The long table as JSON: {"columns": COLUMNS, "quantities": {key: description}, "rows": [[...], ...]}
    (rows as arrays in column order; non-finite values as null, which JSON cannot otherwise hold)."""
    def clean(v):
        return None if isinstance(v, float) and not math.isfinite(v) else v

    body = [[clean(v) for v in r] for r in rows(runs)]
    quantities = {k: v[1] for k, v in QUANTITIES.items()}
    return json.dumps({"columns": list(COLUMNS), "quantities": quantities, "rows": body}, ensure_ascii=False)


def _check_format(fmt: str, bom: bool) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"format: must be one of {FORMATS}, got {fmt!r}")
    if bom and fmt != "csv":
        raise ValueError(f"bom: a byte-order mark is for CSV files (spreadsheets), not {fmt}")


def write(runs, path, fmt: str = "csv", bom: bool = False) -> Path:
    """Write the long table of `runs` to `path` atomically (whole file or nothing), UTF-8. fmt: 'csv' | 'json';
    bom: start a CSV with the UTF-8 byte-order mark (EF BB BF), so a spreadsheet reads it as UTF-8.
    OSError (a full disk, no permission) names `path`, and no partial file is left."""
    _check_format(fmt, bom)
    text = (to_csv if fmt == "csv" else to_json)(runs)
    path = Path(path)
    atomic_write(path, lambda f: f.write(text.encode("utf-8-sig" if bom else "utf-8")))
    return path


def export_records(results_dir=None, out_dir="export", fmt: str = "csv", bom: bool = False
                   ) -> tuple[list[Path], list[str]]:
    """One file per record of `results_dir` in `out_dir` (`<record name>-<id>.<fmt>`; bom: see `write`). Returns
    (written, problems): a corrupt record, or one this user may not read, is skipped and named in `problems`.
    FileNotFoundError if `results_dir` is not a folder."""
    _check_format(fmt, bom)
    results_dir = results_folder(results_dir, must_exist=True)
    if list_records(results_dir):
        writable(out_dir, "--out")  # a shared folder of another user's: one line naming it, before any file
    written, problems = [], []
    for p in list_records(results_dir):
        try:
            run = load(p)
        except RecordError as e:
            problems.append(str(e))
            continue
        except OSError as e:
            problems.append(f"{p}: {e.strerror or e} (not read; the file is not corrupt)")
            continue
        written.append(write([run], Path(out_dir) / f"{p.stem}.{fmt}", fmt, bom))
    return written, problems


# ---- the book: a "download data (CSV)" link under every figure ----------------------------------------------
def static_dir() -> Path:
    """Where the book's static files live when a chapter executes: $GROKKIT_BOOK_STATIC, else `_static` in the
    current folder (jupyter-book runs chapters in book/), else `book/_static` (from the repository root), else
    `_static` in the current folder (e.g. on Colab: the file is then in Colab's file browser)."""
    if os.environ.get("GROKKIT_BOOK_STATIC"):
        return Path(os.environ["GROKKIT_BOOK_STATIC"])
    for d in (Path("_static"), Path("book") / "_static"):
        if d.is_dir():
            return d
    return Path("_static")


class Download:
    """The link a chapter displays under a figure. Rendered as HTML (a raw link: Sphinx passes it through
    unchanged, whereas a Markdown link would be resolved as a document reference)."""

    def __init__(self, href: str, n_runs: int, n_rows: int, what: str = "run"):
        self.href, self.n_runs, self.n_rows, self.what = href, n_runs, n_rows, what

    def _count(self) -> str:
        return f'{self.n_runs:,} {self.what}{"s" * (self.n_runs != 1)}, {self.n_rows:,} rows'

    def _repr_html_(self) -> str:
        return (f'<p class="grokkit-download"><a href="{html.escape(self.href)}" download>download data (CSV)</a> '
                f'<span>{self._count()}</span></p>')

    def __repr__(self) -> str:
        return f"download data (CSV): {self.href} ({self._count()})"


def figure_download(runs, slug: str, quantities=None, static: Path | None = None) -> Download:
    """Write the long table of a figure's `runs` to `<static>/data/<slug>.csv` and return its link.
    `quantities`: the history keys the figure draws (default: all of them, about 0.5 MB per full-scale run).

    The link is relative to a chapter page, `../_static/data/<slug>.csv`: chapters are `book/<chapter>.ipynb`,
    built to `_build/html/book/<chapter>.html`, and `book/_static` is the book's html_static_path, copied to
    `_build/html/_static` after the chapters execute. `slug`: lower-case letters, digits, '-' and '_', unique in the
    book (two figures with one slug would share one file). ValueError on a bad slug or no runs."""
    _check_slug(slug)
    runs = list(runs)
    if not runs or not all(isinstance(r, Run) for r in runs):
        raise ValueError(f"runs: must be one or more grokkit run records, got {runs!r:.80}")
    return _download(slug, to_csv(runs, quantities), len(runs), "run", static)


def _check_slug(slug) -> None:
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        raise ValueError(f"slug: must be lower-case letters, digits, '-' or '_' (e.g. 'fig1-rank'), got {slug!r}")


def _download(slug: str, text: str, n: int, what: str, static: Path | None) -> Download:
    path = (static or static_dir()) / "data" / f"{slug}.csv"
    try:
        atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    except PermissionError as e:  # a shared clone whose book/_static/data is another user's
        raise unusable(path.parent, "GROKKIT_BOOK_STATIC", e) from None
    return Download(f"../_static/data/{slug}.csv", n, text.count("\n") - 1, what)


MEASURE_COLUMNS = ("claim", "grade", "measure", "unit", "label", "value")


def measure_rows(verdicts) -> list[tuple]:
    """The effect measures behind verdicts (grokkit.claims.Verdict.measures), one row per (claim, measure, run or
    configuration): MEASURE_COLUMNS. `label` names the run ("d = 12, N = 5000, γ = 0.01, seed 0") or the
    configuration or pair a median or gap is taken over; `unit` as the verdict gives it (steps, accuracy, ...)."""
    return [(v.claim, v.grade, name, m["unit"], lab, val)
            for v in verdicts for name, m in v.measures.items() for lab, val in m["values"].items()]


def measures_download(verdicts, slug: str, static: Path | None = None) -> Download:
    """For a figure drawn from verdicts (the scoreboard's summary): write their effect measures (`measure_rows`)
    to `<static>/data/<slug>.csv` and return its link. ValueError on a bad slug or no verdicts."""
    return _verdicts_download(verdicts, slug, MEASURE_COLUMNS, measure_rows, static)


PART_COLUMNS = ("claim", "grade", "fragile", "part", "held", "judged", "per", "status")


def part_rows(verdicts) -> list[tuple]:
    """The parts behind the opening page's figure (grokkit.claim_plots.claims_at_a_glance), one row per counted part
    of each claim (PART_COLUMNS): the sub-claim in words, on how many of the `judged` seeds, runs or pairs (`per`)
    it `held`, and its grokkit.grades.part_status."""
    from .grades import part_status

    return [(v.claim, v.grade, not v.robust, p.words, p.k, p.n, p.per or "comparison", part_status(p))
            for v in verdicts for p in v.parts if p.counted]


def parts_download(verdicts, slug: str, static: Path | None = None) -> Download:
    """Write `part_rows(verdicts)` to `<static>/data/<slug>.csv` and return its link. ValueError on a bad slug or no
    verdicts."""
    return _verdicts_download(verdicts, slug, PART_COLUMNS, part_rows, static)


def _verdicts_download(verdicts, slug: str, columns: tuple, rows, static: Path | None) -> Download:
    _check_slug(slug)
    verdicts = list(verdicts)
    if not verdicts:
        raise ValueError("verdicts: need at least one claim's verdict")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows([_cell(v) for v in r] for r in rows(verdicts))
    return _download(slug, buf.getvalue(), len(verdicts), "claim", static)
