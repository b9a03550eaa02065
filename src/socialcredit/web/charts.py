"""Plotly figures as plain dicts (`{"data": [...], "layout": {...}}`), drawn in the browser by the
plotly.js that ships with the plotly package. One look for every chart.

Every figure also carries its numbers as a table (`"table": {"head": [...], "rows": [[...]]}`,
headings translated, numbers formatted in the reader's language), which `macros.chart` shows
beside the chart: a chart is an image, and a screen reader or a keyboard user reads the table.
plotly.js ignores the key.
"""

from __future__ import annotations

from typing import Any

from socialcredit.i18n import _, text
from socialcredit.i18n.formats import format_date, format_number, format_percent, format_signed
from socialcredit.i18n.text import text_language
from socialcredit.outcomes.dashboard import (
    Bin,
    Count,
    ListSize,
    MeasureInForce,
    RegionScores,
    TrendPoint,
)
from socialcredit.policy.schema import Policy

Figure = dict[str, Any]
Table = dict[str, list[Any]]

INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
ACCENT = "#2563eb"
RESTRICTION = "#dc2626"
PRIVILEGE = "#059669"
# Best tier first: green through amber to red.
TIER_PALETTE = ["#15803d", "#4d9f3a", "#84cc16", "#eab308", "#f59e0b", "#f97316", "#dc2626"]
FONT = {
    "family": "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif",
    "size": 13,
    "color": INK,
}


def _layout(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "font": FONT,
        "margin": {"l": 48, "r": 16, "t": 8, "b": 40},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": False,
        "bargap": 0.15,
        "xaxis": {"gridcolor": GRID, "zeroline": False, "automargin": True},
        "yaxis": {"gridcolor": GRID, "zeroline": False, "automargin": True},
        "hoverlabel": {"font": {"family": FONT["family"]}},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def _table(head: list[str], rows: list[list[str]], langs: list[str | None] | None = None) -> Table:
    """A chart's numbers: the first column names each row, the others are numbers. `langs`:
    the language of each row's name where it differs from the page's (a policy text that
    fell back to another language), for its `lang` attribute."""
    return {"head": head, "rows": rows, "langs": langs or [None] * len(rows)}


def _label(row: dict[str, Any]) -> str:
    """A category's label in the reader's language (a policy text), else its name."""
    return text(row["label"]) if row["label"] else str(row["name"])


def tier_colors(policy: Policy) -> dict[str, str]:
    """A colour per tier, best green to worst red, spread over the palette."""
    n = len(policy.tiers)
    if n == 0:
        return {}
    last = len(TIER_PALETTE) - 1
    return {
        t.name: TIER_PALETTE[round(i * last / (n - 1)) if n > 1 else 0]
        for i, t in enumerate(policy.tiers)
    }


def tier_of(policy: Policy, score: int) -> str | None:
    return next((t.name for t in policy.tiers if score >= t.min), None)


def histogram(bins: list[Bin], policy: Policy) -> Figure:
    colors = tier_colors(policy)
    return {
        "data": [
            {
                "type": "bar",
                "x": [(b.low + b.high) / 2 for b in bins],
                "y": [b.subjects for b in bins],
                "width": [b.high - b.low + 1 for b in bins],
                "customdata": [[b.low, b.high] for b in bins],
                "hovertemplate": (
                    "%{customdata[0]}–%{customdata[1]}: %{y:,} subjects<extra></extra>"
                ),
                "marker": {
                    "color": [colors.get(tier_of(policy, b.low) or "", ACCENT) for b in bins],
                    "line": {"width": 1, "color": "#ffffff"},
                },
            }
        ],
        "table": _table(
            [_("Score"), _("Subjects")],
            [[f"{b.low}–{b.high}", format_number(b.subjects)] for b in bins],
        ),
        "layout": _layout(
            bargap=0,
            xaxis={"title": {"text": "score"}},
            yaxis={"title": {"text": "subjects"}},
        ),
    }


def tiers(counts: list[Count], policy: Policy) -> Figure:
    colors = tier_colors(policy)
    total = sum(c.subjects for c in counts) or 1
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [c.name for c in counts],
                "x": [c.subjects for c in counts],
                "text": [f"{c.subjects:,} · {100 * c.subjects / total:.0f}%" for c in counts],
                "textposition": "auto",
                "hovertemplate": "%{y}: %{x:,}<extra></extra>",
                "marker": {"color": [colors.get(c.name, ACCENT) for c in counts]},
            }
        ],
        "table": _table(
            [_("Tier"), _("Subjects"), _("Share")],
            [
                [c.name, format_number(c.subjects), format_percent(c.subjects / total)]
                for c in counts
            ],
        ),
        "layout": _layout(
            yaxis={"autorange": "reversed"},
            margin={"l": 90},
            height=max(200, 46 * len(counts) + 70),
        ),
    }


