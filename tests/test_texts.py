"""The words of the claims and quantities live in grokkit/claims.toml and grokkit/quantities.toml (issue 43), read
by grokkit.texts: every claim has its words, every template formats with its claim's thresholds, a missing entry
fails in one line naming it, and no entry is unused."""
from __future__ import annotations

import json
import string
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grokkit import claims, export, texts
from grokkit.grades import THRESHOLDS, Ctx

ROOT = Path(__file__).resolve().parent.parent
# what a judge fills besides the thresholds: N, a depth, a weight decay, the phase the paper reports, counts of runs
JUDGE_FILLS = {"n", "d", "wd", "want", "counts", "share", "rank_k", "rank_n", "norm_k", "norm_n"}


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


def _leaves(d: dict, path=()) -> set[tuple]:
    return {q for k, v in d.items() for q in (_leaves(v, (*path, k)) if isinstance(v, dict) else {(*path, k)})}


def test_every_claim_has_its_words():
    table = texts.load("claims")["claim"]
    assert sorted(table, key=int) == [str(c.n) for c in claims.CLAIMS] == [str(n) for n in range(1, 16)]
    for c in claims.CLAIMS:
        words = table[str(c.n)]
        assert set(words) <= {"title", "paper", "figure", "rule", "parts", "notes"}, c.n
        assert all(isinstance(words[k], str) and words[k].strip() for k in ("title", "paper", "figure", "rule")), c.n
        assert words["parts"] and all(isinstance(v, str) and v.strip() for v in words["parts"].values()), c.n
        assert (c.title, c.paper, c.figure, c.rule) == tuple(words[k] for k in ("title", "paper", "figure", "rule"))


@pytest.mark.parametrize("claim", claims.CLAIMS, ids=lambda c: f"claim{c.n}")
def test_every_template_formats_with_its_claims_thresholds(claim):
    words = texts.load("claims")["claim"][str(claim.n)]
    assert _fields(claim.rule) <= set(claim.thresholds), "a rule reads only the thresholds its claim sweeps"
    rule = claims.rule_text(claim, {k: THRESHOLDS[k].hi for k in claim.thresholds})
    assert "{" not in rule and all(f"{THRESHOLDS[k].hi:,g}" in rule for k in _fields(claim.rule))
    x = Ctx([], {k: THRESHOLDS[k].hi for k in claim.thresholds})  # the range's top end, not the default
    for table in ("parts", "notes"):
        for key, template in words.get(table, {}).items():
            fields = _fields(template)
            assert fields <= set(claim.thresholds) | JUDGE_FILLS, (claim.n, table, key, fields)
            filled = x.words(claim.n, key, table, **dict.fromkeys(fields & JUDGE_FILLS, 7))
            assert "{" not in filled and "}" not in filled, (claim.n, key)
            assert all(f"{THRESHOLDS[k].hi:g}" in filled for k in fields - JUDGE_FILLS), (claim.n, key)


def test_the_thresholds_and_quantities_read_their_words():
    assert list(texts.load("claims")["threshold"]) == list(THRESHOLDS)
    assert all(t.words == texts.load("claims")["threshold"][k] for k, t in THRESHOLDS.items())
    assert list(texts.load("quantities")) == list(export.QUANTITIES)
    assert all(isinstance(v, tuple) and v[0] in ("step", "rank_step", "probe_step") and v[1] == texts.load(
        "quantities")[k] for k, v in export.QUANTITIES.items())


def test_a_missing_or_bad_entry_fails_in_one_line_naming_it():
    with pytest.raises(texts.TextError, match=r"claims\.toml: no entry claim\.5\.parts\.nowhere$"):
        Ctx([], {}).words(5, "nowhere")
    with pytest.raises(texts.TextError, match=r"claim\.5\.parts\.coincide does not format"):
        texts.entry("claims", "claim", "5", "parts", "coincide", lag_tol=0.5)  # {n} left unfilled
    with pytest.raises(texts.TextError, match=r"grokkit/nowhere\.toml: missing"):
        texts.load("nowhere")


SPY = textwrap.dedent("""
    import json, sys
    from grokkit import texts
    used, entry = set(), texts.entry

    def spy(name, *keys, **fill):
        used.add(json.dumps([name, *keys]))
        return entry(name, *keys, **fill)

    texts.entry = spy
    from grokkit import claims, export, records, report  # the words read at import: titles, thresholds, grades
    runs = records.load_all(sys.argv[1], warn=lambda m: print(m, file=sys.stderr))
    verdicts = claims.evaluate(runs, robustness=False)  # the words every judge reads
    assert not any(v.missing for v in verdicts), [v.missing for v in verdicts]
    print(json.dumps(sorted(used)))
""")


def test_no_entry_is_unused():
    """Every entry of both files is read, at import or by a judge on the shipped records (a stale entry is a
    defect); every lookup names an existing entry (a missing one raises)."""
    out = subprocess.run([sys.executable, "-c", SPY, str(ROOT / "results")], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    used = {tuple(json.loads(p)) for p in json.loads(out.splitlines()[-1])}
    every = {(name, *k) for name in ("claims", "quantities") for k in _leaves(texts.load(name))}
    assert every - used == set(), "entries nothing reads"
    assert used <= every


def test_tomli_stands_in_on_python_3_10():
    """Python 3.10 has no tomllib: grokkit.texts reads the files with tomli (a dependency there)."""
    code = ("import sys, tomllib, types\n"
            "tomli = types.ModuleType('tomli'); tomli.loads, tomli.TOMLDecodeError = tomllib.loads, "
            "tomllib.TOMLDecodeError\n"
            "sys.modules['tomli'], sys.modules['tomllib'] = tomli, None\n"
            "from grokkit import texts\n"
            "print(texts.tomllib is tomli, len(texts.load('claims')['claim']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["True", "15"]
