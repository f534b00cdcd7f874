"""Check that a built chapter's explorer works in a browser, offline, without a kernel.

    python scripts/check_widgets.py [--html _build/html] [--page book/depth.html] [--out _build/widget-check]

Serves the built HTML from 127.0.0.1, opens the page in headless Chromium (playwright driving the system's
/usr/bin/chromium: `apt-get install chromium`, `pip install playwright`, no `playwright install`), blocks every
request that leaves 127.0.0.1, takes a screenshot, clicks another depth, takes a second one, and checks that the
figure shown changed. Exits 1 on any failure (widgets not rendered, figure unchanged, a request to the network,
a JavaScript error).
"""
from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import tempfile
import threading
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

# The only console errors allowed, each explained: pydata-sphinx-theme 0.17 logs "Got invalid theme mode" when a
# fresh profile has no saved mode (its setTheme() then falls back to auto), and a failed load's console line repeats
# what the checks catch by URL (a local file that failed) or list as blocked (a request that leaves 127.0.0.1).
# ("THEBE_JS_URL has already been declared" is gone: sphinx_thebe is no longer loaded, see _config.yml.)
THEME_NOISE = ("invalid theme mode", "Failed to load resource")

VISIBLE_IMG = """() => {
  const imgs = [...document.querySelectorAll('.widget-image, .jupyter-widgets img')];
  const shown = imgs.filter(i => i.offsetParent !== null && i.getBoundingClientRect().height > 0);
  return shown.map(i => i.src);
}"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(root: Path):
    handler = functools.partial(Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--html", default="_build/html")
    ap.add_argument("--page", default="book/depth.html")
    ap.add_argument("--out", default="_build/widget-check")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    a = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    httpd = serve(Path(a.html))
    url = f"http://127.0.0.1:{httpd.server_address[1]}/{a.page}"
    blocked, errors, failed, problems = [], [], [], []
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        # a persistent context is how playwright passes --user-data-dir (a throwaway profile here)
        browser = pw.chromium.launch_persistent_context(profile, executable_path=a.chromium, headless=True, args=FLAGS,
                                                        viewport={"width": 1280, "height": 900})
        page = browser.pages[0] if browser.pages else browser.new_page()

        def route(r):
            if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
                return r.continue_()
            blocked.append(r.request.url)
            return r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda e: errors.append(str(e)) if not any(n in str(e) for n in THEME_NOISE) else None)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not any(
            n in m.text for n in THEME_NOISE) else None)
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(url, wait_until="load")
        try:
            page.wait_for_selector(".widget-toggle-buttons", timeout=20_000)
            page.wait_for_function(f"({VISIBLE_IMG})().length > 0", timeout=20_000)
        except Exception as e:  # noqa: BLE001 -- report and fail below
            problems.append(f"the explorer did not render: {type(e).__name__}")
        explorer = page.locator(".widget-vbox").filter(has=page.locator(".widget-toggle-buttons")).last
        if explorer.count():
            explorer.scroll_into_view_if_needed()
        before = page.evaluate(VISIBLE_IMG)
        shot1 = out / "1-before.png"
        page.screenshot(path=str(shot1))
        buttons = page.locator(".widget-toggle-buttons").first.locator("button")  # the depth control
        labels = [buttons.nth(i).inner_text() for i in range(buttons.count())]
        pick = next((i for i in range(buttons.count())
                     if "mod-active" not in (buttons.nth(i).get_attribute("class") or "")), None)
        if pick is None:
            problems.append(f"no other depth to click (buttons: {labels})")
        else:
            buttons.nth(pick).click()
            page.wait_for_timeout(800)
        after = page.evaluate(VISIBLE_IMG)
        shot2 = out / "2-after.png"
        page.screenshot(path=str(shot2))
        wd_buttons = page.locator(".widget-toggle-buttons").nth(1).locator("button")  # the weight-decay control
        wd_pick = next((i for i in range(wd_buttons.count())
                        if "mod-active" not in (wd_buttons.nth(i).get_attribute("class") or "")), None)
        if wd_pick is not None:
            wd_buttons.nth(wd_pick).click()
            page.wait_for_timeout(800)
        after_wd = page.evaluate(VISIBLE_IMG)
        shot3 = out / "3-after-weight-decay.png"
        page.screenshot(path=str(shot3))
        browser.close()
    httpd.shutdown()

    print(f"page: {url}")
    print(f"depth buttons: {labels}; clicked: {labels[pick] if pick is not None else None}")
    def short(srcs):  # an inlined figure (grokkit.picture) is a data: URI of a few hundred kB: its tail names it
        return [f"...{s[-24:]} ({len(s):,} chars)" for s in srcs[:1]]

    print(f"visible figure before: {short(before)}  after: {short(after)}")
    print(f"then weight-decay button #{wd_pick}; visible figure: {short(after_wd)}")
    print(f"screenshots: {shot1} {shot2} {shot3}")
    if not before or not after:
        problems.append("no visible explorer figure")
    elif before == after:
        problems.append("the visible figure did not change after clicking another depth")
    elif wd_pick is None or after_wd == after:
        problems.append("the visible figure did not change after clicking another weight decay")
    if shot1.read_bytes() == shot2.read_bytes():
        problems.append("the two screenshots are identical")
    if blocked:
        problems.append(f"{len(blocked)} request(s) left 127.0.0.1 (the book must work offline): {blocked[:3]}")
    if failed:
        problems.append(f"{len(failed)} file(s) failed to load: {failed[:3]}")
    if errors:
        problems.append(f"{len(errors)} JavaScript error(s): {errors[:3]}")
    for p in problems:
        print(f"FAIL: {p}")
    print("OK: the explorer switches figures without a kernel, offline" if not problems else "")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
