"""Loading a policy document: parse YAML, validate (phase one), resolve references (phase two).

Every failure is a `PolicyError` that names the file, the key and the reason; `problems`
carries all of them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from socialcredit.errors import PolicyError
from socialcredit.policy.schema import Policy, reference_problems


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping: a reviewer reading the first
    `points:` must not be shown a number the engine never uses."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):  # a `!!map` tag on a scalar or a sequence
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping, found a {node.id}", node.start_mark
            )
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key {key!r} appears twice in one mapping",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    document: str  # the YAML text as written, kept verbatim in the store
    digest: str  # SHA-256 of the canonical JSON of the validated policy


def _key(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _fail(source: str, problems: list[tuple[str, str]]) -> PolicyError:
    key, reason = problems[0]
    error = PolicyError(source, key, reason)
    error.problems = problems  # type: ignore[attr-defined]
    if len(problems) > 1:
        more = "\n".join(f"  {k}: {r}" for k, r in problems[1:])
        error.message += f"\n  (and {len(problems) - 1} more)\n{more}"
        error.args = (error.message,)
    return error


def load_policy(text: str, source: str = "<policy>") -> LoadedPolicy:
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "document"
        reason = f"not valid YAML ({getattr(error, 'problem', error)})"
        raise _fail(source, [(where, reason)]) from None
    except ValueError as error:
        # A scalar YAML reads but Python cannot hold: an integer past Python's 4,300-digit
        # limit for int(str), a date such as 2026-02-30. PyYAML gives no place for these.
        reason = str(error).split("; use sys.", 1)[0]
        raise _fail(source, [("document", f"not a valid value ({reason})")]) from None
    if not isinstance(data, dict):
        raise _fail(source, [("", "a policy document is a YAML mapping (policy:, version:, …)")])
    try:
        policy = Policy.model_validate(data)
    except ValidationError as error:
        problems = [(_key(e["loc"]), _message(e)) for e in error.errors()]
        raise _fail(source, problems) from None
    problems = reference_problems(policy)
    if problems:
        raise _fail(source, problems)
    return LoadedPolicy(policy=policy, document=text, digest=policy_digest(policy))


def _message(error: Any) -> str:
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see docs/policy.md for the keys)"
    if error["type"] == "missing":
        return "required"
    return message.removeprefix("Value error, ")


def load_policy_file(path: str | Path) -> LoadedPolicy:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError(str(path), "", f"cannot read the file ({error.strerror})") from None
    return load_policy(text, source=str(path))


def policy_digest(policy: Policy) -> str:
    canonical = json.dumps(
        policy.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def bundled_packs() -> dict[str, LoadedPolicy]:
    """The policy packs shipped in socialcredit/policy/packs, by name."""
    out = {}
    for entry in sorted(resources.files("socialcredit.policy.packs").iterdir(), key=str):
        if entry.name.endswith(".yaml"):
            loaded = load_policy(entry.read_text(encoding="utf-8"), source=f"packs/{entry.name}")
            out[loaded.policy.name] = loaded
    return out
