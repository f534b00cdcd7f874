"""The words of grokkit's tables, kept beside the code in data files a writer can edit without touching Python:

    grokkit/claims.toml      the 15 claims (title, the paper's statement, figure, rule, each part's label and note
                             templates), the measures' labels, the thresholds' and the grades' definitions
    grokkit/quantities.toml  what each record history key measures (grokkit.export.QUANTITIES)

`load(name)` parses grokkit/<name>.toml once (tomllib; tomli on Python 3.10); `entry(name, *keys, **fill)` is one
entry, its {placeholders} filled when `fill` is given. A missing file, a file that does not parse, a missing entry
or a placeholder nothing fills raises TextError, one line naming the file and the entry.
"""
from __future__ import annotations

import functools
import importlib.resources

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


class TextError(LookupError):
    """A missing or malformed entry of one of grokkit's .toml files."""


@functools.cache
def load(name: str) -> dict:
    """grokkit/<name>.toml as a dict, parsed once per process."""
    try:
        text = importlib.resources.files("grokkit").joinpath(f"{name}.toml").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TextError(f"grokkit/{name}.toml: missing (it ships with the package)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TextError(f"grokkit/{name}.toml: {e}") from None


def entry(name: str, *keys: str, **fill):
    """The entry at `keys` of grokkit/<name>.toml ("claims", "claim", "5", "parts", "coincide"); with `fill`, the
    template formatted with it."""
    value = load(name)
    for i, key in enumerate(keys):
        if not isinstance(value, dict) or key not in value:
            raise TextError(f"grokkit/{name}.toml: no entry {'.'.join(keys[:i + 1])}")
        value = value[key]
    if not fill:
        return value
    try:
        return value.format(**fill)
    except (KeyError, IndexError, ValueError, AttributeError) as e:
        raise TextError(f"grokkit/{name}.toml: {'.'.join(keys)} does not format ({type(e).__name__}: {e})") from None
