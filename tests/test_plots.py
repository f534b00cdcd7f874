"""The book's figures are made for the page: at most the text column wide, fonts readable at the size shown, every
text inside the figure, step axes where the data are; and the explorer's axes and the phase panels' notes."""
from __future__ import annotations

import struct

import matplotlib.colors
import matplotlib.pyplot as plt
import numpy as np
import pytest


@pytest.fixture(scope="module")
def paper():
    from grokkit import book

    return book.paper_records()


def _figures(paper):
    """(name, figure) for every figure function of grokkit.plots, drawn from shipped records as the chapters do."""
    from grokkit import book, claim_plots, intervention_plots, plots, records
    from grokkit.claims import detector, evaluate
    from grokkit.events import has_spectra

    pick = records.pick
    fig1 = book.with_seeds([pick(paper, 12, n) for n in (2000, 5000, 7000)])
    depth = book.with_seeds([pick(paper, d, 5000) for d in (4, 8, 12)])
    multi = book.with_seeds([pick(paper, d, 7000) for d in (4, 8, 12)])
    fig5 = book.with_seeds([pick(paper, d, n) for d in (4, 8, 12) for n in (5000, 7000)])
    phases = book.with_seeds([pick(paper, 12, 2000, wd) for wd in (0.005, 0.01, 0.05)])
    spectra = [r for r in paper if has_spectra(r) and records.full_scale(r)][:1]
    yield "rank_acc_probe", plots.rank_acc_probe(fig1)
    yield "phases", plots.rank_acc_probe(phases, notes=["first note", "second note", "third note"])
    yield "accuracy_panels", plots.accuracy_panels(depth)
    yield "depth_overlay", plots.depth_overlay(depth)
    yield "tunnel", plots.tunnel(depth)
    yield "two_stages", plots.two_stages(multi)
    yield "seed_bands", plots.seed_bands(multi)
    yield "norm_vs_rank", plots.norm_vs_rank(plots.by_depth(fig5))
    yield "claim_measures", claim_plots.claim_measures(evaluate(paper, [1, 10, 13, 14], robustness=False))
    yield "summary", plots.summary(fig1[2])
    yield "summary_fig5", plots.summary(fig1[2], ("accuracy", "weight_norm", "second_last_rank"), log=False)
    yield "exact_vs_robust", plots.exact_vs_robust(fig1)
    if spectra:
        yield "tolerance_sweep", plots.tolerance_sweep_figure(spectra, detector())
    control = records.seeds_of(paper, 12, 5000, 0.01)  # the interventions' control; their runs: its records renamed
    kinds = ({"norm_clamp": "init"}, {"norm_clamp": 199.8},
             {"rank_penalty": 1.0, "rank_penalty_kind": "nuclear_over_frobenius"},
             {"rank_penalty": 1.0, "rank_penalty_kind": "neg_spectral_entropy"})
    renamed = [records.Run(r.config.replace(**kw), r.history, dict(r.meta)) for kw in kinds for r in control[:2]]
    yield "interventions_figure", intervention_plots.interventions_figure(renamed, control)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_every_figure_fits_the_column_and_reads_at_its_shown_size(paper, phone):
    """Each figure is at most TEXT_WIDTH wide (so the book shows it at 100 %), every text in it is at least 8.5 pt
    (tick labels 8.5-9 pt) and lies inside the figure (no label cut off at the edge), and log step axes start at
    the first rank snapshot, not at step 1; no legend covers a plotted point. The same for the phone rendering
    (grokkit.picture.phone_layout), whose panels also keep their height."""
    from grokkit import plots

    first_rank = min(int(np.asarray(r.history["rank_step"])[1]) for r in paper)
    from grokkit import picture

    for name, fig in _figures(paper):
        assert fig.get_figwidth() <= plots.TEXT_WIDTH + 1e-9, (name, fig.get_figwidth())
        if phone:  # the phone rendering: one panel a row, each panel at least PANEL_HEIGHT tall
            picture.phone_layout(fig)
            assert fig.get_figwidth() == picture.PHONE_WIDTH
            assert all(ax.get_position().height * fig.get_figheight() >= picture.PANEL_HEIGHT - 0.1
                       for ax in picture._panels(fig)), name
        assert picture.legend_covers(fig) == 0, name  # no legend over a plotted point
        fig.canvas.draw()
        texts = [t for t in fig.findobj(plt.Text) if t.get_visible() and t.get_text().strip()]
        assert texts, name
        for t in texts:
            assert t.get_fontsize() >= 8.5, (name, t.get_text(), t.get_fontsize())
        drawn = fig.get_tightbbox(fig.canvas.get_renderer())  # inches: everything drawn, texts included
        w, h = fig.get_size_inches()
        assert drawn.x0 >= -0.02 and drawn.y0 >= -0.02 and drawn.x1 <= w + 0.02 and drawn.y1 <= h + 0.02, (
            name, drawn.bounds, (w, h))
        for ax in fig.axes:
            if ax.get_xscale() == "log" and ax.get_xlabel().startswith("step"):
                assert ax.get_xlim()[0] >= 0.85 * first_rank, (name, ax.get_xlim())
        plt.close(fig)


