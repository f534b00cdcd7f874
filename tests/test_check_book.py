"""scripts/check_book.py's pure-Python checks (the browser run itself needs Chromium: run the script by hand).

The layout facts below are what its LAYOUT probe returns from a page; the checks are tested on made-up ones.
"""
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))  # the script imports its neighbour check_widgets by name
import check_book as cb  # noqa: E402


def numbers(text: str) -> list[str]:
    """The numbers a check's message states, in order: what a failure report must get right."""
    return re.findall(r"\d+(?:\.\d+)?", text)


def layout(**kw):
    """A page's layout facts with nothing wrong: 1280 px wide, one figure at full scale, one table that fits."""
    lay = {"width": 1280, "inner_width": 1280, "scroll_width": 1280, "height": 9000, "sticking": [],
           "figures": [{"kind": "figure", "natural": 1360, "width_attr": 680, "intended": 680, "shown": 680,
                        "scale": 1.0, "src": "a.png", "rendering": "desktop", "font_px": 11.8,
                        "font_measured": True, "legend_covers": 0,
                        "alt": "Accuracy by depth. Runs: d = 4, N = 5,000, γ = 0.01 (seeds 0, 1, 2)."}],
           "tables": [{"width": 600, "room": 688, "scroller": None, "scrolls": False, "label": "run grade"}],
           "cut": [], "searches": 1, "spills": []}
    lay.update(kw)
    return lay


def test_pages_follow_the_toc():
    pages = cb.pages(REPO / "_toc.yml")
    assert pages[0] == "book/intro.html" and "book/scoreboard.html" in pages
    assert all(any((REPO / p).with_suffix(s).is_file() for s in (".ipynb", ".md")) for p in pages)


def test_height_budgets():
    assert cb.height_budget("book/scoreboard.html") == cb.HEIGHT_BUDGETS["scoreboard"]
    assert cb.height_budget("book/depth.html") == cb.HEIGHT_BUDGETS["*"]


def test_a_good_page_passes_at_both_widths():
    assert cb.layout_problems(layout(), cb.DESKTOP, "book/depth.html") == []
    phone = layout(width=390, inner_width=390, scroll_width=390, height=40000,
                   figures=[dict(layout()["figures"][0], natural=800, intended=400, shown=358, scale=358 / 400,
                                 rendering="phone", font_px=10.6)],
                   tables=[{"width": 500, "room": 358, "scroller": "div.pst-scrollable-table-container",
                            "scrolls": True, "label": "run grade"}])
    assert cb.layout_problems(phone, cb.PHONE, "book/depth.html") == []  # a phone shrinks and scrolls: reported only


def test_small_figure_wide_table_and_tall_page_fail_at_desktop_width():
    small = dict(layout()["figures"][0], width_attr=None, intended=1360, shown=688, scale=688 / 1360)
    wide = {"width": 900, "room": 688, "scroller": "div.pst-scrollable-table-container", "scrolls": True,
            "label": "claim grade"}
    problems = cb.layout_problems(layout(figures=[layout()["figures"][0], small], tables=[wide], height=18000),
                                  cb.DESKTOP, "book/scoreboard.html")
    assert len(problems) == 3
    # the small figure (its natural width, shown at 688 px = 51 %), the table that scrolls, the page over budget
    assert problems[0].startswith("figure 2:") and numbers(problems[0])[:5] == ["2", "1360", "1360", "688", "51"]
    assert "'claim grade'" in problems[1] and "scrolls sideways" in problems[1]
    assert numbers(problems[1]) == ["1", "900", "688"]
    assert "budget" in problems[2] and numbers(problems[2]) == ["18000", "17500"]
    # hidden images never reach the checks (the probe leaves them out); an unknown scale is not a failure
    assert cb.layout_problems(layout(figures=[dict(small, scale=None)]), cb.DESKTOP, "book/depth.html") == []


@pytest.mark.parametrize("width", [cb.DESKTOP, cb.PHONE])
def test_a_page_that_scrolls_sideways_fails_at_any_width(width):
    lay = layout(width=width, scroll_width=width + 40,
                 sticking=[{"what": "div.cell_output", "right": width + 40, "text": "d = 4"}])
    (problem,) = [p for p in cb.layout_problems(lay, width, "book/depth.html") if "scrolls sideways at" in p]
    assert f"{width + 40} px wide in a {width} px window" in problem and "div.cell_output" in problem


