"""Customers' personal data never reaches playbooks or the search index: phone numbers and
e-mails in Korean and international formats, known values in any case, no false positives."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app import search
from app.extensions import db
from app.redact import MARKER, clean, marker_for, redact
from incidents.postmortem import playbook as making
from playbooks.models import TEXT_FIELDS, Playbook
from tests.search.conftest import indexed_keys

PHONES = [
    "010-1234-5678", "01012345678", "010 1234 5678", "010.1234.5678", "+82 10-1234-5678",
    "+82-10-1234-5678", "+821012345678", "+82-2-123-4567", "02-123-4567", "(02) 123-4567",
    "031-987-6543", "1588-1234", "1644-0000", "+1 (415) 555-0100", "+1-415-555-0100",
    "+44 20 7946 0958", "+81 3-1234-5678",
]
EMAILS = [
    "kim@example.com", "kim.minsu@mail.example.co.kr", "ops+alerts@example.com",
    "first.last+tag@sub.domain.example.org", "A_B-c@Example.COM",
]
# How they sit in real notes: Korean particles glued on, brackets, sentence ends.
CONTEXTS = ["{}", "연락처 {}로 연락 부탁", "{}으로 전화함", "{}번으로 회신", "전화{}", "번호:{}",
            "({})", "[{}]", "call {}.", "tel. {}, thanks", "이메일은 {}입니다", "\"{}\""]

NOT_PII = [
    "2026-11-22", "2026.11.22", "2026/11/22", "20261122", "2026-11-22T10:30:00", "10:30",
    "10:30:45", "15:30~16:00", "29,000원", "₩29,000", "1,200,000", "12,345,678원",
    "KRW 1,200,000", "ORD-2291", "ORD-20261122-0001", "주문번호 ORD-2291-55", "INC-1234-5678",
    "CASE-2026-1122", "123", "3개", "30분", "5점", "3-4일", "3.5%", "v2.7.4", "release 5.2",
    "2024-2025", "1999-2024", "0012345678", "E-502", "2026년 11월 22일 10시 30분",
    "2026-11-22~2026-11-25", "order 12345678", "+3",
]


@pytest.mark.parametrize("value", PHONES + EMAILS)
@pytest.mark.parametrize("context", CONTEXTS)
def test_phone_and_email_removed_in_context(value, context):
    text = context.format(value)
    out, removed = redact(text)
    assert MARKER in out
    leftover = out.replace(MARKER, "")
    assert not re.search(r"\d{2}", leftover), out  # no part of the number is left
    assert "@" not in leftover, out
    assert [r.kind for r in removed] == ["email" if "@" in value else "phone"]


def test_particles_and_words_around_a_value_stay():
    assert clean("연락처 010-1234-5678로 연락") == f"연락처 {MARKER}로 연락"
    assert clean("kim@example.com으로 보냄") == f"{MARKER}으로 보냄"
    assert clean("메일kim@example.com") == f"메일{MARKER}"


@pytest.mark.parametrize("text", NOT_PII)
def test_no_false_positive(text):
    assert clean(text) == text
    assert clean(f"고객 안내: {text} 참고") == f"고객 안내: {text} 참고"


def test_amounts_dates_and_refs_survive_next_to_a_phone():
    text = "2026-11-22 10:30 홍 고객(010-1234-5678)에게 29,000원 환불, 주문 ORD-2291"
    assert clean(text) == f"2026-11-22 10:30 홍 고객({MARKER})에게 29,000원 환불, 주문 ORD-2291"


@pytest.mark.parametrize(("text", "known", "expected"), [
    ("홍길동님이 전화함", ["홍길동"], f"{MARKER}님이 전화함"),
    ("홍길동 고객님께 사과", ["홍길동"], f"{MARKER} 고객님께 사과"),
    ("홍길동에게, 홍길동의 주문", ["홍길동"], f"{MARKER}에게, {MARKER}의 주문"),
    ("JANE ROE called; jane roe again", ["Jane Roe"], f"{MARKER} called; {MARKER} again"),
    ("Jane  Roe (two spaces)", ["Jane Roe"], f"{MARKER} (two spaces)"),
    ("ref ord-2291 and ORD-2291", ["ORD-2291"], f"ref {MARKER} and {MARKER}"),
    ("mail KIM@EXAMPLE.COM", ["kim@example.com"], f"mail {MARKER}"),
    ("contact 010-9876-5432 (known)", ["010-9876-5432"], f"contact {MARKER} (known)"),
    # A short Latin name must not eat the middle of ordinary words.
    ("Han handled it in the parking lot", ["Han", "Park"], f"{MARKER} handled it in the parking lot"),
    ("Park's order", ["Park"], f"{MARKER}'s order"),
    ("chocolate for Cho", ["Cho"], f"chocolate for {MARKER}"),
])
def test_known_values(text, known, expected):
    assert clean(text, known) == expected


def test_known_values_are_reported_once_longest_first():
    _out, removed = redact("홍길동 and 홍길동, 길동", ["길동", "홍길동"])
    assert [(r.kind, r.value) for r in removed] == [("known", "홍길동"), ("known", "길동")]


def test_one_letter_values_are_ignored():
    assert clean("A grade and B", ["A", " ", ""]) == "A grade and B"


# --- end to end: a postmortem and a playbook made from an incident with customers -----------

CUSTOMERS = [
    {"name": "홍길동", "contact": "010-9876-5432", "reference": "ORD-7731"},
    {"name": "Jane Roe", "contact": "jane.roe+vip@mail.roe-family.co.uk", "reference": "ZX-5521"},
]
DESCRIPTION = ("홍길동님이 010-9876-5432로 전화해 배탈이 났다고 알렸습니다. Jane Roe "
               "(jane.roe+vip@mail.roe-family.co.uk)도 같은 증상입니다. 주문 ORD-7731, ZX-5521.")
BODY = """## 요약