def test_a_figure_is_a_desktop_and_a_phone_rendering_with_alt_text(paper):
    """grokkit.picture: the desktop PNG at the design width (twice the density), a phone PNG PHONE_WIDTH wide whose
    smallest text reads at 9 px or more in a 360 px phone column, both in one <picture> with the alt text."""
    import base64
    import re

    from grokkit import book, picture, plots, records

    plt.close("all")  # figures another test left open are not this one's to count
    panels = book.with_seeds([records.pick(paper, 12, n) for n in (2000, 5000)])
    fig = plots.rank_acc_probe(panels)
    alt = picture.alt_text(fig, panels, claims=[5])
    assert all(s in alt for s in ("d = 12", "N = 2,000", "γ = 0.01", "(seeds 0, 1", "claim 5", "feature rank"))
    html = picture.picture(fig, alt)
    assert not plt.get_fignums()
    phone, desk = (base64.b64decode(b) for b in re.findall(r"base64,([A-Za-z0-9+/=]+)", html))
    attrs = dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', html))
    assert struct.unpack(">I", desk[16:20])[0] == 2 * int(attrs["data-width"]) == 2 * round(plots.TEXT_WIDTH * 100)
    assert struct.unpack(">I", phone[16:20])[0] == 2 * int(attrs["data-phone-width"]) == 2 * round(
        picture.PHONE_WIDTH * 100)
    assert float(attrs["data-phone-font-px"]) * min(1, 360 / int(attrs["data-phone-width"])) >= 9
    assert float(attrs["data-font-px"]) * 360 / int(attrs["data-width"]) < 9  # why the phone needs its own
    assert attrs["data-legend-covers"] == "0"
    with pytest.raises(ValueError, match="^alt: "):
        picture.picture(plots.accuracy_panels(panels), " ")
    assert not plt.get_fignums()  # closed on the error too


def test_a_legend_over_the_data_is_counted():
    from grokkit import picture

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(np.linspace(0, 1, 50), np.linspace(0, 1, 50), label="a line from corner to corner")
    ax.legend(loc="center")
    assert picture.legend_covers(fig) > 0
    ax.get_legend().remove()
    fig.legend(loc="outside lower center")
    assert picture.legend_covers(fig) == 0
    plt.close(fig)


