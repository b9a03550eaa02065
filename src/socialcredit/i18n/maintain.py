"""Keeping the catalogs (docs/i18n.md), from a source checkout:

    python -m socialcredit.i18n.maintain update            # make messages
    python -m socialcredit.i18n.maintain merge OTHER.po…   # take translations from other files

`update` extracts every marked text (babel.cfg: templates and Python, with the keywords `_`,
`gettext`, `ngettext`, `N_` and `Message`) and brings each `.po` up to date: new
texts arrive untranslated, texts that are gone are dropped (never kept as obsolete), and nothing
is guessed (no fuzzy matching). The files are written sorted, without line numbers and without
wrapping, so that two branches that add texts merge line by line. `merge` fills the empty
translations of each catalog from other `.po` files of the same language (another branch's
catalog, a translator's file) and then updates.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

KEYWORDS = ("Message", "N_")


@contextlib.contextmanager
def _inside(root: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(root)
    try:
        yield
    finally:
        os.chdir(before)


def find_root(start: Path | None = None) -> Path:
    """The source checkout: the nearest folder up from `start` that has babel.cfg."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "babel.cfg").exists():
            return folder
    raise SystemExit("no babel.cfg here or above: run this in a source checkout")


def extract(root: Path, pot: Path) -> Catalog:
    """Every marked text of the checkout at `root`, written to `pot` and returned."""
    pot.parent.mkdir(parents=True, exist_ok=True)
    keywords = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
    with _inside(root):
        CommandLineInterface().run(  # type: ignore[no-untyped-call]
            [
                *("pybabel", "-q", "extract", "-F", "babel.cfg", *keywords),
                *("--no-location", "--sort-output", "--no-wrap", "--project=socialcredit"),
                *("-c", "TRANSLATORS:", "-o", str(pot), "."),
            ]
        )
    with pot.open("rb") as handle:
        return read_po(handle)


def catalogs(root: Path) -> list[Path]:
    return sorted((root / "src/socialcredit/i18n/locales").glob("*/LC_MESSAGES/messages.po"))


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=path.parents[1].name)


def _write(path: Path, catalog: Catalog) -> None:
    with path.open("wb") as handle:
        write_po(
            handle,
            catalog,
            width=0,
            no_location=True,
            omit_header=False,
            sort_output=True,
            ignore_obsolete=True,
            include_previous=False,
        )


def update(root: Path) -> dict[str, int]:
    """Bring every catalog up to date with the texts of the checkout; how many lack a
    translation, per catalog."""
    template = extract(root, root / "build/i18n/messages.pot")
    missing: dict[str, int] = {}
    for path in catalogs(root):
        catalog = _read(path)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.obsolete.clear()
        _write(path, catalog)
        missing[path.parents[1].name] = sum(1 for m in catalog if m.id and not m.string)
    return missing


def merge(root: Path, others: list[Path]) -> dict[str, int]:
    """Fill each catalog's empty translations from `others` (same locale), then update."""
    for path in catalogs(root):
        catalog = _read(path)
        for other in others:
            donor = _read(other)
            if str(donor.locale) != str(catalog.locale):
                continue
            for message in donor:
                if not message.id or not message.string or message.fuzzy:
                    continue
                mine = catalog.get(message.id, message.context)
                if mine is None:
                    catalog[message.id] = message
                elif not mine.string:
                    mine.string = message.string
        _write(path, catalog)
    return update(root)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m socialcredit.i18n.maintain")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("update", help="extract the texts and update every catalog")
    merging = sub.add_parser("merge", help="take translations from other .po files, then update")
    merging.add_argument("others", nargs="+", type=Path)
    args = parser.parse_args(argv)
    root = find_root()
    missing = update(root) if args.command == "update" else merge(root, args.others)
    for locale, count in missing.items():
        print(f"{locale}: {count} texts to translate" if count else f"{locale}: complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
