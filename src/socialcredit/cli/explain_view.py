"""Rendering an explanation for a person reading a terminal, in the language chosen with
`--lang` (else the environment's locale): the same words as the portal, never codes alone."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from socialcredit.cli.common import out
from socialcredit.i18n import _, ngettext, text
from socialcredit.i18n.formats import format_date, format_number, format_percent, format_signed
from socialcredit.i18n.languages import LANGUAGES, environment_language, language_of
from socialcredit.rights.reports import SubjectReport, report_document
from socialcredit.rights.wording import category_text, region_name


def _language(value: str | None) -> str | None:
    if value is None:
        return None
    found = language_of(value)
    if found is None:
        raise typer.BadParameter(f"{value!r} is not served; use one of {', '.join(LANGUAGES)}")
    return found


LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang",
        callback=_language,
        metavar="LANG",
        help="Language of the explanation: en or zh-CN (default: the environment's locale).",
    ),
]


def chosen_language(value: str | None) -> str:
    """`--lang` when given, else the environment's locale (LANGUAGE, LC_ALL, LC_MESSAGES, LANG)."""
    return _language(value) or environment_language()


def _bar(value: float, width: int = 20) -> str:
    filled = max(0, min(width, round(value * width)))
    return "█" * filled + "░" * (width - filled)


def _records_of(factor: dict[str, object]) -> list[dict[str, object]]:
    found = factor["records"]
    assert isinstance(found, list)
    return found


def _factor_lines(factor: dict[str, object], per_factor: int) -> list[str]:
    lines = []
    records = _records_of(factor)
    for r in records[:per_factor]:
        what = str(r["type_text"])
        if r["value_text"]:
            what = _("{what}, {value}", what=what, value=r["value_text"])
        line = _(
            "    {day} {source} ({record}): {what}: {points} × reliability {reliability} × "
            "decay {decay} = {effect}",
            day=format_date(str(r["occurred_at"])),
            source=r["source_name"],
            record=r["record_id"],
            what=what,
            points=format_signed(float(r["points"]), 2),  # type: ignore[arg-type]
            reliability=format_number(float(r["reliability"]), 2),  # type: ignore[arg-type]
            decay=format_number(float(r["decay"]), 3),  # type: ignore[arg-type]
            effect=format_signed(float(r["effect"]), 2),  # type: ignore[arg-type]
        )
        if r["disputed"]:
            line += _(" (disputed: counts while under objection)")
        lines.append(escape(line))
    if len(records) > per_factor:
        more = len(records) - per_factor
        lines.append("    " + ngettext("… and {n} more record", "… and {n} more records", more))
    return lines


def _factor_head(factor: dict[str, object], policy_categories: str) -> str:
    count = len(_records_of(factor))
    return ngettext(
        "{reason} ({category}): {effect} from {n} record",
        "{reason} ({category}): {effect} from {n} records",
        count,
        reason=factor["reason"],
        category=policy_categories,
        effect=format_signed(float(factor["effect"]), 2),  # type: ignore[arg-type]
    )