def test_grade_colours_are_the_badges_and_read_on_white():
    """The claim-measure figure's grade colours are the badges' (book/_static/grokkit.css), each at least 4.5:1
    against white (WCAG's contrast for text)."""
    import re
    from pathlib import Path

    from grokkit.claim_plots import GRADE_COLORS
    from grokkit.claims import GRADES

    css = (Path(__file__).resolve().parent.parent / "book" / "_static" / "grokkit.css").read_text()
    assert set(GRADE_COLORS) == set(GRADES)

    def luminance(hex_colour):
        c = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    for grade, colour in GRADE_COLORS.items():
        css_colour = re.search(rf"\.grokkit-{grade.replace(' ', '-')} {{ background-color: (#[0-9a-f]{{6}}); }}", css)
        assert css_colour and css_colour.group(1) == colour, grade
        assert 1.05 / (luminance(colour) + 0.05) >= 4.5, (grade, colour)


def test_claim_panels_have_integer_ticks_and_name_a_measure_that_never_varies(paper):
    from grokkit import claim_plots
    from grokkit.claims import evaluate

    vs = evaluate(paper, [8, 9, 14], robustness=False)
    fig = claim_plots.claim_measures(vs)
    fig.canvas.draw()
    for ax in fig.axes:
        if "layers" in ax.get_ylabel():
            ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
            assert ticks and all(float(t).is_integer() for t in ticks), (ax.get_title(), ticks)
    (c14,) = [ax for ax in fig.axes if ax.get_title().startswith("claim 14")]
    assert "plateau: 0 steps in all" in c14.get_title()  # the all-zero measure is said, the varying one drawn
    assert len({y for line in c14.get_lines() for y in line.get_ydata()}) > 1
    plt.close(fig)


def test_phase_table_gives_the_papers_phase_and_ours_per_seed(paper):
    from grokkit import book, records, run_tables
    from grokkit.claims import PAPER_PHASES, detector
    from grokkit.events import events

    panels = book.with_seeds([records.pick(paper, 12, 2000, wd) for wd in (0.005, 0.05)])
    rows = run_tables.phase_table(panels).strip().split("\n")[2:]
    assert len(rows) == len(panels)
    for row, panel, wd in zip(rows, panels, (0.005, 0.05)):
        _, config, theirs, ours, _ = row.split("|")
        assert f"γ = {wd}" in config and theirs.strip() == PAPER_PHASES[2000][wd]
        by_seed = dict(x.split(": ") for x in ours.strip().split("; "))
        assert by_seed == {f"seed {records.stands_for(r)['seed']}": events(r, detector()).phase for r in panel}


def test_config_ticks_keep_only_what_differs():
    from grokkit.claim_plots import config_ticks

    ticks, same = config_ticks(["d = 4, N = 5000, γ = 0.01", "d = 12, N = 5000, γ = 0.01"])
    assert ticks == ["d = 4", "d = 12"] and same == "N = 5000, γ = 0.01"
    ticks, same = config_ticks([f"d = {d}, N = {n}, γ = 0.01" for d in (4, 8, 12) for n in (5000, 7000)])
    assert ticks[0] == "d=4\nN=5000" and same == "γ = 0.01"
    ticks, same = config_ticks(["d = 4, N = 5000", "d = 12"])
    assert ticks == ["d = 4\nN = 5000", "d = 12"] and same == ""


def test_each_explorer_varies_the_two_axes_its_chapter_lists(monkeypatch):
    """book.explorer takes the chapter's three explore_* lists: the two with several values become the controls (in
    the order depth, n_train, weight_decay), the third is fixed; three varying lists are refused in one line."""
    from grokkit import book, widgets

    seen = {}

    def fake(rows, cols, make, start, train_missing, render, names):
        seen.update(rows=rows, cols=cols, names=names, config=make(rows[0], cols[-1]))
        return "box"

    monkeypatch.setattr(widgets, "explorer", fake)
    monkeypatch.setattr(book, "display", lambda x: None)
    book.explorer([4, 8, 12], [2000, 7000], [0.01], 100_000, 0, "cpu", False)
    assert seen["names"] == ("depth", "n_train") and seen["rows"] == [4, 8, 12] and seen["cols"] == [2000, 7000]
    c = seen["config"]
    assert (c.depth, c.n_train, c.weight_decay) == (4, 7000, 0.01)
    book.explorer([12], [2000, 5000], [0.005, 0.01, 0.05], 100_000, 0, "cpu", False)
    assert seen["names"] == ("n_train", "weight_decay") and seen["config"].depth == 12
    book.explorer([12], [5000], [0.05], 100_000, 0, "cpu", False)  # a 1 x 1 grid: depth x weight decay
    assert seen["names"] == ("depth", "weight_decay")
    with pytest.raises(ValueError, match="at most two may hold several values") as e:
        book.explorer([4, 12], [2000, 5000], [0.005, 0.05], 100_000, 0, "cpu", False)
    assert "\n" not in str(e.value)


