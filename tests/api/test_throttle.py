"""Rate limits: a stranger's requests per address, failed authentications and expensive routes
are limited, a key's quota is its own, a relying party without one is never limited; past a
limit the answer is 429 with Retry-After; repeated refusals make one audit entry per window with
their count; the counters are shared through Redis."""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import ValidationError

from socialcredit.api import create_app
from socialcredit.api.rates import Limiter, RefusalTally
from socialcredit.audit.log import Entry
from socialcredit.settings import Settings
from socialcredit.sharing.keys import create_key
from socialcredit.store.db import create_engine
from tests.api.conftest import MEASURE, World, copy_demo, read_keys

REDIS = "redis://127.0.0.1:6379/0"


def world(demo_home: tuple[Path, str, str], into: Path, **limits: Any) -> World:
    home, own, other = copy_demo(demo_home, into)
    settings = Settings(home=home, **limits)
    engine = create_engine(settings)
    app = create_app(settings, engine)
    client = TestClient(app, raise_server_exceptions=False)
    return World("throttled", settings, engine, app, client, read_keys(settings), own, other)


@pytest.fixture
def strict(demo_home: tuple[Path, str, str], tmp_path: Path) -> Iterator[World]:
    made = world(
        demo_home,
        tmp_path,
        rate_anonymous="5/minute",
        rate_failures="3/minute",
        rate_expensive="2/minute",
    )
    yield made
    made.client.close()
    made.engine.dispose()


def assert_429(response: Any, most: int = 60) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["retry-after"]) <= most
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert response.headers["retry-after"] in error["message"]


def test_a_stranger_is_limited_per_address(strict: World) -> None:
    answers = [strict.client.get("/v1/lists").status_code for _ in range(5)]
    assert answers == [200] * 5
    assert_429(strict.client.get("/v1/lists"))
    assert_429(strict.client.get("/lists"))  # the pages too
    # another address has its own count, and a valid key is not a stranger
    elsewhere = TestClient(strict.app, client=("192.0.2.7", 4000))
    assert elsewhere.get("/v1/lists").status_code == 200
    assert strict.client.get("/v1/lists", headers=strict.headers("auditor")).status_code == 200


def test_a_logged_in_page_visitor_is_not_a_stranger(strict: World) -> None:
    """The session cookie counts like a valid key: a logged-in person behind an address that
    strangers have spent (a shared NAT) still browses; a forged cookie is a stranger."""
    browser = TestClient(strict.app, client=("192.0.2.9", 4000))
    login = browser.post("/login", data={"key": strict.keys["operator"]}, follow_redirects=False)
    assert login.status_code == 303, login.text
    stranger = TestClient(strict.app, client=("192.0.2.9", 4001))  # the same address
    answers = [stranger.get("/v1/lists").status_code for _ in range(5)]
    assert answers == [200] * 4 + [429]  # the login was the address's first anonymous request
    assert browser.get("/dashboard").status_code == 200
    forged = TestClient(strict.app, client=("192.0.2.9", 4002))
    forged.cookies.set("scs_session", "forged.token.value")
    assert_429(forged.get("/lists"))


def test_behind_a_named_proxy_the_limits_count_the_real_client(strict: World) -> None:
    """The forwarded headers are read before anything reads the client's address: every
    client of the proxy has its own count (not the proxy's), and the gate's fast path too."""
    proxied = strict.settings.model_copy(update={"forwarded_allow_ips": "10.0.0.1"})
    app = create_app(proxied, strict.engine)
    proxy = TestClient(app, client=("10.0.0.1", 5000))
    one, two = {"X-Forwarded-For": "198.51.100.1"}, {"X-Forwarded-For": "198.51.100.2"}
    assert [proxy.get("/v1/lists", headers=one).status_code for _ in range(5)] == [200] * 5
    assert_429(proxy.get("/v1/lists", headers=one))
    assert_429(proxy.get(f"/v1/measures/{MEASURE}/check?subject={strict.own}", headers=one))
    assert proxy.get("/v1/lists", headers=two).status_code == 200


def test_the_gate_s_fast_path_applies_the_same_limits(strict: World) -> None:
    path = f"/v1/measures/{MEASURE}/check"
    params = {"subject": strict.own}
    answers = [strict.client.get(path, params=params).status_code for _ in range(3)]
    assert answers == [401] * 3  # a stranger may not check: three refusals are its allowance
    assert_429(strict.client.get(path, params=params))
    bad = {"Authorization": "Bearer scs_bbbbbbbb_not-a-key"}
    assert_429(strict.client.get(path, params=params, headers=bad))  # not a valid key either


