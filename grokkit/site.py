"""The book's one repository address and the year of its build, for every link and citation that names them.

The address is set once, as `repository.url` in the book's _config.yml (the repository button and the Colab
launch links read it there). This module gives it to the rest: the page footer's licence links and the copyright
year (a Sphinx extension, registered in _config.yml's sphinx.local_extensions) and the opening page's citation.
The year is the build's: SOURCE_DATE_EPOCH (seconds, the reproducible-builds convention) if set, else today (UTC).
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / "_config.yml"


@cache
def repository_url(config: Path = CONFIG) -> str:
    """`repository.url` of the book's _config.yml, without a trailing slash. ValueError naming the field if absent."""
    import yaml

    url = ((yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}).get("repository") or {}).get("url")
    if not url:
        raise ValueError(f"repository.url: missing in {config}; the book's links and citation need it")
    return str(url).rstrip("/")


def build_year() -> int:
    """The year of this build: SOURCE_DATE_EPOCH's (UTC) if set, else the current year (UTC)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)
    return when.year


def footer(url: str) -> str:
    """The footer every page ends with (HTML): the licences, linked in the repository at `url`."""
    return (f'<p>Code: <a href="{url}/blob/main/LICENSE">MIT</a>. Run records and text: '
            '<a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a> '
            f'(<a href="{url}/blob/main/LICENSE-CONTENT">LICENSE-CONTENT</a>). '
            "MNIST: CC BY-SA 3.0 (LeCun, Cortes, Burges).</p>")


def citation_bibtex() -> str:
    """This reproduction's BibTeX entry: the year of the build, the repository address of _config.yml."""
    from . import __version__

    fields = {"title": "{grokkit: Deep Grokking, reproduced}", "author": "{{grokkit contributors}}",
              "version": f"{{{__version__}}}", "year": f"{{{build_year()}}}", "url": f"{{{repository_url()}}}",
              "note": "{An executable Jupyter Book reproducing arXiv:2405.19454}"}
    return "@software{grokkit,\n" + ",\n".join(f"  {k:<7} = {v}" for k, v in fields.items()) + "\n}"


def citation() -> None:
    """Display the BibTeX entry (citation_bibtex) as a code block, for the opening page."""
    from IPython.display import Markdown, display

    display(Markdown(f"```bibtex\n{citation_bibtex()}\n```"))


def _configure(app, config) -> None:
    url = str(config.html_theme_options.get("repository_url") or repository_url()).rstrip("/")
    config.copyright = str(build_year())
    config.html_theme_options["extra_footer"] = footer(url)


def setup(app):
    """Sphinx extension: the copyright year and the footer's links, from the build and _config.yml."""
    app.connect("config-inited", _configure)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
