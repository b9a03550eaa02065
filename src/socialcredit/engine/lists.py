"""List membership at T (blacklists and redlists).

A subject is on list L at T when it has an active entry record e (type in L.enter) with
e.occurred_at <= T < e.occurred_at + L.duration, and no active exit record x (type in L.exit)
with e.occurred_at <= x.occurred_at <= T. `since` is the earliest such e.occurred_at and `until`
the latest e.occurred_at + duration: the day the entry lapses unless it is renewed.
"""

from __future__ import annotations

import ibis

from socialcredit.engine.typemap import TypeMap
from socialcredit.engine.views import Instant


def memberships(
    records: ibis.Table, typemap: TypeMap, subjects: ibis.Table, at: Instant
) -> ibis.Table:
    """(list, sid, since, until) for every membership at T among `subjects`."""
    marked = records.semi_join(subjects, "sid").join(typemap.list_types, "type")
    marked = marked.select("sid", "list", "enter", "duration_us", "occurred_us")
    entries = marked.filter(
        marked.enter, ibis.literal(at.as_of) < marked.occurred_us + marked.duration_us
    )
    exits = marked.filter(~marked.enter)
    last_exit = exits.group_by("sid", "list").aggregate(last_exit=exits.occurred_us.max())
    joined = entries.left_join(last_exit, ["sid", "list"])
    valid = joined.filter(joined.last_exit.isnull() | (joined.occurred_us > joined.last_exit))
    return valid.group_by("sid", "list").aggregate(
        since=valid.occurred_us.min(),
        until=(valid.occurred_us + valid.duration_us).max(),
    )


def record_atoms(records: ibis.Table, typemap: TypeMap, subjects: ibis.Table) -> ibis.Table:
    """(sid, atom, last): the latest occurred_at <= T of each has_record condition's types."""
    marked = records.semi_join(subjects, "sid").join(typemap.atom_types, "type")
    return marked.group_by("sid", "atom").aggregate(last=marked.occurred_us.max())