def test_failed_authentications_are_limited_and_then_counted_not_logged(strict: World) -> None:
    seq = strict.audit_seq()
    bad = {"Authorization": "Bearer scs_aaaaaaaa_not-a-key"}
    answers = [strict.client.get("/v1/audit", headers=bad).status_code for _ in range(3)]
    assert answers == [401] * 3
    logged = strict.audit_after(seq)
    assert [(e.actor, e.outcome) for e in logged] == [("unverified:aaaaaaaa", "refused")] * 3
    for _ in range(10):  # the address has no refusals left: 429, not even a key lookup
        assert_429(strict.client.get("/v1/audit", headers=bad))
    assert_429(strict.client.get("/v1/lists"))  # nor may it browse without a key
    # a valid key from the same address is served
    assert strict.client.get("/v1/audit", headers=strict.headers("auditor")).status_code == 200
    limited = [e for e in strict.audit_after(seq) if e.outcome == "rate_limited"]
    assert [(e.action, e.target) for e in limited] == [("rate.limit", "GET /v1/audit")]
    # closing the window writes one entry with the count of the rest
    summaries = strict.app.svc.tally.close(math.inf)
    assert [(e.action, e.outcome) for e in summaries] == [("refusals", "rate_limited")]
    assert summaries[0].target.startswith("10 more rate_limited from testclient within 60 s")


def test_failed_logins_spend_the_allowance(strict: World) -> None:
    seq = strict.audit_seq()
    for _ in range(3):
        answer = strict.client.post("/login", data={"key": "scs_cccccccc_guess"})
        assert answer.status_code == 401
    assert [(e.action, e.outcome) for e in strict.audit_after(seq)] == [
        ("web.login", "refused")
    ] * 3
    # the address has spent its refusals: its logins wait too (the key is in the form, which the
    # limits do not read), another address logs in
    key = strict.keys["operator"]
    assert_429(strict.client.post("/login", data={"key": key}))
    elsewhere = TestClient(strict.app, client=("192.0.2.8", 4000))
    assert elsewhere.post("/login", data={"key": key}, follow_redirects=False).status_code == 303


def test_a_valid_key_s_refusals_past_the_allowance_are_counted(strict: World) -> None:
    seq = strict.audit_seq()
    subject = strict.headers("subject")
    path = f"/v1/subjects/{strict.other}"
    answers = [strict.client.get(path, headers=subject).status_code for _ in range(8)]
    assert answers == [403] * 8  # a valid key is answered, not limited
    outcomes = [e.outcome for e in strict.audit_after(seq)]
    assert outcomes == ["refused"] * 4  # three within the allowance, the first past it
    summary = strict.app.svc.tally.close(math.inf)
    assert len(summary) == 1 and summary[0].target.startswith("4 more refused from testclient")
    assert summary[0].actor == strict.actor("subject")


def test_expensive_routes_are_limited_for_everyone(strict: World) -> None:
    admin = strict.headers("admin")
    for _ in range(2):
        answer = strict.client.post("/v1/policies", json={"document": "x"}, headers=admin)
        assert answer.status_code == 422
    assert_429(strict.client.post("/v1/policies", json={"document": "x"}, headers=admin))
    assert_429(strict.client.post("/v1/evaluations", json={}, headers=admin))
    # other routes are not
    assert strict.client.get("/v1/policies", headers=admin).status_code == 200


def _check(w: World, key: str) -> int:
    response = w.client.get(
        f"/v1/measures/{MEASURE}/check",
        params={"subject": w.own},
        headers={"Authorization": f"Bearer {key}"},
    )
    return response.status_code


def test_a_key_s_quota_is_its_own_and_a_relying_party_has_none(strict: World) -> None:
    with strict.engine.begin() as conn:
        capped, _ = create_key(conn, "relying_party", measures=[MEASURE], rate="3/minute")
    assert [_check(strict, capped) for _ in range(3)] == [200] * 3
    response = strict.client.get(
        f"/v1/measures/{MEASURE}/check",
        params={"subject": strict.own},
        headers={"Authorization": f"Bearer {capped}"},
    )
    assert_429(response)
    free = strict.keys["relying_party"]
    assert free is not None
    # far past every limit of the address: the contract's traffic is not limited
    assert {_check(strict, free) for _ in range(40)} == {200}


def test_429_is_documented_for_every_operation(strict: World) -> None:
    paths = strict.app.api.openapi()["paths"]
    missing = [
        f"{method} {path}"
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "429" not in operation["responses"]
    ]
    assert missing == []