@pytest.mark.parametrize("text, outputs, what", [
    ("# NBVAL_IGNORE_OUTPUT\nbook.show(fig)", [], "nbval marker"),
    ("tags: nbval-skip", [], "nbval marker"),
    ("PYTEST_CURRENT_TEST=tests/x.py", [], "pytest marker"),
    ("results/d12_s0-0123456789abcdef.json", [], "run record id"),
    ("see d12_s3_f64-abcdef0123", [], "run record id"),
    ("", ["<grokkit.config.RunConfig object at 0x7f>"], "Python repr of a grokkit object"),
    ("", ["RunConfig(depth=12, n_train=5000)"], "RunConfig repr"),
    ("", ["True"], "a bare True/False output"),
    ("", ["d = 4 done\n  False  \n"], "a bare True/False output"),
    ("", ["{'depth': 12}"], "dict repr"),
])
def test_harness_markers_are_found(text, outputs, what):
    (found,) = cb.harness_markers(text, outputs)
    assert found.startswith(what)


def test_what_a_reader_may_see():
    text = ("Test it:\nGROKKIT_SMOKE=1 python -m pytest --nbval-lax --nbval-current-env book/ runs every chapter\n"
            "cfg = RunConfig(depth=12)\nTrue or False: the claim holds.")
    outputs = ["d = 4, N = 5000, γ = 0.01, seed 0", "claim holds: True on 3 of 4 seeds", "{1, 2}"]
    assert cb.harness_markers(text, outputs) == []  # code may build a RunConfig; only outputs must not show its repr


def test_summary_lists_heights_figures_tables_and_failures():
    results = {"book/depth.html": {
        ("light", cb.DESKTOP): {"layout": layout(), "problems": []},
        ("dark", cb.DESKTOP): {"layout": layout(), "problems": ["dark mode: figure not on a light card"]},
        ("light", cb.PHONE): {"layout": layout(width=390, height=12000, tables=[
            {"width": 500, "room": 358, "scroller": "div.x", "scrolls": True, "label": "run grade"}]),
            "problems": []},
    }}
    lines = cb.summary(results)
    # heights at both widths, the budget, one failure in three runs
    assert lines[0].startswith("book/depth.html:") and "FAIL" in lines[0]
    assert numbers(lines[0]) == ["9000", "1280", "12000", "390", "30000", "1", "3"]
    # at 1280 px: the smallest figure text, no code cut, one search box; every figure at 100 %, no table scrolls
    assert numbers(lines[1]) == ["1280", "11.8", "1", "0", "1"] and "desktop rendering" in lines[1]
    assert numbers(lines[2]) == ["1280", "1", "100", "0", "1"]
    assert numbers(lines[4]) == ["390", "1", "100", "1", "1"] and "('run grade')" in lines[4]
    assert lines[5] == "  FAIL (dark 1280): dark mode: figure not on a light card"


@pytest.mark.parametrize("width", [cb.DESKTOP, cb.PHONE])
def test_small_text_no_alt_and_a_legend_over_data_fail_at_either_width(width):
    good = layout()["figures"][0]
    figs = [dict(good, font_px=6.6, rendering="single", scale=0.53 if width == cb.PHONE else 1.0),
            dict(good, alt="../_images/5c4a77e3.png"),
            dict(good, kind="explorer", alt=""), dict(good, legend_covers=12)]
    problems = cb.layout_problems(layout(width=width, scroll_width=width, figures=figs), width, "book/depth.html")
    assert len(problems) == 4
    # figure 1: its text's size, the width, the limit of 9 px and the scale it is shown at
    assert problems[0].startswith("figure 1:") and "single rendering" in problems[0]
    assert numbers(problems[0]) == ["1", "6.6", str(width), "9", "53" if width == cb.PHONE else "100"]
    # figures 2 and 3: no alt text (a file name is none), each named with what it shows instead
    assert problems[1].startswith("figure 2:") and "no alt text" in problems[1] and "5c4a77e3.png" in problems[1]
    assert problems[2].startswith("explorer 3:") and "no alt text" in problems[2] and "(alt='')" in problems[2]
    assert problems[3].startswith("figure 4:") and "legend" in problems[3] and numbers(problems[3]) == ["4", "12"]


def test_cut_code_two_search_boxes_and_a_spilling_badge_fail_at_desktop_width():
    bad = dict(cut=["Parameters: depth = 12; n_train = 2000, 5000, 7000; weight_d"], searches=2,
               spills=["partly reproduced"])
    problems = cb.layout_problems(layout(**bad), cb.DESKTOP, "book/depth.html")
    assert len(problems) == 3  # the cut line, the second search box, the spilling badge: each quoted or counted
    assert "cut" in problems[0] and problems[0].endswith(repr(bad["cut"][0]))
    assert "search boxes" in problems[1] and numbers(problems[1]) == ["2"]
    assert "badge" in problems[2] and problems[2].endswith("'partly reproduced'")
    assert cb.layout_problems(layout(width=390, scroll_width=390, **bad), cb.PHONE, "book/depth.html") == []
