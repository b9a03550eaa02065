"""`evaluate()`: the one function that computes scores, tiers, lists and measures.

    outcome = evaluate(data, policy, as_of, known_at=None, subjects=None)

Batch runs, "what was my score on 1 March?", explanations and subset (real-time) refreshes
all call it. With `subjects`, it evaluates only what those subjects' rows depend on: their
`hops`-ball for the network category, their guardians and the organizations they represent (for
collateral measures), and returns exactly the rows the full evaluation gives for them.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Literal

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from socialcredit.atomic import AtomicFiles
from socialcredit.engine import measures as measures_stage
from socialcredit.engine.data import PlanData
from socialcredit.engine.lists import memberships, record_atoms
from socialcredit.engine.network import Graph, network_graph, remembered_graph
from socialcredit.engine.outcome import Outcome
from socialcredit.engine.overrides import lifted as lifted_by_overrides
from socialcredit.engine.ranges import Range, per_range, subject_ranges, within
from socialcredit.engine.scoring import (
    FIXED,
    Distribution,
    base_values,
    category_sums,
    contributions,
    distribution_of,
    final_scores,
    percentile_table,
)
from socialcredit.engine.typemap import TypeMap, build_typemap
from socialcredit.engine.views import Instant, live_edges, live_records, scope
from socialcredit.policy.load import policy_digest
from socialcredit.policy.schema import Policy
from socialcredit.timeutil import to_us


class StageClock:
    """Seconds per stage, and the process's peak resident memory (bytes) at the end of each."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.memory: dict[str, int] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start
            self.memory[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _ids(values: np.ndarray) -> ibis.Table:
    return ibis.memtable(pa.table({"sid": pa.array(values, pa.int64())}))


def _only(table: ibis.Table, ids: np.ndarray | None) -> ibis.Table:
    return table if ids is None else table.semi_join(_ids(ids), "sid")


def empty_scores() -> pa.Table:
    """The score rows of a policy without a score (model: none)."""
    return pa.table(
        {
            "sid": pa.array([], pa.int64()),
            "score": pa.array([], pa.int64()),
            "tier": pa.array([], pa.string()),
            "percentile": pa.array([], pa.float64()),
            "ceiling": pa.array([], pa.int64()),
            "uncapped": pa.array([], pa.int64()),
            "records": pa.array([], pa.int64()),
        }
    )


LISTS = pa.schema(
    [("list", pa.string()), ("sid", pa.int64()), ("since_us", pa.int64()), ("until_us", pa.int64())]
)


def _named_lists(listed: ibis.Table, policy: Policy) -> ibis.Table:
    """The list rows, sorted by (list, sid), with the lists' names instead of indexes."""
    names = ibis.literal([definition.name for definition in policy.lists], type="array<string>")
    ordered = listed.order_by("list", "sid")
    return ordered.select(
        list=names[ordered["list"].cast("int32")],  # Spark indexes arrays by INT only
        sid=ordered["sid"].cast("int64"),
        since_us=ordered["since"].cast("int64"),
        until_us=ordered["until"].cast("int64"),
    )


KEYS = {"scores": "records", "lists": "list", "decisions": "measure"}  # what is counted
BATCH_ROWS = 1 << 20


class Sink:
    """Where the outcome tables go: into memory (returned), or written by the engine into
    Parquet files under `folder` (the files appear together, whole, when all are written).
    Counts the rows of each table and the totals the outcome's counts need, either way."""

    def __init__(self, data: PlanData, folder: Path | None) -> None:
        self.data, self.folder = data, folder
        self.files = AtomicFiles()  # the three files appear together, or not at all
        self.rows: dict[str, int] = {}
        self.totals: dict[str, int] = {}

    def put(self, name: str, table: pa.Table) -> pa.Table:
        """A table the evaluation already holds (an empty one)."""
        if self.folder is not None:
            with self.files.writer(self.folder / f"{name}.parquet", table.schema) as writer:
                writer.write_table(table)
        return self._counted(name, table)

    def stream(self, name: str, expr: ibis.Table) -> pa.Table:
        """Run `expr`: its rows, or, with a folder, an empty table and its rows in the file."""
        if self.folder is None:
            # Typed as Ibis types the expression: DuckDB names a list's items "l", not "item".
            return self._counted(name, expr.to_pyarrow().cast(expr.schema().to_pyarrow()))
        with self.files.slot(self.folder / f"{name}.parquet") as temporary:
            self.data.write_parquet(expr, temporary)
        key = KEYS[name]
        # The names come back as dictionaries (as DuckDB wrote them): counted by their codes.
        written = pq.ParquetFile(temporary, read_dictionary=[key] if name != "scores" else None)
        self.rows[name] = 0
        for batch in written.iter_batches(BATCH_ROWS, columns=[key]):
            self._count(name, batch)
        return expr.schema().to_pyarrow().empty_table()

    def _counted(self, name: str, table: pa.Table) -> pa.Table:
        self.rows[name] = 0
        self._count(name, table)
        return table

    def _count(self, name: str, rows: pa.Table | pa.RecordBatch) -> None:
        """Add the rows', the records behind the scores, and the rows per list, per measure."""
        self.rows[name] += rows.num_rows
        key = KEYS[name]
        if not rows.num_rows:
            return
        if name == "scores":
            records = int(pc.sum(rows[key]).as_py() or 0)
            self.totals[key] = self.totals.get(key, 0) + records
            return
        for entry in pc.value_counts(rows[key]).to_pylist():
            label = f"{key}:{entry['values']}"
            self.totals[label] = self.totals.get(label, 0) + entry["counts"]


def evaluate(
    data: PlanData,
    policy: Policy,
    as_of: datetime,
    known_at: datetime | None = None,
    *,
    subjects: Sequence[int] | None = None,
    distribution: Distribution | None = None,
    explain: bool = False,
    write_to: Path | None = None,
) -> Outcome:
    """Evaluate `policy` over `data` at `as_of`, as known at `known_at`.

    subjects:     subject ids (sid) to evaluate; None evaluates everyone the policy scores.
    distribution: the population's score histogram for percentiles. A subset evaluation without
                  one scores the whole population once to get it (exact, but not fast).
    explain:      also return per-record contributions and network influences of `subjects`.
    write_to:     have the engine write the outcome tables into
                  WRITE_TO/{scores,lists,decisions}.parquet (the three files appear together,
                  whole) instead of returning them; the Outcome's tables are then empty and
                  its counts are the written rows'. For populations whose outcomes do not fit
                  in memory (the record lake).
    """
    at = Instant(to_us(as_of), to_us(known_at) if known_at else None)
    clock = StageClock()
    with clock.stage("plan"):
        typemap = build_typemap(policy, data.record_types())
        inscope = scope(data, policy, at)
        records = live_records(data, at, policy)
    plan = _Plan(
        data,
        policy,
        at,
        typemap,
        inscope,
        records,
        clock,
        keep_graph=explain and subjects is not None,
    )
    wanted = None if subjects is None else np.unique(np.asarray(subjects, dtype=np.int64))
    causes = None if wanted is None else plan.causes_of(wanted)

    scores = plan.scores(causes)
    if scores is not None and distribution is None:
        full = scores if wanted is None else plan.scores(None)
        assert full is not None
        with clock.stage("percentiles"):
            distribution = distribution_of(full)
    with clock.stage("lists"):
        listed = data.cache(memberships(records, typemap, _only(inscope, causes), at))
    with clock.stage("measures"):
        decisions = plan.decisions(scores, listed, causes, wanted)

    sink = Sink(data, write_to)
    try:
        with clock.stage("collect" if write_to is None else "write"):
            score_expr = plan.score_rows(scores, distribution or [], wanted)
            if score_expr is None:
                score_rows = sink.put("scores", empty_scores())
            else:
                score_rows = sink.stream("scores", score_expr)
            if not policy.lists:
                list_rows = sink.put("lists", LISTS.empty_table())
            else:
                list_rows = sink.stream("lists", _named_lists(_only(listed, wanted), policy))
            if decisions is None:
                decision_rows = sink.put("decisions", measures_stage.empty_decisions())
            else:
                decision_rows = sink.stream("decisions", decisions)
            sink.files.commit()
    except BaseException:
        sink.files.discard()
        raise
    contributions_rows = influences = None
    if explain and wanted is not None:
        with clock.stage("explain"):
            contributions_rows, influences = plan.explanation(wanted)
    counts = {
        "subjects": int(sum(c for _, c in distribution or [])) if wanted is None else len(wanted),
        "scored": sink.rows["scores"],
        "listed": sink.rows["lists"],
        "decisions": sink.rows["decisions"],
        "records_counted": sink.totals.get("records", 0),
    }
    for definition in policy.lists:
        counts[f"list:{definition.name}"] = sink.totals.get(f"list:{definition.name}", 0)
    for measure in policy.measures:
        counts[f"measure:{measure.name}"] = sink.totals.get(f"measure:{measure.name}", 0)
    return Outcome(
        policy=policy,
        digest=policy_digest(policy),
        written_to=write_to,
        as_of=as_of,
        known_at=known_at,
        scores=score_rows,
        lists=list_rows,
        decisions=decision_rows,
        distribution=list(distribution or []),
        timings=clock.timings,
        memory=clock.memory,
        counts=counts,
        contributions=contributions_rows,
        influences=influences,
        unmatched_types=typemap.unmatched,
    )


def dependencies(
    data: PlanData,
    policy: Policy,
    subjects: Sequence[int],
    as_of: datetime,
    known_at: datetime | None = None,
) -> np.ndarray:
    """The subjects whose records a subset evaluation of `subjects` reads (sorted ids).

    Callers that hold only the registry use it to load just those records (see reports).
    """
    at = Instant(to_us(as_of), to_us(known_at) if known_at else None)
    plan = _Plan(
        data,
        policy,
        at,
        build_typemap(policy, []),
        scope(data, policy, at),
        live_records(data, at, policy),
        StageClock(),
    )
    causes = plan.causes_of(np.unique(np.asarray(subjects, dtype=np.int64)))
    if plan.network is None:
        return causes
    return plan.graph.ball(causes, plan.network.hops)


def dependents(
    data: PlanData,
    policy: Policy,
    changed: Sequence[int],
    as_of: datetime,
    known_at: datetime | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The subjects whose rows can change when the inputs of `changed` change, and the
    subjects whose records evaluating those reads (`dependencies`), both sorted: the reverse
    of `dependencies`, the dependency rule of real-time refreshes (`outcomes.refresh`).

    Only subjects the policy scores (its scope) have rows of their own and pass anything on:
    the network joins scored subjects only, and a collateral measure follows a scored cause.
    A subject's rows read (a) its own records, registry row and overrides; (b) with a network
    category of `hops` h, the base values and edges of its h-hop ball (the network is
    undirected, so "who reads x" is x's own h-ball); (c) through collateral measures, the
    conditions of its guardians (`dependents` targets) and of the organizations it legally
    represents (`legal_representatives`). So the rows that can change are those of the scored
    subjects in the h-ball of the scored subjects of `changed` (without a network: those
    subjects alone), and of every dependent of a guardian and every legal representative of
    an organization among them (scored or not). The caller adds the subjects whose own rows
    change whether scored or not: an override's subject (it lifts that subject's decisions
    only) and both ends of a changed edge (an ended guardian edge no longer leads from the
    cause to the unscored child whose collateral measure it carried).

    Edges that `changed` lost are no longer in the graph, but the ball is still enough when
    `changed` holds both ends of every changed edge: a subject that read a changed edge or
    value reached the nearest changed subject over unchanged edges only (a changed edge on
    that path would end nearer), and those edges are in the graph now too.
    """
    at = Instant(to_us(as_of), to_us(known_at) if known_at else None)
    inscope = scope(data, policy, at)
    plan = _Plan(
        data,
        policy,
        at,
        build_typemap(policy, []),
        inscope,
        live_records(data, at, policy),
        StageClock(),
    )
    seeds = np.unique(np.asarray(changed, dtype=np.int64))
    scored = inscope.semi_join(_ids(seeds), "sid").select("sid").to_pyarrow()["sid"]
    seeds = np.unique(scored.to_numpy().astype(np.int64))
    if plan.network is not None and seeds.size:
        ball = plan.graph.ball(seeds, plan.network.hops)
        scored = inscope.semi_join(_ids(ball), "sid").select("sid").to_pyarrow()["sid"]
        seeds = np.unique(scored.to_numpy().astype(np.int64))
    affected = plan.reached_from(seeds)
    if not affected.size:
        return affected, affected
    causes = plan.causes_of(affected)
    if plan.network is None:
        return affected, causes
    return affected, plan.graph.ball(causes, plan.network.hops)


class _Plan:
    """The stages of one evaluation, sharing the views built for it."""

    def __init__(
        self,
        data: PlanData,
        policy: Policy,
        at: Instant,
        typemap: TypeMap,
        inscope: ibis.Table,
        records: ibis.Table,
        clock: StageClock,
        keep_graph: bool = False,
    ) -> None:
        """keep_graph: hold the network graph after the propagation (for explanations)."""
        self.data, self.policy, self.at, self.typemap = data, policy, at, typemap
        self.inscope, self.records, self.clock = inscope, records, clock
        self.keep_graph = keep_graph
        self.network = (
            policy.categories[policy.network_category].network
            if (policy.network_category)
            else None
        )
        self._graph: Graph | None = None
        self._propagated = False
        self._ranges: list[Range] | Literal[False] | None = False

    @property
    def ranges(self) -> list[Range] | None:
        """The ranges of subject ids a full evaluation sums per (None: all at once)."""
        if self._ranges is False:
            self._ranges = subject_ranges(self.inscope, self.data.subject_range)
        return self._ranges

    @property
    def graph(self) -> Graph:
        if self._graph is None:
            assert self.network is not None
            with self.clock.stage("network"):
                network, inscope, at = self.network, self.inscope, self.at
                self._graph = remembered_graph(
                    self.data,
                    self.policy,
                    at,
                    lambda: network_graph(self.data, network, inscope, at, self.ranges),
                )
        return self._graph

    def causes_of(self, wanted: np.ndarray) -> np.ndarray:
        """The subjects whose conditions can put a measure on `wanted`: themselves, their
        guardians (dependents targets) and the organizations they represent."""
        targets = {t for m in self.policy.measures for t in m.targets}
        found = [wanted]
        for kind, column, other in (
            ("dependents", "dst", "src"),
            ("legal_representatives", "src", "dst"),
        ):
            if kind not in targets:
                continue
            relation = "guardian" if kind == "dependents" else "legal_representative"
            edges = live_edges(self.data, self.at, [relation])
            hit = edges.filter(edges[column].isin(_ids(wanted).sid)).select(sid=edges[other])
            found.append(hit.to_pyarrow()["sid"].to_numpy())
        return np.unique(np.concatenate(found).astype(np.int64))

    def reached_from(self, causes: np.ndarray) -> np.ndarray:
        """`causes` and the subjects a collateral measure reaches from them: their dependents
        (guardian edges) and their legal representatives; the reverse of `causes_of`."""
        targets = {t for m in self.policy.measures for t in m.targets}
        found = [causes]
        for kind, column, other in (
            ("dependents", "src", "dst"),
            ("legal_representatives", "dst", "src"),
        ):
            if kind not in targets:
                continue
            relation = "guardian" if kind == "dependents" else "legal_representative"
            edges = live_edges(self.data, self.at, [relation])
            hit = edges.filter(edges[column].isin(_ids(causes).sid)).select(sid=edges[other])
            found.append(hit.to_pyarrow()["sid"].to_numpy())
        return np.unique(np.concatenate(found).astype(np.int64))

    def scores(self, causes: np.ndarray | None) -> ibis.Table | None:
        """Score rows (sid, categories, score, tier) of `causes` (None: everyone)."""
        policy = self.policy
        if not policy.scores:
            return None
        focus = causes
        if self.network is not None and causes is not None:
            focus = self.graph.ball(causes, self.network.hops)
        with self.clock.stage("categories"):
            base = self.data.cache(
                base_values(_only(self.inscope, focus), self._sums(focus), policy)
            )
        if self.network is not None:
            base = self._with_network(base, complete=focus is None)
        with self.clock.stage("scores"):
            return self.data.cache(final_scores(_only(base, causes), policy))

    def _sums(self, focus: np.ndarray | None) -> ibis.Table:
        """The category sums of `focus` (None: everyone; per range of subjects, see
        `engine.ranges`, when the data sets a `subject_range` and there are more)."""

        def sums_of(records: ibis.Table) -> ibis.Table:
            counting = contributions(records, self.typemap, self.data.table("sources"), self.at)
            return category_sums(counting, self.policy)

        if focus is not None or not self.ranges:
            return sums_of(_only(self.records, focus))
        r = self.records

        def ranged(part: Range | None) -> ibis.Table:
            return sums_of(r if part is None else r.filter(within(r.sid, part)))

        return per_range(ranged, self.ranges, self.data.cache)

    def _with_network(self, base: ibis.Table, complete: bool) -> ibis.Table:
        assert self.network is not None and self.policy.network_category is not None
        graph = self.graph
        with self.clock.stage("network"):
            self._propagated = True
            column = f"s_{self.policy.network_category}"
            # Only (sid, S_net) is held: a copy of the whole base table would be ~100 bytes
            # per subject more (8 GB at 84 million scored).
            network = self.data.cache(graph.propagate(base, column, complete=complete))
            if not self.keep_graph:
                # Let its pairs, degrees and values go (their tables are dropped with them):
                # at province size about 10 GB that the later stages would otherwise spill.
                self._graph = None
            return base.join(network, "sid")

    def decisions(
        self,
        scores: ibis.Table | None,
        listed: ibis.Table,
        causes: np.ndarray | None,
        wanted: np.ndarray | None,
    ) -> ibis.Table | None:
        """The decision rows of `wanted` (everyone: None), decoded and sorted (see
        `measures.decode`); None when the policy has no measures."""
        policy, at = self.policy, self.at
        if not policy.measures:
            return None
        features = _only(self.inscope, causes)
        if scores is not None:
            features = features.left_join(scores.select("sid", "score", "tier"), "sid")
        else:
            features = features.mutate(score=ibis.null("int64"), tier=ibis.null("string"))
        features = features.select("sid", "kind", "score", "tier")
        if policy.lists:
            pivot = listed.group_by("sid").aggregate(
                **{
                    f"list_{i}": listed.since.min(where=listed.list == i)
                    for i in range(len(policy.lists))
                }
            )
            features = features.left_join(pivot, "sid").drop("sid_right")
        if self.typemap.atoms:
            atoms = record_atoms(self.records, self.typemap, _only(self.inscope, causes))
            pivot = atoms.group_by("sid").aggregate(
                **{
                    f"atom_{i}": atoms["last"].max(where=atoms.atom == i)
                    for i in range(len(self.typemap.atoms))
                }
            )
            features = features.left_join(pivot, "sid").drop("sid_right")
        features = self.data.cache(features)
        causes_table = measures_stage.cause_rows(features, policy, self.typemap.atoms, at)
        assert causes_table is not None
        rows = measures_stage.targets(self.data, causes_table, policy, at)
        codes = measures_stage.reason_codes(policy, features, self.typemap.atoms, at)
        lifted = lifted_by_overrides(self.data.inputs.overrides, policy.name, at.as_of, at.known_at)
        return measures_stage.decode(_only(rows, wanted), causes_table, policy, codes, lifted)

    def score_rows(
        self, scores: ibis.Table | None, distribution: Distribution, wanted: np.ndarray | None
    ) -> ibis.Table | None:
        """The outcome's score rows, sorted by sid (None when the policy has no score)."""
        policy = self.policy
        if scores is None:
            return None
        assert policy.scale is not None
        lookup = ibis.memtable(percentile_table(distribution, policy.scale.min, policy.scale.max))
        rows = _only(scores, wanted).join(lookup, "score")
        values = {}
        for name in policy.categories:
            if policy.model == "weighted":
                values[name] = rows[f"s_{name}"]
            else:
                values[name] = rows[f"r_{name}"].cast("float64") / FIXED
        return rows.select(
            rows.sid.cast("int64").name("sid"),
            rows.score.cast("int64").name("score"),
            rows.tier.cast("string").name("tier"),
            rows.percentile.cast("float64").name("percentile"),
            rows.ceiling.cast("int64").name("ceiling"),
            rows.uncapped.cast("int64").name("uncapped"),
            rows.records.cast("int64").name("records"),
            **{name: value.cast("float64") for name, value in values.items()},
        ).order_by("sid")

    def explanation(self, wanted: np.ndarray) -> tuple[pa.Table, pa.Table | None]:
        counting = contributions(
            _only(self.records, wanted), self.typemap, self.data.table("sources"), self.at
        )
        rows = (
            counting.select(
                "sid",
                "rid",
                "source",
                "record_id",
                "type",
                "occurred_us",
                "value",
                "rule",
                "cat",
                "raw",
                "reliability",
                "decay",
                "w",
                "wq",
            )
            .order_by("sid", "rid")
            .to_pyarrow()
        )
        influences = None
        if self._propagated:
            influences = self.graph.influences(wanted)
        return rows, influences
