"""The policy document as typed, validated objects (see docs/policy.md).

Phase one (pydantic) checks every key and value; phase two (`reference_problems`, run by
`socialcredit.policy.load`) checks how the parts fit: rule categories, list and tier names used by
conditions, weights, the keys each model needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from socialcredit.i18n.languages import LANGUAGES, NAMES, language_of
from socialcredit.policy.patterns import any_match, check_pattern, check_type
from socialcredit.timeutil import parse_duration_days

SubjectKind = Literal["person", "organization", "authority"]
RelationshipKind = Literal[
    "guardian", "spouse", "household", "contact", "employer", "legal_representative", "shareholder"
]
SUBJECT_KINDS: tuple[str, ...] = ("person", "organization", "authority")
RELATIONSHIP_KINDS: tuple[str, ...] = (
    "guardian",
    "spouse",
    "household",
    "contact",
    "employer",
    "legal_representative",
    "shareholder",
)
MAX_DAYS = 365_000
POINTS = Annotated[float, Field(ge=-1e9, le=1e9)]
RESERVED_COLUMNS = frozenset(
    {"sid", "kind", "subject", "score", "tier", "percentile", "ceiling", "records"}
)
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
# FCRA §611's 30 days, when a policy does not say (China's 2013 regulation says 20).
DEFAULT_DISPUTE_DAYS = 30


def _duration(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration; write <int>d, <int>w or <int>y (e.g. 730d)")
    days = parse_duration_days(value)
    if days > MAX_DAYS:
        raise ValueError(f"{value} is longer than 1000 years")
    return days


def _pattern(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a record type pattern")
    reason = check_pattern(value)
    if reason:
        raise ValueError(reason)
    return value


Days = Annotated[int, BeforeValidator(_duration)]
TypePattern = Annotated[str, BeforeValidator(_pattern)]

# --- texts a person reads -------------------------------------------------------------------
# Each is a plain string (the same in every language) or a map from language tag to string,
# e.g. {en: Late loan repayments, zh-CN: 贷款逾期还款}. A tag must name a language the system
# serves (socialcredit.i18n.languages): a text in any other language could never be shown, and
# a mistyped tag (zn-CN, zh_TW) would hide a translation without a word. Slugs (the names of
# rules' categories, lists, measures and tiers) stay machine names in one form.


def _served_languages() -> str:
    return ", ".join(LANGUAGES)


def localized(min_length: int = 0, max_length: int | None = None) -> Callable[[Any], Any]:
    """The check of a `LocalizedText`: a string within the limits, or a non-empty map whose
    keys are served language tags (one per language) and whose entries are non-empty strings
    within the limits. Errors name the offending tag."""

    def check(value: Any) -> Any:
        if isinstance(value, str):
            _text_length(value, min_length, max_length, "")
            return value
        if not isinstance(value, dict):
            raise ValueError(
                f"{value!r} is not a text: write a string, or a map from language tag to "
                "string (e.g. {en: ..., zh-CN: ...})"
            )
        if not value:
            raise ValueError(
                "an empty map of languages: give the text in at least one language "
                f"({_served_languages()}), or write a plain string"
            )
        seen: dict[str, str] = {}
        for tag, entry in value.items():
            language = language_of(tag) if isinstance(tag, str) else None
            if language is None:
                raise ValueError(
                    f"{tag!r} is not a language tag this system serves (it serves "
                    f"{_served_languages()}; zh, zh-Hans and zh-SG also mean zh-CN)"
                )
            if language in seen:
                raise ValueError(
                    f"{seen[language]!r} and {tag!r} both give the text in "
                    f"{NAMES[language]} ({language}); keep one"
                )
            seen[language] = tag
            if not isinstance(entry, str):
                raise ValueError(f"{tag}: {entry!r} is not a string")
            _text_length(entry, max(min_length, 1), max_length, f"{tag}: ")
        return value

    return check


def _text_length(value: str, low: int, high: int | None, where: str) -> None:
    if len(value) < low:
        raise ValueError(f"{where}is empty")
    if high is not None and len(value) > high:
        raise ValueError(f"{where}is {len(value)} characters long; at most {high}")


# A text a person reads, with no limit beyond the document's (descriptions, category labels),
# and the same type with the limits its plain string has always had.
LocalizedText = Annotated[str | dict[str, str], BeforeValidator(localized())]
Title = Annotated[str | dict[str, str], BeforeValidator(localized(1, 300))]
RuleReason = Annotated[str | dict[str, str], BeforeValidator(localized(1, 200))]
MeasureReason = Annotated[str | dict[str, str], BeforeValidator(localized(1, 300))]
Label = Annotated[str | dict[str, str], BeforeValidator(localized(1, 120))]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Scale(Strict):
    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


class Network(Strict):
    relationships: dict[RelationshipKind, Annotated[float, Field(gt=0)]] = Field(min_length=1)
    hops: Annotated[int, Field(ge=1, le=6)] = 1
    damping: Annotated[float, Field(ge=0, lt=1)] = 0.85


class Category(Strict):
    weight: Annotated[float, Field(gt=0, le=1)] | None = None
    sensitivity: Annotated[float, Field(gt=0)] | None = None
    network: Network | None = None
    label: LocalizedText | None = None


class Rule(Strict):
    type: TypePattern
    category: Slug
    points: POINTS = 0.0
    per_unit: POINTS = 0.0
    cap: Annotated[float, Field(gt=0, le=1e9)] | None = None
    half_life: Days | None = None
    expires: Days | None = None
    ceiling: int | None = None
    reason: RuleReason


class Disputes(Strict):
    """How a record under objection counts, and how long its source has to answer."""

    deadline: Days = DEFAULT_DISPUTE_DAYS
    # suspend: a disputed record does not count while its objection is open;
    # count: it counts, and explanations flag it as disputed.
    while_disputed: Literal["suspend", "count"] = "suspend"


class Tier(Strict):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    min: int
    label: Label | None = None  # the tier in words (the name is the machine name)


def _record_type(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a record type")
    reason = check_type(value)
    if reason:
        raise ValueError(reason)
    return value


RecordType = Annotated[str, BeforeValidator(_record_type)]


class Repair(Strict):
    """Credit repair terms of a list: a subject listed for at least `min_time`, holding an active
    record of a `proof` type dated after its entry, may apply; approval writes an `exit` record."""

    min_time: Days
    proof: list[TypePattern] = Field(min_length=1)
    exit: RecordType


class ListDef(Strict):
    name: Slug
    kind: Literal["black", "red"]
    public: bool = False
    enter: list[TypePattern] = Field(min_length=1)
    exit: list[TypePattern] = Field(default_factory=list)
    duration: Days
    label: Label | None = None  # the list's name in words, e.g. {en: ..., zh-CN: 失信被执行人名单}
    description: LocalizedText | None = None
    repair: Repair | None = None


# --- conditions -----------------------------------------------------------------------------


class ScoreBelow(Strict):
    score_below: int


class ScoreAtLeast(Strict):
    score_at_least: int


class TierIn(Strict):
    tier_in: list[str] = Field(min_length=1)


class OnList(Strict):
    on_list: Slug


class RecordSpec(Strict):
    type: TypePattern
    within: Days | None = None


class HasRecord(Strict):
    has_record: RecordSpec


class AllOf(Strict):
    all: list[Condition] = Field(min_length=1)


class AnyOf(Strict):
    any: list[Condition] = Field(min_length=1)


class NotOf(Strict):
    not_: Condition = Field(alias="not")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


MAX_CONDITIONS = 62  # reason codes travel as a bit mask
CONDITION_KEYS = ("score_below", "score_at_least", "tier_in", "on_list", "has_record")
COMBINATORS = ("all", "any", "not")


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = list(value)
        if len(keys) == 1 and keys[0] in CONDITION_KEYS + COMBINATORS:
            return str(keys[0])
        return None
    for tag, cls in _CONDITION_CLASSES.items():
        if isinstance(value, cls):
            return tag
    return None


Condition = Annotated[
    Annotated[ScoreBelow, Tag("score_below")]
    | Annotated[ScoreAtLeast, Tag("score_at_least")]
    | Annotated[TierIn, Tag("tier_in")]
    | Annotated[OnList, Tag("on_list")]
    | Annotated[HasRecord, Tag("has_record")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message=(
            "a condition is a mapping with exactly one of the keys "
            + ", ".join(CONDITION_KEYS + COMBINATORS)
        ),
    ),
]

_CONDITION_CLASSES: dict[str, type[BaseModel]] = {
    "score_below": ScoreBelow,
    "score_at_least": ScoreAtLeast,
    "tier_in": TierIn,
    "on_list": OnList,
    "has_record": HasRecord,
    "all": AllOf,
    "any": AnyOf,
    "not": NotOf,
}
AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


def walk(condition: Condition) -> list[Condition]:
    """Every node of a condition tree, depth first, the root first."""
    nodes: list[Condition] = [condition]
    if isinstance(condition, AllOf):
        for child in condition.all:
            nodes += walk(child)
    elif isinstance(condition, AnyOf):
        for child in condition.any:
            nodes += walk(child)
    elif isinstance(condition, NotOf):
        nodes += walk(condition.not_)
    return nodes


Target = Literal["self", "dependents", "legal_representatives"]


class Measure(Strict):
    name: Slug
    kind: Literal["restriction", "privilege"]
    authority: Annotated[str, Field(min_length=1, max_length=120)]
    when: Condition
    targets: list[Target] = Field(default_factory=lambda: list[Target](["self"]), min_length=1)
    subjects: list[SubjectKind] | None = None  # kinds of target the measure can apply to
    label: Label | None = None  # the measure's name in words
    reason: MeasureReason
    description: LocalizedText | None = None


class Retention(Strict):
    """How long a negative record may be kept at all (rights/retention.py purges it after)."""

    negative: Days


# --- the document ---------------------------------------------------------------------------


class Policy(Strict):
    policy: Slug
    version: Annotated[str, Field(min_length=1, max_length=64)]
    title: Title
    description: LocalizedText | None = None
    references: list[str] = Field(default_factory=list)
    subjects: list[SubjectKind] = Field(min_length=1)
    region: Annotated[str, Field(pattern=r"^[0-9]{2,6}$")] | None = None
    min_age: Annotated[int, Field(ge=0, le=150)] | None = None
    model: Literal["weighted", "points", "none"]
    scale: Scale | None = None
    base: float | None = None
    categories: dict[Slug, Category] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    tiers: list[Tier] = Field(default_factory=list)
    lists: list[ListDef] = Field(default_factory=list)
    measures: list[Measure] = Field(default_factory=list)
    disputes: Disputes = Field(default_factory=Disputes)
    retention: Retention | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_text(cls, value: Any) -> Any:
        if isinstance(value, float | int) and not isinstance(value, bool):
            raise ValueError(
                f'quote the version (version: "{value}"): YAML reads an unquoted version as '
                "a number, and 2026.10 would become 2026.1"
            )
        return value

    @property
    def name(self) -> str:
        return self.policy

    @property
    def scores(self) -> bool:
        return self.model != "none"

    @property
    def network_category(self) -> str | None:
        return next((n for n, c in self.categories.items() if c.network is not None), None)

    @property
    def plain_categories(self) -> list[str]:
        return [n for n, c in self.categories.items() if c.network is None]

    def measure(self, name: str) -> Measure | None:
        return next((m for m in self.measures if m.name == name), None)

    def tier(self, name: str) -> Tier | None:
        return next((t for t in self.tiers if t.name == name), None)

    def list_definition(self, name: str) -> ListDef | None:
        return next((x for x in self.lists if x.name == name), None)


def texts(p: Policy) -> list[tuple[str, str | dict[str, str]]]:
    """Every text of the policy that a person reads, with its key path (`rules[3].reason`), in
    document order; absent optional texts are left out."""
    found: list[tuple[str, str | dict[str, str] | None]] = [
        ("title", p.title),
        ("description", p.description),
    ]
    found += [(f"categories.{name}.label", c.label) for name, c in p.categories.items()]
    found += [(f"rules[{i}].reason", r.reason) for i, r in enumerate(p.rules)]
    found += [(f"tiers[{i}].label", t.label) for i, t in enumerate(p.tiers)]
    for i, listed in enumerate(p.lists):
        found += [
            (f"lists[{i}].label", listed.label),
            (f"lists[{i}].description", listed.description),
        ]
    for i, m in enumerate(p.measures):
        found += [
            (f"measures[{i}].label", m.label),
            (f"measures[{i}].reason", m.reason),
            (f"measures[{i}].description", m.description),
        ]
    return [(key, value) for key, value in found if value is not None]


def text_languages(value: str | dict[str, str]) -> set[str]:
    """The served languages a text gives (none for a plain string: its language is unknown)."""
    if isinstance(value, str):
        return set()
    return {lang for lang in map(language_of, value) if lang is not None}


def reference_problems(p: Policy) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if p.model == "none":
        for key in ("scale", "base"):
            if getattr(p, key) is not None:
                out.append((key, "a policy with model: none computes no score; remove it"))
        if p.categories or p.rules or p.tiers:
            out.append(
                (
                    "model",
                    "model: none keeps lists and measures only; it has no "
                    "categories, rules or tiers (use weighted or points to score)",
                )
            )
    else:
        if p.scale is None:
            out.append(("scale", f"required by model: {p.model}"))
        if not p.categories:
            out.append(("categories", f"model: {p.model} needs at least one category"))
    if p.model == "points" and p.base is None:
        out.append(("base", "required by model: points (the starting balance, e.g. 1000)"))
    if p.model == "weighted":
        if p.base is not None:
            out.append(("base", "only the points model has a base"))
        out += _weighted_problems(p)
    if p.model == "points" and p.network_category:
        out.append(
            (
                f"categories.{p.network_category}.network",
                "the points model has no network category (it sums points; use weighted)",
            )
        )
    for i, rule in enumerate(p.rules):
        if rule.category not in p.categories:
            out.append(
                (
                    f"rules[{i}].category",
                    f"unknown category {rule.category!r}; known: {', '.join(p.categories)}",
                )
            )
        elif p.categories[rule.category].network is not None:
            out.append(
                (
                    f"rules[{i}].category",
                    f"{rule.category!r} is the network category; records cannot feed it",
                )
            )
    for i, rule in enumerate(p.rules):
        if (
            rule.ceiling is not None
            and p.scale is not None
            and not (p.scale.min <= rule.ceiling <= p.scale.max)
        ):
            out.append(
                (
                    f"rules[{i}].ceiling",
                    f"{rule.ceiling} lies outside the scale [{p.scale.min}, {p.scale.max}]",
                )
            )
        if rule.ceiling is not None and not p.scores:
            out.append((f"rules[{i}].ceiling", "a policy with model: none has no score to cap"))
    for name in p.categories:
        if name in RESERVED_COLUMNS:
            out.append(
                (
                    f"categories.{name}",
                    f"{name!r} is reserved (it names an output column); choose another name",
                )
            )
    if p.scale is not None and p.scale.max - p.scale.min > 1_000_000:
        out.append(("scale", "spans more than 1,000,000 points"))
    seen_types: dict[str, int] = {}
    for i, rule in enumerate(p.rules):
        if rule.type in seen_types:
            out.append(
                (
                    f"rules[{i}].type",
                    f"{rule.type!r} already has a rule "
                    f"(rules[{seen_types[rule.type]}]); one rule per type",
                )
            )
        seen_types.setdefault(rule.type, i)
    out += _tier_problems(p)
    out += _unique(p.lists, "lists")
    out += _unique(p.measures, "measures")
    for i, m in enumerate(p.measures):
        leaves = [n for n in walk(m.when) if not isinstance(n, AllOf | AnyOf | NotOf)]
        if len(leaves) > MAX_CONDITIONS:
            out.append(
                (f"measures[{i}].when", f"has {len(leaves)} conditions; at most {MAX_CONDITIONS}")
            )
    for i, listed in enumerate(p.lists):
        if listed.repair is not None and not any_match(listed.exit, listed.repair.exit):
            out.append(
                (
                    f"lists[{i}].repair.exit",
                    f"{listed.repair.exit!r} is not one of the list's exit types "
                    f"({', '.join(listed.exit) or 'none'}): approval would not take anyone off",
                )
            )
    list_names = {x.name for x in p.lists}
    tier_names = {t.name for t in p.tiers}
    for i, m in enumerate(p.measures):
        for node in walk(m.when):
            key = f"measures[{i}].when"
            if isinstance(node, OnList) and node.on_list not in list_names:
                out.append((key, f"on_list: unknown list {node.on_list!r}"))
            if isinstance(node, TierIn):
                unknown = [t for t in node.tier_in if t not in tier_names]
                if unknown:
                    out.append((key, f"tier_in: unknown tiers {unknown}"))
            if isinstance(node, ScoreBelow | ScoreAtLeast | TierIn) and not p.scores:
                out.append(
                    (
                        key,
                        "score and tier conditions need a policy that scores "
                        "(model: none has no score)",
                    )
                )
    return out


def _weighted_problems(p: Policy) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    networks = [n for n, c in p.categories.items() if c.network is not None]
    if len(networks) > 1:
        out.append(("categories", f"at most one network category; found {networks}"))
    for name, cat in p.categories.items():
        if cat.weight is None:
            out.append((f"categories.{name}.weight", "required by model: weighted"))
        if cat.network is None and cat.sensitivity is None:
            out.append(
                (
                    f"categories.{name}.sensitivity",
                    "required for a non-network category "
                    "of the weighted model (the R at which S is 0.73)",
                )
            )
        if cat.network is not None and cat.sensitivity is not None:
            out.append((f"categories.{name}.sensitivity", "a network category has no sensitivity"))
    if networks and len(networks) == len(p.categories):
        out.append(("categories", "the network category needs at least one other category"))
    weights = [c.weight for c in p.categories.values() if c.weight is not None]
    if len(weights) == len(p.categories) and abs(sum(weights) - 1.0) > 1e-9:
        out.append(("categories", f"weights must sum to 1; they sum to {sum(weights):.6g}"))
    return out


def _tier_problems(p: Policy) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if not p.tiers:
        return out
    out += _unique(p.tiers, "tiers")
    for i in range(1, len(p.tiers)):
        if p.tiers[i].min >= p.tiers[i - 1].min:
            out.append(
                (
                    f"tiers[{i}].min",
                    "tiers are listed highest first; each min must be "
                    f"below the one before ({p.tiers[i - 1].min})",
                )
            )
    if p.scale is not None and p.tiers[-1].min > p.scale.min:
        out.append(
            (
                f"tiers[{len(p.tiers) - 1}].min",
                f"the last tier's min must be <= scale.min "
                f"({p.scale.min}) so that every score has a tier",
            )
        )
    return out


def _unique(items: list[Any], key: str) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out = []
    for i, item in enumerate(items):
        if item.name in seen:
            out.append((f"{key}[{i}].name", f"duplicate name {item.name!r}"))
        seen.add(item.name)
    return out
