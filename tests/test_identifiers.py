from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialcredit.errors import IdentifierError
from socialcredit.identifiers import (
    PROVINCES,
    USCC_ALPHABET,
    Identifier,
    make_rid,
    make_uscc,
    parse,
    rid_check,
    uscc_check,
)

# Published examples: GB 11643-1999's own (11010519491231002X, 440524188001010014) and codes
# printed on real business licences (Baidu's Beijing entity, Huawei Technologies).
VALID = [
    "cn-rid:11010519491231002X",
    "cn-rid:440524188001010014",
    "cn-uscc:91110000802100433B",
    "cn-uscc:914403001922038216",
    "cn-uscc:91350100M000100Y43",
    "ext:pilot-0001",
]


@pytest.mark.parametrize("text", VALID)
def test_published_examples_are_valid_and_round_trip(text: str) -> None:
    ident = parse(text)
    assert str(ident) == text
    assert parse(str(ident)) == ident


def test_case_is_normalised() -> None:
    assert str(parse("cn-rid:11010519491231002x")) == "cn-rid:11010519491231002X"
    assert str(parse("CN-USCC:91110000802100433b")) == "cn-uscc:91110000802100433B"


@pytest.mark.parametrize("text", ["cn-rid:11010519491231002X", "cn-rid:440524188001010014"])
def test_every_single_substitution_of_a_rid_is_rejected(text: str) -> None:
    value = text.split(":")[1]
    for i in range(18):
        for ch in "0123456789X":
            if ch == value[i] or (i < 17 and ch == "X"):
                continue
            corrupted = value[:i] + ch + value[i + 1 :]
            with pytest.raises(IdentifierError) as error:
                parse(f"cn-rid:{corrupted}")
            assert error.value.part in {"region", "birth date", "check character", "digits"}


def test_every_single_substitution_of_a_uscc_is_rejected() -> None:
    value = "91110000802100433B"
    for i in range(18):
        for ch in USCC_ALPHABET:
            if ch == value[i]:
                continue
            corrupted = value[:i] + ch + value[i + 1 :]
            with pytest.raises(IdentifierError) as error:
                parse(f"cn-uscc:{corrupted}")
            assert error.value.part in {"region", "check character"}


def test_adjacent_transpositions_of_a_rid_are_rejected() -> None:
    value = "11010519491231002X"
    for i in range(17):
        swapped = value[:i] + value[i + 1] + value[i] + value[i + 2 :]
        if swapped == value:
            continue
        with pytest.raises(IdentifierError):
            parse(f"cn-rid:{swapped}")


@pytest.mark.parametrize(
    ("text", "part", "fragment"),
    [
        ("cn-rid:1101051949123100", "length", "16 characters"),
        ("cn-rid:11010519491231A02X", "digits", "character 15"),
        ("cn-rid:99010519491231002X", "region", "province"),
        ("cn-rid:11010519490231002X", "birth date", "calendar date"),
        ("cn-rid:110105194912310021", "check character", "check is X"),
        ("cn-rid:11010519491231002Z", "check character", "not a digit or X"),
        ("cn-uscc:91110000802100433", "length", "17 characters"),
        ("cn-uscc:9111000080210043IB", "alphabet", "character 17"),
        ("cn-uscc:91AB0000802100433B", "region", "not 6 digits"),
        ("cn-uscc:91110000802100433C", "check character", "check is B"),
        ("11010519491231002X", "scheme", "missing"),
        ("passport:E12345678", "scheme", "unknown scheme"),
        ("ext:", "value", "1-200 characters"),
        ("ext:has space", "value", "without spaces"),
        ("", "identifier", "empty"),
    ],
)
def test_errors_name_the_failed_part(text: str, part: str, fragment: str) -> None:
    with pytest.raises(IdentifierError) as error:
        parse(text)
    assert error.value.part == part
    assert fragment in str(error.value)
    assert isinstance(error.value, ValueError)


def test_future_birth_date_is_rejected() -> None:
    body = f"110105{date.today().year + 1}0101001"
    with pytest.raises(IdentifierError) as error:
        parse(f"cn-rid:{body}{rid_check(body)}")
    assert error.value.part == "birth date"


REGIONS = st.builds(
    lambda province, rest: f"{province}{rest:04d}",
    st.sampled_from(sorted(PROVINCES)),
    st.integers(0, 9999),
)


@given(
    REGIONS, st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)), st.integers(1, 999)
)
def test_generated_rids_round_trip(region: str, born: date, sequence: int) -> None:
    ident = Identifier("cn-rid", make_rid(region, born, sequence))
    assert parse(str(ident)) == ident


@given(
    st.sampled_from("123456789ANY"),
    st.sampled_from("12359"),
    st.integers(0, 999999),
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8),
)
def test_generated_usccs_round_trip(authority: str, category: str, region: int, org: str) -> None:
    value = make_uscc(authority, category, f"{region:06d}", org)
    ident = parse(f"cn-uscc:{value}")
    assert str(ident) == f"cn-uscc:{value}"
    assert uscc_check(value[:17]) == value[17]


@given(
    st.text(min_size=1, max_size=60).filter(
        lambda s: not any(c.isspace() for c in s) and not s.startswith(":")
    )
)
def test_ext_identifiers_round_trip(value: str) -> None:
    assert parse(str(parse(f"ext:{value}"))) == Identifier("ext", value)
