"""Web sessions (issue 21, item 6): the cookie is a signed pointer to a session the store holds,
which idles out, expires, and ends at logout for every copy of the cookie; Secure behind a TLS
proxy named in SCS_FORWARDED_ALLOW_IPS, and only then."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from pydantic import ValidationError

from socialcredit.api import create_app
from socialcredit.api.app import Api
from socialcredit.api.auth import COOKIE
from socialcredit.errors import Unauthenticated
from socialcredit.settings import Settings
from socialcredit.sharing.sessions import _SALT, SessionRules
from socialcredit.store.schema import audit_log, web_sessions
from socialcredit.timeutil import now
from tests.web.conftest import Site

SAME_SITE = {"Sec-Fetch-Site": "same-origin"}


def logged_in(site: Site, role: str = "operator") -> tuple[TestClient, str]:
    client = site.client(role)
    cookie = client.cookies.get(COOKIE)
    assert cookie
    return client, cookie


def ended_at(site: Site) -> object:
    """When the newest stored session ended (each test logs in just before it looks)."""
    with site.engine.connect() as conn:
        newest = sa.select(sa.func.max(web_sessions.c.id)).scalar_subquery()
        return conn.execute(
            sa.select(web_sessions.c.ended_at).where(web_sessions.c.id == newest)
        ).scalar_one()


def move_session(site: Site, **values: object) -> None:
    with site.engine.begin() as conn:
        newest = sa.select(sa.func.max(web_sessions.c.id)).scalar_subquery()
        conn.execute(sa.update(web_sessions).where(web_sessions.c.id == newest).values(**values))


def test_the_cookie_holds_a_signed_token_not_the_key(site: Site) -> None:
    client = site.client()
    key = site.keys["operator"]
    assert key is not None
    answer = client.post("/login", data={"key": key}, follow_redirects=False)
    header = answer.headers["set-cookie"]
    cookie = client.cookies.get(COOKIE)
    assert cookie and key not in header and key.split("_")[2] not in header
    lifetime = int(site.app.svc.sessions.lifetime.total_seconds())
    assert f"Max-Age={lifetime}" in header  # the browser drops it when the session ends anyway
    token = cookie.rsplit(".", 2)[0]
    with site.engine.connect() as conn:
        stored = conn.execute(sa.select(web_sessions)).all()
    assert all(token not in str(tuple(row)) for row in stored)  # only its hash is stored


def test_logout_ends_the_session_for_every_copy_of_the_cookie(site: Site) -> None:
    client, cookie = logged_in(site)
    seq = site.audit_seq()
    answer = client.post("/logout", headers=SAME_SITE, follow_redirects=False)
    assert answer.status_code == 303 and f'{COOKIE}=""' in answer.headers["set-cookie"]
    assert ended_at(site) is not None
    assert [(e.action, e.outcome) for e in site.audit_after(seq)] == [("web.logout", "allowed")]
    stolen = site.client()
    stolen.cookies.set(COOKIE, cookie)
    replay = stolen.get("/dashboard")
    assert replay.status_code == 401 and "logged out" in replay.text
    assert f'{COOKIE}=""' in replay.headers["set-cookie"]


def test_a_session_idles_out(site: Site) -> None:
    client, _ = logged_in(site)
    idle = site.app.svc.sessions.idle
    move_session(site, seen_at=now() - idle + timedelta(minutes=2))
    assert client.get("/dashboard").status_code == 200  # used in time: still alive, and moved on
    with site.engine.connect() as conn:
        newest = conn.execute(sa.select(sa.func.max(web_sessions.c.seen_at))).scalar_one()
    assert newest > now() - timedelta(minutes=1)
    move_session(site, seen_at=now() - idle - timedelta(seconds=1))
    answer = client.get("/dashboard")
    assert answer.status_code == 401 and "minutes unused" in answer.text
    assert f'{COOKIE}=""' in answer.headers["set-cookie"]


def test_a_busy_session_still_ends_at_its_lifetime(site: Site) -> None:
    client, _ = logged_in(site)
    assert client.get("/dashboard").status_code == 200
    move_session(site, expires_at=now() - timedelta(seconds=1))
    answer = client.get("/dashboard")
    assert answer.status_code == 401 and "expired" in answer.text


def test_forged_and_foreign_cookies_are_refused_and_audited(site: Site) -> None:
    _, cookie = logged_in(site)
    token, stamp, signature = cookie.rsplit(".", 2)
    other = SessionRules.of(Settings(home=site.settings.home)).sign(token)  # another secret
    for forged in (f"{token}x.{stamp}.{signature}", other, "scs_abcdefgh_not-a-session"):
        client = site.client()
        client.cookies.set(COOKIE, forged)
        seq = site.audit_seq()
        answer = client.get("/dashboard")
        assert answer.status_code == 401 and "not valid" in answer.text, forged
        logged = site.audit_after(seq)
        assert [(e.actor, e.outcome) for e in logged] == [("invalid session", "refused")]


def test_a_signature_older_than_the_lifetime_is_refused_before_any_lookup() -> None:
    rules = SessionRules(timedelta(minutes=30), timedelta(hours=1), b"k" * 32)
    old = TimestampSigner(rules.secret, salt=_SALT)
    old.get_timestamp = lambda: int(time.time()) - 2 * 3600  # type: ignore[method-assign]
    with pytest.raises(Unauthenticated, match="expired"):
        rules.unsign(old.sign("token").decode())
    assert rules.unsign(rules.sign("token")) == "token"


def test_servers_with_the_same_secret_share_sessions(site: Site) -> None:
    secret = "s" * 40
    settings = Settings(home=site.settings.home, session_secret=secret)  # type: ignore[arg-type]
    first = TestClient(create_app(settings, site.engine))
    key = site.keys["operator"]
    assert first.post("/login", data={"key": key}, follow_redirects=False).status_code == 303
    second = TestClient(create_app(settings, site.engine))
    second.cookies.set(COOKIE, first.cookies.get(COOKIE) or "")
    assert second.get("/dashboard").status_code == 200
    assert TestClient(site.app, cookies=second.cookies).get("/dashboard").status_code == 401


@pytest.mark.parametrize(
    ("value", "reason"),
    [("proxy.local", "not an IP address"), (" , ", "is empty")],
)
def test_forwarded_allow_ips_must_be_addresses(value: str, reason: str) -> None:
    with pytest.raises(ValidationError, match="forwarded_allow_ips") as error:
        Settings(forwarded_allow_ips=value)
    assert reason in str(error.value)


def test_a_short_session_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="session_secret"):
        Settings(session_secret="short")  # type: ignore[arg-type]


def secure_cookie(app: Api, key: str | None, peer: str, proto: str) -> bool:
    """Whether logging in from `peer` with X-Forwarded-Proto `proto` sets a Secure cookie."""
    client = TestClient(app, client=(peer, 40000))
    headers = {"X-Forwarded-Proto": proto}
    answer = client.post("/login", data={"key": key}, headers=headers, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return "; secure" in answer.headers["set-cookie"].lower()


def test_the_cookie_is_secure_behind_a_trusted_tls_proxy_only(site: Site) -> None:
    key = site.keys["subject"]
    proxied = Settings(home=site.settings.home, forwarded_allow_ips="10.0.0.0/8")
    behind = create_app(proxied, site.engine)
    assert secure_cookie(behind, key, "10.1.2.3", "https")
    assert not secure_cookie(behind, key, "10.1.2.3", "http")
    # a peer that is not the proxy cannot claim https; nor anyone when no proxy is named
    assert not secure_cookie(behind, key, "192.0.2.7", "https")
    assert not secure_cookie(site.app, key, "10.1.2.3", "https")


def test_an_origin_check_behind_the_proxy_sees_https(site: Site) -> None:
    proxied = Settings(home=site.settings.home, forwarded_allow_ips="10.0.0.1")
    client = TestClient(create_app(proxied, site.engine), client=("10.0.0.1", 40000))
    headers = {"X-Forwarded-Proto": "https", "Origin": "https://testserver"}
    key = site.keys["subject"]
    answer = client.post("/login", data={"key": key}, headers=headers, follow_redirects=False)
    assert answer.status_code == 303
    plain = {"X-Forwarded-Proto": "https", "Origin": "http://testserver"}
    refused = client.post("/login", data={"key": key}, headers=plain, follow_redirects=False)
    assert refused.status_code == 403


def test_logins_are_audited_and_old_sessions_are_swept(site: Site) -> None:
    logged_in(site)
    move_session(site, ended_at=now())
    with site.engine.connect() as conn:
        ended = conn.execute(
            sa.select(sa.func.count()).where(web_sessions.c.ended_at.is_not(None))
        ).scalar_one()
    assert ended >= 1
    seq = site.audit_seq()
    logged_in(site)
    with site.engine.connect() as conn:
        left = conn.execute(
            sa.select(sa.func.count()).where(web_sessions.c.ended_at.is_not(None))
        ).scalar_one()
        actions = conn.execute(sa.select(audit_log.c.action).where(audit_log.c.seq > seq)).scalars()
        assert list(actions) == ["web.login"]
    assert left == 0


def test_a_cookie_whose_session_is_gone_is_refused(site: Site) -> None:
    client, _ = logged_in(site)
    with site.engine.begin() as conn:
        newest = sa.select(sa.func.max(web_sessions.c.id)).scalar_subquery()
        conn.execute(sa.delete(web_sessions).where(web_sessions.c.id == newest))
    answer = client.get("/me")
    assert answer.status_code == 401 and "this session has ended" in answer.text


def test_logging_in_again_ends_the_session_before(site: Site) -> None:
    client, before = logged_in(site)
    answer = client.post("/login", data={"key": site.keys["auditor"]}, follow_redirects=False)
    assert answer.status_code == 303 and client.cookies.get(COOKIE) != before
    assert client.get("/dashboard").status_code == 200  # as the auditor now
    old = site.client()
    old.cookies.set(COOKIE, before)
    assert old.get("/dashboard").status_code == 401


def test_pages_and_logins_at_once_all_succeed(site: Site) -> None:
    """Every page may write the session's last use, and every login writes a session: on
    SQLite a read that turns into a write fails when another request wrote in between."""
    _, cookie = logged_in(site)
    move_session(site, seen_at=now() - timedelta(minutes=5))
    statuses: list[int] = []

    def browse() -> None:
        client = TestClient(site.app, raise_server_exceptions=False)
        client.cookies.set(COOKIE, cookie)
        statuses.extend(client.get("/lists").status_code for _ in range(3))

    def log_in() -> None:
        client = TestClient(site.app, raise_server_exceptions=False)
        answer = client.post("/login", data={"key": site.keys["auditor"]}, follow_redirects=False)
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=browse) for _ in range(6)]
    threads += [threading.Thread(target=log_in) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(set(statuses)) == [200, 303] and len(statuses) == 24