def lists(sizes: list[ListSize]) -> Figure:
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [s.name.replace("_", " ") for s in sizes],
                "x": [s.subjects for s in sizes],
                "text": [f"{s.subjects:,}" for s in sizes],
                "textposition": "auto",
                "hovertemplate": "%{y}: %{x:,}<extra></extra>",
                "marker": {"color": [PRIVILEGE if s.kind == "red" else RESTRICTION for s in sizes]},
            }
        ],
        "table": _table(
            [_("List"), _("Kind"), _("Entries")],
            [
                [
                    s.name.replace("_", " "),
                    _("red list") if s.kind == "red" else _("black list"),
                    format_number(s.subjects),
                ]
                for s in sizes
            ],
        ),
        "layout": _layout(yaxis={"autorange": "reversed"}, height=max(180, 46 * len(sizes) + 70)),
    }


def measures_by_authority(measures: list[MeasureInForce]) -> Figure:
    """Stacked bars: decisions per authority, one segment per measure, restrictions red."""
    authorities = sorted({m.authority for m in measures})
    data = []
    for kind, color in (("restriction", RESTRICTION), ("privilege", PRIVILEGE)):
        for m in (m for m in measures if m.kind == kind):
            data.append(
                {
                    "type": "bar",
                    "orientation": "h",
                    "name": m.measure,
                    "y": [m.authority],
                    "x": [m.decisions],
                    "hovertemplate": f"{m.measure} ({kind}): %{{x:,}}<extra>%{{y}}</extra>",
                    "marker": {"color": color, "line": {"width": 1, "color": "#ffffff"}},
                }
            )
    kinds = {"restriction": _("restriction"), "privilege": _("privilege")}
    rows = [
        [m.authority, m.measure, kinds.get(m.kind, m.kind), format_number(m.decisions)]
        for m in sorted(measures, key=lambda m: (m.authority, m.measure))
    ]
    return {
        "data": data,
        "table": _table([_("Authority"), _("Measure"), _("Kind"), _("Decisions in force")], rows),
        "layout": _layout(
            barmode="stack",
            yaxis={"autorange": "reversed", "categoryorder": "array", "categoryarray": authorities},
            xaxis={"title": {"text": "decisions in force"}},
            height=max(200, 56 * len(authorities) + 90),
            bargap=0.35,
        ),
    }


def regions(rows: list[RegionScores]) -> Figure:
    """A dot per region: mean (filled) and median (open), on an axis fitted to the data, so
    that differences between regions are visible (bars would have to start at zero)."""
    values = [v for r in rows for v in (r.mean, r.median)]
    pad = max(10.0, (max(values) - min(values)) * 0.25) if values else 10.0
    regions_ = [r.region for r in rows]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "markers",
                "name": "mean",
                "x": [round(r.mean, 1) for r in rows],
                "y": regions_,
                "customdata": [[r.subjects] for r in rows],
                "hovertemplate": (
                    "region %{y}: mean %{x} (%{customdata[0]:,} subjects)<extra></extra>"
                ),
                "marker": {"color": ACCENT, "size": 14},
            },
            {
                "type": "scatter",
                "mode": "markers",
                "name": "median",
                "x": [r.median for r in rows],
                "y": regions_,
                "hovertemplate": "region %{y}: median %{x}<extra></extra>",
                "marker": {
                    "color": "#ffffff",
                    "size": 12,
                    "symbol": "diamond",
                    "line": {"color": INK, "width": 2},
                },
            },
        ],
        "table": _table(
            [_("Region"), _("Subjects"), _("Mean score"), _("Median score")],
            [
                [
                    r.region,
                    format_number(r.subjects),
                    format_number(r.mean, 1),
                    format_number(r.median),
                ]
                for r in rows
            ],
        ),
        "layout": _layout(
            showlegend=True,
            legend={"orientation": "h", "y": 1.14, "x": 0},
            yaxis={"type": "category", "autorange": "reversed", "title": {"text": "region"}},
            xaxis={
                "title": {"text": "score"},
                "range": [min(values) - pad, max(values) + pad] if values else None,
            },
            margin={"t": 28},
            height=max(220, 40 * len(rows) + 110),
        ),
    }


