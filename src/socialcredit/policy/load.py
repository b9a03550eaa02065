"""Loading a policy document: parse YAML, validate (phase one), resolve references (phase two).

Every failure is a `PolicyError` that names the file, the key and the reason; `problems`
carries all of them.

A policy is a short document that people review, so what the reader sees must be what the
engine runs, and no document can make the loader slow:

- at most `MAX_DOCUMENT_BYTES` of UTF-8, `MAX_NODES` values, mappings and lists, and
  `MAX_DEPTH` levels of nesting, so that loading the largest document allowed takes about a
  tenth of a second;
- no anchors, aliases or merge keys (`&a`, `*a`, `<<:`): they hide text from the reader, and
  aliases nested in conditions double the work at each level;
- no tags but the plain YAML types (`!!str` and the like);
- a key given twice in one mapping, or a key that is a list or a mapping, is an error.

Parsing uses libyaml (`CSafeLoader`, ten times faster than the pure-Python parser). A valid
document's result is cached by its text, so serving the policies in force parses each one once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import rfc8785
import yaml
from pydantic import ValidationError

from socialcredit.errors import PolicyError
from socialcredit.policy.schema import Policy, reference_problems

MAX_DOCUMENT_BYTES = 256 * 1024  # the bundled packs are 13 to 17 KiB
MAX_DEPTH = 32  # nested mappings and lists; the bundled packs reach 7
MAX_NODES = 5_000  # scalars, mappings and lists; the bundled packs hold 510 to 630
MAX_PROBLEMS = 100  # listed in one refusal; the rest are counted
PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")
)
_MERGE = "tag:yaml.org,2002:merge"
_OPENING = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_NODES = (yaml.ScalarEvent, *_OPENING)
_CLOSING = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class _Invalid(Exception):
    """The document's problems, each (key or place, reason), before the source is known."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.problems = [(where, reason)]

    @classmethod
    def of(cls, problems: list[tuple[str, str]], more: int = 0) -> _Invalid:
        """At most `MAX_PROBLEMS` of them, then a count of the rest (`more` not yet listed)."""
        error = cls(*problems[0])
        error.problems = problems[:MAX_PROBLEMS]
        more += len(problems) - len(error.problems)
        if more:
            error.problems.append(("document", f"{more} more problems, not listed"))
        return error


