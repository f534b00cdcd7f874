"""Check every chapter of the built book in a browser, in light and dark mode, on a desktop and a phone, and save
screenshots for a person.

    python scripts/check_book.py [--html _build/html] [--out _build/book-check] [--toc _toc.yml] [--full-page]

Serves the built HTML from 127.0.0.1 and opens each page of _toc.yml (the introduction and every chapter) in
headless Chromium (playwright driving the system's /usr/bin/chromium, as scripts/check_widgets.py does:
`apt-get install chromium`, `pip install playwright`, no `playwright install`), once in the theme's light mode and
once in its dark mode, each at 1280 px wide (a desktop) and at 390 px wide (a phone, 390x844 at 2x). A page fails on:
- a Python traceback on the page (an error output, or "Traceback (most recent call last)" in its text);
- an empty figure: an image that loaded with zero natural size or failed to load, or a code cell's output area
  with nothing in it;
- a broken internal link: an href or src on 127.0.0.1 whose file does not exist in --html, or whose #anchor is no
  id of the target page;
- in dark mode, a figure not on a light card (book/_static/grokkit.css): dark axis labels on the dark page;
- a repository button or Colab launch link that does not use _config.yml's repository.url (a chapter with outputs
  must have a Colab link);
- a figure without its "download data (CSV)" link, or a chapter without its "What we found" box of grade badges;
- a JavaScript error (an uncaught exception, or an error on the console); the light-mode visit is a fresh profile
  with nothing in localStorage, so the theme's own start-up is checked too;
- harness markers or Python reprs in the text a reader sees (HARNESS_MARKERS, OUTPUT_MARKERS);
- the page scrolling sideways as a whole (wider than the window), at either width;
- at either width, every figure and explorer image (grokkit.picture): its smallest text as displayed under
  MIN_FONT_PX (the text's design size from the img's data-font-px / data-phone-font-px, for the rendering the
  window shows, times the displayed / design width), no real alt text, or a legend that covers plotted points;
- at 1280 px only (a phone necessarily shrinks figures and scrolls wide tables inside their own box, which is only
  reported there): a figure shown at under MIN_FIGURE_SCALE of its intended width (the img's width attribute or
  its own style width in px, the design width in CSS px of a figure embedded at 2x, else its natural width), a
  table in the text column that scrolls sideways, a page taller than its budget in HEIGHT_BUDGETS, a code or
  output line cut at the right edge, more than one search box, or a grade badge spilling over the next column.
Saves <out>/<page>-found-<mode>.png (the viewport at the chapter's "What we found" box, or the page's top) and
<out>/<page>-light.png and <out>/<page>-dark.png: the viewport scrolled to the page's first figure (the top of
the page when it has none), or the whole page with --full-page; the same at phone width as <out>/<page>-light-390.png,
<out>/<page>-found-dark-390.png, ... Prints what it found per page, then a summary per page (heights at both widths,
every figure's display scale, tables that scroll sideways, failures); exits 1 on any failure.
Requests that leave 127.0.0.1 are blocked and listed (the book is meant to work offline) but do not fail a page.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from check_widgets import FLAGS, serve  # same folder: the same browser, flags and server

REPO = Path(__file__).resolve().parent.parent

# runs in the page; returns everything the checks need, so that they live in Python below
PROBE = """async () => {
  const imgs = [...document.querySelectorAll('.bd-content img')];
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  const main = document.querySelector('.bd-content') || document.body;
  const outs = [...main.querySelectorAll('div.cell_output')];
  const light = el => {
    const m = getComputedStyle(el).backgroundColor.match(/[\\d.]+/g) || [];
    const [r, g, b, a] = m.map(Number);
    return a === 0 ? null : 0.2126 * r + 0.7152 * g + 0.0722 * b;   // luminance 0..255, null if transparent
  };
  return {
    theme: document.documentElement.dataset.theme,
    title: document.title,
    tracebacks: [...main.querySelectorAll('.output.traceback, .output.error, .cell_output .ansi-red-fg')]
                  .map(e => e.textContent.slice(0, 200)).concat(
                main.innerText.includes('Traceback (most recent call last)')
                  ? ['Traceback (most recent call last)'] : []),
    images: imgs.map(i => ({src: i.currentSrc || i.src, w: i.naturalWidth, h: i.naturalHeight,
                            figure: !!i.closest('div.cell_output'), bg: light(i)})),
    empty_outputs: outs.filter(o => !o.textContent.trim() && !o.querySelector('img, svg, canvas, table, iframe, video'))
                       .map(o => (o.closest('.cell') || o).id || o.outerHTML.slice(0, 120)),
    n_outputs: outs.length,
    links: [...document.querySelectorAll('a[href], link[href], img[src], script[src]')]
             .map(e => e.href || e.src).filter(Boolean),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    // a cell that draws a figure (a matplotlib image, not an explorer's) must link its data (grokkit.book.show)
    figures_without_data: outs.filter(o => o.querySelectorAll('img:not(.widget-image)').length
                                           > o.querySelectorAll('.grokkit-download a[href$=".csv"]').length)
                              .map(o => (o.closest('.cell') || o).id || o.textContent.slice(0, 80)),
    found_badges: [...main.querySelectorAll('.grokkit-found .grokkit-badge')].map(b => b.textContent),
    // a chapter that answers in written words (its first paragraphs open "In short.") needs no generated box
    written_answer: [...main.querySelectorAll('p')].slice(0, 3).some(p => p.textContent.trim().startsWith('In short.')),
    repo_buttons: [...document.querySelectorAll('a.btn-source-repository-button')].map(a => a.href),
    colab: [...document.querySelectorAll('a[href*="colab.research.google.com"]')].map(a => a.href),
  };
}"""

# scroll to the first figure that drew, with a little of what precedes it
FIRST_FIGURE = """() => {
  const i = [...document.querySelectorAll('div.cell_output img')].find(i => i.naturalWidth > 0);
  if (i) { i.scrollIntoView({block: 'start'}); window.scrollBy(0, -120); }
}"""
# scroll to the chapter's "What we found" box (the top of the page when it has none)
FOUND = """() => {
  const f = document.querySelector('.grokkit-found');
  if (f) { f.scrollIntoView({block: 'start'}); window.scrollBy(0, -80); }
}"""
DARK_INIT = "localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');"
LOAD_NOISE = ("Failed to load resource",)  # the browser's own line for a failed request, which is listed by its URL

# the two widths every page is opened at: a desktop (the figures' and tables' design width) and a phone
DESKTOP, PHONE = 1280, 390
VIEWPORTS = {DESKTOP: {"viewport": {"width": DESKTOP, "height": 900}},
             PHONE: {"viewport": {"width": PHONE, "height": 844}, "device_scale_factor": 2}}
MIN_FIGURE_SCALE = 0.9  # at 1280 px a figure is shown at no less than 90 % of its intended (design) width
MIN_FONT_PX = 9.0  # at either width, a figure's smallest text (tick labels) as displayed, in CSS px

# Page heights in CSS px at 1280 px wide: regression guards, not targets (a chapter that grows past its budget has
# gained a figure or a table that should be folded away, or lost a fold). Every run prints the measured heights in
# its closing summary; set a page's budget a little above them. Keys are page stems; "*" is every other page.
# Measured on the build of ecf4ff0 (light mode; dark is ~1 % taller, its figures sit on cards): intro 9763,
# grokking_rank 7827, depth 9526, multistage 17736, weight_norm 8620, scoreboard 19283 (over its budget: the table
# work of issue 25 is to bring it down), run_it_yourself 2236.
# Issue 45: the claim-measure figure gives a claim measured on more than four configurations a whole row (their
# labels collided; +575 px) and the collapsed seed is named under the figure that draws it: the scoreboard measured
# 16680 px (light) on the build of that issue, so its budget goes from 16000 to 17000.
# Issue 43: the scoreboard opens with its written answer (+150 px) and states the float64 comparison in prose with a
# small table: 17,129 px (light) on the build of that change, so its budget goes from 17000 to 17500.
HEIGHT_BUDGETS = {"*": 30000, "scoreboard": 17500}

# Test-harness and Python-internals text a reader must never see. Each entry is (what it is, regex); a page fails
# when one matches. HARNESS_MARKERS are searched in all the visible text of the page (prose, code cells shown to the
# reader, outputs; cells with hidden input are display:none and innerText skips them); OUTPUT_MARKERS only in the
# cells' outputs, because the same text can be legitimate code (a code cell may well build a RunConfig(...)).
HARNESS_MARKERS = (
    # nbval's cell comments (# NBVAL_IGNORE_OUTPUT, # NBVAL_SKIP, any case) and cell tags (nbval-skip,
    # nbval-ignore-output); pytest's command-line options (--nbval-lax, --nbval-current-env), which the "Run it
    # yourself" chapter tells readers to type, are not markers: hence the look-behind for "--"
    ("nbval marker", r"(?i)(?<!--)\bnbval"),
    ("pytest marker", r"PYTEST"),  # PYTEST_CURRENT_TEST and the like; "pytest" in lower case is the reader's command
    # a results/ record's name, e.g. d12_w400_n2000_a8_wd0.01_s0_f64-f826c5573d (seed, dtype, 10 hex of its hash)
    ("run record id", r"_s\d+(_f64)?-[0-9a-f]{10}"),
)
OUTPUT_MARKERS = (
    ("Python repr of a grokkit object", r"<grokkit\."),
    ("RunConfig repr", r"RunConfig\("),
    ("a bare True/False output", r"(?m)^[ \t]*(True|False)[ \t]*$"),  # a cell's last expression left unassigned
    ("dict repr", r"\{'"),
)

# runs in the page at each width; returns the layout facts that the checks below need
LAYOUT = """() => {
  const main = document.querySelector('.bd-content') || document.body;
  const de = document.documentElement, vw = de.clientWidth;   // the layout viewport, less any scrollbar
  const shown = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                    + [...e.classList].slice(0, 2).map(c => '.' + c).join('');
  const scrolls = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
  // every figure of a cell output and every explorer image, in page order; hidden ones (an explorer's other
  // figures) have no displayed width and are left out
  const imgs = [...new Set([...main.querySelectorAll('div.cell_output img, .widget-image, .jupyter-widgets img')])]
    .filter(shown);
  const figures = imgs.map(i => {
    // the design width: the width attribute, or a width in px set on the element itself (docutils writes a
    // figure's output-metadata width as style="width: 680px", the explorer's images get it as a widget layout)
    const own = (i.getAttribute('width') || '').trim() || (i.style.width.endsWith('px') ? i.style.width : '');
    const attr = parseFloat(own);
    const pct = own.endsWith('%');
    const intended = attr > 0 && !pct ? attr : i.naturalWidth;
    const shownW = i.getBoundingClientRect().width;
    // grokkit.picture: the rendering shown (the phone one where its <source> media matches), its design width
    // and the size of its smallest text at that width; a figure without them (an older build) is assumed to be
    // a 9-point figure at 100 CSS px per inch, shown at its width attribute
    const source = i.parentElement && i.parentElement.tagName === 'PICTURE' ? i.parentElement.querySelector('source')
                                                                            : null;
    const phone = !!(source && window.matchMedia(source.media).matches);
    const design = parseFloat(i.dataset[phone ? 'phoneWidth' : 'width']) || intended;
    const font = parseFloat(i.dataset[phone ? 'phoneFontPx' : 'fontPx']);
    const fontPx = (isNaN(font) ? 12.5 : font) * (design > 0 ? shownW / design : 1);
    return {kind: i.matches('.widget-image') || i.closest('.jupyter-widgets') ? 'explorer' : 'figure',
            natural: i.naturalWidth, width_attr: attr > 0 && !pct ? attr : null, intended: phone ? design : intended,
            shown: Math.round(shownW * 10) / 10, scale: (phone ? design : intended) > 0
              ? shownW / (phone ? design : intended) : null,
            rendering: phone ? 'phone' : (source ? 'desktop' : 'single'), font_px: Math.round(fontPx * 10) / 10,
            font_measured: !isNaN(font), legend_covers: parseInt(i.dataset.legendCovers || '0'),
            alt: i.getAttribute('alt') || '', src: (i.currentSrc || i.src).slice(-40)};
  });
  // code and output blocks whose lines are cut at the right edge (wider than their box, which clips or scrolls)
  const cut = [...main.querySelectorAll('pre')].filter(shown).filter(p => p.scrollWidth > p.clientWidth + 1)
    .map(p => p.innerText.split('\\n').sort((a, b) => b.length - a.length)[0].trim().slice(0, 60));
  // search boxes and buttons a reader sees
  const searches = [...document.querySelectorAll('.search-button-field, .search-button, form.bd-search')]
    .filter(e => shown(e) && getComputedStyle(e).visibility !== 'hidden').length;
  // a grade badge drawn past the right edge of its table cell, over the next column
  const spills = [...main.querySelectorAll('td .grokkit-badge')].filter(shown).filter(b => {
    const td = b.closest('td'); return b.getBoundingClientRect().right > td.getBoundingClientRect().right + 1;
  }).map(b => b.textContent);
  // a table scrolls sideways when it is wider than its column, or when a box around it (its own wrapper, up to the
  // text column) has to scroll sideways to show it
  const tables = [...main.querySelectorAll('table')].filter(shown).map(t => {
    const w = Math.max(t.scrollWidth, t.getBoundingClientRect().width);
    let room = t.parentElement.clientWidth, scroller = null;
    for (let e = t; e && e !== main.parentElement; e = e.parentElement) {
      if (scrolls(e) && e.scrollWidth > e.clientWidth + 1 && w > e.clientWidth + 1) {
        scroller = name(e); room = e.clientWidth; break;
      }
    }
    const cap = t.querySelector('caption') || t.querySelector('tr');
    return {width: Math.round(w), room: room, scroller: scroller,
            scrolls: scroller !== null || t.scrollWidth > t.parentElement.clientWidth + 1,
            label: (cap ? cap.innerText : '').replace(/\\s+/g, ' ').trim().slice(0, 60)};
  });
  // what sticks out of the window: the outermost visible elements past its right edge that no box clips or scrolls
  // (a theme's closed drawer, position: fixed and hidden off-screen, is not content that sticks out)
  const out = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > vw + 1; };
  const away = e => { for (let a = e; a && a !== document.body; a = a.parentElement) {
                        const st = getComputedStyle(a);
                        if (a !== e && st.overflowX !== 'visible') return true;   // clipped, or scrolls in its box
                        if (st.position === 'fixed' || st.visibility === 'hidden') return true;
                      }
                      return false; };
  const sticking = [...document.body.querySelectorAll('*')]
    .filter(e => out(e) && !(e.parentElement && e.parentElement !== document.body && out(e.parentElement))
                 && !away(e))
    .slice(0, 8).map(e => ({what: name(e), right: Math.round(e.getBoundingClientRect().right),
                            text: (e.innerText || '').replace(/\\s+/g, ' ').trim().slice(0, 50)}));
  return {
    width: vw, inner_width: window.innerWidth, scroll_width: de.scrollWidth, height: de.scrollHeight,
    figures: figures, tables: tables, sticking: sticking, cut: cut, searches: searches, spills: spills,
    text: main.innerText,
    outputs: [...main.querySelectorAll('div.cell_output')].filter(shown).map(o => o.innerText),
  };
}"""


def height_budget(page: str) -> int:
    """The height budget (CSS px at 1280 px wide) of a page: its stem's entry in HEIGHT_BUDGETS, else "*"'s."""
    return HEIGHT_BUDGETS.get(Path(page).stem, HEIGHT_BUDGETS["*"])


def harness_markers(text: str, outputs=()) -> list[str]:
    """The HARNESS_MARKERS in a page's visible `text` and the OUTPUT_MARKERS in its cells' `outputs`, with context."""
    found = []
    for markers, texts in ((HARNESS_MARKERS, [text]), (OUTPUT_MARKERS, list(outputs))):
        for what, rx in markers:
            for t in texts:
                m = re.search(rx, t)
                if m:
                    around = t[max(0, m.start() - 30):m.end() + 30].replace("\n", " ")
                    found.append(f"{what} in the text a reader sees: {m.group(0)!r} in {around!r}")
                    break
    return found


def percent(scale) -> str:
    return "?" if scale is None else f"{100 * scale:.0f} %"


def figure_line(n: int, f: dict) -> str:
    """'figure 3: 1360 px image, intended 680 px (design width), shown 680 px = 100 %'."""
    where = "design width" if f["width_attr"] else "natural width"
    return (f"{f['kind']} {n}: {f['natural']} px image ({f['rendering']} rendering), intended {f['intended']:g} px "
            f"({where}), shown {f['shown']:.0f} px = {percent(f['scale'])}, smallest text {f['font_px']:g} px"
            + ("" if f["font_measured"] else " (assumed 9 pt)"))


def figure_problems(lay: dict, width: int) -> list[str]:
    """A figure's text displayed under MIN_FONT_PX, alt text that is missing or a file name, a legend over plotted
    points (grokkit.picture's count), at either width."""
    problems = []
    for n, f in enumerate(lay["figures"], 1):
        if f["font_px"] < MIN_FONT_PX:
            problems.append(f"{f['kind']} {n}: its smallest text is displayed at {f['font_px']:g} px at {width} px "
                            f"(under {MIN_FONT_PX:g}; {f['rendering']} rendering shown at {percent(f['scale'])})")
        alt = f["alt"].strip()
        if len(alt) < 20 or re.search(r"\.(png|jpe?g|svg)$|^data:|_images/", alt):
            problems.append(f"{f['kind']} {n}: no alt text saying what it shows (alt={alt[:60]!r})")
        if f["legend_covers"]:
            problems.append(f"{f['kind']} {n}: a legend covers {f['legend_covers']} plotted points")
    return problems


def layout_problems(lay: dict, width: int, page: str) -> list[str]:
    """The layout failures of one page at one width (see the module's docstring): every width fails on the page
    scrolling sideways and on figure_problems; only the desktop width on small figures, tables that scroll, the
    height budget, code lines cut at the right edge, more than one search box and badges over the next column."""
    problems = figure_problems(lay, width)
    if lay["scroll_width"] > lay["width"] + 1:
        what = "; ".join(f"{s['what']} to {s['right']} px ({s['text']!r})" for s in lay["sticking"][:4])
        problems.append(f"the page scrolls sideways at {width} px: {lay['scroll_width']} px wide in a "
                        f"{lay['width']} px window" + (f"; sticking out: {what}" if what else ""))
    if width == DESKTOP:
        for n, f in enumerate(lay["figures"], 1):
            if f["scale"] is not None and f["scale"] < MIN_FIGURE_SCALE:
                problems.append(f"{figure_line(n, f)}: under {100 * MIN_FIGURE_SCALE:.0f} % of its intended width")
        for n, t in enumerate(lay["tables"], 1):
            if t["scrolls"]:
                problems.append(f"table {n} ({t['label']!r}) scrolls sideways: {t['width']} px wide in "
                                f"{t['room']} px" + (f" ({t['scroller']} scrolls)" if t["scroller"] else ""))
        problems += [f"a code or output line is cut at the right edge: {c!r}" for c in lay["cut"]]
        if lay["searches"] > 1:
            problems.append(f"{lay['searches']} search boxes (one is enough)")
        problems += [f"a grade badge spills over the next column: {b!r}" for b in lay["spills"]]
        if lay["height"] > height_budget(page):
            problems.append(f"the page is {lay['height']} px tall, over its budget of {height_budget(page)} px "
                            "(HEIGHT_BUDGETS)")
    return problems


def summary(results: dict) -> list[str]:
    """Lines per page from results[page][(mode, width)] = {"layout": ..., "problems": [...]}: heights at both widths,
    every figure's scale at both widths, tables scrolling sideways, and the failures (each once, with where)."""
    lines = []
    for page, runs in results.items():
        def lay(width, runs=runs):
            return (runs.get(("light", width)) or runs.get(("dark", width)) or {}).get("layout")
        d, ph = lay(DESKTOP), lay(PHONE)
        h = lambda x: f"{x['height']} px" if x else "-"  # noqa: E731
        n_fail = sum(bool(r["problems"]) for r in runs.values())
        lines.append(f"{page}: height {h(d)} at {DESKTOP} / {h(ph)} at {PHONE} (budget {height_budget(page)}); "
                     f"{'OK' if not n_fail else f'FAIL in {n_fail} of {len(runs)} runs'}")
        for width, x in ((DESKTOP, d), (PHONE, ph)):
            if not x:
                continue
            figs = ", ".join(f"{n}: {percent(f['scale'])}" for n, f in enumerate(x["figures"], 1)) or "none"
            if x["figures"]:
                small = min(x["figures"], key=lambda f: f["font_px"])
                lines.append(f"  at {width} px: smallest figure text {small['font_px']:g} px ({small['kind']} "
                             f"{x['figures'].index(small) + 1}, {small['rendering']} rendering"
                             + ("" if small["font_measured"] else ", assumed 9 pt") + "); "
                             + f"{len(x['cut'])} code lines cut; {x['searches']} search boxes")
            wide = [t for t in x["tables"] if t["scrolls"]]
            lines.append(f"  at {width} px: figures shown at {figs}; {len(wide)} of {len(x['tables'])} tables "
                         f"scroll sideways" + (f" ({', '.join(repr(t['label'][:30]) for t in wide)})" if wide else "")
                         + ("; the page scrolls sideways" if x["scroll_width"] > x["width"] + 1 else ""))
            for st in x["sticking"][:4]:
                lines.append(f"    sticks out of the window: {st['what']} to {st['right']} px ({st['text']!r})")
        where = {}
        for (mode, width), r in runs.items():
            for p in r["problems"]:
                where.setdefault(p, []).append(f"{mode} {width}")
        lines += [f"  FAIL ({', '.join(w)}): {p}" for p, w in where.items()]
    return lines


def pages(toc_file=REPO / "_toc.yml") -> list[str]:
    """The built pages of _toc.yml, in order: book/intro.html, book/<chapter>.html, ..."""
    import yaml

    toc = yaml.safe_load(Path(toc_file).read_text(encoding="utf-8"))
    return [f"{f}.html" for f in [toc["root"]] + [c["file"] for c in toc.get("chapters", [])]]


_ID = re.compile(r"""\sid=["']([^"']+)["']""")


def broken_links(links, page_ids, page: str, root: Path, base: str) -> list[str]:
    """Local hrefs/srcs (on `base`, the test server) whose file or #anchor does not exist under `root`."""
    bad, cache = [], {}
    for url in sorted(set(links)):
        if not url.startswith(base):
            continue  # external: not ours to check offline
        parts = urlsplit(url)
        path = unquote(parts.path).lstrip("/") or "index.html"
        target = root / path
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            bad.append(f"{url.removeprefix(base)} (no such file)")
            continue
        frag = unquote(parts.fragment)
        if not frag or target.suffix != ".html":
            continue
        if path == page:
            ids = set(page_ids)
        else:
            ids = cache.setdefault(path, set(_ID.findall(target.read_text(encoding="utf-8", errors="replace"))))
        if frag not in ids:
            bad.append(f"{url.removeprefix(base)} (no id {frag!r} there)")
    return bad


def repository(toc_file) -> tuple[str, str]:
    """(repository button's url, the prefix of every Colab link) from the _config.yml beside `toc_file`."""
    import yaml

    cfg = yaml.safe_load((Path(toc_file).parent / "_config.yml").read_text(encoding="utf-8"))
    url, branch = cfg["repository"]["url"].rstrip("/"), cfg["repository"].get("branch", "main")
    colab = cfg.get("launch_buttons", {}).get("colab_url", "").rstrip("/")
    return url, f"{colab}/github/{url.removeprefix('https://github.com/')}/blob/{branch}/"


def check(info: dict, mode: str, page: str, root: Path, base: str, repo=None) -> list[str]:
    problems = [f"Python traceback: {t.strip()[:120]!r}" for t in info["tracebacks"]]
    if repo:  # one repository address: the buttons come from _config.yml's repository.url
        url, colab = repo
        problems += [f"repository button goes to {h}, not {url}" for h in info["repo_buttons"] if h.rstrip("/") != url]
        problems += [f"Colab link {h} is not under {colab}" for h in info["colab"] if not h.startswith(colab)]
        if info["n_outputs"] and not info["colab"]:
            problems.append("a chapter with code outputs but no Colab launch link")
    for im in info["images"]:
        if im["w"] == 0 or im["h"] == 0:
            problems.append(f"empty image (zero natural size or failed to load): {im['src'][:100]}")
        elif mode == "dark" and im["figure"] and (im["bg"] is None or im["bg"] < 200):
            problems.append(f"dark mode: figure not on a light card (background luminance {im['bg']}): "
                            f"{im['src'][:60]}")
    problems += [f"empty output area: {o}" for o in info["empty_outputs"]]
    problems += [f"a figure without its download-data link: {o!r:.80}" for o in info["figures_without_data"]]
    # the opening page and the scoreboard list every claim with its badge in their own tables instead; a chapter
    # whose answer is written prose at its top ("In short.") may do without the generated box
    if (info["n_outputs"] > 1 and not page.endswith(("intro.html", "scoreboard.html")) and not info["found_badges"]
            and not info.get("written_answer")):
        problems.append('no "What we found" box with grade badges, and no written answer ("In short.") at the top')
    problems += [f"broken internal link: {b}" for b in broken_links(info["links"], info["ids"], page, root, base)]
    if info["theme"] != mode:
        problems.append(f"the page is in {info['theme']!r} mode, not {mode!r}")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--html", default="_build/html")
    ap.add_argument("--out", default="_build/book-check")
    ap.add_argument("--toc", default=str(REPO / "_toc.yml"), help="the table of contents that lists the pages")
    ap.add_argument("--full-page", action="store_true", help="screenshot the whole page, not the first figure")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    a = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    root, out = Path(a.html), Path(a.out)
    missing = [p for p in pages(a.toc) if not (root / p).is_file()]
    if missing:
        print(f"FAIL: not built: {missing} (build the book first: jupyter-book build .)")
        return 1
    out.mkdir(parents=True, exist_ok=True)
    repo = repository(a.toc)
    httpd = serve(root)
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    failures, results = 0, {p: {} for p in pages(a.toc)}
    with sync_playwright() as pw:
        for width, viewport in VIEWPORTS.items():
            suffix = "" if width == DESKTOP else f"-{width}"  # the desktop's screenshots keep their old names
            with tempfile.TemporaryDirectory() as profile:
                browser = pw.chromium.launch_persistent_context(profile, executable_path=a.chromium, headless=True,
                                                                args=FLAGS, **viewport)
                # light: a fresh profile, nothing in localStorage (the theme's own default decides, and any console
                # error it logs is a failure); dark: the reader's stored choice
                for mode, init in (("light", None), ("dark", DARK_INIT)):
                    for page_path in pages(a.toc):
                        page = browser.new_page()
                        page.emulate_media(color_scheme=mode)
                        if init:
                            page.add_init_script(init)  # before the theme's own script reads it
                        blocked, errors, failed = [], [], []

                        def route(r, blocked=blocked):
                            if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
                                return r.continue_()
                            blocked.append(r.request.url)
                            return r.abort()

                        page.route("**/*", route)
                        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                        page.on("console", lambda m, errors=errors: errors.append(m.text)
                                if m.type == "error" else None)
                        page.on("response", lambda r, failed=failed: failed.append(f"{r.status} {r.url}")
                                if r.status >= 400 else None)
                        page.goto(base + page_path, wait_until="load", timeout=120_000)
                        page.wait_for_timeout(1500)  # the widget manager renders the explorers after load
                        info = page.evaluate(PROBE)
                        lay = page.evaluate(LAYOUT)
                        problems = check(info, mode, page_path, root, base, repo)
                        problems += [f"failed to load: {f.removeprefix(base)}"
                                     for f in failed if f.split()[1].startswith(base)]
                        problems += harness_markers(lay["text"], lay["outputs"])
                        problems += layout_problems(lay, width, page_path)
                        stem = Path(page_path).stem
                        page.evaluate(FOUND)
                        page.screenshot(path=str(out / f"{stem}-found-{mode}{suffix}.png"))
                        if not a.full_page:
                            page.evaluate(FIRST_FIGURE)
                        shot = out / f"{stem}-{mode}{suffix}.png"
                        page.screenshot(path=str(shot), full_page=a.full_page)
                        n_fig = sum(im["figure"] for im in info["images"])
                        js_errors = [e for e in errors if not any(n in e for n in LOAD_NOISE)]  # listed as failed loads
                        print(f"{page_path} [{mode}, {width} px]: {info['title']!r}, {info['n_outputs']} outputs, "
                              f"{n_fig} figure images, {len(set(info['links']))} links -> {shot}")
                        wide = sum(t["scrolls"] for t in lay["tables"])
                        print(f"  {lay['height']} px tall, {lay['scroll_width']} px wide in {lay['width']}; "
                              f"{len(lay['tables'])} tables, {wide} scrolling sideways; figures shown at "
                              + (", ".join(percent(f["scale"]) for f in lay["figures"]) or "(none)"))
                        if mode == "light":  # the dark mode's layout is the same; its failures are listed below
                            for n, f in enumerate(lay["figures"], 1):
                                print(f"  {figure_line(n, f)}")
                            for s in lay["sticking"]:
                                print(f"  sticks out of the window: {s['what']} to {s['right']} px ({s['text']!r})")
                        if blocked:
                            print(f"  note: {len(blocked)} request(s) to the network blocked, e.g. {blocked[0][:100]}")
                        problems += [f"JavaScript error: {e[:150]}" for e in dict.fromkeys(js_errors)]
                        for p in problems:
                            print(f"  FAIL: {p}")
                        failures += bool(problems)
                        lay.pop("text"), lay.pop("outputs")
                        results[page_path][(mode, width)] = {"layout": lay, "problems": problems}
                        page.close()
                browser.close()
    httpd.shutdown()
    print("\nSummary per page (heights in CSS px; figures' display scale = shown / intended width):")
    for line in summary(results):
        print(line)
    print(f"{'OK' if not failures else 'FAIL'}: {len(pages(a.toc))} pages x 2 modes x {len(VIEWPORTS)} widths, "
          f"{failures} with problems; screenshots in {out}/")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
