"""The catalogs cannot rot: every text a person reads has its Simplified Chinese translation,
none is fuzzy or obsolete, and every translation keeps its placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from socialcredit.i18n.catalog import catalog_path
from socialcredit.i18n.languages import LANGUAGES
from socialcredit.i18n.maintain import extract

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [language for language in LANGUAGES if language != "en"]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """What `make messages` extracts, read back as a catalog."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    return {m.id if isinstance(m.id, str) else m.id[0]: m for m in extract(ROOT, pot) if m.id}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language: str, extracted: dict[str, object]) -> None:
    with catalog_path(language).open("rb") as handle:
        catalog = read_po(handle)
    translations = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    missing = sorted(set(extracted) - set(translations))
    assert not missing, (
        f"{len(missing)} texts are not in the catalog (run `make messages`): {missing[:10]}"
    )
    untranslated = sorted(
        key
        for key, m in translations.items()
        if not (all(m.string) if isinstance(m.string, tuple) else m.string)
    )
    assert not untranslated, f"{len(untranslated)} texts lack a translation: {untranslated[:10]}"
    fuzzy = sorted(key for key, m in translations.items() if m.fuzzy)
    assert not fuzzy, f"fuzzy entries (check them, then drop the flag): {fuzzy[:10]}"
    obsolete = sorted(catalog.obsolete) + sorted(set(translations) - set(extracted))
    assert not obsolete, f"obsolete entries (run `make messages`): {obsolete[:10]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_their_placeholders(language: str) -> None:
    """A translation has the same `{name}` and `%(name)s` placeholders as its English."""
    with catalog_path(language).open("rb") as handle:
        catalog = read_po(handle)
    pattern = re.compile(r"\{[a-z_][a-z0-9_]*\}|%\([a-z_][a-z0-9_]*\)[sd]")
    wrong = []
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(pattern.findall(ids[-1])) | set(pattern.findall(ids[0]))
        for string in strings:
            found = set(pattern.findall(string))
            if (string and found - wanted) or (string and wanted - found - {"{n}", "%(num)s"}):
                wrong.append((ids[0], string))
    assert not wrong, wrong[:5]
