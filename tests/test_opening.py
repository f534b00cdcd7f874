"""The opening page's figure (grokkit.claim_plots.claims_at_a_glance) and the facts under it: how each counted part
of a claim came out (grokkit.grades.part_status) and the CSV behind the figure (grokkit.export.parts_download)."""
import csv

import matplotlib
import matplotlib.pyplot as plt
import pytest

from grokkit import claim_plots, export, picture
from grokkit.grades import Part, Verdict, part_status

matplotlib.use("Agg")


def _verdicts():
    return [
        Verdict(1, "One", "p", "f", "reproduced", "r", [Part("a", 3, 3), Part("b", 2, 2)], []),
        Verdict(2, "Two", "p", "f", "partly reproduced", "r",
                [Part("a", 1, 3), Part("b", 0, 2), Part("base", 2, 2, baseline=True)], [], robust=False),
        Verdict(3, "Three, a title long enough to wrap onto a second line of the row", "p", "f", "not reproduced",
                "r", [Part("a", 0, 2), Part("clock", 0, 0, by_construction=5)], []),
    ]


@pytest.mark.parametrize("k, n, status", [(3, 3, "held"), (1, 3, "some"), (0, 3, "failed"), (0, 0, "untested")])
def test_part_status_reads_k_of_n(k, n, status):
    assert part_status(Part("x", k, n)) == status


def test_the_figure_draws_one_block_per_counted_part_in_its_status_colour():
    vs = _verdicts()
    fig = claim_plots.claims_at_a_glance(vs)
    try:
        blocks = [p.get_facecolor() for ax in fig.axes for p in ax.patches]
        colour = {s: matplotlib.colors.to_rgba(c) for s, c in claim_plots.STATUS_COLORS.items()}
        # claim 1: 2 held; claim 2: some + failed (its baseline left out); claim 3: failed (by construction left out)
        assert len(blocks) == 5
        assert blocks.count(colour["held"]) == 2 and blocks.count(colour["some"]) == 1
        assert blocks.count(colour["failed"]) == 2
        words = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert "partly reproduced, fragile" in words and "reproduced" in words  # the grade, fragile where it is
        assert all(len(w) <= claim_plots.GLANCE_CHARS for w in words)             # long titles wrap
        assert picture.smallest_font_px(fig) >= 12  # 9 points at the desktop width
    finally:
        plt.close(fig)


def test_the_phone_rendering_keeps_every_row_readable():
    fig = claim_plots.claims_at_a_glance(_verdicts())
    try:
        wanted = fig.phone_panel_height
        picture.phone_layout(fig)
        heights = [ax.get_position().height * fig.get_figheight() for ax in fig.axes]
        assert len(heights) == 2 and min(heights) >= wanted - 0.06  # stacked, each as tall as its desktop rows
        assert fig.get_figwidth() == picture.PHONE_WIDTH
    finally:
        plt.close(fig)


def test_no_verdict_is_one_line_error():
    with pytest.raises(ValueError, match="verdicts"):
        claim_plots.claims_at_a_glance([])
    with pytest.raises(ValueError, match="verdicts"):
        export.parts_download([], "x", static=None)


def test_the_csv_lists_every_counted_part(tmp_path):
    link = export.parts_download(_verdicts(), "intro-claims", static=tmp_path)
    rows = list(csv.DictReader(open(tmp_path / "data" / "intro-claims.csv", encoding="utf-8")))
    assert [(r["claim"], r["held"], r["judged"], r["status"]) for r in rows] == [
        ("1", "3", "3", "held"), ("1", "2", "2", "held"), ("2", "1", "3", "some"), ("2", "0", "2", "failed"),
        ("3", "0", "2", "failed")]
    assert rows[2]["fragile"] == "True" and (link.n_runs, link.n_rows) == (3, 5)


def test_alt_text_names_every_claim_and_its_grade():
    alt = claim_plots.glance_alt(_verdicts())
    assert all(f"claim {n}" in alt for n in (1, 2, 3)) and "not reproduced" in alt
