"""What a person reads in a notice, in the reader's language, made when the notice is shown.

A stored notice keeps its machine data (kind, topic, measure or list, reason codes, dates,
tiers, the policy's own texts, which may be maps of languages); its English headline and
instructions are stored too, for readers of older rows. `human_fields` writes the headline, the
reason, the factors' reasons and how to object or appeal again from that data, in the language
in use (`i18n.use`): the web page's, the API's negotiated one, English for the webhook and the
CLI (docs/rights.md). A case notice (`case_notice`) whose headline is a `Message` keeps its id
and parameters (`headline_message`), so it is translated the same way.
"""

from __future__ import annotations

from typing import Any

from socialcredit.i18n import N_, Message, _, localize, text
from socialcredit.rights.wording import reason_text


def words(slug: str) -> str:
    """A machine name as words, for a measure or list that has no text of its own."""
    return slug.replace("_", " ").capitalize()


def headline(kind: str, topic: str, body: dict[str, Any]) -> str:
    """The notice's headline in the language in use."""
    if kind == "measure_applied":
        return _("{measure} now applies to you", measure=words(str(body.get("measure", topic))))
    if kind == "measure_lifted":
        return _(
            "{measure} no longer applies to you", measure=words(str(body.get("measure", topic)))
        )
    if kind == "list_entered":
        name = words(str(body.get("list", topic))).lower()
        return _("You were entered on the {list} list", list=name)
    if kind == "list_exited":
        name = words(str(body.get("list", topic))).lower()
        return _("You are no longer on the {list} list", list=name)
    if kind == "tier_changed" and isinstance(body.get("tier"), dict):
        tier = body["tier"]
        return _("Your tier changed from {old} to {new}", old=tier.get("from"), new=tier.get("to"))
    stored = body.get("headline_message")
    if isinstance(stored, dict) and isinstance(stored.get("id"), str):
        return localize(Message(stored["id"], **dict(stored.get("params") or {})))
    return str(body.get("headline", ""))


OBJECT = N_(
    "If a record behind this is wrong, object to it with the Object action next to the record "
    "in your portal. The source that sent it must answer by the deadline the policy sets; a "
    "record it does not verify in time stops counting."
)
APPEAL_MEASURE = N_(
    "To have a person review this measure, appeal it with the Appeal action in your portal."
)
APPEAL_DECISION = N_(
    "To have a person review this decision, appeal it with the Appeal action in your portal."
)


def contest(kind: str, stored: dict[str, Any]) -> dict[str, Any]:
    """How to object or appeal, and by when (the machine parts kept as stored)."""
    appeal = APPEAL_MEASURE if kind.startswith("measure") else APPEAL_DECISION
    return {**stored, "object": _(OBJECT), "appeal": _(appeal)}


def human_fields(kind: str, topic: str, body: dict[str, Any]) -> dict[str, Any]:
    """The fields of a notice that a person reads, in the language in use."""
    out: dict[str, Any] = {"headline": headline(kind, topic, body)}
    if body.get("reason") is not None:
        out["reason"] = text(body["reason"])
    # each machine reason code as a sentence (the codes stay in `reasons`)
    out["reason_texts"] = [reason_text(code, None) for code in body.get("reasons") or []]
    if isinstance(body.get("contest"), dict):
        out["contest"] = contest(kind, body["contest"])
    if isinstance(body.get("factors"), list):
        out["factors"] = [
            {**f, "reason": text(f.get("reason"))} if isinstance(f, dict) else f
            for f in body["factors"]
        ]
    return out
