"""Report: every table and sentence the book and `python -m grokkit scoreboard` print, for a person.

    from grokkit import records, claims, report
    verdicts = claims.evaluate(records.load_all())
    print(report.scoreboard(verdicts))

One number formatter (`num`): thousands separators and units. Labels read "d = 12, N = 7000, γ = 0.01, 3 seeds".
Each verdict states the rule in words (thresholds from grokkit/claims.py's THRESHOLDS), what was measured on every
seed, one sentence of interpretation, and whether the grade survives its thresholds swept over their ranges.
"""
from __future__ import annotations

import html as _html
import json
from collections import Counter

from .claims import GRADES, RANK_DEF, THRESHOLDS, Verdict
from .fmt import badge_span, num


def _md(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _values(items, measure) -> str:
    """'d = 4, N = 7000, γ = 0.01: 0.052 (seed 0), 0.048 (seed 1)' -- one configuration's seeds grouped."""
    groups: dict = {}
    for it in items:
        if it.measure == measure:
            cfg, _, seed = it.label.partition(", seed ")
            groups.setdefault(cfg, []).append((it.text or num(it.value, it.unit)) + (f" (seed {seed})" if seed else ""))
    return "; ".join(f"{cfg}: {', '.join(vals)}" for cfg, vals in groups.items())


def _fails(p) -> str:
    """The runs a per-seed part fails on, each with what it measured in words (a phase, the layers):
    'd = 12, N = 2000, γ = 0.01, seed 0 (layer 1)'."""
    out: dict = {}
    for it in p.items:
        if it.held is False:
            texts = out.setdefault(it.label, [])
            if it.text and it.text != "none":
                texts.append(it.text)
    return "; ".join(lab + (f" ({', '.join(t)})" if t else "") for lab, t in out.items())


BY_CONSTRUCTION = ("the weight norm there is AdamW's decay clock (within {clock_tol:g} of its first value times "
                   "(1 − lr γ) per step), so the optimizer, not what the network learns, decides it")


def _clock_reason() -> str:
    return BY_CONSTRUCTION.format(clock_tol=THRESHOLDS["clock_tol"].value)


def lag_words(signs: tuple, later: str = "the rank's fall") -> str:
    """'the rank's fall follows the start of the test climb on 9 runs, comes at the same step on 1 and precedes it on
    3' (Part.lag_signs: after, same, before); '' without measured lags."""
    if not signs:
        return ""
    after, same, before = signs
    n = after + same + before
    what = "runs" if n > 1 else "run"
    if after == n:
        return f"{later} follows the start of the test climb on every one of the {n} {what}"
    if before == n:
        return f"{later} precedes the start of the test climb on every one of the {n} {what}"
    bits = [f"follows the start of the test climb on {after}"] if after else []
    bits += [f"comes at the same logged step on {same}"] if same else []
    bits += [f"precedes it on {before}"] if before else []
    return f"{later} " + ", ".join(bits[:-1]) + (" and " if len(bits) > 1 else "") + bits[-1] + f" of {n} {what}"


def part_text(p) -> str:
    """One sub-claim: whether it holds (k of n), where it fails (configuration, seed and layer), then its values."""
    if p.n == 0 and p.by_construction:
        head = (f"{p.words}: holds by construction on all {p.by_construction} runs, not counted in the grade: "
                f"{_clock_reason()}")
    elif p.n == 0:
        head = f"{p.words}: not tested (no run has the event it needs)"
    elif p.per == "counts":
        head = f"{p.words}: {'holds' if p.k else 'does not hold'} (counts of runs)"
    elif p.per:
        head = f"{p.words}: holds in {p.k} of {p.n} {p.per if p.n != 1 else p.per.rstrip('s')}"
    else:
        head = f"{p.words}: {'holds' if p.k else 'does not hold'} (medians over seeds)"
    if p.note:
        head += f", {p.note}"
    if p.by_construction and p.n:
        head += (f"; {p.by_construction} more runs are left out: {_clock_reason()}")
    if p.lag_signs:
        head += f"; {lag_words(p.lag_signs)}"
    if p.baseline:
        head += " (a baseline another claim judges: not counted in this grade)"
    fails = _fails(p) if p.n and p.k < p.n else ""
    if fails:
        head += f"; fails on {fails}"
    measures = list(dict.fromkeys(it.measure for it in p.items))
    vals = " — ".join(f"{m}: {_values(p.items, m)}" for m in measures if _values(p.items, m))
    return f"{head}" + (f" [{vals}]" if vals else "")


def _part_words(p) -> str:
    """'“γ = 0.005: fail to generalize” (0 of 2 seeds)': a part named with its count, for the first sentence."""
    if p.per in ("", "counts"):
        return f"“{p.words}”"
    return f"“{p.words}” ({p.k} of {p.n} {p.per if p.n != 1 else p.per.rstrip('s')})"


def interpretation(v: Verdict) -> str:
    """One sentence that says first what failed (parts by name, with their counts), then what held."""
    own = [p for p in v.parts if p.counted]
    decided = [p for p in own if p.n]
    if v.missing:
        return f"Not judged: no record of {', '.join(v.missing)}."
    if not decided:
        return "Not judged: none of the runs shows the event the claim is about."
    fail = [p for p in decided if p.k == 0]
    some = [p for p in decided if 0 < p.k < p.n]
    held = [p for p in decided if p.k == p.n]
    untested = [p.words for p in own if not p.n]
    base = [p for p in v.parts if p.baseline and p.n]
    fixed = [p for p in v.parts if not p.counted and not p.baseline]
    if v.grade == "reproduced":
        return _all_held(own)
    out = []
    if fail:
        out.append("fails: " + "; ".join(_part_words(p) for p in fail))
    if some:
        out.append("holds on some seeds or runs only: " + "; ".join(_part_words(p) for p in some))
    if held:
        out.append(f"holds: {len(held)} of {len(decided)} parts")
    if untested:
        out.append(_untested(untested))
    if base:
        out.append("its baseline " + "; ".join(_part_words(p) for p in base) + " is judged by another claim and "
                   "not counted")
    if fixed:
        out.append("; ".join(f"“{p.words}”" for p in fixed) + " holds by construction (AdamW's decay clock) and "
                   "is not counted")
    lead = "Not reproduced" if v.grade == "not reproduced" else "Partly"
    return f"{lead}: " + "; ".join(out) + "."


def _untested(words) -> str:
    n = len(words)
    return f"{n} part{'s' * (n > 1)} could not be tested (“{words[0]}”" + (" and more)" if n > 1 else ")")


def _all_held(parts) -> str:
    """The sentence of a reproduced grade, saying what was judged: every recorded seed only when it was."""
    decided = [p for p in parts if p.n]
    untested = [p.words for p in parts if not p.n]
    pooled = {"": "medians over seeds", "counts": "counts of runs"}
    notes = [(i, p.note) for i, p in enumerate(parts, 1) if p.n and p.note]
    if not untested and not notes and all(p.per not in pooled for p in decided):
        return "Every part of the claim holds on every recorded seed."
    bits = [f"every tested part holds ({len(decided)} of {len(parts)} parts tested)" if untested else
            "every part holds"]
    if untested:
        bits.append(_untested(untested))
    for per, what in pooled.items():
        m = sum(p.per == per for p in decided)
        if m:
            bits.append(f"{'all' if m == len(decided) else m} of them compare {what}, not each seed")
    if notes and len(notes) == len(decided) and len({n for _, n in notes}) == 1:
        bits.append(f"all judged on {notes[0][1].removeprefix('judged on ')}")
    else:
        bits += [f"part {i}: {n}" for i, n in notes]
    text = "; ".join(bits)
    return text[:1].upper() + text[1:] + "."


def _val(val) -> str:
    return val if isinstance(val, str) else f"{val:,g}"


def _runs(grid, grade) -> str:
    """The swept values at which the grade is `grade`, neighbouring sweep points merged ("0.25, 0.5 to 0.75"):
    a value in between that does not flip is never covered by a range. Named values (a rank definition) are listed."""
    runs, cur = [], []
    for val, g in grid:
        if g == grade:
            cur.append(val)
        elif cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    return ", ".join(_val(r[0]) if len(r) == 1 else ", ".join(r) if isinstance(r[0], str) else
                     f"{_val(r[0])} to {_val(r[-1])}" for r in runs)


def part_flips(v: Verdict) -> list:
    """Each part's own robustness: [(part number, [(sweep name, value, k, n)])] for every part whose count (k of n,
    or decided by construction) changes anywhere in the claim's sweeps, whatever the grade does (a grade capped by one
    part must not hide another part's fragility)."""
    out = []
    for i, p in enumerate(v.parts):
        moved = [(name, val, *counts[i][:2]) for name, grid in v.part_sweeps for val, counts in grid
                 if i < len(counts) and counts[i] != (p.k, p.n, p.by_construction)]
        if moved:
            out.append((i + 1, moved))
    return out


def part_robustness_text(v: Verdict) -> str:
    """'Each part's own robustness: part 4 holds in 7 to 16 of 19 runs over largest lag ... (0.25 to 1), in 7 of 19
    under the tolerance-robust rank.' for each part whose count moves in the sweeps (`part_flips`); '' when none."""
    bits = []
    for i, moved in part_flips(v):
        p, sweeps = v.parts[i - 1], {}
        for name, val, k, n in moved:
            sweeps.setdefault(name, []).append((val, k, n))
        per = p.per or "comparisons"
        words = []
        for name, pts in sweeps.items():
            if name == RANK_DEF:
                words += [f"{k} of {n} under the {val}" + ("" if "rank" in val else " rank") for val, k, n in pts]
                continue
            ks, ns = [k for _, k, _ in pts], {n for *_, n in pts}
            count = (f"{min(ks)} of {ns.pop()}" if min(ks) == max(ks) else f"{min(ks)} to {max(ks)} of {ns.pop()}") \
                if len(ns) == 1 else ", ".join(f"{k} of {n}" for _, k, n in pts)
            vals = [val for val, *_ in pts]
            span = _val(vals[0]) if len(vals) == 1 else f"{_val(min(vals))} to {_val(max(vals))}"
            words.append(f"{count} at {THRESHOLDS[name].words} {span}")
        at = (f"by construction on all {p.by_construction} {per} at the defaults" if p.n == 0 and p.by_construction
              else f"{p.k} of {p.n} {per} at the defaults")
        bits.append(f"part {i} ({at}) holds in " + "; ".join(words))
    return ("Each part's own robustness: " + ". ".join(bits) + ".") if bits else ""


def robustness_text(v: Verdict) -> str:
    if v.missing:
        return ""
    if v.robust:
        return ("Robust: no threshold in its range" + (" and no rank definition" if _rank_swept(v) else "")
                + " changes the grade.")
    bits = []
    for words, unit, grid in v.flips:
        other = list(dict.fromkeys(g for _, g in grid if g != v.grade))
        where = "under the " if words == RANK_DEF else "at "
        bits.append(f"{words}{f' ({unit})' if unit else ''}: "
                    + ", ".join(f"{g} {where}{_runs(grid, g)}" for g in other))
    return "Fragile: " + "; ".join(bits) + "."


def _rank_swept(v: Verdict) -> bool:
    return any(name == RANK_DEF for name, *_ in v.sweeps)


def beyond_text(v: Verdict) -> str:
    """What the book measured beside the claim, never graded: the rank-descent lag at d = 4 and 8 (claim 5), the
    float64 twins' phases (claims 11 and 12)."""
    if not v.beyond:
        return ""
    measures = list(dict.fromkeys(it.measure for it in v.beyond))
    return ("Measured beside the claim, not graded: "
            + " — ".join(f"{m}: {_values(v.beyond, m)}" for m in measures) + ".")


def verdict_text(v: Verdict) -> str:
    """The plain-words verdict: rule, measurements, interpretation, robustness."""
    parts = " ".join(f"({i}) {part_text(p)}." for i, p in enumerate(v.parts, 1))
    stand = f" {v.stand_ins} of the runs used are smoke-scale stand-ins, not results." if v.stand_ins else ""
    return (f"Rule: {v.rule}. Measured: {parts or '–'}{stand} {interpretation(v)} {robustness_text(v)} "
            f"{part_robustness_text(v)} {beyond_text(v)}").replace("  ", " ").strip()


def robust_word(v: Verdict) -> str:
    return "–" if v.missing else ("robust" if v.robust else "fragile")


def scoreboard(verdicts, html: bool = False) -> str:
    """The scoreboard (Markdown). For the CLI (html=False): claim, the paper's statement, what we found (the whole
    verdict: rule, measurements, robustness), grade, robust or fragile. For the book (html=True) the first layer
    only: claim, the paper's statement, the grade as a badge (`badge`) and one sentence (`interpretation`, what
    failed first); each row's first cell carries the anchor `claim-<n>` (`claim_anchor`) that the chapters link to,
    and the full detail goes below it, one collapsed block per claim (`claim_details_html`)."""
    if html:
        rows = "".join(
            f'<tr><td><span id="{claim_anchor(v.claim)}"></span>{v.claim}. {_html.escape(v.title)} '
            f"({_html.escape(v.figure)})</td><td>{_html.escape(v.paper)}</td><td>{badge(v)}</td>"
            f"<td>{_html.escape(interpretation(v))}{_html.escape(fragile_short(v))} "
            f'<a href="#{claim_anchor(v.claim)}-detail">details</a></td></tr>' for v in verdicts)
        return ('<table class="grokkit-scoreboard"><thead><tr><th style="width:18%">claim</th>'
                '<th style="width:22%">the paper says</th><th style="width:16%">grade</th>'
                f'<th style="width:44%">in one sentence</th></tr></thead><tbody>{rows}</tbody></table>')
    lines = ["| claim | the paper says | what we found | grade | robust? |", "|---|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| {v.claim}. {_md(v.title)} ({_md(v.figure)}) | {_md(v.paper)} | "
                     f"{_md(verdict_text(v))} | **{v.grade}** | {robust_word(v)} |")
    return "\n".join(lines) + "\n"


def fragile_short(v: Verdict) -> str:
    """' Fragile to: the rank definition; how flat a shoulder ...' (what a fragile grade flips under, names only)."""
    if v.robust or v.missing:
        return ""
    return " Fragile to: " + "; ".join("the rank definition" if w == RANK_DEF else w for w, _, _ in v.flips) + "."


def claim_details_html(verdicts) -> str:
    """The second layer of the scoreboard: one collapsed block per claim (HTML <details>, id `claim-<n>-detail`):
    the rule in words, each part with where it fails and every measured value, the robustness and what was measured
    beside the claim."""
    out = []
    for v in verdicts:
        parts = "".join(f"<li>{_html.escape(part_text(p))}</li>" for p in v.parts)
        extra = "".join(f"<p>{_html.escape(t)}</p>" for t in (robustness_text(v), part_robustness_text(v),
                                                                beyond_text(v)) if t)
        stand = (f"<p>{v.stand_ins} of the runs used are smoke-scale stand-ins, not results.</p>" if v.stand_ins
                 else "")
        out.append(f'<details class="grokkit-detail" id="{claim_anchor(v.claim)}-detail"><summary>{badge(v)} '
                   f"<strong>Claim {v.claim}: {_html.escape(v.title)}</strong> — the rule, every measurement, "
                   f"robustness</summary><p><strong>Rule:</strong> {_html.escape(v.rule)}.</p>"
                   f"<ol>{parts}</ol>{stand}{extra}</details>")
    return "".join(out)


# ---- the reader's book: badges, "What we found", same or different from the paper -------------------------------
SCOREBOARD_PAGE = "scoreboard.html"  # the scoreboard chapter as built (book/scoreboard.ipynb), beside every chapter


def claim_anchor(n: int) -> str:
    """The HTML id of claim n's scoreboard row ("claim-5")."""
    return f"claim-{n}"


def claim_link(n: int, text: str | None = None) -> str:
    """An HTML link to claim n's scoreboard row, relative to a chapter page (book/<chapter>.html)."""
    return f'<a href="{SCOREBOARD_PAGE}#{claim_anchor(n)}">{_html.escape(text or f"claim {n}")}</a>'


GRADE_WORDS = {
    "reproduced": "reproduced: every part of the claim holds on every recorded seed",
    "partly reproduced": "partly reproduced: some parts, depths or seeds hold and others do not",
    "not reproduced": "not reproduced: none of the claim's own parts holds on any recorded seed",
    "inconclusive": "inconclusive: nothing to judge (a run or the event the claim needs is missing)"}
FRAGILE_WORDS = "fragile: the grade changes within a threshold's defensible range or under another rank definition"


def grades_html() -> str:
    """The grades and "fragile" defined in one paragraph (HTML), in the words of GRADE_WORDS and FRAGILE_WORDS (the
    badges' hover text), for the pages where badges first appear."""
    words = [*GRADE_WORDS.values(), FRAGILE_WORDS]
    parts = [f"<em>{_html.escape(w.split(': ', 1)[0].capitalize())}</em>: {_html.escape(w.split(': ', 1)[1])}"
             for w in words]
    return f'<p class="grokkit-terms"><b>Grades.</b> {". ".join(parts)}.</p>'


def badge(v: Verdict) -> str:
    """The grade as a coloured badge (HTML; classes styled in book/_static/grokkit.css, light and dark mode):
    `grokkit-badge grokkit-<grade with dashes>`, plus `grokkit-fragile` for a fragile grade; hovering it explains
    the grade (and fragility) in words."""
    fragile = not (v.robust or v.missing)
    cls = "grokkit-" + v.grade.replace(" ", "-") + (" grokkit-fragile" if fragile else "")
    word = v.grade + (", fragile" if fragile else "")
    tip = GRADE_WORDS[v.grade] + (f"; {FRAGILE_WORDS}" if fragile else "")
    return badge_span(cls, word, tip)


def found_html(verdicts) -> str:
    """A chapter's "What we found" box (HTML): one line per claim -- its grade as a badge, its title, one sentence
    of what held (`interpretation`), and a link to its scoreboard row. Every word comes from the verdicts."""
    items = "".join(f"<li>{badge(v)} <strong>Claim {v.claim}: {_html.escape(v.title)}.</strong> "
                    f"{_html.escape(interpretation(v))} {claim_link(v.claim, 'scoreboard row')}</li>"
                    for v in verdicts)
    return ('<div class="grokkit-found"><p class="grokkit-found-title">What we found</p>'
            f"<ul>{items}</ul></div>")


def _gist(v: Verdict) -> str:
    """'claim 11: partly reproduced — it fails for: ...' (the claim linked to its scoreboard row)."""
    head = f"{claim_link(v.claim)}: {_html.escape(v.grade)}"
    if v.grade == "reproduced":
        return head
    why = interpretation(v).removeprefix("Partly: ").rstrip(".")
    return f"{head} — {_html.escape(why[:1].lower() + why[1:])}"


def same_or_different(verdicts) -> str:
    """One line under one of our figures (HTML): where it looks like the paper's and where not, from the verdicts
    of the claims that figure tests. 'Same as the paper: <title> (claim 1: reproduced).' for a reproduced claim,
    'Different from the paper: <title> (claim 11: partly reproduced — ...).' for a partly or not reproduced one,
    'Not decided: ...' for an inconclusive one. Empty for no verdicts."""
    groups = (("Same as the paper", ("reproduced",)),
              ("Different from the paper", ("partly reproduced", "not reproduced")),
              ("Not decided", ("inconclusive",)))
    out = []
    for head, grades in groups:
        vs = [v for v in verdicts if v.grade in grades]
        if vs:
            out.append(f"<strong>{head}:</strong> "
                       + "; ".join(f"{_html.escape(v.title)} ({_gist(v)})" for v in vs) + ".")
    return f'<p class="grokkit-compare">{" ".join(out)}</p>' if out else ""


def tally(verdicts) -> dict:
    """grade -> how many claims have it, in GRADES order."""
    c = Counter(v.grade for v in verdicts)
    return {g: c.get(g, 0) for g in GRADES}


def summary(verdicts) -> str:
    """Two sentences for the introduction: the tally, and which claims reproduced."""
    t = tally(verdicts)
    names = lambda g: ", ".join(f"{v.claim} ({v.title})" for v in verdicts if v.grade == g)  # noqa: E731
    text = (f"Of the paper's {len(verdicts)} testable claims, judged on every recorded seed of the shipped run "
            f"records: {t['reproduced']} reproduced, {t['partly reproduced']} partly reproduced, "
            f"{t['not reproduced']} not reproduced, {t['inconclusive']} inconclusive; "
            f"{sum(not v.robust for v in verdicts)} of the {len(verdicts)} grades are fragile to their thresholds or, "
            f"for the {sum(any(n == RANK_DEF for n, *_ in v.sweeps) for v in verdicts)} claims that read feature "
            f"ranks, to the rank definition ({sum(any(w == RANK_DEF for w, *_ in v.flips) for v in verdicts)} of "
            "them).")
    if t["reproduced"]:
        text += f" Reproduced: claims {names('reproduced')}."
    if t["partly reproduced"]:
        text += f" Partly: claims {names('partly reproduced')}."
    if t["not reproduced"]:
        text += f" Not reproduced: claims {names('not reproduced')}."
    return text


def sensitivity(verdicts) -> str:
    """The sensitivity table: for each claim and threshold (or rank definition) that flips its grade, the grade at
    every swept value (Markdown); then a second table of the thresholds that flip no grade anywhere in their range."""
    lines = ["| claim | threshold (default, range) or rank definition | grade across the range |", "|---|---|---|"]
    flipping = set()
    for v in verdicts:
        for name, words, unit, grid in v.sweeps:
            if all(g == v.grade for _, g in grid):
                continue
            flipping.add(name)
            if name == RANK_DEF:
                what = "rank definition (the paper's machine precision by default)"
            else:
                t = THRESHOLDS[name]
                what = f"{words} ({t.value:,g}; {t.lo:,g} to {t.hi:,g} {unit})"
            lines.append(f"| {v.claim}. {_md(v.title)} | {_md(what)} | "
                         + ", ".join(f"{_val(val)}: {g}" for val, g in grid) + " |")
    if len(lines) == 2:
        lines.append("| – | – | no threshold flips any grade |")
    steady = ["| threshold that flips no grade in its range | default | range |", "|---|---|---|"]
    steady += [f"| {_md(t.words)} | {t.value:,g} | {t.lo:,g} to {t.hi:,g} {t.unit} |" for k, t in THRESHOLDS.items()
               if k not in flipping]
    return "\n".join(lines) + "\n\n" + "\n".join(steady) + "\n"


def thresholds_table() -> str:
    """Every threshold with its default and its defensible range (Markdown)."""
    lines = ["| threshold | default | range | unit |", "|---|---|---|---|"]
    lines += [f"| {_md(t.words)} | {t.value:,g} | {t.lo:,g} to {t.hi:,g} | {t.unit} |" for t in THRESHOLDS.values()]
    return "\n".join(lines) + "\n"


def as_json(verdicts) -> str:
    """One object per claim: claim, grade, robust, text, measures (name -> {unit, values: {run label: number}}),
    parts: [{words, k, n, per, counted (false: a baseline, or decided by construction on every run), baseline,
    by_construction (runs left out because AdamW's decay clock decides them) and its reason, lag_signs {after, same,
    before} of a timed part, moves: [{name, value, k, n}] where the part's own count moves in the sweeps}],
    robustness: [{name: a threshold's name or "rank definition", values: [...], grades: [...]}] for every swept
    threshold and, for a claim that reads ranks, every rank definition. `robust` is true exactly when every listed
    grade equals `grade`."""
    return json.dumps([{"claim": v.claim, "grade": v.grade, "robust": bool(v.robust), "text": verdict_text(v),
                        "measures": v.measures,
                        "parts": [{"words": p.words, "k": p.k, "n": p.n, "per": p.per, "counted": p.counted,
                                   "baseline": p.baseline, "by_construction": p.by_construction,
                                   "by_construction_reason": _clock_reason() if p.by_construction else "",
                                   "lag_signs": dict(zip(("after", "same", "before"), p.lag_signs)),
                                   "moves": [{"name": name, "value": val, "k": k, "n": n}
                                             for j, moved in part_flips(v) if j == i for name, val, k, n in moved]}
                                  for i, p in enumerate(v.parts, 1)],
                        "robustness": [{"name": name, "values": [val for val, _ in grid],
                                        "grades": [g for _, g in grid]} for name, _, _, grid in v.sweeps]}
                       for v in verdicts], ensure_ascii=False, indent=1)





def verdict_layers_html(v: Verdict) -> str:
    """One claim's verdict for a chapter, in layers: the claim and its grade, one sentence (what failed first) and
    the robustness in words, then the full detail collapsed (`claim_details_html`)."""
    return (f'<p class="grokkit-verdict"><strong>Claim {v.claim} — {_html.escape(v.title)}</strong> '
            f"({_html.escape(v.figure)}). "
            f"{badge(v)} {_html.escape(interpretation(v))} {_html.escape(robustness_text(v))} "
            f"{claim_link(v.claim, 'scoreboard row')}</p>{claim_details_html([v])}")


# ---- the opening page: the reproduction report (what did not hold first) ----------------------------------------
def caveats(verdicts, runs) -> list[str]:
    """What did not reproduce, and the caveats, in words, each linked to its evidence (HTML list items): every claim
    not fully reproduced, the not reproduced ones first (its first sentence: what failed), every reproduced claim
    whose grade flips under another threshold or rank definition, and every float64 twin whose float32 run took
    another course. Computed from the verdicts and the records; nothing typed in."""

    out = []
    severity = {"not reproduced": 0, "inconclusive": 1, "partly reproduced": 2}
    for v in sorted((v for v in verdicts if v.grade != "reproduced"), key=lambda v: severity[v.grade]):
        out.append(f"{badge(v)} {claim_link(v.claim, f'Claim {v.claim}')}, {_html.escape(v.title)}: "
                   f"{_html.escape(interpretation(v))}")
    for v in verdicts:
        if v.grade == "reproduced" and not v.robust:
            by_def = [grid for words, _, grid in v.flips if words == RANK_DEF]
            if by_def:
                other = sorted({g for _, g in by_def[0] if g != v.grade})
                out.append(f"{badge(v)} {claim_link(v.claim, f'Claim {v.claim}')}, {_html.escape(v.title)}: "
                           f"reproduced only under the paper's machine-precision rank; "
                           f"{_html.escape(' or '.join(other))} under "
                           + _html.escape(", ".join(val for val, g in by_def[0] if g != v.grade)) + ".")
            else:
                out.append(f"{badge(v)} {claim_link(v.claim, f'Claim {v.claim}')}, {_html.escape(v.title)}: "
                           f"reproduced at the default thresholds only. {_html.escape(robustness_text(v))}")
    from .twins import twins

    for v in verdicts:  # parts the optimizer decides, and timed parts whose later event does not lead the climb
        fixed = [p.words for p in v.parts if p.by_construction and not p.n]
        if fixed:
            out.append(f"{claim_link(v.claim, f'Claim {v.claim}')}, {_html.escape(v.title)}: "
                       + "; ".join(f"“{_html.escape(w)}”" for w in fixed) + " holds by construction and is no "
                       "longer counted: until the test climb starts, the weight norm is AdamW's decay clock.")
        signs = [p.lag_signs for p in v.parts if p.lag_signs and p.counted]
        total = tuple(sum(s[i] for s in signs) for i in range(3)) if signs else ()
        if total and total[0] > total[2]:
            out.append(f"{claim_link(v.claim, f'Claim {v.claim}')}, {_html.escape(v.title)}: "
                       f"{_html.escape(lag_words(total))}: it follows the climb more often than it leads it.")

    link = f'(<a href="{SCOREBOARD_PAGE}#float32-versus-float64">float32 versus float64</a>)'
    for t in twins(runs):  # a dtype difference is a caveat only where it exceeds the float32 seeds' own spread
        if t.within_spread is not False and t.phase_within_spread:
            continue
        what = []
        if not t.phase_within_spread:
            seeds = ", ".join(f"{p} ({n} of {len(t.phases32)})" for p, n in Counter(t.phases32).items())
            what.append(f"its float64 twin is “{_html.escape(t.phase64)}”, a phase no float32 seed takes "
                        f"(float32 seeds: {_html.escape(seeds)})")
        if t.within_spread is False:
            worse = [f"{w}: {d / sp:.2f} × the seeds' distance" for w, d, sp in
                     (("test accuracy", t.dtype.acc, t.seed_spread.acc),
                      ("mean hidden rank", t.dtype.rank, t.seed_spread.rank)) if d > sp]
            what.append("its float32 and float64 runs lie further apart than two float32 seeds do ("
                        + ", ".join(worse) + ")")
        out.append(f"{_html.escape(t.label)}, seed {t.seed}: " + "; ".join(what) + f" {link}.")
    return out


def caveats_html(verdicts, runs) -> str:
    items = "".join(f"<li>{x}</li>" for x in caveats(verdicts, runs))
    return f'<ul class="grokkit-caveats">{items}</ul>' if items else "<p>Every claim reproduced, robustly.</p>"


def claims_table_html(verdicts) -> str:
    """The compact table of the opening page: claim (linked to its scoreboard row), grade badge, one sentence."""
    rows = "".join(f"<tr><td>{claim_link(v.claim, f'{v.claim}. {v.title}')}</td><td>{badge(v)}</td>"
                   f"<td>{_html.escape(interpretation(v))}</td></tr>" for v in verdicts)
    return ('<table class="grokkit-claims"><thead><tr><th>claim</th><th>grade</th><th>in one sentence</th></tr>'
            f"</thead><tbody>{rows}</tbody></table>")