홍길동 고객님이 김밥을 먹고 배탈이 났습니다. 연락처 +82 10-9876-5432, 01098765432.

JANE ROE wrote from jane.roe+vip@mail.roe-family.co.uk about order zx-5521 and ord-7731.

## 미래의 팀에게 보내는 편지

홍길동님께 다시 전화할 때는 010 9876 5432로 하세요. 배탈 신고는 매장부터 확인합니다.
"""
QUERIES = ["홍길동", "길동", "홍길동님", "Jane Roe", "Roe", "jane", "010-9876-5432", "01098765432",
           "+82 10-9876-5432", "9876 5432", "jane.roe+vip@mail.roe-family.co.uk", "roe-family",
           "ORD-7731", "7731", "ZX-5521"]
VALUES = ["홍길동", "길동", "jane", "roe", "9876", "5432", "7731", "5521", "@"]


@pytest.fixture
def published_with_pii(app, make_user, publish_postmortem):
    lead = make_user("lead")
    pm = publish_postmortem(BODY, title="홍길동 고객 배탈 신고", description=DESCRIPTION,
                            customers=CUSTOMERS, close=True, lead=lead)
    with app.test_request_context():
        proposal = making.propose(pm.incident, new=True)
        playbook, removed, _created = making.make(lead, pm.incident, proposal.data, None)
        db.session.commit()
    search.apply_pending()
    return pm, playbook, proposal.removed + removed


def test_search_finds_the_records_but_not_the_customers(published_with_pii, api, client, login):
    pm, playbook, removed = published_with_pii
    assert {r.kind for r in removed} >= {"known"}

    # Indexed: an ordinary word finds both the postmortem and the playbook.
    found = {(h.type, h.id) for h in search.search("배탈", per_page=50).hits}
    assert found == {("postmortem", pm.id), ("playbook", playbook.id)}

    for query in QUERIES:
        results = search.search(query, per_page=50)
        assert (results.total, results.hits) == (0, []), query

    agent = api("agent")
    for query in ("홍길동", "010-9876-5432", "jane.roe+vip@mail.roe-family.co.uk"):
        response = agent.get("/api/v1/search", query_string={"q": query})
        assert response.status_code == 200
        assert response.get_json()["results"] == [], query
    login("agent")
    page = client.get("/search", query_string={"q": "홍길동"}).get_data(as_text=True)
    assert "홍길동" in page  # the query echoed in the form, nothing else
    assert 'class="result"' not in page


def test_nothing_personal_is_stored_in_the_index_or_the_playbook(published_with_pii):
    _pm, playbook, _removed = published_with_pii
    searcher = search.searcher()
    stored = [fields for fields in searcher.all_stored_fields()]
    assert sorted(f["key"] for f in stored) == sorted(indexed_keys())
    assert len(stored) == 2
    for fields in stored:
        text = f"{fields['title']}\n{fields['body']}".lower()
        assert marker_for("ko") in text  # a Korean write-up reads a Korean marker
        for value in VALUES:
            assert value.lower() not in text, (fields["key"], value)
    row = db.session.scalar(select(Playbook).where(Playbook.id == playbook.id))
    texts = "\n".join([row.title, *(getattr(row, f) for f in TEXT_FIELDS)]).lower()
    assert "배탈" in texts
    for value in VALUES:
        assert value.lower() not in texts, value
    for version in row.versions:
        assert not any(v.lower() in str(version.content).lower() for v in VALUES)