def test_the_tally_writes_one_entry_per_window_with_its_count() -> None:
    tally = RefusalTally(window=60)

    def refusal(n: int) -> Entry:
        return Entry.now("anonymous", "public", "GET /v1/audit", f"/v1/audit?{n}", "x", "refused")

    assert [e.target for e in tally.count("a", refusal(1), clock=0)] == ["/v1/audit?1"]
    assert all(tally.count("a", refusal(n), clock=n) == [] for n in range(2, 30))
    assert [e.target for e in tally.count("b", refusal(30), clock=30)] == ["/v1/audit?30"]
    assert tally.close(clock=59) == []  # the window is still open
    # the next refusal after the window closes it: its count, then itself as a new first
    due = tally.count("a", refusal(99), clock=61)
    assert [e.target for e in due] == [
        "28 more refused from a within 60 s; last: GET /v1/audit /v1/audit?29",
        "/v1/audit?99",
    ]
    assert tally.close(clock=math.inf) == []  # nothing more was counted


def test_the_tally_keeps_a_bounded_number_of_windows() -> None:
    tally = RefusalTally(window=60, most=3)
    entry = Entry.now("anonymous", "public", "a", "t", "x", "refused")
    for client in "abc":
        tally.count(client, entry, clock=0)
        tally.count(client, entry, clock=0)
    due = tally.count("d", entry, clock=1)  # a fourth window: every window is closed now
    assert sorted(e.target[:10] for e in due if e.action == "refusals") == ["1 more ref"] * 3
    assert tally.close(clock=math.inf) == []


def test_shutdown_writes_the_counts_of_open_windows(
    demo_home: tuple[Path, str, str], tmp_path: Path
) -> None:
    w = world(demo_home, tmp_path, rate_failures="1/minute")
    try:
        seq = w.audit_seq()
        with TestClient(w.app, raise_server_exceptions=False) as client:  # runs the lifespan
            for _ in range(5):
                client.get("/v1/audit")  # no key: 401, then 429
        actions = [(e.action, e.outcome) for e in w.audit_after(seq)]
        assert actions == [
            ("GET /v1/audit", "refused"),
            ("rate.limit", "rate_limited"),
            ("refusals", "rate_limited"),
        ]
        assert w.audit_after(seq)[-1].target.startswith("3 more rate_limited from testclient")
    finally:
        w.client.close()
        w.engine.dispose()


def test_limits_are_settings_checked_on_load() -> None:
    with pytest.raises(ValidationError, match="rate_failures"):
        Settings(rate_failures="lots")
    with pytest.raises(ValidationError, match="redis_url"):
        Settings(redis_url="memcached://127.0.0.1")


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    try:
        redis.Redis.from_url(REDIS).ping()
    except redis.ConnectionError:
        pytest.skip(f"Redis is not reachable at {REDIS}")
    namespace = f"scs-test-{uuid.uuid4().hex[:10]}"
    yield namespace
    found = redis.Redis.from_url(REDIS)
    for name in found.scan_iter(f"{namespace}*"):
        found.delete(name)


def test_workers_share_the_counters_through_redis(redis_namespace: str) -> None:
    settings = Settings(redis_url=REDIS, rate_anonymous="4/minute")
    one, two = Limiter(settings, redis_namespace), Limiter(settings, redis_namespace)
    waits = [w.hit(w.anonymous, "anonymous", "192.0.2.1") for w in (one, two, one, two, one)]
    assert waits[:4] == [None] * 4
    assert waits[4] is not None and 1 <= waits[4] <= 60
    assert two.spent(two.anonymous, "anonymous", "192.0.2.1") is not None
    assert one.hit(one.anonymous, "anonymous", "192.0.2.2") is None  # per address


def test_the_service_counts_in_redis_when_it_is_set(
    demo_home: tuple[Path, str, str], tmp_path: Path, redis_namespace: str
) -> None:
    w = world(demo_home, tmp_path, redis_url=REDIS, rate_anonymous="2/minute")
    # the app's counters use the namespace "scs": start from a fresh one for this test
    w.app.svc.limiter = Limiter(w.settings, redis_namespace)
    try:
        answers = [w.client.get("/v1/lists").status_code for _ in range(3)]
        assert answers == [200, 200, 429]
        stored = list(redis.Redis.from_url(REDIS).scan_iter(f"{redis_namespace}*"))
        assert stored, "no counter in Redis"
    finally:
        w.client.close()
        w.engine.dispose()


def test_unreachable_counters_let_requests_through(caplog: pytest.LogCaptureFixture) -> None:
    limiter = Limiter(Settings(redis_url="redis://127.0.0.1:9/0", rate_anonymous="1/minute"))
    with caplog.at_level(logging.WARNING, logger="socialcredit.api"):
        waits = [limiter.hit(limiter.anonymous, "anonymous", "192.0.2.1") for _ in range(3)]
    assert waits == [None, None, None]
    warnings = [r for r in caplog.records if "rate limits not enforced" in r.getMessage()]
    assert len(warnings) == 1  # once a minute, not once a request
