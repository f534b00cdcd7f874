"""The book's plumbing: chapter parameters (papermill), `sweep <chapter> --grid`, and chapter_run's stand-ins.

Chapters run in smoke mode (GROKKIT_SMOKE=1: seconds-long stand-ins in a temporary folder, never results/).
The notebooks themselves are checked by `GROKKIT_SMOKE=1 pytest --nbval-lax book/`.
"""
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grokkit.chapters import chapter_run, check_params, execute_chapter, output_name, paper_config, parse_grid

REPO = Path(__file__).resolve().parent.parent
BOOK = REPO / "book"


@pytest.fixture(scope="module")
def smoke_env(tmp_path_factory):
    """GROKKIT_SMOKE=1 for this process and the kernels it starts; stand-ins shared by the module's tests."""
    keep = {k: os.environ.get(k) for k in ("GROKKIT_SMOKE", "GROKKIT_SMOKE_DIR")}
    os.environ["GROKKIT_SMOKE"] = "1"
    os.environ.setdefault("GROKKIT_SMOKE_DIR", str(tmp_path_factory.mktemp("smoke")))
    yield dict(os.environ)
    for k, v in keep.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def execute(tmp_path, **params):
    out = tmp_path / "out.ipynb"
    execute_chapter(BOOK / "depth.ipynb", out, params)  # papermill, in book/, with this interpreter's kernel
    return nbformat.read(out, 4)


def text(nb) -> str:
    return "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/markdown", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


# ---- check_params -------------------------------------------------------------------------------------------
NAMES = ["depth", "n_train", "weight_decay", "train_missing"]
OK = {"depth": [4, 12], "n_train": 5000, "weight_decay": "0.005,0.05", "train_missing": False, "os": os, "_i1": ""}


def test_check_params_normalises():
    got = check_params(OK, NAMES)
    assert got == {"depth": [4, 12], "n_train": [5000], "weight_decay": [0.005, 0.05], "train_missing": False}


@pytest.mark.parametrize("bad, message", [
    ({"n_trian": 2000}, "unknown parameter 'n_trian' (did you mean 'n_train'?)"),
    ({"n_train": 70000}, "parameter n_train=70000: must be integers (one or a list) in 1..60000"),
    ({"depth": [4, 1]}, "parameter depth=[4, 1]: must be integers (one or a list) in 2..64"),
    ({"weight_decay": -0.01}, "parameter weight_decay=-0.01: must be numbers"),
    ({"train_missing": "yes"}, "parameter train_missing='yes': must be True or False"),
])
def test_check_params_rejects(bad, message):
    with pytest.raises(ValueError) as e:
        check_params({**OK, **bad}, NAMES)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_grid_parsing_and_names():
    grid = parse_grid(["depth=4,8,12", "weight_decay=0.005,0.05"])
    assert grid == {"depth": [4, 8, 12], "weight_decay": [0.005, 0.05]}
    assert output_name("depth", {"depth": 4, "weight_decay": 0.005}) == "depth_d4_wd0.005.ipynb"
    with pytest.raises(ValueError, match="expected name=v1,v2"):
        parse_grid(["depth"])


# ---- chapter_run ---------------------------------------------------------------------------------------------
def test_chapter_run_smoke_never_touches_results(smoke_env, tmp_path):
    cfg = paper_config(4, 2000, 0.05)
    run = chapter_run(cfg, results_dir=tmp_path / "results")
    assert run.meta["stand_in"] and run.meta["stands_for"] == cfg.name
    assert run.config.width < cfg.width and run.config.steps < cfg.steps
    assert Path(smoke_env["GROKKIT_SMOKE_DIR"]) in run.path.parents
    assert not (tmp_path / "results").exists()


def test_chapter_run_falls_back_to_a_labelled_stand_in(smoke_env, tmp_path, monkeypatch):
    monkeypatch.delenv("GROKKIT_SMOKE")
    run = chapter_run(paper_config(4, 2000, 0.05), results_dir=tmp_path)  # no full-scale record there
    assert run.meta["stand_in"] is True
    assert list(tmp_path.iterdir()) == []


# ---- chapters under papermill --------------------------------------------------------------------------------
def test_bad_parameter_fails_clearly(smoke_env, tmp_path):
    """A value out of range stops the chapter with the one-line error of check_params (every message is checked in
    test_check_params_rejects; a misspelt name, through papermill too, in test_sweep_chapter_bad_parameter_...)."""
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError) as e:
        execute(tmp_path, n_train=70000)
    message = "ValueError: parameter n_train=70000: must be integers (one or a list) in 1..60000"
    assert f"{e.value.ename}: {e.value.evalue}".startswith(message)


