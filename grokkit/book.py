"""Chapter helpers: the cells every chapter of book/ repeats, as one-line calls.

    from grokkit import book
    book.banner(device)                               # smoke-mode and CPU notes
    runs = book.load(configs, train_missing)          # the chapter's runs, and where each comes from
    book.show(plots.accuracy_panels(book.with_seeds(runs)), runs, "accuracy")
    book.verdicts([1, 2, 9], runs)                    # the claims, on the shipped records; the reader's runs' events

A chapter's verdicts concern the paper's configurations, so they always come from the shipped run records
(`paper_records`), whatever parameters the chapter was run with; the runs the reader chose get their measured events
in a table beside them.
"""
from __future__ import annotations

import functools

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from . import records, report
from .config import resolve_device, smoke
from .sweep import chapter_run


def md(text: str) -> None:
    display(Markdown(text))


def banner(device: str) -> None:
    """The notes every chapter opens with: smoke mode, and training on a CPU."""
    if smoke():
        md("> **Smoke mode** (`GROKKIT_SMOKE=1`): the runs drawn below are seconds-long smoke-scale stand-ins, so no "
           "figure on this page is a result; the verdicts still come from the shipped run records.")
    if resolve_device(device) == "cpu":
        md("> **This chapter runs on CPU.** Run records load in milliseconds, but training a missing full-scale run "
           "(`train_missing=True`) is slow on a CPU; on Colab pick *Runtime → Change runtime type → GPU* first.")


def load(configs, train_missing: bool = False) -> list:
    """The chapter's runs (grokkit.sweep.chapter_run), and a list saying which are records and which stand-ins."""
    runs = [chapter_run(c, train_missing=train_missing) for c in configs]
    md(report.sources(runs))
    return runs


@functools.lru_cache(maxsize=4)
def _records(folder: str) -> tuple:
    return tuple(records.load_all(folder))


def paper_records() -> list:
    """Every shipped full-scale record ($GROKKIT_RESULTS or the repository's results/), loaded once per kernel."""
    return list(_records(str(records.results_folder(must_exist=True))))


def with_seeds(runs) -> list:
    """For each run, every recorded seed of its configuration (a list of Runs, seed order): a figure of a
    configuration with several seeds draws all of them. A stand-in, or a run without other seeds, stays alone."""
    out = []
    for r in runs:
        c = records.stands_for(r)
        same = [] if r.meta.get("stand_in") else records.seeds_of(paper_records(), c["depth"], c["n_train"],
                                                                 c["weight_decay"], c["dtype"])
        out.append(same if len(same) > 1 else [r])
    return out


def show(fig, runs, slug: str) -> None:
    """Display one figure of the chapter (drawn from `runs`, named `slug`) and close it. Every figure a chapter
    shows goes through here."""
    display(fig)
    plt.close(fig)


def flat(panels) -> list:
    """The runs of a list of panels (each a Run or a list of seed Runs)."""
    return [r for p in panels for r in (p if isinstance(p, list) else [p])]


def events(runs) -> None:
    """The measured events of the chapter's runs, one row per run."""
    md(report.events_table(flat(runs)))


def verdicts(claim_numbers, runs=()) -> None:
    """The chapter's claims judged on the shipped paper records (every recorded seed, robustness-checked), then the
    measured events of the runs this chapter drew (`runs`), whatever its parameters."""
    paper = paper_records()
    if not paper:
        md("No full-scale run records found: the verdicts need the shipped records in results/.")
    else:
        md(report.chapter_verdicts(paper, claim_numbers))
    if runs:
        md("**The runs drawn on this page**, measured the same way:")
        events(runs)
