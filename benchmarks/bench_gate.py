"""Benchmark: the gate check over HTTP, against the least an endpoint can do on this stack.

In one run, on loopback, with the same load generator (wrk, 64 connections, 10 s, the same
request script rotating over 1,000 subjects), one uvicorn process each (uvloop + httptools):

- `raw ASGI constant`: a raw ASGI app returning a constant (the ceiling of this stack);
- `FastAPI constant`: a bare FastAPI endpoint returning a constant;
- `gate check`: `scs serve` answering `GET /v1/measures/flight_ban/check?subject=…` for a
  relying party key: authentication, the grant, the answer with reasons, and the audit entry
  committed before the answer leaves.

Targets (issue 3): the gate check at least 0.5x the raw ASGI constant's requests/s, with p99 no
more than twice the FastAPI constant's. Results go to benchmarks/results/gate.json.

    make bench-gate                          # builds a 50,000-person demo store first
    make bench-gate BENCH_ARGS="--people 5000 --duration 5"
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from socialcredit.settings import Settings
from socialcredit.sharing.keys import create_key
from socialcredit.store.db import create_engine
from socialcredit.store.evaluations import latest_evaluation
from socialcredit.store.registry import first_identifiers
from socialcredit.store.schema import decisions

HERE = Path(__file__).parent
RESULTS = HERE / "results"
BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="An existing demo store (default: build one).")
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=10, help="Seconds per row.")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads.")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    with tempfile.TemporaryDirectory(prefix="scs-bench-gate-") as tmp:
        home = args.home or Path(tmp) / "store"
        if args.home is None:
            print(f"building a {args.people:,}-person demo store …", flush=True)
            _run([str(BIN / "scs"), "demo", "--no-serve", "--people", str(args.people)], home)
        key, subjects = _prepare(home)
        script = Path(tmp) / "gate.lua"
        script.write_text(_lua(key, subjects))
        rows = []
        for name, command in [
            ("raw ASGI constant", _uvicorn("peers_http:raw_app")),
            ("FastAPI constant", _uvicorn("peers_http:fastapi_app")),
            ("gate check", [str(BIN / "scs"), "serve"]),
        ]:
            rows.append(_measure(name, command, home, script, args))
    first, fastapi = rows[0], rows[1]
    for row in rows:
        row["vs_first"] = round(row["requests_per_s"] / first["requests_per_s"], 3)
        row["p99_vs_fastapi"] = round(row["p99_ms"] / fastapi["p99_ms"], 2)
    _print(rows, args)
    RESULTS.mkdir(exist_ok=True)
    payload = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "connections": args.connections,
        "duration_s": args.duration,
        "cores": os.cpu_count(),
        "rows": rows,
    }
    (RESULTS / "gate.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(f"written to {RESULTS / 'gate.json'}")


def _run(command: list[str], home: Path) -> str:
    env = {**os.environ, "SCS_HOME": str(home)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    return done.stdout


def _prepare(home: Path) -> tuple[str, list[str]]:
    """A relying-party key for flight_ban, and 1,000 subjects: every one the measure applies
    to (up to 500), the rest without it."""
    engine = create_engine(Settings(home=home))
    with engine.begin() as conn:
        key, _ = create_key(conn, "relying_party", measures=["flight_ban"], label="benchmark")
        evaluation = latest_evaluation(conn, "national")
        banned = list(
            conn.execute(
                sa.select(decisions.c.subject_id)
                .where(
                    decisions.c.evaluation_id == evaluation.id,
                    decisions.c.measure == "flight_ban",
                )
                .distinct()
                .limit(500)
            ).scalars()
        )
        names = first_identifiers(conn)
    engine.dispose()
    banned_set = set(banned)
    others = [sid for sid in sorted(names) if sid not in banned_set][: 1000 - len(banned)]
    return key, [names[sid] for sid in banned + others]


def _lua(key: str, subjects: list[str]) -> str:
    listed = ",\n".join(f'  "{s}"' for s in subjects)
    return f"""
local subjects = {{
{listed}
}}
local i = 0
request = function()
  i = i + 1
  local s = subjects[(i % #subjects) + 1]
  return wrk.format("GET", "/v1/measures/flight_ban/check?subject=" .. s,
    {{["Authorization"] = "Bearer {key}", ["X-Purpose"] = "boarding"}})
end
"""


def _uvicorn(app: str) -> list[str]:
    return [
        str(BIN / "python"),
        "-m",
        "uvicorn",
        "--app-dir",
        str(HERE),
        app,
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _measure(
    name: str, command: list[str], home: Path, script: Path, args: argparse.Namespace
) -> dict[str, Any]:
    port = _free_port()
    env = {**os.environ, "SCS_HOME": str(home)}
    server = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/v1/measures/flight_ban/check?subject=ext:warmup"
        _wait(url, server)
        print(f"{name}: wrk -c{args.connections} -d{args.duration}s …", flush=True)
        done = subprocess.run(
            [
                "wrk",
                f"-t{args.threads}",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"name": name, **_parse(done.stdout)}


def _wait(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server exited:\n{server.stderr.read() if server.stderr else ''}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError as error:  # refused while starting; 4xx once it answers
            if getattr(error, "code", None) is not None:
                return
            time.sleep(0.2)
    sys.exit("the server did not start within 60 s")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _parse(text: str) -> dict[str, Any]:
    def latency(percent: str) -> float:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
        assert found, text
        return round(float(found.group(1)) * _UNITS[found.group(2)], 3)

    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in", text)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    assert rate and total, text
    return {
        "requests_per_s": round(float(rate.group(1))),
        "requests": int(total.group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1).strip() if socket_errors else "",
    }


def _print(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"\nwrk, {args.connections} connections, {args.duration} s each, loopback, same run")
    print(f"{'':20} {'req/s':>9} {'vs first':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99/FastAPI':>12}")
    for r in rows:
        print(
            f"{r['name']:20} {r['requests_per_s']:>9,} {r['vs_first']:>9.2f} "
            f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['p99_vs_fastapi']:>12.2f}"
        )
        if r["non_2xx"] or r["socket_errors"]:
            print(f"  ! {r['non_2xx']} non-2xx responses; socket errors: {r['socket_errors']}")
    gate, raw = rows[2], rows[0]
    ok_rate = gate["requests_per_s"] >= 0.5 * raw["requests_per_s"]
    ok_p99 = gate["p99_vs_fastapi"] <= 2.0
    print(
        f"target: gate ≥ 0.5× raw ASGI: {'met' if ok_rate else 'NOT met'} "
        f"({gate['vs_first']:.2f}×); p99 ≤ 2× FastAPI: {'met' if ok_p99 else 'NOT met'} "
        f"({gate['p99_vs_fastapi']:.2f}×)"
    )


if __name__ == "__main__":
    main()