def _place(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "document"


class _StrictLoader(yaml.CSafeLoader):
    """libyaml's SafeLoader that refuses a key given twice in one mapping (a reviewer reading
    the first `points:` must not be shown a number the engine never uses), a key that cannot
    be a key (a list or a mapping), and merge keys; a scalar the constructor cannot build (a
    date like 2026-13-45, an integer of 5,000 digits) is an error at its place."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as error:
            shown = str(node.value) if isinstance(node, yaml.ScalarNode) else node.tag
            shown = shown if len(shown) <= 40 else shown[:40] + "…"
            reason = str(error).split(";")[0]  # not Python's advice on raising its limits
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {shown} ({reason})", node.start_mark
            ) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):  # a `!!map` tag on a scalar or a sequence
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping, found a {node.id}", node.start_mark
            )
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                raise yaml.constructor.ConstructorError(
                    None, None, "merge keys (<<) are not allowed in a policy", key_node.start_mark
                )
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    "a key must be text or a number, not a list or a mapping",
                    key_node.start_mark,
                ) from None
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key {key!r} appears twice in one mapping",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _screen(text: str) -> None:
    """Walk the parser's events once, before anything is built: refuse anchors, aliases,
    unusual tags, deep nesting and too many nodes at their place."""
    depth = nodes = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        kind = type(event)
        if kind in _CLOSING:
            depth -= 1
            continue
        if kind is yaml.AliasEvent:
            raise _Invalid(
                _place(event.start_mark),
                f"alias *{getattr(event, 'anchor', '')} refused: write the text out in full "
                "(anchors and aliases hide what a reviewer reads)",
            )
        if kind not in _NODES:  # the stream's and the document's start and end
            continue
        nodes += 1
        if nodes > MAX_NODES:
            raise _Invalid(
                _place(event.start_mark),
                f"holds more than {MAX_NODES} values, mappings and lists; a policy is "
                "a short document",
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _Invalid(
                _place(event.start_mark),
                f"anchor &{anchor} refused: write the text out in full "
                "(anchors and aliases hide what a reviewer reads)",
            )
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in PLAIN_TAGS:
            raise _Invalid(_place(event.start_mark), f"the tag {tag} is not allowed in a policy")
        if kind in _OPENING:
            depth += 1
            if depth > MAX_DEPTH:
                raise _Invalid(
                    _place(event.start_mark), f"nested more than {MAX_DEPTH} levels deep"
                )


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
        return _load(text)
    except _Invalid as error:
        raise _fail(source, error.problems) from None


@lru_cache(maxsize=64)
def _load(text: str) -> LoadedPolicy:
    """The document's `LoadedPolicy`, or `_Invalid` with every problem. Only a valid
    document's result is cached (an exception is not), so the cache holds policies people
    stored or shipped, at most 64 of them."""
    if len(text) > MAX_DOCUMENT_BYTES:  # a character is at least one byte: refuse unread
        raise _Invalid("document", f"is longer than {MAX_DOCUMENT_BYTES} bytes")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as error:
        line = text.count("\n", 0, error.start) + 1
        column = error.start - text.rfind("\n", 0, error.start)
        where = f"line {line}, column {column}"
        raise _Invalid(where, "not valid Unicode (a lone surrogate)") from None
    if size > MAX_DOCUMENT_BYTES:
        raise _Invalid("document", f"is {size} bytes long; at most {MAX_DOCUMENT_BYTES}")
    try:
        _screen(text)
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        reason = f"not valid YAML ({getattr(error, 'problem', None) or error})"
        raise _Invalid(_place(mark), reason) from None
    if not isinstance(data, dict):
        raise _Invalid("", "a policy document is a YAML mapping (policy:, version:, …)")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as error:
        found = error.errors(include_url=False, include_context=False, include_input=False)
        problems = [(_key(e["loc"]), _message(e)) for e in found[:MAX_PROBLEMS]]
        raise _Invalid.of(problems, more=len(found) - len(problems)) from None
    problems = reference_problems(policy)
    if problems:
        raise _Invalid.of(problems)
    return LoadedPolicy(policy=policy, document=text, digest=policy_digest(policy))


def _message(error: Any) -> str:
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see docs/policy.md for the keys)"
    if error["type"] == "missing":
        return "required"
    return message.removeprefix("Value error, ")


def read_policy_file(path: str | Path) -> str:
    """A policy file's text (newlines read as by `Path.read_text`). A file that cannot be
    read, is larger than `MAX_DOCUMENT_BYTES` or is not UTF-8 is a `PolicyError`; a large
    file is not read past the limit."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as handle:
            text = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as error:
        raise PolicyError(str(path), "", f"cannot read the file ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise PolicyError(str(path), "", f"is not UTF-8 text ({error.reason})") from None
    if len(text) > MAX_DOCUMENT_BYTES:
        raise PolicyError(str(path), "document", f"is longer than {MAX_DOCUMENT_BYTES} bytes")
    return text


def load_policy_file(path: str | Path) -> LoadedPolicy:
    return load_policy(read_policy_file(path), source=str(path))


def policy_digest(policy: Policy) -> str:
    """SHA-256 (hex) of the RFC 8785 (JCS) canonical JSON of the validated policy, defaults
    included: an auditor can recompute it in any language from the `parsed` document of
    `GET /v1/policies/{name}` (JCS writes 100 where Python's json.dumps wrote 100.0)."""
    try:
        canonical = rfc8785.dumps(policy.model_dump(mode="json", by_alias=True))
    except rfc8785.IntegerDomainError as error:  # JCS: integers beyond ±2^53 have no form
        reason = f"a number is outside JSON's exact integer range: {error}"
        raise _fail("", [("", reason)]) from error
    return hashlib.sha256(canonical).hexdigest()


def bundled_packs() -> dict[str, LoadedPolicy]:
    """The policy packs shipped in socialcredit/policy/packs, by name."""
    out = {}
    for entry in sorted(resources.files("socialcredit.policy.packs").iterdir(), key=str):
        if entry.name.endswith(".yaml"):
            loaded = load_policy(entry.read_text(encoding="utf-8"), source=f"packs/{entry.name}")
            out[loaded.policy.name] = loaded
    return out
