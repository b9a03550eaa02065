"""The API keeps its machine fields (codes) and adds the same reasons as text, in the
language the request negotiated."""

from __future__ import annotations

import pytest

from tests.api.conftest import World

pytestmark = pytest.mark.slow
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def test_a_report_adds_reason_texts_beside_the_codes(demo: World) -> None:
    for headers, listed_words in (({}, "On the list “"), (ZH, "起列入“")):
        answer = demo.client.get(
            f"/v1/subjects/{demo.own}/report",
            params={"policy": "national"},
            headers=demo.headers("operator", **headers),
        )
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert report["lists"], "the demo's own subject is listed"
        for entry in report["lists"]:
            assert listed_words in entry["why"]
            assert entry["causes"], "a list entry says which records caused it"
            for cause in entry["causes"]:
                assert cause["source_name"] in entry["why"]
                assert cause["type_text"] in entry["why"]
                assert cause["record_id"]
        for decision in report["decisions"]:
            assert all(":" in code for code in decision["reasons"])  # the codes stay
            assert len(decision["reason_texts"]) == len(decision["reasons"])
            for sentence in decision["reason_texts"]:
                assert "on_list:" not in sentence and "_" not in sentence
        for factor in report["factors"]:
            for record in factor["records"]:
                assert record["source_name"] and record["type_text"]
                assert "." not in record["type_text"] or record["type"] not in record["type_text"]


def test_the_percentile_has_one_form_in_json_too(demo: World) -> None:
    report = demo.client.get(
        f"/v1/subjects/{demo.own}/report",
        params={"policy": "sesame"},
        headers=demo.headers("operator"),
    ).json()
    assert isinstance(report["percentile"], float)  # the machine field keeps its number
    assert report["percentile_text"].startswith(("higher than ", "the lowest"))
    chinese = demo.client.get(
        f"/v1/subjects/{demo.own}/report",
        params={"policy": "sesame"},
        headers=demo.headers("operator", **ZH),
    ).json()
    assert chinese["percentile_text"].endswith(("的参评者", "最低"))
    assert chinese["tier_text"] and chinese["tier"] == report["tier"]


def test_my_standing_says_why_in_my_language(demo: World) -> None:
    me = demo.client.get("/v1/me", headers=demo.headers("subject", **ZH)).json()
    national = next(s for s in me["scores"] if s["policy"] == "national")
    assert national["lists"] and all("起列入" in li["why"] for li in national["lists"])
    measures = national["measures"]
    assert measures and all(m["reason_texts"] for m in measures)
    assert all("起列入" in t for m in measures for t in m["reason_texts"])
    records = demo.client.get("/v1/me/records", headers=demo.headers("subject")).json()
    for record in records["records"]:
        assert record["source_name"] and record["type_text"]
        assert (record["value"] is None) == (record["value_text"] == "")


def test_public_list_entries_say_why_without_record_ids(demo: World) -> None:
    english = demo.client.get("/v1/lists/dishonest_judgment_debtors").json()
    chinese = demo.client.get("/v1/lists/dishonest_judgment_debtors", headers=ZH).json()
    assert english["entries"] and english["label"]
    for en, zh in zip(english["entries"], chinese["entries"], strict=True):
        assert en["region"] == zh["region"] and en["region_name"] != zh["region_name"]
        assert en["why"].startswith("On the list “") and "起列入“" in zh["why"]
        assert en["causes"] and all("record_id" not in c for c in en["causes"])
        assert [c["type"] for c in en["causes"]] == [c["type"] for c in zh["causes"]]
    index = demo.client.get("/v1/lists", headers=ZH).json()
    assert all(li["label"] for li in index)
