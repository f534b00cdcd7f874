"""Check every chapter of the built book in a browser, in light and dark mode, and save screenshots for a person.

    python scripts/check_book.py [--html _build/html] [--out _build/book-check] [--toc _toc.yml] [--full-page]

Serves the built HTML from 127.0.0.1 and opens each page of _toc.yml (the introduction and every chapter) in
headless Chromium (playwright driving the system's /usr/bin/chromium, as scripts/check_widgets.py does:
`apt-get install chromium`, `pip install playwright`, no `playwright install`), once in the theme's light mode and
once in its dark mode. A page fails on:
- a Python traceback on the page (an error output, or "Traceback (most recent call last)" in its text);
- an empty figure: an image that loaded with zero natural size or failed to load, or a code cell's output area
  with nothing in it;
- a broken internal link: an href or src on 127.0.0.1 whose file does not exist in --html, or whose #anchor is no
  id of the target page;
- in dark mode, a figure not on a light card (book/_static/grokkit.css): dark axis labels on the dark page;
- a repository button or Colab launch link that does not use _config.yml's repository.url (a chapter with outputs
  must have a Colab link);
- a figure without its "download data (CSV)" link, or a chapter without its "What we found" box of grade badges;
- a JavaScript error (an uncaught exception, or an error on the console), except the explained theme messages of
  check_widgets.THEME_NOISE.
Saves <out>/<page>-found-<mode>.png (the viewport at the chapter's "What we found" box, or the page's top) and
<out>/<page>-light.png and <out>/<page>-dark.png: the viewport scrolled to the page's first figure (the top of
the page when it has none), or the whole page with --full-page. Prints what it found per page; exits 1 on any failure.
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

from check_widgets import FLAGS, THEME_NOISE, serve  # same folder: the same browser, flags and server

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
LIGHT_INIT = "localStorage.setItem('mode', 'light'); localStorage.setItem('theme', 'light');"


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
    if info["n_outputs"] > 1 and not page.endswith("intro.html") and not info["found_badges"]:
        problems.append('no "What we found" box with grade badges')
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
    failures = 0
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(profile, executable_path=a.chromium, headless=True, args=FLAGS,
                                                        viewport={"width": 1280, "height": 900})
        for mode, init in (("light", LIGHT_INIT), ("dark", DARK_INIT)):
            for page_path in pages(a.toc):
                page = browser.new_page()
                page.emulate_media(color_scheme=mode)
                page.add_init_script(init)  # before the theme's own script reads it
                blocked, errors, failed = [], [], []

                def route(r, blocked=blocked):
                    if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
                        return r.continue_()
                    blocked.append(r.request.url)
                    return r.abort()

                page.route("**/*", route)
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
                page.on("response", lambda r, failed=failed: failed.append(f"{r.status} {r.url}")
                        if r.status >= 400 else None)
                page.goto(base + page_path, wait_until="load", timeout=120_000)
                page.wait_for_timeout(1500)  # the widget manager renders the explorers after load
                info = page.evaluate(PROBE)
                problems = check(info, mode, page_path, root, base, repo)
                problems += [f"failed to load: {f.removeprefix(base)}" for f in failed if f.split()[1].startswith(base)]
                page.evaluate(FOUND)
                page.screenshot(path=str(out / f"{Path(page_path).stem}-found-{mode}.png"))
                if not a.full_page:
                    page.evaluate(FIRST_FIGURE)
                shot = out / f"{Path(page_path).stem}-{mode}.png"
                page.screenshot(path=str(shot), full_page=a.full_page)
                n_fig = sum(im["figure"] for im in info["images"])
                js_errors = [e for e in errors if not any(n in e for n in THEME_NOISE)]  # explained ones left out
                print(f"{page_path} [{mode}]: {info['title']!r}, {info['n_outputs']} outputs, {n_fig} figure images, "
                      f"{len(set(info['links']))} links -> {shot}")
                if blocked:
                    print(f"  note: {len(blocked)} request(s) to the network blocked, e.g. {blocked[0][:100]}")
                problems += [f"JavaScript error: {e[:150]}" for e in dict.fromkeys(js_errors)]
                for p in problems:
                    print(f"  FAIL: {p}")
                failures += bool(problems)
                page.close()
        browser.close()
    httpd.shutdown()
    print(f"{'OK' if not failures else 'FAIL'}: {len(pages(a.toc))} pages x 2 modes, {failures} with problems; "
          f"screenshots in {out}/")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
