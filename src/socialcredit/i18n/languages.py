"""The languages served and how one is chosen.

Two languages: English (`en`, the default) and Simplified Chinese (`zh-CN`). A request asks
for one by, first to last: `?lang=`, the `scs_lang` cookie that the header's switcher sets,
then `Accept-Language` (RFC 9110 §12.5.4, with q-values). `zh`, `zh-CN`, `zh-Hans` (with any
region) and `zh-SG` mean Simplified Chinese; Traditional Chinese (`zh-TW`, `zh-HK`, `zh-MO`,
`zh-Hant`) is not served, so such a tag passes to the next one the browser lists.

The language in use is a context variable: the web middleware sets it for each request, the CLI
for each command (`--lang`, else the environment's locale), and everything that formats or
translates reads it through `current()`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar

EN = "en"
ZH = "zh-CN"
LANGUAGES: tuple[str, ...] = (EN, ZH)
DEFAULT = EN
# The Babel (CLDR) locale of each language: formats and the catalog's folder.
LOCALES = {EN: "en", ZH: "zh_Hans_CN"}
NAMES = {EN: "English", ZH: "简体中文"}  # each in its own language, for the switcher
COOKIE = "scs_lang"

_TRADITIONAL = ("zh-tw", "zh-hk", "zh-mo", "zh-hant")
_current: ContextVar[str] = ContextVar("scs_language", default=DEFAULT)


def language_of(tag: str | None) -> str | None:
    """The served language a BCP 47 tag (or a POSIX locale such as `zh_CN.UTF-8`) means, or
    None. `en-GB` → `en`; `zh`, `zh-Hans-SG`, `zh_CN.UTF-8` → `zh-CN`; `zh-TW`, `fr` → None."""
    if not tag:
        return None
    value = tag.strip().split(".")[0].split("@")[0].replace("_", "-").lower()
    if value in ("", "*", "c", "posix"):
        return None
    if value == "en" or value.startswith("en-"):
        return EN
    if value == "zh" or value.startswith("zh-"):
        if value.startswith(_TRADITIONAL) or "-hant" in value:
            return None
        return ZH
    return None


def parse_accept_language(header: str) -> list[str]:
    """The tags of an Accept-Language header, most wanted first (q=0 dropped; equal q keep
    their order). A malformed part is skipped, never an error."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:32]):
        tag, *params = (p.strip() for p in part.split(";"))
        if not tag or len(tag) > 64:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        if 0 < quality <= 1:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language of a request: `?lang=`, then the cookie, then Accept-Language."""
    for chosen in (query, cookie):
        found = language_of(chosen)
        if found:
            return found
    for tag in parse_accept_language(accept_language or ""):
        found = language_of(tag)
        if found:
            return found
    return DEFAULT


def environment_language() -> str:
    """The language of the environment, as gettext reads it: the first served entry of
    LANGUAGE's list, else the first of LC_ALL, LC_MESSAGES and LANG that is set; English when
    none is served."""
    for entry in os.environ.get("LANGUAGE", "").split(":"):
        found = language_of(entry)
        if found:
            return found
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return language_of(value) or DEFAULT
    return DEFAULT


def current() -> str:
    """The language in use."""
    return _current.get()


@contextlib.contextmanager
def use(language: str) -> Iterator[str]:
    """Use `language` (a served one, or any tag `language_of` maps) within the block."""
    chosen = language_of(language) or DEFAULT
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)
