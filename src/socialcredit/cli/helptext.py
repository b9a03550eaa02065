"""What `--help` shows beside each option and argument: a word for the value it takes.

Typer labels every parameter with its Python annotation (`<bool>`, `<str>`, `<list[str]>`,
`<Path>`), which tells an operator nothing. `plain_metavars` walks the built command tree once
and gives each parameter a metavar instead: none for a flag, a word for a value (`--policy
NAME`, `--as-of DATE`, `--out FILE`, `SUBJECT`). A metavar given where the parameter is declared
wins; a parameter this table does not know is named after itself (`--lang LANG`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.core import TyperArgument, TyperOption

# By parameter name (the Python name, as Typer stores it).
NAMES: dict[str, str] = {
    "policy": "NAME",
    "name": "NAME",
    "identifier": "SUBJECT",
    "subject": "SUBJECT",
    "cause": "SUBJECT",
    "as_of": "DATE",
    "known_at": "DATE",
    "until": "DATE",
    "lake": "FOLDER",
    "out_dir": "FOLDER",
    "file": "FILE",
    "files": "FILE",
    "report_file": "FILE",
    "out_file": "FILE",
    "evidence": "FILE",
    "checkpoint": "FILE",
    "targets": "FILE|PACK",
    "evaluation": "ID",
    "objection": "ID",
    "appeal_id": "ID",
    "application_id": "ID",
    "record": "RECORD",
    "corrected_by": "RECORD",
    "seq": "SEQ",
    "fmt": "FORMAT",
    "engine_name": "ENGINE",
    "spark_master": "URL",
    "host": "HOST",
    "port": "PORT",
    "reliability": "NUMBER",
    "types": "TYPES",
    "retention": "PERIOD",
    "label": "TEXT",
    "note": "TEXT",
    "grounds": "TEXT",
    "head": "HASH",
    "list_name": "LIST",
}
# By annotation, when the name is not in NAMES.
TYPES: dict[Any, str] = {int: "N", float: "NUMBER", Path: "PATH"}


def metavar_for(param: TyperOption | TyperArgument) -> str:
    if param.name in NAMES:
        return NAMES[param.name]
    annotation = param.type_descriptor.annotation
    for kind, word in TYPES.items():
        if annotation is kind or kind in getattr(annotation, "__args__", ()):
            return word
    return (param.name or "value").upper().replace("_", "-")


class _Option(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        metavar = self.metavar or metavar_for(self)
        return f"{metavar}..." if self.nargs != 1 else metavar


class _Argument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the argument's metavar is its name in the help already

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return f"{name}..." if self.nargs != 1 else name


def plain_metavar(param: object) -> None:
    if isinstance(param, TyperOption) and not isinstance(param, _Option):
        param.__class__ = _Option
        if param.metavar is None and not (param.is_flag or param.count):
            param.metavar = metavar_for(param)
    elif isinstance(param, TyperArgument) and not isinstance(param, _Argument):
        param.__class__ = _Argument
        if param.metavar is None:
            param.metavar = metavar_for(param)


def plain_metavars(command: Any) -> None:
    """Give every parameter under `command` (and its --help) a plain metavar."""
    for param in command.params:
        plain_metavar(param)
    help_option = command.get_help_option(typer.Context(command))
    if help_option is not None:
        plain_metavar(help_option)
    for sub in getattr(command, "commands", {}).values():
        plain_metavars(sub)
