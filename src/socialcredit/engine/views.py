"""The time-sliced views every stage starts from: who is scored, which records and edges count.

Time is bitemporal. `as_of` (T) is the instant the outcome describes; `known_at` (K), when given,
restricts everything to what the system had received by then: records with `received_at <= K`,
record status changes made by K, subjects and relationships registered by K.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from socialcredit.engine.data import PlanData
from socialcredit.policy.schema import Policy
from socialcredit.timeutil import from_us


@dataclass(frozen=True)
class Instant:
    as_of: int  # T, microseconds since the epoch
    known_at: int | None  # K


def scope(data: PlanData, policy: Policy, at: Instant) -> ibis.Table:
    """The subjects the policy scores: (sid, kind).

    Its `subjects` kinds, within its `region` prefix, and with `min_age`, only the persons who
    turn that age in T's year or earlier (a person whose birth year is unknown is not scored).
    """
    s = data.table("subjects")
    s = s.filter(s.kind.isin(policy.subjects))
    if policy.region:
        s = s.filter(s.region.startswith(policy.region))
    if policy.min_age is not None:
        oldest_born = from_us(at.as_of).year - policy.min_age
        s = s.filter((s.kind != "person") | (s.born.notnull() & (s.born <= oldest_born)))
    if at.known_at is not None:
        s = s.filter(s.registered_us <= at.known_at)
    return s.select("sid", "kind")


def known_subjects(data: PlanData, at: Instant) -> ibis.Table:
    s = data.table("subjects")
    if at.known_at is not None:
        s = s.filter(s.registered_us <= at.known_at)
    return s.select("sid", "kind")


def counting_statuses(policy: Policy | None) -> tuple[str, ...]:
    """The record statuses that count under `policy`: `active`, and `disputed` too when the
    policy's `disputes.while_disputed` is `count` (by default a record under objection is
    suspended until its objection is resolved)."""
    if policy is not None and policy.disputes.while_disputed == "count":
        return ("active", "disputed")
    return ("active",)


def live_records(data: PlanData, at: Instant, policy: Policy | None = None) -> ibis.Table:
    """Counting records with occurred_at <= T (and received by K).

    A record's status is the last change in the status log made by K (all changes when K is
    None); a record with no change is active. Active records count, and disputed ones when
    `policy` counts records under objection (`counting_statuses`). A record named in
    `supersessions` (the record lake's corrections) by K is superseded.
    """
    r = data.table("records")
    r = r.filter(r.occurred_us <= at.as_of)
    if at.known_at is not None:
        r = r.filter(r.received_us <= at.known_at)
    if data.has_status:
        changes = data.table("status")
        if at.known_at is not None:
            changes = changes.filter(changes.at_us <= at.known_at)
        last = changes.group_by("rid").aggregate(status=changes.status.argmax(changes.seq))
        inactive = last.filter(~last.status.isin(counting_statuses(policy))).select("rid")
        r = r.anti_join(inactive, "rid")
    superseded = data.supersessions()
    if superseded is not None:
        if at.known_at is not None:
            superseded = superseded.filter(superseded.at_us <= at.known_at)
        r = r.anti_join(superseded.select("source", "record_id"), ["source", "record_id"])
    return r


def live_edges(data: PlanData, at: Instant, kinds: list[str]) -> ibis.Table:
    """Relationships of the given kinds valid at T (valid_from <= T < valid_to), known by K.

    An edge is identified by (src, dst, kind, valid_from); when it was imported again with
    another valid_to or weight, the latest version recorded by K is the one that holds.
    """
    e = data.table("relationships")
    e = e.filter(e.kind.isin(kinds))
    if at.known_at is not None:
        e = e.filter(e.recorded_us <= at.known_at)
    if data.has_edge_versions:
        latest = ibis.window(
            group_by=[e.src, e.dst, e.kind, e.valid_from_us],
            order_by=[ibis.desc(e.recorded_us), ibis.desc(e.eid)],
        )
        e = e.mutate(version=ibis.row_number().over(latest))
        e = e.filter(e.version == 0)
    e = e.filter(
        e.valid_from_us.isnull() | (e.valid_from_us <= at.as_of),
        e.valid_to_us.isnull() | (e.valid_to_us > at.as_of),
    )
    return e.select("src", "dst", "kind", "weight")
