"""Every page as every role, in process: what each may see, and the refusals.

The pages use the same access rules as the API; these tests pin them from the browser's side
(cookie login, HTML status pages) and check the numbers against the same services.
"""

from __future__ import annotations

import gzip
import re

import pytest
from markupsafe import escape

from socialcredit.api.auth import COOKIE
from socialcredit.store.evaluations import latest_evaluation
from tests.web.conftest import Site, figures, session_of

pytestmark = pytest.mark.slow
STAFF_ONLY = "/subjects/"


def test_landing_and_public_lists_need_no_key(site: Site) -> None:
    client = site.client()
    landing = client.get("/")
    assert landing.status_code == 200
    assert 'href="/login"' in landing.text and 'href="/lists/' in landing.text
    index = client.get("/lists")
    assert index.status_code == 200 and "dishonest_judgment_debtors" in index.text
    page = client.get("/lists/dishonest_judgment_debtors")
    assert page.status_code == 200
    entries = re.findall(r"<code>(cn-rid:[^<]+)</code>", page.text)
    assert entries, "a person on the court list"
    assert all("*" in e for e in entries), "persons' numbers are masked"
    assert site.own not in page.text
    assert client.get("/lists/no_such_list").status_code == 404


def test_anonymous_is_sent_to_the_login_form(site: Site) -> None:
    client = site.client()
    for path in ("/dashboard", "/me", f"/subjects/{site.own}", "/me/records"):
        answer = client.get(path)
        assert answer.status_code == 401, path
        assert 'action="/login"' in answer.text
        assert f'name="next" value="{path}"' in answer.text