def test_sweep_chapter_writes_templated_files(smoke_env, tmp_path):
    """`sweep depth` executes the chapter (papermill) once per grid point with the grid's and --param's values, and
    skips what exists on a rerun. Each executed chapter is also the check of a chapter run with custom parameters."""
    cmd = [sys.executable, "-m", "grokkit", "sweep", "depth", "--grid", "depth=4,12", "weight_decay=0.05",
           "--param", "n_train=2000", "explore_depth=12", "explore_weight_decay=0.05", "--out", str(tmp_path / "runs"),
           "--quiet"]
    p = subprocess.run(cmd, cwd=REPO, env=smoke_env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    files = sorted(f.name for f in (tmp_path / "runs").iterdir())
    assert files == ["depth_d12_wd0.05.ipynb", "depth_d12_wd0.05_static", "depth_d4_wd0.05.ipynb",
                     "depth_d4_wd0.05_static"]  # each point's figure CSVs beside it, not in the book's _static
    assert (tmp_path / "runs" / "depth_d4_wd0.05_static" / "data" / "depth-accuracy.csv").exists()
    assert "d = 4, N = 2000, γ = 0.05, seed 0" in text(nbformat.read(tmp_path / "runs" / "depth_d4_wd0.05.ipynb", 4))
    nb = nbformat.read(tmp_path / "runs" / "depth_d12_wd0.05.ipynb", 4)
    out = text(nb)
    assert "depth = 12; n_train = 2000; weight_decay = 0.05;" in out  # the validated parameters, for a reader
    assert "d = 12, N = 2000, γ = 0.05, seed 0" in out                # the config the chapter asked for
    assert "smoke-scale stand-in" in out
    assert any(c.metadata.get("tags") == ["injected-parameters"] for c in nb.cells)
    widgets = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    assert any(s["model_name"] == "StackModel" for s in widgets.values())  # the explorer's pre-rendered figures
    again = subprocess.run(cmd, cwd=REPO, env=smoke_env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stdout.count("exists with these parameters, skipped") == 2, \
        again.stdout + again.stderr
    assert "0 written, 2 already there, 0 failed" in again.stdout
    before = {f: (tmp_path / "runs" / f).read_bytes() for f in files if f.endswith(".ipynb")}
    other = [a if a != "n_train=2000" else "n_train=5000" for a in cmd]  # another --param: not the same notebooks
    third = subprocess.run(other, cwd=REPO, env=smoke_env, capture_output=True, text=True, timeout=300)
    assert third.returncode == 1 and third.stdout.count("n_train = 2000 there, 5000 asked") == 2, third.stdout
    assert {f: (tmp_path / "runs" / f).read_bytes() for f in before} == before  # neither replaced nor counted done


def test_sweep_chapter_bad_parameter_exits_nonzero(smoke_env, tmp_path):
    cmd = [sys.executable, "-m", "grokkit", "sweep", "depth", "--grid", "n_trian=2000", "--out", str(tmp_path)]
    p = subprocess.run(cmd, cwd=REPO, env=smoke_env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1
    assert "ValueError: unknown parameter 'n_trian' (did you mean 'n_train'?)" in p.stdout + p.stderr
    assert (tmp_path / "depth_n_trian2000.failed.ipynb").exists()


# ---- one repository address, one version: _config.yml, the chapters' Colab cell, CITATION.cff, README, intro ------
def _config():
    import yaml

    return yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))


def _github_urls(text: str) -> set[str]:
    import re

    return {u.removesuffix(".git") for u in re.findall(r"https?://github\.com/[\w.-]+/[\w.-]+", text)}


def _source(path: Path) -> str:
    """A document's text as a reader's source: a notebook's cell sources, joined; any other file as it is."""
    if path.suffix == ".ipynb":
        return "\n\n".join(c.source for c in nbformat.read(path, 4).cells)
    return path.read_text(encoding="utf-8")


def _chapters() -> list[Path]:
    import yaml

    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    return [REPO / f"{c['file']}.ipynb" for c in toc["chapters"] if (REPO / f"{c['file']}.ipynb").exists()]


def test_one_repository_address():
    """The Colab and repository buttons read _config.yml's repository.url; everything else that names the
    repository must name the same address."""
    url = _config()["repository"]["url"]
    assert url.startswith("https://github.com/")
    assert _config()["launch_buttons"]["colab_url"] and _config()["html"]["use_repository_button"]
    chapters = _chapters()
    assert len(chapters) >= 5
    for nb_path in chapters:
        first = next(c for c in nbformat.read(nb_path, 4).cells if c.cell_type == "code")
        assert "git clone" in first.source, f"{nb_path.name}: the first code cell no longer fetches grokkit on Colab"
        assert _github_urls(first.source) == {url}, f"{nb_path.name}: first cell clones {_github_urls(first.source)}"
    for doc in ("README.md", "book/intro.ipynb", "CITATION.cff"):
        name = url.rsplit("/", 1)[-1]  # links to other projects (submitit, ...) are not addresses of this one
        found = {u for u in _github_urls(_source(REPO / doc)) if u.rsplit("/", 1)[-1] == name}
        assert found <= {url}, f"{doc} names {found - {url}}, not _config.yml's {url}"


def test_book_extensions_are_jupyter_books_defaults_without_thebe():
    """_config.yml lists Jupyter Book's default Sphinx extensions less sphinx_thebe, which nothing uses: Sphinx 7.4
    wrote its inline `const THEBE_JS_URL` script twice into every page, a SyntaxError in the browser. An upgrade of
    Jupyter Book that changes its defaults fails here. Then grokkit.site (the footer's links and year)."""
    from jupyter_book.config import get_default_sphinx_config

    want = [e for e in get_default_sphinx_config()["extensions"] if e != "sphinx_thebe"] + ["grokkit.site"]
    assert _config()["sphinx"]["config"]["extensions"] == want


def test_citation_cff_agrees_with_the_project():
    import tomllib
    import yaml

    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    url = _config()["repository"]["url"]
    assert cff["cff-version"] == "1.2.0" and cff["message"] and cff["title"] and cff["authors"]
    assert str(cff["version"]) == project["version"]
    assert cff["repository-code"] == cff["url"] == url
    paper = next(r for r in cff["references"] if r["doi"] == "10.48550/arXiv.2405.19454")
    assert [a["family-names"] for a in paper["authors"]] == ["Fan", "Pascanu", "Jaggi"]
    intro = _source(REPO / "book" / "intro.ipynb")
    how = intro[intro.index("## How to cite"):]
    assert "eprint        = {2405.19454}" in how
    assert "site.citation()" in how  # this reproduction's entry is written at build time (grokkit.site)
    from grokkit import site

    bib = site.citation_bibtex()
    assert f"version = {{{project['version']}}}" in bib and f"url     = {{{url}}}" in bib


# ---- the paper's figures: captions and links ---------------------------------------------------------------------
def test_paper_figures_quote_and_link():
    import re

    from grokkit.paper import FIGURES, paper_figure, paper_figure_md

    assert sorted(FIGURES) == list(range(1, 8))
    for n, f in FIGURES.items():
        assert re.fullmatch(rf"https://arxiv\.org/html/2405\.19454v1#S[1-9]\.F{n}", f.url)
        assert f.title.endswith(".") and len(f.caption) > 60
    assert "lower than 300 as a tunnel" in paper_figure(3).caption and "tunnel_length=6layer" in paper_figure(3).caption
    assert "second-last layer" in paper_figure(5).caption
    md = paper_figure_md(2, "a–c")
    assert md.startswith("> **The paper's Figure 2 (a–c)**") and f"]({FIGURES[2].url})" in md
    assert "|Dᵗʳᵃⁱⁿ|=5000" in md and "$" not in md  # plain text: no page needs MathJax (a CDN script)
    with pytest.raises(ValueError, match="figure: the paper has Figures 1-7, got 8"):
        paper_figure(8)


# ---- the reader's book: data under every figure, "What we found", same or different -----------------------------
CHAPTER_CLAIMS = {"grokking_rank": [5, 6, 7, 8], "depth": [1, 2, 9], "multistage": [3, 4, 7, 11, 12, 13],
                  "weight_norm": [10, 14], "scoreboard": list(range(1, 16))}


@pytest.fixture
def shown(monkeypatch, tmp_path):
    """grokkit.book with display() captured and the CSVs written under tmp_path/_static (as the build does)."""
    from grokkit import book

    out = []
    monkeypatch.setattr(book, "display", out.append)
    monkeypatch.setenv("GROKKIT_BOOK_STATIC", str(tmp_path / "_static"))
    return book, out, tmp_path / "_static" / "data"


def _csv(path):
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _matches_runs(rows, runs, quantities):
    """The CSV holds exactly the runs' values of `quantities`: its run names, and per run and quantity one row per
    logged step (and layer)."""
    import numpy as np

    from grokkit.events import run_label
    from grokkit.export import STAND_IN_LABEL

    names = {run_label(r) + (STAND_IN_LABEL if r.meta.get("stand_in") else ""): r for r in runs}
    assert {r["label"] for r in rows} == set(names)
    assert {r["quantity"] for r in rows} == {q for r in runs for q in quantities if q in r.history}
    for name, run in names.items():
        for q in quantities:
            got = [float(r["value"]) for r in rows if r["label"] == name and r["quantity"] == q]
            want = np.asarray(run.history[q], dtype=float).ravel()
            assert np.allclose(got, want, equal_nan=True), (name, q)


def test_every_show_path_writes_the_figure_data(shown):
    """book.show (a figure of runs, with the paper's caption and the same-or-different line), book.show_phases
    (Figs 6-7, then the phase table) and book.show_measures (the scoreboard's figure drawn from verdicts): each
    writes the CSV of what it draws and displays its download link."""
    import matplotlib.pyplot as plt

    from grokkit import claim_plots, export, plots, records
    from grokkit.claims import PAPER_PHASES, evaluate

    book, out, data = shown
    paper = book.paper_records()
    panels = book.with_seeds([records.pick(paper, d, 5000) for d in (4, 8)])
    book.show(plots.accuracy_panels(panels), panels, "t-accuracy", book.ACCURACY, paper_figure=(2, "a–c"), claims=[1])
    _matches_runs(_csv(data / "t-accuracy.csv"), book.flat(panels), book.ACCURACY)
    kinds = [type(o).__name__ for o in out]
    assert kinds == ["Markdown", "HTML", "Download", "HTML"], kinds
    assert out[1].data.startswith('<picture class="grokkit-figure">') and 'alt="Train (blue)' in out[1].data
    assert "The paper's Figure 2 (a–c)" in out[0].data and out[2].href == "../_static/data/t-accuracy.csv"
    assert "claim-1" in out[3].data

    out.clear()
    row = [records.pick(paper, 12, 2000, wd) for wd in (0.005, 0.05)]
    book.show_phases(row, "t-phases")
    _matches_runs(_csv(data / "t-phases-n2000.csv"), book.flat(book.with_seeds(row)), book.FIG1)
    assert "The paper's Figure 6" in out[0].data and "claim-11" in out[-2].data and "claim-13" in out[-2].data
    assert PAPER_PHASES[2000][0.005] in out[-1].data  # then the phase table: the paper's phase beside ours

    out.clear()
    vs = evaluate(paper, [1, 9], robustness=False)
    book.show_measures(claim_plots.claim_measures(vs), vs, "t-measures")
    rows = _csv(data / "t-measures.csv")
    assert list(rows[0]) == list(export.MEASURE_COLUMNS)
    want = [(v.claim, m, lab, val) for v in vs for m, d in v.measures.items() for lab, val in d["values"].items()]
    assert [(int(r["claim"]), r["measure"], r["label"], float(r["value"])) for r in rows] == want
    assert out[-1].n_rows == len(want) and "2 claims" in out[-1]._repr_html_()
    assert "claim 1 (" in out[-2].data and "claim 9 (" in out[-2].data  # the measures' alt text, per claim
    assert not plt.get_fignums()  # every figure closed


def _stand_in(rec):
    """A smoke-scale stand-in for the record `rec` (its history, a smaller config, the stand-in meta)."""
    from grokkit.records import Run

    return Run(config=rec.config.replace(width=32, n_train=400), history=rec.history,
               meta=dict(rec.meta, stand_in=True, stands_for=rec.config.name, stands_for_config=rec.config.identity()))


def test_show_works_on_stand_ins(shown):
    """In smoke mode a chapter's runs are stand-ins (their own, smaller config): their figure data is written too,
    each row labelled as a stand-in."""
    from grokkit import plots
    from grokkit.records import list_records, load

    book, out, data = shown
    rec = load(next(p for p in list_records(REPO / "results") if p.name.startswith("d4_w400_n5000_a8_wd0.05_s0-")))
    stand = _stand_in(rec)
    book.show(plots.tunnel(book.with_seeds([stand])), book.with_seeds([stand]), "t-stand-in", book.TUNNEL)
    rows = _csv(data / "t-stand-in.csv")
    _matches_runs(rows, [stand], book.TUNNEL)
    assert all(r["label"].endswith("(smoke-scale stand-in)") and r["n_train"] == "400" for r in rows)
    assert out[-1].n_runs == 1


def test_explorer_draws_every_recorded_seed(monkeypatch):
    """The explorer's figure of a shipped configuration draws all its recorded seeds (thin lines, median in bold);
    a stand-in stays alone."""
    import matplotlib.pyplot as plt

    from grokkit import book, plots, records, widgets

    paper = book.paper_records()
    rec = records.pick(paper, 12, 5000, 0.01)
    n_seeds = len(records.seeds_of(paper, 12, 5000, 0.01, "float32"))
    assert n_seeds >= 2
    drawn = []

    def render(panel):
        drawn.append(plots.seeds(panel))
        return plots.summary(panel)

    stand = _stand_in(rec)
    for run, want in ((rec, n_seeds), (stand, 1)):
        drawn.clear()
        monkeypatch.setattr(widgets, "chapter_run", lambda config, train_missing=False, run=run: run)
        box = widgets.explorer([12], [0.01], lambda d, w: rec.config, render=render)
        assert [len(p) for p in drawn] == [want]
        html = box.children[2].children[0].children[0].value  # the pre-rendered figure: alt text names the seeds
        assert 'class="widget-image"' in html and "d = 12, N = 5,000, γ = 0.01 (seed" in html
    fig = plots.summary(book.with_seeds([rec])[0])
    assert fig._suptitle.get_text() == f"d = 12, N = 5000, γ = 0.01, {n_seeds} seeds"
    acc = fig.axes[0]
    assert len(acc.lines) >= 2 * (n_seeds + 1)  # train and test: every seed and their median
    plt.close(fig)


def _verdict(n, grade, robust=True):
    from grokkit.claims import Part, Verdict

    k = {"reproduced": 2, "partly reproduced": 1, "not reproduced": 0, "inconclusive": 0}[grade]
    parts = [] if grade == "inconclusive" else [Part("the delay grows with depth", k, 2)]
    return Verdict(n, f"Title {n}", "paper", "Fig 2", grade, "rule", parts, [], robust=robust)


def test_what_we_found_box_lists_the_chapter_claims_with_grades_and_links():
    import re

    from grokkit import report
    from grokkit.claims import GRADES

    # each chapter's box names its claims, and nothing but claim numbers: every fact comes from the verdicts
    for name, want in CHAPTER_CLAIMS.items():
        if name == "scoreboard":  # its own claims table lists every claim with its badge; no box above it
            continue
        nb = nbformat.read(BOOK / f"{name}.ipynb", 4).cells
        cells = [c for c in nb if "book.found(" in c.source]
        assert len(cells) == 1, name
        call = re.search(r"book\.found\((.*)\)", cells[0].source).group(1)
        assert list(eval(call)) == want, name  # a literal list or range in our own chapter
        assert "remove-input" in cells[0].metadata.get("tags", []), name
        assert nb.index(cells[0]) <= 2, f"{name}: the box must open the chapter (after the Colab cell)"
    vs = [_verdict(1, "reproduced"), _verdict(2, "partly reproduced", robust=False), _verdict(3, "not reproduced"),
          _verdict(4, "inconclusive")]
    box = report.found_html(vs)
    assert box.startswith('<div class="grokkit-found">')
    rows = box.split("<tbody>")[1].split("<tr>")[1:]
    assert len(rows) == 4
    css = (BOOK / "_static" / "grokkit.css").read_text(encoding="utf-8")
    for v, row in zip(vs, rows):
        cls = re.search(r'class="grokkit-badge ([^"]+)"', row).group(1).split()
        assert cls == ["grokkit-" + v.grade.replace(" ", "-")] and v.grade in GRADES  # the robust column says fragile
        assert f".{cls[0]} {{" in css  # a colour for every grade
        assert f'href="scoreboard.html#claim-{v.claim}">{v.claim}. Title {v.claim}</a>' in row
        k = {"reproduced": 2, "partly reproduced": 1, "not reproduced": 0}.get(v.grade)
        # each part with its count; an inconclusive claim here has none
        assert (f"the delay grows with depth: <b>{k} of 2 seeds</b>" in row) is (k is not None)
    assert ">fragile</span>" in rows[1] and "</td><td>robust</td>" in rows[0]
    # the scoreboard's rows carry the anchors the boxes link to, and the same facts: grade, robust, each part's count
    table = report.scoreboard(vs, html=True)
    assert all(f'<span id="claim-{v.claim}"></span>{v.claim}.' in table for v in vs)
    assert "the delay grows with depth: <b>1 of 2 seeds</b>" in table and "Rule:" not in table
    md = report.scoreboard(vs)
    assert "<span" not in md  # the CLI's Markdown stays plain
    assert "| **partly reproduced** | fragile | the delay grows with depth: 1 of 2 seeds |" in md
    # layers: each row links its collapsed details, which hold the rule, the parts table and the robustness
    assert all(f'href="#claim-{v.claim}-detail"' in table for v in vs)
    details = report.claim_details_html(vs)
    assert details.count("<details") == len(vs) and all(f'id="claim-{v.claim}-detail"' in details for v in vs)
    assert all(f"<b>Rule:</b> {v.rule}." in details for v in vs)
    assert details.count('<table class="grokkit-parts-table">') == len(vs)
    # a badge explains its grade, and its fragility, on hover
    assert 'title="partly reproduced: some parts' in box and 'title="fragile: the grade changes' in rows[1]


def test_a_claims_facts_table_by_table():
    """A chapter's Verdict (report.verdict_layers_html): the rule, one row per part with its count, its measured
    values (✗ on a seed it fails on) and its status; the thresholds that change the grade, with where."""
    from grokkit import report
    from grokkit.claims import Item, Part, Verdict

    items = (Item("d = 12, N = 7000, γ = 0.01, seed 0", "shoulder duration", 8671, "steps", True),
             Item("d = 12, N = 7000, γ = 0.01, seed 1", "shoulder duration", None, "steps", False),
             Item("d = 12, N = 7000, γ = 0.01, seed 2", "shoulder duration", None, "steps", None))  # not judged
    parts = [Part("two surges", 1, 2, items), Part("the base", 2, 2, baseline=True),
             Part("the norm is silent", 0, 0, per="runs", by_construction=6), Part("untested", 0, 0)]
    grid = [(0.01, "partly reproduced"), (0.02, "partly reproduced"), (0.03, "not reproduced")]
    v = Verdict(3, "Title 3", "paper", "Fig 2", "partly reproduced", "the rule", parts, [], robust=False,
                flips=[("how flat", "accuracy", grid)], sweeps=[("shoulder_band", "how flat", "accuracy", grid)])
    html = report.verdict_layers_html(v)
    rows = html.split('<table class="grokkit-parts-table">')[1].split("</table>")[0].split("<tr>")[2:]
    assert "<b>Rule:</b> the rule." in html and len(rows) == 4
    assert "<td>1 of 2 seeds</td>" in rows[0] and "8,671 · – <span" in rows[0] and "(seeds 0, 1)" in rows[0]
    assert rows[0].count("✗") == 1 and rows[0].endswith("<td>held on some</td></tr>")
    assert "<td>baseline</td>" in rows[1] and "by construction on 6 runs" in rows[2]
    assert "by construction, not counted" in rows[2] and "<td>–</td>" in rows[3] and "not tested" in rows[3]
    flips = html.split('<table class="grokkit-robustness">')[1]
    assert "<td>0.03</td><td>not reproduced</td>" in flips and "default 0.02, range 0.01 to 0.03" in flips
    assert report.grade_flips(v) == [("shoulder_band", "0.03", "not reproduced")]
    robust = Verdict(1, "T", "p", "f", "reproduced", "r", [Part("a", 1, 1, per="")], [],
                     sweeps=[("fit_acc", "w", "accuracy", [(0.97, "reproduced")])])
    assert "robust: no threshold changes the grade" in report.robustness_table_html(robust)
    assert report.part_count(robust.parts[0]) == "1 of 1 comparison of medians"


def test_same_or_different_line():
    from grokkit import report

    line = report.same_or_different([_verdict(1, "reproduced"), _verdict(11, "partly reproduced")])
    assert line.startswith('<p class="grokkit-compare"><strong>Same as the paper:</strong> Title 1 (')
    assert 'claim-1">claim 1</a>: reproduced)' in line
    assert '<strong>Different from the paper:</strong> Title 11 (<a href="scoreboard.html#claim-11">claim 11</a>: ' \
           "partly reproduced)." in line
    assert "<strong>Not decided:</strong> Title 4 (" in report.same_or_different([_verdict(4, "inconclusive")])
    assert report.same_or_different([]) == ""


def test_chapters_type_no_number_into_the_computed_sentences():
    """The boxes and the same-or-different lines are computed: a chapter passes claim numbers, figure numbers and
    slugs, and writes no sentence of its own with them."""
    import re

    phrases = ("What we found", "Same as the paper", "Different from the paper")
    for name in CHAPTER_CLAIMS:
        for c in nbformat.read(BOOK / f"{name}.ipynb", 4).cells:
            if c.cell_type == "markdown":
                assert not any(p in c.source for p in phrases), f"{name}: typed verdict words {c.source[:80]!r}"
            for call in re.findall(r"claims=\[([^\]]*)\]", c.source):
                assert re.fullmatch(r"[\d, ]+", call), f"{name}: claims=[{call}]"
            assert "same_or_different(" not in c.source and "found_html(" not in c.source, name


def test_parameter_line_reads_for_a_person():
    from grokkit.book import params_line

    line = params_line({"depth": [4, 12], "steps": 100_000, "train_missing": False, "device": "auto",
                        "weight_decay": [0.005, 0.01]}, ["depth", "steps", "train_missing", "device", "weight_decay"])
    assert line == ("Parameters: depth = 4, 12; steps = 100,000; train_missing = no; device = auto; "
                    "weight_decay = 0.005, 0.01")
    for name in CHAPTER_CLAIMS:  # the stored output nbval compares against reads the same way
        text = "".join(o.get("text", "") for c in nbformat.read(BOOK / f"{name}.ipynb", 4).cells
                       if "params_line" in c.source for o in c.outputs)
        assert text.startswith("Parameters: ") and not any(w in text for w in ("True", "False", "[", "'")), name


def test_figure_slugs_are_unique_in_the_book():
    import re

    slugs = [s for name in CHAPTER_CLAIMS for c in nbformat.read(BOOK / f"{name}.ipynb", 4).cells
             for s in re.findall(r'book\.(?:show\w*|tunnel|seed_bands|phases)\(.*?,\s*f?"([\w{}.\[\]-]+)"', c.source,
                                 re.S)]
    assert len(slugs) >= 12 and len(slugs) == len(set(slugs)), slugs


def test_robustness_explorer_shows_every_swept_grade_without_a_kernel():
    """Pick a threshold, slide its value: the precomputed table at each value holds each claim's grade there (from
    Verdict.sweeps); the switching is done by jslinks, so the static page needs no kernel."""
    from grokkit.claims import Verdict
    from grokkit.widgets import robustness_explorer

    v1 = Verdict(1, "One", "p", "f", "reproduced", "r", [], [], robust=False,
                 sweeps=[("rise_min", "w", "accuracy", [(0.03, "partly reproduced"), (0.05, "reproduced")]),
                         ("rank definition", "rank definition", "", [("paper-exact (machine precision)", "reproduced"),
                                                                     ("effective rank", "not reproduced")])])
    v2 = Verdict(2, "Two", "p", "f", "partly reproduced", "r", [], [],
                 sweeps=[("rise_min", "w", "accuracy", [(0.03, "partly reproduced"), (0.05, "partly reproduced")])])
    box = robustness_explorer([v1, v2])
    pick, outer = box.children
    assert [o[0] for o in pick.options] == ["smallest test-accuracy rise, surge or post-fit gain",
                                            "the rank definition"]
    rise, rank = outer.children
    slider, stack = rise.children[1], rise.children[2]
    assert list(slider.options) == ["0.03", "0.05"] and slider.index == 1  # starts at the default
    assert "partly reproduced" in stack.children[0].value and "changed (default: reproduced)" in stack.children[0].value
    assert "does not read it" in rank.children[2].children[1].value  # claim 2 reads no rank
    assert "not reproduced" in rank.children[2].children[1].value
    linked = {(ln.source[0].model_id, ln.target[0].model_id) for ln in box.links}
    assert (pick.model_id, outer.model_id) in linked and (slider.model_id, stack.model_id) in linked


def test_stack_table_html_labels_each_cell_with_its_column_and_escapes_text():
    from grokkit import run_tables

    html = run_tables.stack_table_html("| run | λ | reading |\n|---|---|---|\n| **d = 12** | 0.03 | a < b |\n")
    assert html.startswith('<table class="grokkit-stack"><thead><tr><th>run</th><th>λ</th><th>reading</th>')
    assert ('<td data-label="run"><strong>d = 12</strong></td><td data-label="λ">0.03</td>'
            '<td data-label="reading">a &lt; b</td>') in html
    with pytest.raises(ValueError, match="markdown: not a pipe-table"):
        run_tables.stack_table_html("no table here")

def test_one_repository_address_and_the_build_year(monkeypatch, tmp_path):
    """The repository address is written once, as _config.yml's repository.url: the footer, the citation and
    CITATION.cff use it and nothing else in _config.yml repeats it; the citation's and the footer's year is the
    build's (SOURCE_DATE_EPOCH when set)."""
    import yaml

    from grokkit import site

    url = _config()["repository"]["url"].rstrip("/")
    assert site.repository_url() == url
    assert (REPO / "_config.yml").read_text(encoding="utf-8").count(url) == 1
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["repository-code"] == cff["url"] == url
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1798761600")  # 2027-01-01 UTC
    assert site.build_year() == 2027
    assert "year    = {2027}" in site.citation_bibtex() and f"url     = {{{url}}}" in site.citation_bibtex()
    assert f'href="{url}/blob/main/LICENSE"' in site.footer(url)
    (tmp_path / "c.yml").write_text("repository: {branch: main}\n")
    with pytest.raises(ValueError, match="^repository.url: "):
        site.repository_url(tmp_path / "c.yml")
    assert "grokkit.site" in _config()["sphinx"]["config"]["extensions"]
    sphinx_config = type("Config", (), {"html_theme_options": {"repository_url": url + "/"}, "copyright": "2023"})()
    site._configure(None, sphinx_config)  # what the extension does when Sphinx has read the configuration
    assert sphinx_config.copyright == "2027" and sphinx_config.html_theme_options["extra_footer"] == site.footer(url)

def test_a_collapsed_seed_is_found_with_its_configurations_medians():
    """run_tables.collapses: a full-scale paper seed that sits at a constant predictor, its stretch, and the median
    start of the test climb over its configuration's seeds with and without it; nothing where no seed collapses."""
    from statistics import median

    from grokkit import book, records, run_tables
    from grokkit.claims import detector
    from grokkit.events import events

    paper = book.paper_records()
    assert run_tables.collapses(records.seeds_of(paper, 12, 2000, 0.01)) == []
    seeds = records.seeds_of(paper, 12, 7000, 0.01, "float32")
    evs = [events(r, detector()) for r in seeds]
    stuck = [e for e in evs if e.stuck_steps]
    assert len(stuck) == 1
    (c,) = run_tables.collapses(seeds)
    assert (c.label, c.start_step, c.steps, c.seeds) == (stuck[0].label, stuck[0].stuck_start_step,
                                                          stuck[0].stuck_steps, len(seeds))
    assert c.median_with == median(e.climb_onset_step for e in evs)
    assert c.median_without == median(e.climb_onset_step for e in evs if e is not stuck[0])
    labels = [x.label for x in run_tables.collapses(paper)]
    assert c.label in labels and not set(labels) & {events(r, detector()).label for r in paper
                                                    if records.intervened(r)}  # the interventions' are their chapter's


def test_run_times_come_from_the_records_and_a_gpu_is_unmeasured_until_one_trains():
    from grokkit import book, records, timing
    from grokkit.sweep import paper_grid

    grid = paper_grid()
    shipped = [r for r in book.paper_records() if r.config.id in {c.id for c in grid} and r.config.dtype == "float32"]
    d12 = [r for r in shipped if r.config.depth == 12][:3]
    runs = [records.Run(r.config, r.history, {**r.meta, "wall_time_s": 60.0 * m, "device": "cpu"})
            for r, m in zip(d12, (30, 90, 60))]
    t = timing.run_times(runs, grid)
    assert t["depths"] == {12: (60.0, 30.0, 90.0, 3)} and t["grid"] == (3.0, 3, len(grid))
    md = timing.times_md(runs, grid)
    assert "| one full-scale run, d = 12 (10⁵ steps) | 60 min (median of 3 records; 30–90 min) |" in md
    assert "not measured: no record was trained on a GPU yet" in md
    runs[0].meta["device"] = "cuda"
    assert "not measured" not in timing.times_md(runs, grid)
    assert "No full-scale record" in timing.times_md([], grid)

def test_slider_stops_read_as_numbers_a_person_would_write():
    from grokkit.widgets import stop_labels

    assert stop_labels([0.9762, 0.95, 1000.0, "paper-exact"]) == ["0.976", "0.95", "1,000", "paper-exact"]
    assert stop_labels([0.9762, 0.9763]) == ["0.9762", "0.9763"]  # as many digits as keep them apart
