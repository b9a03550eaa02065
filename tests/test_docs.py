"""Docs that cannot rot: every command, policy key and condition is documented."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from pydantic import BaseModel

from socialcredit.cli import app
from socialcredit.policy import schema
from socialcredit.settings import Settings

DOCS = Path(__file__).parents[1] / "docs"
README = Path(__file__).parents[1] / "README.md"


def command_paths(application: typer.Typer, prefix: str = "scs") -> list[str]:
    paths = []
    for command in application.registered_commands:
        assert command.name, f"command {command.callback} has no explicit name"
        paths.append(f"{prefix} {command.name}")
    for group in application.registered_groups:
        assert group.typer_instance is not None
        paths += command_paths(group.typer_instance, f"{prefix} {group.name}")
    return paths


def test_every_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    missing = [
        path for path in command_paths(app) if not re.search(rf"`{re.escape(path)}(`| )", text)
    ]
    assert missing == []


def model_keys(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    if model in seen:
        return set()
    seen.add(model)
    keys = set()
    for name, field in model.model_fields.items():
        keys.add(field.alias or name)
        for annotation in re.findall(r"socialcredit\.policy\.schema\.(\w+)", str(field.annotation)):
            nested = getattr(schema, annotation)
            if isinstance(nested, type) and issubclass(nested, BaseModel):
                keys |= model_keys(nested, seen)
    return keys


def test_every_policy_key_and_condition_is_documented() -> None:
    text = (DOCS / "policy.md").read_text()
    keys = model_keys(schema.Policy, set())
    keys |= set(schema.CONDITION_KEYS) | set(schema.COMBINATORS)
    keys |= {"relationships", "hops", "damping", "within", "min", "max"}
    missing = sorted(key for key in keys if not re.search(rf"`{re.escape(key)}(`|:)", text))
    assert missing == []
    for kind in schema.RELATIONSHIP_KINDS:
        assert kind in (DOCS / "cli.md").read_text()


def test_readme_has_the_two_commands_and_links_that_resolve() -> None:
    text = README.read_text()
    assert "make demo" in text
    assert "make test" in text
    for link in re.findall(r"\]\((?!https?:)([^)#]+)", text):
        assert (README.parent / link).exists(), link
    for page in DOCS.glob("*.md"):
        for link in re.findall(r"\]\((?!https?:)([^)#]+)", page.read_text()):
            assert (page.parent / link).exists(), f"{page.name}: {link}"


def test_every_record_type_the_packs_read_is_documented() -> None:
    from socialcredit.policy.load import bundled_packs
    from socialcredit.simulate.records import SOURCES

    text = (DOCS / "record-types.md").read_text()
    for pack in bundled_packs().values():
        p = pack.policy
        patterns = [r.type for r in p.rules] + [t for lst in p.lists for t in lst.enter + lst.exit]
        for pattern in patterns:
            assert f"`{pattern.removesuffix('*')}" in text, f"{p.name}: {pattern}"
    for source_id, *_ in SOURCES:
        assert f"`{source_id}`" in text


def test_every_setting_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    missing = [
        name for name in Settings.model_fields if not re.search(rf"`SCS_{name.upper()}`", text)
    ]
    assert missing == []