def test_login_sets_a_strict_cookie_and_goes_to_the_role_s_home(site: Site) -> None:
    homes = {"operator": "/dashboard", "admin": "/dashboard", "auditor": "/dashboard"}
    homes["subject"] = "/me"
    for role, home in homes.items():
        client = site.client()
        answer = client.post("/login", data={"key": site.keys[role]}, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == home, role
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        for attribute in ("HttpOnly", "Path=/", "SameSite=strict"):
            assert attribute in cookie, (role, attribute)


def test_login_follows_next_only_within_the_site(site: Site) -> None:
    client = site.client()
    key = site.keys["operator"]
    to_policy = client.post(
        "/login", data={"key": key, "next": "/dashboard?policy=national"}, follow_redirects=False
    )
    assert to_policy.headers["location"] == "/dashboard?policy=national"
    for elsewhere in ("//evil.example/", "https://evil.example/"):
        away = client.post("/login", data={"key": key, "next": elsewhere}, follow_redirects=False)
        assert away.headers["location"] == "/dashboard", elsewhere


def test_keys_without_pages_and_bad_keys(site: Site) -> None:
    client = site.client()
    for role in ("relying_party", "source"):
        answer = client.post("/login", data={"key": site.keys[role]}, follow_redirects=False)
        assert answer.status_code == 200 and "No pages for this key" in answer.text
        assert "set-cookie" not in answer.headers
    for bad in ("scs_aaaaaaaa_nope", site.keys["revoked"], ""):
        answer = client.post("/login", data={"key": bad}, follow_redirects=False)
        assert answer.status_code == 401 and 'role="alert"' in answer.text
        assert "set-cookie" not in answer.headers


def test_a_session_of_a_revoked_key_is_refused_and_forgotten(site: Site) -> None:
    client = site.client()
    client.cookies.set(COOKIE, session_of(site, "revoked"))
    answer = client.get("/dashboard")
    assert answer.status_code == 401 and 'action="/login"' in answer.text
    assert "was revoked" in answer.text
    assert f'{COOKIE}=""' in answer.headers["set-cookie"]


def test_logout_clears_the_cookie(site: Site) -> None:
    client = site.client("operator")
    assert client.get("/dashboard").status_code == 200
    answer = client.post("/logout", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    client.cookies.clear()
    assert client.get("/dashboard").status_code == 401


@pytest.mark.parametrize("policy", ["sesame", "rongcheng", "corporate", "national"])
def test_the_dashboard_shows_each_policy_s_aggregates(site: Site, policy: str) -> None:
    answer = site.client("operator").get(f"/dashboard?policy={policy}")
    assert answer.status_code == 200
    found = figures(answer.text)
    with site.engine.connect() as conn:
        evaluation = latest_evaluation(conn, policy)
    assert len(found["trend"]["data"][0]["x"]) == 3  # three as-of instants
    measures = sum(t["x"][0] for t in found["measures"]["data"])
    assert measures == evaluation.counts["decisions"]
    if policy == "national":
        assert "histogram" not in found
        assert sum(found["lists"]["data"][0]["x"]) == evaluation.counts["listed"]
        assert STAFF_ONLY in answer.text  # the latest list entries link to reports
        return
    scored = evaluation.counts["scored"]
    assert sum(found["histogram"]["data"][0]["y"]) == scored
    assert sum(found["tiers"]["data"][0]["x"]) == scored
    assert "regions" in found
    assert STAFF_ONLY in answer.text  # the lowest scores link to reports


def test_the_dashboard_loads_plotly_from_this_server_only(site: Site) -> None:
    answer = site.client("operator").get("/dashboard")
    scripts = re.findall(r'<script[^>]* src="([^"]+)"', answer.text)
    assert scripts and all(s.startswith("/static/") for s in scripts)
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["cache-control"] == "no-store"
    plotly = site.client().get(scripts[0], headers={"accept-encoding": "gzip"})
    assert plotly.status_code == 200
    assert "immutable" in plotly.headers["cache-control"]
    assert plotly.headers["content-encoding"] == "gzip"
    assert b"plotly" in plotly.content[:2000]
    again = site.client().get(scripts[0], headers={"if-none-match": plotly.headers["etag"]})
    assert again.status_code == 304
    plain = site.client().get(scripts[0], headers={"accept-encoding": "identity"})
    assert gzip.compress(plain.content)  # served uncompressed to clients that ask so


def test_auditors_see_aggregates_but_no_subject(site: Site) -> None:
    client = site.client("auditor")
    board = client.get("/dashboard")
    assert board.status_code == 200 and "histogram" in figures(board.text)
    assert STAFF_ONLY not in board.text and 'action="/subjects"' not in board.text
    refused = client.get(f"/subjects/{site.own}")
    assert refused.status_code == 403 and "Not allowed" in refused.text


def test_subjects_and_keys_without_pages_may_not_see_the_dashboard(site: Site) -> None:
    assert site.client("subject").get("/dashboard").status_code == 403
    gate_only = site.client()
    gate_only.cookies.set(COOKIE, session_of(site, "relying_party"))  # login gives no cookie
    answer = gate_only.get("/dashboard")
    assert answer.status_code == 403 and "Not allowed" in answer.text
    # pages read the cookie only, and the API the bearer header only
    bearer = {"Authorization": f"Bearer {site.keys['operator']}"}
    assert site.client().get("/dashboard", headers=bearer, follow_redirects=False).status_code in (
        303,
        401,
    )
    cookie_only = site.client("operator").get(f"/v1/subjects/{site.own}")
    assert cookie_only.status_code == 401


def test_the_report_shows_why_record_by_record_and_is_audited(site: Site) -> None:
    client = site.client("operator")
    api = client.get(
        f"/v1/subjects/{site.own}/report",
        params={"policy": "sesame"},
        headers={"Authorization": f"Bearer {site.keys['operator']}"},
    ).json()
    before = site.audit_seq()
    page = client.get(f"/subjects/{site.own}?policy=sesame")
    assert page.status_code == 200
    html = page.text
    assert site.own in html and f"data-score>{api['score']}<" in html
    for factor in api["factors"]:
        assert factor["reason"] in html
        for record in factor["records"]:  # in words: the source's name, the type, the unit
            assert escape(record["source_name"]) in html and record["record_id"] in html
            assert escape(record["type_text"]) in html and escape(record["value_text"]) in html
    for influence in api["influences"]:
        assert influence["neighbour"] in html
    assert {"gauge", "categories"} <= set(figures(html))
    assert figures(html)["gauge"]["data"][0]["value"] == api["score"]
    entries = site.audit_after(before)
    assert [(e.action, e.target, e.outcome) for e in entries] == [
        ("subject.report", site.own, "allowed")
    ]
    national = client.get(f"/subjects/{site.own}?policy=national")
    assert national.status_code == 200
    assert "Flight ban" in national.text and "on_list:" not in national.text
    assert "On the list “" in national.text  # the reason, as a sentence


def test_the_dashboard_search_opens_a_report(site: Site) -> None:
    client = site.client("operator")
    answer = client.get("/subjects", params={"identifier": site.own}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/subjects/{site.own}"
    assert client.get("/subjects", params={"identifier": "cn-rid:1"}).status_code == 422
    assert (
        site.client("subject").get("/subjects", params={"identifier": site.own}).status_code == 403
    )


def test_a_subject_sees_its_own_data_only(site: Site) -> None:
    client = site.client("subject")
    before = site.audit_seq()
    me = client.get("/me")
    assert me.status_code == 200
    assert site.own in me.text and site.other not in me.text
    assert "figure-gauge-sesame" in me.text and "Flight ban" in me.text
    assert me.headers["cache-control"] == "no-store"
    why = client.get("/me/report?policy=sesame")
    assert why.status_code == 200 and site.own in why.text and site.other not in why.text
    records = client.get("/me/records")
    assert records.status_code == 200 and "records" in records.text
    own = client.get(f"/subjects/{site.own}")
    assert own.status_code == 200  # its own report, by identifier, is allowed too
    actions = [(e.action, e.target, e.outcome) for e in site.audit_after(before)]
    assert actions == [
        ("me.read", site.own, "allowed"),
        ("me.report", site.own, "allowed"),
        ("me.records", site.own, "allowed"),
        ("subject.report", site.own, "allowed"),
    ]


def test_a_subject_opening_another_s_report_is_refused_and_audited(site: Site) -> None:
    client = site.client("subject")
    before = site.audit_seq()
    answer = client.get(f"/subjects/{site.other}?policy=sesame")
    assert answer.status_code == 403
    # The header names nobody (the language switcher links to this very address, which has it)
    head = re.sub(r'<nav class="languages".*?</nav>', "", answer.text.split("<main")[0], flags=re.S)
    assert "Not allowed" in answer.text and site.other not in head
    assert "Traceback" not in answer.text
    entries = site.audit_after(before)
    assert [(e.outcome, e.role) for e in entries] == [("refused", "subject")]
    assert site.other in entries[0].target


def test_staff_have_no_portal(site: Site) -> None:
    answer = site.client("operator").get("/me")
    assert answer.status_code == 403 and "Not allowed" in answer.text


def test_errors_are_pages_for_browsers_and_json_for_the_api(site: Site) -> None:
    client = site.client("operator")
    missing = client.get("/no/such/page", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "Not found" in missing.text
    unknown_policy = client.get("/dashboard?policy=nope")
    assert unknown_policy.status_code == 404 and "<html" in unknown_policy.text
    bad = client.get("/lists/dishonest_judgment_debtors?page=0")
    assert bad.status_code == 422 and "Not understood" in bad.text
    api = client.get("/v1/no/such", headers={"accept": "text/html"})
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://elsewhere.example"}, {"Sec-Fetch-Site": "cross-site"}],
)
def test_another_site_cannot_post_the_login_form(site: Site, headers: dict[str, str]) -> None:
    """SameSite does not stop a cross-site form from logging a visitor in as someone else's
    key: the form must come from this site."""
    client = site.client()
    answer = client.post(
        "/login", data={"key": site.keys["subject"]}, headers=headers, follow_redirects=False
    )
    assert answer.status_code == 403
    assert COOKIE not in answer.headers.get("set-cookie", "")
    same = client.post(
        "/login",
        data={"key": site.keys["subject"]},
        headers={"Sec-Fetch-Site": "same-origin"},
        follow_redirects=False,
    )
    assert same.status_code == 303 and COOKIE in same.headers["set-cookie"]


def test_a_subject_sees_its_notices_on_me(site: Site) -> None:
    me = site.client("subject").get("/me")
    assert me.status_code == 200
    assert "<h2>My notices</h2>" in me.text
    assert "Flight ban now applies to you" in me.text
    assert "Respond by" in me.text and "against you" in me.text
