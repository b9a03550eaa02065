"""Re-ranking: the percentiles of a current evaluation brought up to its distribution.

A real-time refresh rewrites the rows of the subjects it touched and updates the evaluation's
score histogram exactly, but leaves the other subjects' percentiles as they were: each changed
score moves theirs by at most 1/(n - 1) (docs/realtime.md). A percentile is a function of the
score and the histogram alone (`engine.scoring.percentile_table`, the table the engine joins),
so re-ranking needs no evaluation: one UPDATE per evaluation, through a table of at most
`scale.max - scale.min + 1` rows. After it, every percentile equals a full evaluation's.

`scs serve`'s refresher re-ranks every `SCS_RERANK_INTERVAL` seconds when refreshes changed a
histogram, and so does `scs refresh --rerank`; the demo re-ranks after its real-time tour.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from socialcredit.engine.scoring import percentile_table
from socialcredit.store.db import STORE_LOCK, writing
from socialcredit.store.evaluations import latest_evaluation
from socialcredit.store.policies import latest_policies
from socialcredit.store.schema import outcome_scores

_ranks = sa.Table(
    "scs_percentile_table",
    sa.MetaData(),
    sa.Column("score", sa.Integer, primary_key=True),
    sa.Column("percentile", sa.Float, nullable=False),
    prefixes=["TEMPORARY"],
)


@dataclass(frozen=True)
class Reranked:
    policy: str
    evaluation_id: int
    rows: int  # score rows whose percentile changed


def rerank(engine: sa.Engine) -> list[Reranked]:
    """Re-rank every current evaluation that refreshes have rewritten (idempotent: a second
    call changes no row)."""
    done = []
    with writing(engine, STORE_LOCK) as conn:
        for stored in latest_policies(conn):
            policy = stored.policy
            if policy.scale is None:
                continue
            try:
                evaluation = latest_evaluation(conn, stored.name)
            except LookupError:  # never evaluated
                continue
            if evaluation.refreshed_at is None:  # a run's percentiles are exact already
                continue
            table = percentile_table(evaluation.distribution, policy.scale.min, policy.scale.max)
            _ranks.create(conn, checkfirst=True)
            conn.execute(_ranks.delete())
            conn.execute(
                _ranks.insert(),
                [
                    {"score": int(s), "percentile": float(p)}
                    for s, p in zip(
                        table["score"].to_pylist(), table["percentile"].to_pylist(), strict=True
                    )
                ],
            )
            fresh = (
                sa.select(_ranks.c.percentile)
                .where(_ranks.c.score == outcome_scores.c.score)
                .scalar_subquery()
            )
            changed = conn.execute(
                outcome_scores.update()
                .where(
                    outcome_scores.c.evaluation_id == evaluation.id,
                    outcome_scores.c.score.is_not(None),
                    outcome_scores.c.percentile.is_distinct_from(fresh),
                )
                .values(percentile=fresh)
            ).rowcount
            done.append(Reranked(stored.name, evaluation.id, int(changed or 0)))
            _ranks.drop(conn)
    return done