def test_interventions_figure_leaves_a_stand_in_out_beside_a_full_scale_control(paper):
    """An intervention with no record (its smoke-scale stand-ins only) is not drawn beside the full-scale control: its
    300-step curves would sit on the full-scale axes as if they were results. Its row says so and shows the control."""
    from grokkit import intervention_plots, records

    control = records.seeds_of(paper, 12, 5000, 0.01)[:2]
    clamp = [records.Run(r.config.replace(norm_clamp="init"), r.history, dict(r.meta)) for r in control]
    down = control[0].config.replace(rank_penalty=0.03, rank_penalty_kind="nuclear_over_frobenius",
                                     rank_penalty_scale="gradient")
    stand_in = records.Run(control[0].config.replace(width=32, steps=300), control[0].history,
                           {**control[0].meta, "stand_in": True, "stands_for_config": down.identity()})
    fig = intervention_plots.interventions_figure([*clamp, stand_in], control)
    rows = fig.axes[:6]
    assert rows[1].get_title() == "Norm held at its initial value"
    assert rows[4].get_title() == "Rank pushed down (not recorded yet: only the control is drawn)"
    red = matplotlib.colors.to_rgba(intervention_plots.INTERVENED)
    assert any(matplotlib.colors.to_rgba(ln.get_color()) == red for ln in rows[0].get_lines())
    assert not any(matplotlib.colors.to_rgba(ln.get_color()) == red for ax in rows[3:6] for ln in ax.get_lines())
    assert "stand-in" not in fig._suptitle.get_text()
    assert all(s in fig._suptitle.get_text() for s in ("d = 12", "N = 5,000", "γ = 0.01"))  # the control's, as recorded
    plt.close(fig)
    # a seed whose outputs end collapsed (train MSE at the best constant output's, chance accuracy) is named in its row
    h = dict(control[1].history)
    h["train_acc"] = np.where(h["step"] >= 20_000, 0.1, h["train_acc"])
    h["train_loss"] = np.where(h["step"] >= 20_000, 0.09, h["train_loss"])
    gone = records.Run(control[1].config.replace(norm_clamp="init"), h, dict(control[1].meta))
    fig = intervention_plots.interventions_figure([clamp[0], gone], control)
    first = int(h["step"][h["step"] >= 20_000][0])
    title = fig.axes[1].get_title()  # the row names the collapsed seed and the step it collapsed from
    assert "collapsed" in title and "seed 1 " in title and f"step {first:,}" in title and "seed 0" not in title
    plt.close(fig)


def test_on_a_phone_a_rows_title_heads_the_rows_first_panel():
    """A row titled over its middle panel (the interventions' figures) is stacked panel by panel on a phone: its title
    must head the row's first panel, or it would read as the title of the panel after it."""
    from grokkit import picture

    fig, axes = plt.subplots(2, 3)
    for i, name in enumerate(("first intervention", "second intervention")):
        axes[i, 1].set_title(name)
    axes[1, 2].set_xlabel("step")
    picture.phone_layout(fig)
    titles = [ax.get_title() for ax in sorted(fig.axes, key=lambda a: a.get_subplotspec().rowspan.start)]
    assert titles == ["first intervention", "", "", "second intervention", "", ""]
    plt.close(fig)
