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

from grokkit.sweep import chapter_run, check_params, execute_chapter, output_name, paper_config, parse_grid

REPO = Path(__file__).resolve().parent.parent
BOOK = REPO / "book"
# one chapter, the smallest grid: a single run (d=12, N=5000, γ=0.05) and a 1x1 explorer
SMALL = {"depth": 12, "weight_decay": 0.05, "explore_depth": 12, "explore_weight_decay": 0.05}


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
def test_chapter_runs_with_custom_parameters(smoke_env, tmp_path):
    nb = execute(tmp_path, n_train=2000, **SMALL)
    out = text(nb)
    assert "depth=[12], n_train=[2000], weight_decay=[0.05]" in out  # the validated parameters
    assert "d12_w400_n2000_a8_wd0.05_s0" in out                      # the config the chapter asked for
    assert "smoke-scale stand-in" in out
    assert any(c.metadata.get("tags") == ["injected-parameters"] for c in nb.cells)
    widgets = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    assert any(s["model_name"] == "StackModel" for s in widgets.values())  # the explorer's pre-rendered figures


@pytest.mark.parametrize("params, message", [
    ({"n_trian": 2000}, "ValueError: unknown parameter 'n_trian' (did you mean 'n_train'?)"),
    ({"n_train": 70000}, "ValueError: parameter n_train=70000: must be integers (one or a list) in 1..60000"),
])
def test_bad_parameter_fails_clearly(smoke_env, tmp_path, params, message):
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError) as e:
        execute(tmp_path, **params)
    assert f"{e.value.ename}: {e.value.evalue}".startswith(message)


def test_sweep_chapter_writes_templated_files(smoke_env, tmp_path):
    cmd = [sys.executable, "-m", "grokkit", "sweep", "depth", "--grid", "depth=4,12", "weight_decay=0.05",
           "--param", "explore_depth=12", "explore_weight_decay=0.05", "--out", str(tmp_path / "runs"), "--quiet"]
    p = subprocess.run(cmd, cwd=REPO, env=smoke_env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    files = sorted(f.name for f in (tmp_path / "runs").iterdir())
    assert files == ["depth_d12_wd0.05.ipynb", "depth_d4_wd0.05.ipynb"]
    nb = nbformat.read(tmp_path / "runs" / "depth_d4_wd0.05.ipynb", 4)
    assert "d4_w400_n5000_a8_wd0.05_s0" in text(nb)
    again = subprocess.run(cmd, cwd=REPO, env=smoke_env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stdout.count("exists, skipped") == 2, again.stdout + again.stderr


def test_sweep_chapter_bad_parameter_exits_nonzero(smoke_env, tmp_path):
    cmd = [sys.executable, "-m", "grokkit", "sweep", "depth", "--grid", "n_trian=2000", "--out", str(tmp_path)]
    p = subprocess.run(cmd, cwd=REPO, env=smoke_env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1
    assert "unknown parameter 'n_trian'" in p.stdout + p.stderr
    assert (tmp_path / "depth_n_trian2000.failed.ipynb").exists()


# ---- one repository address, one version: _config.yml, the chapters' Colab cell, CITATION.cff, README, intro ------
def _config():
    import yaml

    return yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))


def _github_urls(text: str) -> set[str]:
    import re

    return {u.removesuffix(".git") for u in re.findall(r"https?://github\.com/[\w.-]+/[\w.-]+", text)}


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
    for doc in ("README.md", "book/intro.md", "CITATION.cff"):
        found = _github_urls((REPO / doc).read_text(encoding="utf-8"))
        assert found <= {url}, f"{doc} names {found - {url}}, not _config.yml's {url}"


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
    intro = (REPO / "book" / "intro.md").read_text(encoding="utf-8")
    how = intro[intro.index("## How to cite"):]
    assert "eprint        = {2405.19454}" in how
    assert f"version = {{{project['version']}}}" in how and f"url     = {{{url}}}" in how


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
