"""Rendering an explanation for a person reading a terminal."""

from __future__ import annotations

from rich.table import Table

from socialcredit.cli.common import out
from socialcredit.engine.explain import Factor
from socialcredit.i18n import text
from socialcredit.rights.reports import SubjectReport
from socialcredit.timeutil import format_instant, from_us


def _bar(value: float, width: int = 20) -> str:
    filled = max(0, min(width, round(value * width)))
    return "█" * filled + "░" * (width - filled)


def _factor_lines(
    factor: Factor, per_factor: int, disputed: frozenset[tuple[str, str]] = frozenset()
) -> list[str]:
    lines = []
    for r in factor.records[:per_factor]:
        value = "" if r.value is None else f", value {r.value:g}"
        flag = (
            " (disputed: counts while under objection)"
            if (r.source, r.record_id) in disputed
            else ""
        )
        lines.append(
            f"    {r.occurred_at:%Y-%m-%d} {r.source}/{r.record_id} {r.type}{value}: "
            f"{r.points:+g} × reliability {r.reliability:g} × decay {r.decay:.3f} "
            f"= {r.effect:+.2f}{flag}"
        )
    if len(factor.records) > per_factor:
        lines.append(f"    … and {len(factor.records) - per_factor} more records")
    return lines


def render(report: SubjectReport, per_factor: int) -> None:
    e, ev, subject = report.explanation, report.evaluation, report.subject
    policy = report.stored_policy.policy
    out.print(
        f"[bold]{text(policy.title)}[/] ({ev.policy_name} {ev.policy_version}), "
        f"evaluation {ev.id} as of {format_instant(ev.as_of)}"
    )
    out.print(
        f"subject {subject.identifier} — {subject.name} ({subject.kind}"
        f"{', region ' + subject.region if subject.region else ''})"
    )
    if e.score is None and policy.scores:
        out.print(
            "[yellow]not scored by this policy[/] (outside its kinds of subject, region or age)"
        )
    elif e.score is not None:
        assert policy.scale is not None
        percentile = (
            f", percentile {100 * (e.percentile or 0):.1f}" if e.percentile is not None else ""
        )
        out.print(
            f"[bold]score {e.score}[/] on {policy.scale.min}–{policy.scale.max}, "
            f"tier [bold]{e.tier or '-'}[/]{percentile}"
        )
        if e.ceiling is not None:
            out.print(
                f"[yellow]capped at {e.ceiling}[/] by: "
                + "; ".join(text(r) for r in e.ceiling_reasons)
            )
        table = Table("category", "weight", "value", "", "from records", box=None)
        for c in e.categories:
            weight = f"{c.weight:.2f}" if c.weight is not None else "-"
            if policy.model == "weighted":
                shown, bar = f"{c.value:.3f}", _bar(c.value)
            else:
                shown, bar = f"{c.value:+.2f}", ""
            total = (
                f"{c.total:+.2f} points"
                if c.total is not None
                else ("network" if policy.categories[c.name].network else "")
            )
            table.add_row(text(c.label), weight, shown, bar, total)
        out.print(table)
    if e.lowering:
        out.print("[bold]What lowered the score most[/]")
        for n, f in enumerate(e.lowering, start=1):
            out.print(
                f"  {n}. {text(f.reason)} ({f.category}): {f.effect:+.2f} from "
                f"{len(f.records)} record{'s' if len(f.records) != 1 else ''}"
            )
            for line in _factor_lines(f, per_factor, report.disputed):
                out.print(line, highlight=False)
    others = [f for f in e.factors if f not in e.lowering]
    if others:
        out.print("[bold]Other factors[/]")
        for f in others:
            out.print(
                f"  • {text(f.reason)} ({f.category}): {f.effect:+.2f} from "
                f"{len(f.records)} record{'s' if len(f.records) != 1 else ''}"
            )
            for line in _factor_lines(f, per_factor, report.disputed):
                out.print(line, highlight=False)
    if policy.scores and not e.factors and e.score is not None:
        out.print("no records count for this subject; every category sits at its neutral value")
    if e.influences:
        out.print(
            f"[bold]Network[/]: {len(e.influences)} related subjects shape the network category"
        )
        for i in e.influences[:5]:
            out.print(
                f"  {report.names.get(i.neighbour, i.neighbour)}: share {i.share:.0%}, "
                f"passes on {i.value:.3f}"
            )
    if e.lists:
        out.print("[bold]Lists[/]")
        for item in e.lists:
            out.print(
                f"  {item['list']} since {from_us(int(item['since_us'])):%Y-%m-%d} "
                f"(lapses {from_us(int(item['until_us'])):%Y-%m-%d} unless renewed)"
            )
    if e.decisions:
        out.print("[bold]Measures in force[/]")
        for d in e.decisions:
            cause = ""
            if d["cause_sid"] != e.sid:
                cause = f", because of {report.names.get(int(d['cause_sid']), d['cause_sid'])}"
            out.print(
                f"  {d['measure']} ({d['kind']}, {d['authority']}) since "
                f"{from_us(int(d['since_us'])):%Y-%m-%d}{cause}: "
                f"{', '.join(d['reasons'])}"
            )
    out.print(
        "[dim]A measure lapses when its condition stops holding; a list entry lapses on "
        "the date shown unless renewed.[/]"
    )