def render(report: SubjectReport, per_factor: int) -> None:
    """Print the explanation in the language in use (wrap the call in `i18n.use`)."""
    d = report_document(report)
    e, ev, subject = report.explanation, report.evaluation, report.subject
    policy = report.stored_policy.policy
    out.print(
        "[bold]"
        + escape(text(policy.title))
        + "[/] "
        + escape(
            _(
                "({policy} {version}), evaluation {evaluation} as of {day}",
                policy=ev.policy_name,
                version=ev.policy_version,
                evaluation=ev.id,
                day=format_date(ev.as_of),
            )
        )
    )
    kind = {"person": _("person"), "organization": _("organization"), "authority": _("authority")}
    if subject.region:
        who = _(
            "{identifier} — {name} ({kind}, {region})",
            identifier=subject.identifier,
            name=subject.name,
            kind=kind.get(subject.kind, subject.kind),
            region=region_name(subject.region),
        )
    else:
        who = _(
            "{identifier} — {name} ({kind})",
            identifier=subject.identifier,
            name=subject.name,
            kind=kind.get(subject.kind, subject.kind),
        )
    out.print(escape(who))
    if e.score is None and policy.scores:
        out.print(
            "[yellow]"
            + escape(
                _("Not scored by this policy (outside its kinds of subject, its region or age).")
            )
            + "[/]"
        )
    elif e.score is not None:
        assert policy.scale is not None
        line = _(
            "Score {score} on a scale of {low}–{high}, tier {tier}",
            score=e.score,
            low=policy.scale.min,
            high=policy.scale.max,
            tier=d["tier_text"] or "–",
        )
        if d["percentile_text"]:
            line = _("{line}: {percentile}.", line=line, percentile=d["percentile_text"])
        out.print("[bold]" + escape(line) + "[/]")
        if e.ceiling is not None:
            out.print(
                "[yellow]"
                + escape(_("Capped at {ceiling} by:", ceiling=e.ceiling))
                + "[/] "
                + escape("; ".join(d["ceiling_reasons"]))
            )
        table = Table(_("category"), _("weight"), _("value"), "", _("from records"), box=None)
        for c in d["categories"]:
            weight = format_number(c["weight"], 2) if c["weight"] is not None else "–"
            if policy.model == "weighted":
                shown, bar = format_number(c["value"], 3), _bar(c["value"])
            else:
                shown, bar = format_signed(c["value"], 2), ""
            total = (
                _("{points} points", points=format_signed(c["total"], 2))
                if c["total"] is not None
                else (_("network") if policy.categories[c["name"]].network else "")
            )
            table.add_row(escape(c["label"]), weight, shown, bar, total)
        out.print(table)
    if d["lowering"]:
        out.print("[bold]" + escape(_("What lowered the score most")) + "[/]")
        for n, f in enumerate(d["lowering"], start=1):
            head = _factor_head(f, category_text(policy, f["category"]))
            out.print(escape(f"  {n}. {head}"))
            for line in _factor_lines(f, per_factor):
                out.print(line, highlight=False)
    others = d["factors"][len(d["lowering"]) :]
    if others:
        out.print("[bold]" + escape(_("Other factors")) + "[/]")
        for f in others:
            out.print(escape("  • " + _factor_head(f, category_text(policy, f["category"]))))
            for line in _factor_lines(f, per_factor):
                out.print(line, highlight=False)
    if policy.scores and not e.factors and e.score is not None:
        out.print(
            escape(
                _("No record counts for this subject; every category sits at its neutral value.")
            )
        )
    if e.influences:
        out.print(
            "[bold]"
            + escape(
                ngettext(
                    "Network: {n} related subject shapes the network category",
                    "Network: {n} related subjects shape the network category",
                    len(e.influences),
                )
            )
            + "[/]"
        )
        for i in d["influences"][:5]:
            out.print(
                escape(
                    _(
                        "  {neighbour}: share {share}, passes on {value}",
                        neighbour=i["neighbour"],
                        share=format_percent(i["share"]),
                        value=format_number(i["value"], 3),
                    )
                )
            )
    if d["lists"]:
        out.print("[bold]" + escape(_("Lists")) + "[/]")
        for item in d["lists"]:
            out.print(escape("  " + item["why"]))
            out.print(
                escape(
                    "    " + _("It lapses on {day} unless renewed.", day=format_date(item["until"]))
                )
            )
    if d["decisions"]:
        out.print("[bold]" + escape(_("Measures in force")) + "[/]")
        for m in d["decisions"]:
            line = _(
                "{measure} ({authority}) since {day}",
                measure=m["label"],
                authority=m["authority"],
                day=format_date(m["since"]),
            )
            if m["cause_subject"] and m["cause_subject"] != subject.identifier:
                line = _("{line}, because of {cause}", line=line, cause=m["cause_subject"])
            out.print(escape("  " + line))
            for reason in m["reason_texts"]:
                out.print(escape("    " + reason))
    out.print(
        "[dim]"
        + escape(
            _(
                "A measure lapses when its condition stops holding; a list entry lapses on "
                "the date shown unless renewed."
            )
        )
        + "[/]"
    )
