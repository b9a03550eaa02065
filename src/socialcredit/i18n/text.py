"""A policy's texts: a plain string (one language), or a map from language tag to string."""

from __future__ import annotations

from collections.abc import Mapping

from socialcredit.i18n.languages import DEFAULT, current, language_of

Localized = str | Mapping[str, str]


def text(value: Localized | None, language: str | None = None) -> str:
    """`value` in `language` (by default the one in use): the map's entry for that language
    (`zh-CN`, `zh-Hans` and `zh` all count as Simplified Chinese), else its English, else its
    first entry. A plain string is the same in every language; None is ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    wanted = language or current()
    by_language: dict[str, str] = {}
    for tag, entry in value.items():
        served = language_of(tag)
        if served and served not in by_language:
            by_language[served] = entry
    if wanted in by_language:
        return by_language[wanted]
    if DEFAULT in by_language:
        return by_language[DEFAULT]
    return next(iter(value.values()), "")


def text_language(value: Localized | None, language: str | None = None) -> str | None:
    """The served language that `text(value, language)` returned, when it is known and differs
    from `language` (a page marks such a fragment with `lang`); None otherwise."""
    if value is None or isinstance(value, str):
        return None
    wanted = language or current()
    tags = {language_of(tag) for tag in value}
    if wanted in tags:
        return None
    if DEFAULT in tags:
        return DEFAULT
    first = next(iter(value), None)
    return language_of(first) if first else None
