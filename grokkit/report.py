"""Report: the tables the book and `python -m grokkit scoreboard` show about the claims, for a person.

    from grokkit import records, claims, report
    verdicts = claims.evaluate(records.load_all())
    print(report.scoreboard(verdicts))

Facts only: grades, on how many seeds, runs or pairs each part of a claim holds, the measured values (`num`: thousands
separators and units) and the thresholds that change a grade. What the facts mean is written in the chapters.
"""
from __future__ import annotations

import html as _html
import json
from collections import Counter

from . import texts
from .claims import GRADES, RANK_DEF, THRESHOLDS, Verdict
from .fmt import badge_span, num
from .grades import part_status

_e = _html.escape


def _md(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


# ---- one part of a claim: its count and status ------------------------------------------------------------------
PER = {"": ("comparison", "comparisons", "of medians"), "counts": ("comparison", "comparisons", "of counts")}
STATUS = {"held": "held", "some": "held on some", "failed": "not held", "untested": "not tested",
          "baseline": "baseline", "construction": "by construction, not counted"}


def _per(p, n: int) -> str:
    """What n counts: 'seeds' ('seed' for one), 'comparison of medians', ..."""
    if p.per in PER:
        one, many, of = PER[p.per]
        return f"{one if n == 1 else many} {of}"
    return p.per if n != 1 else p.per.rstrip("s")


def part_count(p, short: bool = False) -> str:
    """'2 of 3 seeds', '1 of 1 comparison of medians' ('1 of 1 comparison' when `short`), 'by construction on 19
    runs', '–' (nothing to judge)."""
    if p.n == 0 and p.by_construction:
        return f"by construction on {p.by_construction} {'runs' if p.per in PER else p.per}"
    if p.n == 0:
        return "–"
    per = _per(p, p.n)
    return f"{p.k} of {p.n} {per.split(' of ')[0] if short and p.per in PER else per}"


def status_key(p) -> str:
    """A part's status (a key of STATUS): grades.part_status for a counted part, else "baseline" or
    "construction"."""
    if p.baseline:
        return "baseline"
    return "construction" if not p.counted else part_status(p)


def _parts_list(v: Verdict) -> str:
    """The parts as a compact list (HTML): 'label: 2 of 3 seeds', a baseline or a part decided by construction
    marked so."""
    items = []
    for p in v.parts:
        key = status_key(p)
        count = part_count(p, short=True) if key not in ("baseline", "construction") else STATUS[key]
        items.append(f'<li class="grokkit-{key}">{_e(p.words)}: <b>{_e(count)}</b></li>')
    return f'<ul class="grokkit-parts">{"".join(items)}</ul>'


# ---- the measured values of a part ----------------------------------------------------------------------------
def _bare(v, unit: str) -> str:
    """num() without the unit word (the unit goes in the measure's head)."""
    s = num(v, unit)
    for w in (" steps", " decades", " layers", " layer"):
        s = s.removesuffix(w)
    return s


def _values_html(items, judged_only: bool, head: bool = True) -> str:
    """Each measure's values, grouped by configuration, seeds in order; ✗ marks a seed the part fails on.
    `judged_only` leaves out the seeds a per-seed part was not judged on (no value, no verdict); `head`: each
    measure's name (and unit) above its values, else the unit alone."""
    groups: dict = {}
    for it in items:
        if judged_only and it.held is None and it.value is None and not it.text:
            continue
        cfg, _, seed = it.label.partition(", seed ")
        val = _e(it.text) if it.text else _bare(it.value, it.unit)
        if it.held is False:
            val += ' <span title="the part does not hold on this seed">✗</span>'
        groups.setdefault((it.measure, it.unit), {}).setdefault(cfg, []).append((seed, val))
    out = []
    for (measure, unit), cfgs in groups.items():
        rows = "".join(
            f"<br>{_e(cfg)}: {' · '.join(v for _, v in vals)}"
            + (f" (seed{'s' * (len(vals) > 1)} {_e(', '.join(s for s, _ in vals))})" if vals[0][0] else "")
            for cfg, vals in cfgs.items())
        name = f"<em>{_e(measure)}</em>{f' ({_e(unit)})' if unit else ''}" if head else _e(unit)
        out.append(f"<div>{name}{rows.removeprefix('<br>') if not name else rows}</div>")
    return "".join(out)


def _held_cell(p) -> str:
    bits = [_e(part_count(p))]
    if p.by_construction and p.n:
        bits.append(f"{p.by_construction} more {'runs' if p.per in PER else p.per} by construction, not counted")
    if p.note:
        bits.append(_e(p.note))
    if p.lag_signs:
        bits.append("later than / at / before the climb's start: " + " / ".join(map(str, p.lag_signs)))
    return "<br>".join(f"<small>{b}</small>" if i else b for i, b in enumerate(bits))


def parts_table_html(v: Verdict) -> str:
    """A claim's parts (HTML table): number, label, on how many seeds, runs or pairs it holds, the measured values
    and its status; then what was measured beside the claim, never graded."""
    rows = [f"<tr><td>{i}</td><td>{_e(p.words)}</td><td>{_held_cell(p)}</td>"
            f"<td>{_values_html(p.items, p.per not in PER)}</td><td>{STATUS[status_key(p)]}</td></tr>"
            for i, p in enumerate(v.parts, 1)]
    for measure in dict.fromkeys(it.measure for it in v.beyond):
        rows.append(f"<tr><td></td><td>{_e(measure)}</td><td>–</td>"
                    f"<td>{_values_html([it for it in v.beyond if it.measure == measure], False, False)}</td>"
                    "<td>beside the claim, not graded</td></tr>")
    return ('<table class="grokkit-parts-table"><thead><tr><th>#</th><th>part</th><th>held on</th>'
            '<th>measured (✗: does not hold on that seed)</th><th>status</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


# ---- robustness -----------------------------------------------------------------------------------------------
def _val(val) -> str:
    return val if isinstance(val, str) else f"{val:,g}"


def _runs(grid, grade) -> str:
    """The swept values at which the outcome is `grade`, neighbouring sweep points merged ("0.25, 0.5 to 0.75"):
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


# The rank-definition sweep's row in the robustness and sensitivity tables (claims.toml [definition])
RANK_DEF_WHAT = texts.entry("claims", "definition", "rank_definition")
RANK_DEF_SENSITIVITY = texts.entry("claims", "definition", "rank_definition_sensitivity")


def _what(name: str) -> str:
    """'smallest test-accuracy rise, surge or post-fit gain (accuracy; default 0.05, range 0.03 to 0.1)'."""
    if name == RANK_DEF:
        return RANK_DEF_WHAT
    t = THRESHOLDS[name]
    return f"{t.words} ({t.unit}; default {t.value:,g}, range {t.lo:,g} to {t.hi:,g})"


def grade_flips(v: Verdict) -> list[tuple]:
    """(threshold name or RANK_DEF, the values, the grade there) for every grade other than the default one that a
    threshold's range or another rank definition gives."""
    return [(name, _runs(grid, g), g) for name, _, _, grid in v.sweeps
            for g in dict.fromkeys(g for _, g in grid if g != v.grade)]


def part_moves(v: Verdict) -> list[tuple]:
    """(part number, threshold name or RANK_DEF, [(values, 'k of n')]) for every part whose count moves within a
    threshold's range or under another rank definition."""
    out = []
    for i, p in enumerate(v.parts):
        for name, grid in v.part_sweeps:
            counts = [(val, c[i]) for val, c in grid if i < len(c)]
            moved = list(dict.fromkeys(c for _, c in counts if c != (p.k, p.n, p.by_construction)))
            if moved:
                out.append((i + 1, name, [(_runs(counts, c), _k_of_n(*c)) for c in moved]))
    return out


def _k_of_n(k: int, n: int, by_construction: int = 0) -> str:
    return f"{k} of {n}" if n or not by_construction else f"by construction on {by_construction}"


def robustness_table_html(v: Verdict) -> str:
    """The thresholds (and rank definitions) within whose range the grade changes, with the values where it does and
    the grade there (HTML table; one cell saying none does when none does), then, folded, every part whose count
    moves."""
    if v.missing:
        return ""
    rank = any(n == RANK_DEF for n, *_ in v.sweeps)
    flips = grade_flips(v)
    if flips:
        body = "".join(f"<tr><td>{_e(_what(n))}</td><td>{_e(at)}</td><td>{_e(g)}</td></tr>" for n, at, g in flips)
        table = ('<table class="grokkit-robustness"><thead><tr><th>threshold or rank definition that changes the '
                 f"grade</th><th>at</th><th>grade there</th></tr></thead><tbody>{body}</tbody></table>")
    else:
        table = ('<table class="grokkit-robustness"><tbody><tr><td>robust: no threshold'
                 f"{' or rank definition' if rank else ''} changes the grade within its range</td></tr></tbody>"
                 "</table>")
    moves = part_moves(v)
    if not moves:
        return table
    base = {i: _k_of_n(p.k, p.n, p.by_construction) for i, p in enumerate(v.parts, 1)}
    body = "".join(f"<tr><td>{i}</td><td>{_e(_what(n))}</td><td>{base[i]}</td>"
                   f"<td>{'<br>'.join(f'{_e(at)}: {c}' for at, c in counts)}</td></tr>" for i, n, counts in moves)
    return (f'{table}<details class="grokkit-detail"><summary>Each part\'s count across the thresholds '
            f"({len(moves)} that move)</summary><table class=\"grokkit-robustness grokkit-moves\"><thead><tr>"
            "<th>part</th><th>threshold or rank definition</th><th>at the defaults</th><th>elsewhere in its range</th>"
            f"</tr></thead><tbody>{body}</tbody></table></details>")


def claim_detail_html(v: Verdict) -> str:
    """One claim's facts (HTML): its rule (a definition, from grokkit.claims), its parts table and its robustness
    table; the chapters' Verdict sections and the scoreboard's details both show it."""
    missing = f"<p><b>No record of:</b> {_e(', '.join(v.missing))}</p>" if v.missing else ""
    stand = f"<p><b>Smoke-scale stand-ins among the runs:</b> {v.stand_ins}</p>" if v.stand_ins else ""
    return (f"<p><b>Rule:</b> {_e(v.rule)}.</p>{missing}{stand}{parts_table_html(v)}"
            f"{robustness_table_html(v)}")


def robust_word(v: Verdict) -> str:
    return "–" if v.missing else ("robust" if v.robust else "fragile")


def _robust_cell(v: Verdict) -> str:
    return f'<span title="{_e(FRAGILE_WORDS)}">fragile</span>' if robust_word(v) == "fragile" else robust_word(v)


# ---- the scoreboard ---------------------------------------------------------------------------------------------
def scoreboard(verdicts, html: bool = False) -> str:
    """The scoreboard: claim, the paper's statement, grade, robust or fragile, and each part's count. For the book
    (html=True) each row's first cell carries the anchor `claim-<n>` (`claim_anchor`) that the chapters link to, its
    grade is a badge and its last cell links the claim's details (`claim_details_html`); for the CLI, Markdown."""
    if html:
        rows = "".join(
            f'<tr><td><span id="{claim_anchor(v.claim)}"></span>{v.claim}. {_e(v.title)} '
            f'({_e(v.figure)}) <a href="#{claim_anchor(v.claim)}-detail">details</a></td><td>{_e(v.paper)}</td>'
            f"<td>{badge(v, fragile=False)}</td><td>{_robust_cell(v)}</td><td>{_parts_list(v)}</td></tr>"
            for v in verdicts)
        return ('<table class="grokkit-scoreboard"><thead><tr><th style="width:18%">claim</th>'
                '<th style="width:21%">the paper says</th><th style="width:15%">grade</th>'
                '<th style="width:10%">robust?</th><th style="width:36%">parts held</th></tr></thead>'
                f"<tbody>{rows}</tbody></table>")
    lines = ["| claim | the paper says | grade | robust? | parts held |", "|---|---|---|---|---|"]
    for v in verdicts:
        parts = "; ".join(f"{p.words}: {part_count(p) if p.counted else STATUS[status_key(p)]}" for p in v.parts)
        lines.append(f"| {v.claim}. {_md(v.title)} ({_md(v.figure)}) | {_md(v.paper)} | **{v.grade}** | "
                     f"{robust_word(v)} | {_md(parts) or '–'} |")
    return "\n".join(lines) + "\n"


def claim_details_html(verdicts) -> str:
    """The scoreboard's second layer: one collapsed block per claim (HTML <details>, id `claim-<n>-detail`) holding
    `claim_detail_html`."""
    return "".join(f'<details class="grokkit-detail" id="{claim_anchor(v.claim)}-detail"><summary>{badge(v)} '
                   f"<strong>Claim {v.claim}: {_e(v.title)}</strong> (rule, parts, robustness)</summary>"
                   f"{claim_detail_html(v)}</details>" for v in verdicts)


def tally(verdicts) -> dict:
    """grade -> how many claims have it, in GRADES order."""
    c = Counter(v.grade for v in verdicts)
    return {g: c.get(g, 0) for g in GRADES}


def tally_md(verdicts) -> str:
    """The grades (Markdown table): per grade, its claims and the fragile ones among them."""
    lines = ["| grade | claims | fragile among them |", "|---|---|---|"]
    for g in GRADES:
        vs = [v for v in verdicts if v.grade == g]
        if vs:
            lines.append(f"| {g} | {', '.join(str(v.claim) for v in vs)} | "
                         f"{', '.join(str(v.claim) for v in vs if not v.robust) or '–'} |")
    return "\n".join(lines) + "\n"


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
                what = RANK_DEF_SENSITIVITY
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
    """One object per claim: claim, grade, robust, rule, measures (name -> {unit, values: {run label: number}}),
    parts: [{words, k, n, per, status, counted (false: a baseline, or decided by construction on every run),
    baseline, by_construction (runs left out because AdamW's decay clock decides them), lag_signs {after, same,
    before} of a timed part, moves: [{name, value, k, n}] where the part's own count moves in the sweeps}],
    robustness: [{name: a threshold's name or "rank definition", values: [...], grades: [...]}] for every swept
    threshold and, for a claim that reads ranks, every rank definition. `robust` is true exactly when every listed
    grade equals `grade`."""
    return json.dumps([{"claim": v.claim, "grade": v.grade, "robust": bool(v.robust), "rule": v.rule,
                        "missing": v.missing, "measures": v.measures,
                        "parts": [{"words": p.words, "k": p.k, "n": p.n, "per": p.per, "status": status_key(p),
                                   "counted": p.counted, "baseline": p.baseline,
                                   "by_construction": p.by_construction,
                                   "lag_signs": dict(zip(("after", "same", "before"), p.lag_signs)),
                                   "moves": [{"name": name, "value": val, "k": k, "n": n}
                                             for j, moved in part_flips(v) if j == i for name, val, k, n in moved]}
                                  for i, p in enumerate(v.parts, 1)],
                        "robustness": [{"name": name, "values": [val for val, _ in grid],
                                        "grades": [g for _, g in grid]} for name, _, _, grid in v.sweeps]}
                       for v in verdicts], ensure_ascii=False, indent=1)


# ---- the reader's book: badges, "What we found", same or different from the paper -------------------------------
SCOREBOARD_PAGE = "scoreboard.html"  # the scoreboard chapter as built (book/scoreboard.ipynb), beside every chapter


def claim_anchor(n: int) -> str:
    """The HTML id of claim n's scoreboard row ("claim-5")."""
    return f"claim-{n}"


def claim_link(n: int, text: str | None = None) -> str:
    """An HTML link to claim n's scoreboard row, relative to a chapter page (book/<chapter>.html)."""
    return f'<a href="{SCOREBOARD_PAGE}#{claim_anchor(n)}">{_e(text or f"claim {n}")}</a>'


# The grades and "fragile" defined (claims.toml [definition]): the badges' hover text and the grades paragraph
GRADE_WORDS = {g: texts.entry("claims", "definition", g) for g in GRADES}
FRAGILE_WORDS = texts.entry("claims", "definition", "fragile")


def grades_html() -> str:
    """The grades and "fragile" defined in one paragraph (HTML), in the words of GRADE_WORDS and FRAGILE_WORDS (the
    badges' hover text), for the pages where badges first appear."""
    words = [*GRADE_WORDS.values(), FRAGILE_WORDS]
    parts = [f"<em>{_e(w.split(': ', 1)[0].capitalize())}</em>: {_e(w.split(': ', 1)[1])}" for w in words]
    return f'<p class="grokkit-terms"><b>Grades.</b> {". ".join(parts)}.</p>'


def badge(v: Verdict, fragile: bool = True) -> str:
    """The grade as a coloured badge (HTML; classes styled in book/_static/grokkit.css, light and dark mode):
    `grokkit-badge grokkit-<grade with dashes>`, plus `grokkit-fragile` for a fragile grade; hovering it explains
    the grade (and fragility). `fragile=False`: the grade alone, for a table whose own column says robust or fragile."""
    fragile = fragile and not (v.robust or v.missing)
    cls = "grokkit-" + v.grade.replace(" ", "-") + (" grokkit-fragile" if fragile else "")
    word = v.grade + (", fragile" if fragile else "")
    tip = GRADE_WORDS[v.grade] + (f"; {FRAGILE_WORDS}" if fragile else "")
    return badge_span(cls, word, tip)


def found_html(verdicts) -> str:
    """A chapter's "What we found" box (HTML): the claims judged on the page as a table -- each claim's number and
    title (linked to its scoreboard row), its grade as a badge, robust or fragile, and each part's count."""
    rows = "".join(f"<tr><td>{claim_link(v.claim, f'{v.claim}. {v.title}')}</td><td>{badge(v, fragile=False)}</td>"
                   f"<td>{_robust_cell(v)}</td><td>{_parts_list(v)}</td></tr>" for v in verdicts)
    return ('<div class="grokkit-found"><p class="grokkit-found-title">What we found: the claims judged here</p>'
            '<table class="grokkit-claims"><thead><tr><th>claim</th><th>grade</th><th>robust?</th>'
            f"<th>parts held</th></tr></thead><tbody>{rows}</tbody></table></div>")


def same_or_different(verdicts) -> str:
    """One line under one of our figures (HTML): the claims that figure tests, grouped by whether they reproduced
    ("Same as the paper"), did not fully ("Different from the paper") or were not decided, each with its title, a
    link to its scoreboard row and its grade. Empty for no verdicts."""
    groups = (("Same as the paper", ("reproduced",)),
              ("Different from the paper", ("partly reproduced", "not reproduced")),
              ("Not decided", ("inconclusive",)))
    out = []
    for head, grades in groups:
        vs = [v for v in verdicts if v.grade in grades]
        if vs:
            out.append(f"<strong>{head}:</strong> "
                       + "; ".join(f"{_e(v.title)} ({claim_link(v.claim)}: {_e(v.grade)})" for v in vs) + ".")
    return f'<p class="grokkit-compare">{" ".join(out)}</p>' if out else ""


def verdict_layers_html(v: Verdict) -> str:
    """One claim's verdict for a chapter: the claim, its grade and robustness, a link to its scoreboard row, then
    its facts (`claim_detail_html`)."""
    return (f'<div class="grokkit-verdict"><p><strong>Claim {v.claim}: {_e(v.title)}</strong> ({_e(v.figure)}) '
            f"{badge(v)} {claim_link(v.claim, 'scoreboard row')}</p>{claim_detail_html(v)}</div>")


# ---- the opening page: what did not hold first -------------------------------------------------------------------
def not_held_rows(verdicts) -> list[tuple]:
    """(verdict, part) for every part of a claim that did not hold on all it was judged on, was not tested, or is
    decided by construction (baselines left out), the claims not reproduced first."""
    order = {"not reproduced": 0, "inconclusive": 1, "partly reproduced": 2, "reproduced": 3}
    return [(v, p) for v in sorted(verdicts, key=lambda v: order[v.grade]) for p in v.parts
            if not p.baseline and (p.n == 0 or p.k < p.n)]


def not_held_html(verdicts) -> str:
    """The opening page's table of the parts that did not hold or were not tested (`not_held_rows`): claim (linked
    to its scoreboard row), part, held on, status; the last two cells carry their column's name, shown on a phone where
    the table stacks into cards."""
    rows = "".join(f"<tr><td>{claim_link(v.claim, f'{v.claim}. {v.title}')}</td><td>{_e(p.words)}</td>"
                   f'<td data-label="held on">{_e(part_count(p))}</td>'
                   f'<td data-label="status">{STATUS[status_key(p)]}</td></tr>'
                   for v, p in not_held_rows(verdicts))
    if not rows:
        return ""
    return ('<table class="grokkit-claims"><thead><tr><th>claim</th><th>part that did not hold or was not tested'
            f"</th><th>held on</th><th>status</th></tr></thead><tbody>{rows}</tbody></table>")


def twins_outside_html(runs) -> str:
    """The float64 twins whose float32 run lies further from them than two float32 seeds lie apart, or whose phase
    no float32 seed takes (HTML table, linked to the scoreboard's float32-versus-float64 section); '' for none."""
    from .twins import twins

    def ratio(r):
        return "–" if r is None else f"{r:.2f}"

    rows = "".join(f"<tr><td>{_e(t.label)}, seed {t.seed}</td><td>{ratio(t.acc_ratio)}</td>"
                   f"<td>{ratio(t.rank_ratio)}</td><td>{_e(t.phase64)}</td><td>{_e(', '.join(t.phases32))}</td></tr>"
                   for t in twins(runs) if t.within_spread is False or not t.phase_within_spread)
    if not rows:
        return ""
    return (f'<p><a href="{SCOREBOARD_PAGE}#float32-versus-float64">Float64 twins</a> outside the float32 seeds\' '
            'spread (distance float32 to float64 ÷ largest distance between float32 seeds):</p>'
            '<table class="grokkit-claims"><thead><tr><th>twin</th><th>test accuracy</th><th>mean hidden rank</th>'
            f"<th>float64 phase</th><th>float32 seeds' phases</th></tr></thead><tbody>{rows}</tbody></table>")


def claims_table_html(verdicts) -> str:
    """The compact table of the opening page: claim (linked to its scoreboard row), grade badge, robust or
    fragile."""
    rows = "".join(f"<tr><td>{claim_link(v.claim, f'{v.claim}. {v.title}')}</td><td>{badge(v, fragile=False)}</td>"
                   f"<td>{_robust_cell(v)}</td></tr>" for v in verdicts)
    return ('<table class="grokkit-claims"><thead><tr><th>claim</th><th>grade</th><th>robust?</th></tr>'
            f"</thead><tbody>{rows}</tbody></table>")
