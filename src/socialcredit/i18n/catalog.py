"""The gettext catalogs: `locales/<locale>/LC_MESSAGES/messages.po`, compiled to `.mo` by the
build (hatch_build.py; a wheel carries the `.mo` only). In a source checkout, a `.po` newer than
its `.mo` (a translator's edit since the install) is compiled in memory instead, so that what is
served is always what the `.po` says.
"""

from __future__ import annotations

import functools
import gettext as stdlib_gettext
import io
import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from socialcredit.i18n.languages import DEFAULT, LOCALES, current

log = logging.getLogger("socialcredit.i18n")
LOCALE_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"


def catalog_path(language: str, suffix: str = ".po") -> Path:
    return LOCALE_DIR / LOCALES[language] / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


@functools.cache
def translations(language: str) -> stdlib_gettext.NullTranslations:
    """The translations into `language` (English is the source language: no catalog)."""
    if language == DEFAULT or language not in LOCALES:
        return NullTranslations()
    po, mo = catalog_path(language), catalog_path(language, ".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return Translations(handle, domain=DOMAIN)
    if not po.exists():
        log.warning("no catalog for %s at %s: its pages are in English", language, po)
        return NullTranslations()
    log.info("%s is newer than its .mo (or there is none): compiled in memory", po.name)
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=LOCALES[language])
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def gettext(message: str, /, **params: object) -> str:
    """`message` in the language in use; `{name}` parameters are filled after translating."""
    translated = translations(current()).gettext(message)
    return translated.format(**params) if params else translated


def ngettext(singular: str, plural: str, n: int, /, **params: object) -> str:
    """The singular or plural form for `n` in the language in use (`{n}` is filled too)."""
    translated = translations(current()).ngettext(singular, plural, n)
    return translated.format(n=n, **params)