def trend(points: list[TrendPoint], scored: bool) -> Figure:
    dates = [f"{p.as_of:%Y-%m-%d}" for p in points]
    line = {"type": "scatter", "mode": "lines+markers", "x": dates}
    if scored:
        data = [
            {
                **line,
                "name": "mean score",
                "y": [round(p.mean, 1) if p.mean is not None else None for p in points],
                "line": {"color": ACCENT, "width": 3},
            },
            {
                **line,
                "name": "median score",
                "y": [p.median for p in points],
                "line": {"color": MUTED, "width": 2, "dash": "dot"},
            },
        ]
        title = "score"
        table = _table(
            [_("As of"), _("Mean score"), _("Median score")],
            [
                [format_date(p.as_of), format_number(p.mean, 1), format_number(p.median)]
                for p in points
            ],
        )
    else:
        data = [
            {
                **line,
                "name": "list entries",
                "y": [p.listed for p in points],
                "line": {"color": RESTRICTION, "width": 3},
            },
            {
                **line,
                "name": "decisions",
                "y": [p.decisions for p in points],
                "line": {"color": MUTED, "width": 2, "dash": "dot"},
            },
        ]
        title = "count"
        table = _table(
            [_("As of"), _("List entries"), _("Decisions")],
            [
                [format_date(p.as_of), format_number(p.listed), format_number(p.decisions)]
                for p in points
            ],
        )
    return {
        "data": data,
        "table": table,
        "layout": _layout(
            showlegend=True,
            legend={"orientation": "h", "y": 1.12, "x": 0},
            xaxis={"type": "category", "title": {"text": "as of"}},
            yaxis={"title": {"text": title}},
            margin={"t": 28},
        ),
    }


def gauge(score: int, policy: Policy) -> Figure:
    low = policy.scale.min if policy.scale else 0
    high = policy.scale.max if policy.scale else max(score, 1)
    colors = tier_colors(policy)
    steps, top = [], high
    for t in policy.tiers:  # best first
        steps.append({"range": [max(t.min, low), top], "color": colors[t.name] + "33"})
        top = t.min
    tier = tier_of(policy, score)
    shown = [[_("Score"), format_number(score)], [_("Scale"), f"{low}–{high}"]]
    if tier is not None:
        shown.append([_("Tier"), tier])
    return {
        "table": _table([_("What"), _("Value")], shown),
        "data": [
            {
                "type": "indicator",
                "mode": "gauge+number",
                "value": score,
                "number": {"font": {"size": 44, "color": INK}},
                "gauge": {
                    "axis": {"range": [low, high], "tickcolor": MUTED, "nticks": 7},
                    "bar": {"color": colors.get(tier_of(policy, score) or "", ACCENT)},
                    "bgcolor": "#f3f4f6",
                    "borderwidth": 0,
                    "steps": steps,
                },
            }
        ],
        "layout": _layout(margin={"l": 36, "r": 36, "t": 20, "b": 4}, height=200),
    }


def categories(rows: list[dict[str, Any]], model: str) -> Figure:
    """Weighted: each category's value on 0–1, weight in the label. Points: signed totals."""
    if model == "weighted":
        labels = [f"{_label(r)} · {r['weight']:.0%}" if r["weight"] else r["name"] for r in rows]
        values = [round(float(r["value"]), 3) for r in rows]
        colors = [ACCENT] * len(rows)
        axis: dict[str, Any] = {
            "range": [0, 1],
            "tickformat": ".0%",
            "title": {"text": "category value"},
        }
        hover = "%{y}: %{x:.1%}<extra></extra>"
        table = _table(
            [_("Category"), _("Weight"), _("Value")],
            [
                [
                    _label(r),
                    format_percent(r["weight"]) if r["weight"] else "–",
                    format_percent(v, 1),
                ]
                for r, v in zip(rows, values, strict=True)
            ],
            [text_language(r["label"]) if r["label"] else None for r in rows],
        )
    else:
        labels = [_label(r) for r in rows]
        values = [round(float(r["value"]), 2) for r in rows]
        colors = [PRIVILEGE if v >= 0 else RESTRICTION for v in values]
        axis = {"zeroline": True, "zerolinecolor": MUTED, "title": {"text": "points"}}
        hover = "%{y}: %{x:+.2f} points<extra></extra>"
        table = _table(
            [_("Category"), _("Points")],
            [[label, format_signed(v)] for label, v in zip(labels, values, strict=True)],
            [text_language(r["label"]) if r["label"] else None for r in rows],
        )
    return {
        "table": table,
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": labels,
                "x": values,
                "hovertemplate": hover,
                "marker": {"color": colors},
            }
        ],
        "layout": _layout(
            yaxis={"autorange": "reversed"}, xaxis=axis, height=max(160, 44 * len(rows) + 60)
        ),
    }


def history(points: list[dict[str, Any]]) -> Figure:
    shown = [p for p in points if p["score"] is not None]
    return {
        "table": _table(
            [_("As of"), _("Score")],
            [[format_date(p["as_of"]), format_number(p["score"])] for p in shown],
        ),
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [p["as_of"][:10] for p in shown],
                "y": [p["score"] for p in shown],
                "line": {"color": ACCENT, "width": 3},
                "hovertemplate": "%{x}: %{y}<extra></extra>",
            }
        ],
        "layout": _layout(xaxis={"type": "category"}, height=200, margin={"t": 8}),
    }
