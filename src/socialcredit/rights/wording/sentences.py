"""What a person reads about lists, measures, tiers and percentiles: sentences, never codes.

A measure's `reasons` are codes (`on_list:dishonest_judgment_debtors`, `tier_in:C,D`,
`score_below:550`, `has_record:traffic.drunk_driving`, each maybe under `not:`); the machine
fields keep them, and `reason_text` says each one as a sentence in the language in use, with the
facts that make it true where they are known (the score, the tier, since when a list entry
holds and the records that caused it). Policy texts (list and tier labels) come through `text`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from babel.lists import format_list

from socialcredit.i18n import _, text
from socialcredit.i18n.formats import format_date, format_number, format_percent
from socialcredit.i18n.languages import LOCALES, current
from socialcredit.policy.schema import HasRecord, Policy, walk
from socialcredit.rights.wording.causes import Cause
from socialcredit.rights.wording.record_types import type_text
from socialcredit.timeutil import format_instant


def words(name: str) -> str:
    """A machine name as words, the last resort for a policy name without a label."""
    shown = name.replace("_", " ").replace("-", " ")
    return shown[:1].upper() + shown[1:]


def _label(item: object, name: str) -> str:
    label = getattr(item, "label", None) or getattr(item, "title", None)
    return text(label) if label else words(name)


def list_label(policy: Policy | None, name: str) -> str:
    """A list's name as the policy words it (its label), else its slug as words."""
    listed = next((li for li in policy.lists if li.name == name), None) if policy else None
    return _label(listed, name)


def tier_text(policy: Policy | None, tier: str | None) -> str:
    """A tier as words: its label in the policy, else its name (`AAA`, `Very good`)."""
    if not tier:
        return ""
    found = next((t for t in policy.tiers if t.name == tier), None) if policy else None
    return _label(found, tier)


def category_text(policy: Policy | None, name: str) -> str:
    category = policy.categories.get(name) if policy else None
    return text(category.label) if category is not None and category.label else words(name)


def percentile_text(percentile: float | None) -> str:
    """The one form of a percentile everywhere: "higher than 42% of those scored". The share
    is rounded down (so the sentence stays true), to a tenth of a percent below 1%."""
    if percentile is None:
        return ""
    if percentile <= 0:
        return _("the lowest of those scored")
    if percentile < 0.01:
        shown = format_percent(math.floor(percentile * 1000) / 1000, 1)
    else:
        shown = format_percent(math.floor(percentile * 100) / 100)
    return _("higher than {percent} of those scored", percent=shown)


def join(items: Sequence[str]) -> str:
    """`a, b and c` / `a、b和c`."""
    return format_list(list(items), locale=LOCALES[current()]) if items else ""


def cause_text(cause: Cause) -> str:
    """One record that caused a list entry: what it says, who recorded it and when."""
    return _(
        "{what} (recorded by {source} on {day})",
        what=type_text(cause.type),
        source=cause.source_name,
        day=format_date(cause.occurred_at),
    )


def list_why(label: str, since: datetime | str, causes: Sequence[Cause] = ()) -> str:
    """Why a subject is on a list: since when, and the records that put it there."""
    day = format_date(since)
    if len(causes) == 1:
        (cause,) = causes
        return _(
            "On the list “{list}” since {since}, because of the record of {day} by {source}: "
            "{what}.",
            list=label,
            since=day,
            day=format_date(cause.occurred_at),
            source=cause.source_name,
            what=type_text(cause.type),
        )
    if causes:
        return _(
            "On the list “{list}” since {since}, because of these records: {records}.",
            list=label,
            since=day,
            records=join([cause_text(c) for c in causes]),
        )
    return _("On the list “{list}” since {since}.", list=label, since=day)


def causes_document(causes: Sequence[Cause], public: bool = False) -> list[dict[str, Any]]:
    """The causes as JSON: a public list names the source and the kind of record and its day,
    never the source's own record id."""
    out = []
    for c in causes:
        item: dict[str, Any] = {
            "source": c.source,
            "source_name": c.source_name,
            "type": c.type,
            "type_text": type_text(c.type),
            "occurred_at": format_instant(c.occurred_at),
            "day": format_date(c.occurred_at),
        }
        if not public:
            item["record_id"] = c.record_id
        out.append(item)
    return out


@dataclass(frozen=True)
class Facts:
    """What is known about the subject a measure's reasons are about."""

    score: int | None = None
    tier: str | None = None
    lists: Mapping[str, datetime | str] = field(default_factory=dict)  # list -> since
    causes: Mapping[str, Sequence[Cause]] = field(default_factory=dict)  # list -> records
    cause_subject: str | None = None  # the reasons are about another subject (its identifier)


def _within(policy: Policy | None, record_type: str) -> int | None:
    if policy is None:
        return None
    for measure in policy.measures:
        for node in walk(measure.when):
            if isinstance(node, HasRecord) and node.has_record.type == record_type:
                return node.has_record.within
    return None


def reason_text(code: str, policy: Policy | None, facts: Facts | None = None) -> str:
    """One reason code of a measure as a sentence in the language in use."""
    facts = facts or Facts()
    negated = code.startswith("not:")
    kind, _sep, arg = code.removeprefix("not:").partition(":")
    other = facts.cause_subject
    if kind == "on_list":
        label = list_label(policy, arg)
        if negated:
            return _("Not on the list “{list}”.", list=label)
        if other:
            return _("{subject} is on the list “{list}”.", subject=other, list=label)
        if arg in facts.lists:
            return list_why(label, facts.lists[arg], facts.causes.get(arg, ()))
        return _("On the list “{list}”.", list=label)
    if kind in ("score_below", "score_at_least"):
        limit = format_number(int(arg))
        below = (kind == "score_below") != negated
        if facts.score is not None and not other:
            score = format_number(facts.score)
            if below:
                return _("The score, {score}, is below {limit}.", score=score, limit=limit)
            return _("The score, {score}, is at least {limit}.", score=score, limit=limit)
        if below:
            return _("A score below {limit}.", limit=limit)
        return _("A score of at least {limit}.", limit=limit)
    if kind == "tier_in":
        tiers = join([tier_text(policy, t) for t in arg.split(",")])
        if negated:
            return _("A tier other than {tiers}.", tiers=tiers)
        if facts.tier and not other:
            return _(
                "The tier, {tier}, is one of {tiers}.",
                tier=tier_text(policy, facts.tier),
                tiers=tiers,
            )
        return _("A tier among {tiers}.", tiers=tiers)
    if kind == "has_record":
        what = type_text(arg)
        days = _within(policy, arg)
        if negated:
            if days:
                return _(
                    "No record in the last {days} days: {what}.",
                    days=format_number(days),
                    what=what,
                )
            return _("No record: {what}.", what=what)
        if days:
            return _(
                "A record in the last {days} days: {what}.", days=format_number(days), what=what
            )
        return _("A record: {what}.", what=what)
    if kind == "collateral" and arg == "guardian":
        if other:
            return _("Because {subject}, a parent or guardian, meets the condition.", subject=other)
        return _("Because a parent or guardian meets the condition.")
    if kind == "collateral" and arg == "legal_representative":
        if other:
            return _(
                "Because {subject}, an organization this person legally represents, meets the "
                "condition.",
                subject=other,
            )
        return _("Because an organization this person legally represents meets the condition.")
    return _("A condition of the policy holds.")
