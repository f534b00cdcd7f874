"""The package's shape (issue 43): grokkit's modules import one way, along the data flow
config -> records -> data/model -> train -> events -> claims -> runs and analyses -> report/plots -> chapters,
counting the imports inside functions too (an import moved into a function is still an import)."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "grokkit"

# Every module of grokkit, in the order it may be imported: a module imports only modules before it.
ORDER = (
    "__init__",
    "texts",                                          # the words of the tables, from the package's .toml files
    "config", "fmt", "paper", "rank",                 # settings, number formats, the paper's text, the rank
    "folders",                                        # shared folders: may this user write there?
    "records",                                        # run records on disk
    "data", "model", "metrics", "scale", "surgery",   # MNIST, the MLP, what is measured, the interventions' surgery
    "penalties", "train", "batched",                  # the interventions' steps; training, one run or a batch
    "events", "grades", "claims", "twins", "indicators",  # what the records show: events, grading, the claims
    "export",                                         # the records as tables
    "sweep", "chapters", "bench", "gpu_check",        # grids of runs, the chapters' runs and parameters, benchmarks
    "timing",                                         # measured times, from the records' meta
    "interventions", "pilots", "round_two",           # beyond the paper: the interventions, measured and graded
    "intervention_tables",                            # ... and the interventions chapter's tables
    "run_tables", "report", "plots", "claim_plots", "climb_plots", "intervention_plots",  # tables and figures
    "picture",                                        # a figure as the page shows it: desktop and phone renderings
    "widgets", "book", "site",                        # the chapters' helpers; the book's Sphinx extension
    "__main__",                                       # the command line
)


def imports(path: Path) -> set[str]:
    """The grokkit modules `path` imports, at module level or inside a function (relative or absolute)."""
    names = {p.stem for p in PACKAGE.glob("*.py")}
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.level == 1 or (node.module or "").startswith("grokkit")):
            module = (node.module or "").removeprefix("grokkit").lstrip(".").split(".")[0]
            out |= {module} if module else {a.name for a in node.names if a.name in names}
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("grokkit.")}
    return out & names - {path.stem}


def test_every_module_has_its_place():
    assert sorted(ORDER) == sorted(p.stem for p in PACKAGE.glob("*.py")), "add a new module to ORDER, where it belongs"


def test_modules_import_one_way():
    rank = {m: i for i, m in enumerate(ORDER)}
    upward = sorted(f"{m} imports {t}" for m in ORDER for t in imports(PACKAGE / f"{m}.py") if rank[t] > rank[m])
    assert not upward, upward


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    src = tmp_path / "claims.py"
    src.write_text("def f():\n    from .plots import image\n    from grokkit import book\n    import grokkit.report\n")
    assert imports(src) == {"plots", "book", "report"}
