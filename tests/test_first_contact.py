"""A new user's first contact with grokkit (issue 46, kind 7): each chapter's Colab cell, run again after a `git
clone` or `pip install` was cut short, and the README's install section for a CPU-only and a GPU user.

The Colab cell is executed as Colab would run it, cell after cell in one kernel, with `google.colab` present and
git and pip replaced by stand-ins that can be interrupted; it runs in a separate interpreter without site-packages,
so the grokkit installed here cannot hide a failed install. Nothing is downloaded.
"""
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml
from test_users import ROOT

CLONE = "/content/grokkit"


def _chapters() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"], *(c["file"] for c in toc["chapters"])]
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def _colab_cell(chapter: Path) -> str | None:
    """The chapter's first code cell when it is the Colab cell, else None."""
    cells = json.loads(chapter.read_text(encoding="utf-8"))["cells"]
    first = "".join(next(c for c in cells if c["cell_type"] == "code")["source"])
    return first if "google.colab" in first else None


def test_every_chapter_has_the_same_colab_cell_with_config_yml_address():
    """Every chapter but the introduction opens with the same Colab cell (one cell, fixed in one place: a chapter with
    an older copy fails here), and the address it clones is exactly _config.yml's repository url: the cell runs before
    grokkit is installed, so it cannot read _config.yml itself."""
    url = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]
    cells = {c.name: _colab_cell(c) for c in _chapters()}
    assert len([c for c in cells.values() if c]) >= 6, cells.keys()
    assert [name for name, c in cells.items() if c is None] == ["intro.ipynb"], cells.keys()
    (cell,) = {c for c in cells.values() if c}
    assert cell.count(f'_REPOSITORY = "{url}"') == 1, cell
    assert set(re.findall(r"https?://[^\s\"']+", cell)) == {url}, cell
    assert cell.startswith("# Colab only:") and not re.search(r"^\s*!", cell, re.M), cell  # plain Python: testable


DRIVER = textwrap.dedent("""
    import json, os, subprocess, sys, types

    cell, site = sys.argv[1], sys.argv[2]
    sys.modules["google.colab"] = types.ModuleType("google.colab")
    calls, cut = [], set()

    def run(cmd, **kw):  # git and pip as Colab runs them, but local; a step in `cut` is stopped by the user midway
        tool = "git" if cmd[0] == "git" else "pip"
        calls.append(tool)
        if tool == "git":
            os.makedirs(cmd[-1] + "/book")  # the clone: a folder named grokkit holding book/ (no __init__.py)
            if tool in cut:
                raise KeyboardInterrupt
            os.makedirs(cmd[-1] + "/grokkit")
        else:
            if tool in cut:
                raise KeyboardInterrupt
            os.makedirs(site + "/grokkit", exist_ok=True)
            open(site + "/grokkit/__init__.py", "w").close()
            with open(site + "/grokkit/book.py", "w") as f:
                f.write("def found():\\n    return 'found'\\n")
            if site not in sys.path:
                sys.path.append(site)  # site-packages: after the current folder, as in a kernel
        return subprocess.CompletedProcess(cmd, 0, "", "")

    subprocess.run = run
    kernel, out = {}, []

    def run_cell(*interrupted):
        cut.clear()
        cut.update(interrupted)
        calls.clear()
        try:
            exec(cell, kernel)
            error = None
        except KeyboardInterrupt:
            error = "KeyboardInterrupt"
        public = sorted(k for k, v in kernel.items() if not k.startswith("_") and k not in ("book", "result")
                        and not isinstance(v, types.ModuleType))
        out.append({"calls": list(calls), "error": error, "clone": os.path.isdir(CLONE), "public": public})

    def next_cell():
        try:
            exec("from grokkit import book\\nresult = book.found()", kernel)
            out.append({"next cell": kernel["result"]})
        except Exception as e:
            out.append({"next cell": f"{type(e).__name__}: {e}"})

    CLONE = os.path.abspath("grokkit")
    run_cell("git")   # the clone is cut short
    run_cell("pip")   # run again: cloned; the install is cut short
    next_cell()       # what the issue saw: the clone folder imported as a namespace package
    run_cell()        # run again: installs
    next_cell()
    run_cell()        # and again: nothing to do
    print(json.dumps(out))
""")


def test_colab_cell_run_again_after_an_interrupted_clone_or_install(tmp_path):
    """Case 1: the cell checked only that the clone folder existed, so after an interrupted `pip install` running it
    again skipped the install and `import grokkit` found the clone folder ("module 'grokkit.book' has no attribute
    'found'"). Now each run redoes what was cut short (a clone that stopped midway never takes the clone's place),
    forgets a namespace import of the clone folder, and does nothing once both are done."""
    cell = _colab_cell(_chapters()[1])
    assert cell.count(CLONE) >= 2
    content = tmp_path / "content"
    content.mkdir()
    cell = cell.replace(CLONE, str(content / "grokkit"))
    p = subprocess.run([sys.executable, "-S", "-c", DRIVER, cell, str(tmp_path / "site")], cwd=content,
                       capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stdout + p.stderr
    clone_cut, pip_cut, namespace, installed, used, again = json.loads(p.stdout)
    # every name the cell leaves starts with "_" (or is a module): a chapter's other globals are its parameters
    assert clone_cut == {"calls": ["git"], "error": "KeyboardInterrupt", "clone": False, "public": []}
    assert pip_cut == {"calls": ["git", "pip"], "error": "KeyboardInterrupt", "clone": True, "public": []}
    assert "has no attribute 'found'" in namespace["next cell"], namespace  # the failure the cell must undo
    assert installed == {"calls": ["pip"], "error": None, "clone": True, "public": []}
    assert used == {"next cell": "found"}
    assert again == {"calls": [], "error": None, "clone": True, "public": []}


def test_colab_cell_does_nothing_elsewhere(tmp_path):
    """Outside Colab (a build, nbval, papermill, a local Jupyter) the cell runs nothing and sets nothing, and it leaves
    no global that a chapter's parameter check (chapters.check_params) would take for a misspelt parameter."""
    cell = _colab_cell(_chapters()[1])
    code = ("import os, subprocess, types\nsubprocess.run = None\nbefore = dict(os.environ)\nns = {}\nexec(CELL, ns)\n"
            "assert dict(os.environ) == before\n"
            "print(sorted(k for k, v in ns.items() if k[0] != '_' and not isinstance(v, types.ModuleType)) or 'ok')")
    p = subprocess.run([sys.executable, "-S", "-c", f"CELL = {cell!r}\n{code}"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stdout + p.stderr


CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def _torch_pin() -> str:
    """torch's version as constraints.txt pins it (the lock file, CI's stack)."""
    return re.search(r"^torch==(\S+)$", (ROOT / "constraints.txt").read_text(encoding="utf-8"), re.M).group(1)


def test_readme_quick_start_installs_the_cpu_build():
    """Case 2: the README said `torch==2.13.0` is "the CPU build", but where PyPI serves only CUDA builds (Linux; seen
    on Python 3.13: 15 CUDA packages, 5.1 GB) it is not. The quick start stays two commands; its first installs torch,
    pinned as the lock file pins it, alone from PyTorch's CPU index (which serves nothing else the book needs), then
    the rest from PyPI."""
    block = _readme().split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2, commands
    steps = [s.strip() for s in commands[0].split("&&")]
    assert steps[0].split() == ["pip", "install", f"torch=={_torch_pin()}", "--index-url", CPU_INDEX], steps
    assert steps[1].startswith("pip install -r requirements.txt") and "torch" not in steps[1], steps
    assert all("--index-url" not in s and "--extra-index-url" not in s for s in steps[1:]), steps
    assert commands[1].startswith("GROKKIT_SMOKE=1 python -m pytest")


def test_readme_says_what_a_gpu_user_installs_and_the_lock_file_recipe_agrees():
    """Case 2: the README says how a GPU user gets a CUDA build (PyTorch's CUDA index, or PyPI's Linux wheel) and that
    both builds satisfy the pin; the lock-file recipe installs torch the quick start's way, and constraints.txt's
    header (which that recipe writes) says so."""
    readme = _readme()
    which = readme.split("**Which torch.**", 1)[1].split("\n\n", 1)[0]
    assert CPU_INDEX in which and "https://download.pytorch.org/whl/cu" in which and "GPU" in which, which
    assert "CUDA build" in which and "gpu-check" in which and f"{_torch_pin()}+cpu" in which, which
    assert "is pinned for the CPU build" not in readme and "torch==2.13.0: the CPU build" not in readme
    recipe = readme.split("## The lock file", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    assert f"pip install torch=={_torch_pin()} --index-url {CPU_INDEX}" in recipe, recipe
    header = (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()[1]
    assert f'echo "{header}"' in recipe, (header, recipe)
