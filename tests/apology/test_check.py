"""The apology check on letters it never saw: every code in both languages and in the formats
companies use (e-mail, SMS, public notice with headings, speaker introduced at the top, several
executives signing, a team signing), good letters of every format left alone, findings that
name their sentence, the elements of a good apology, blame on a named person, the shipped model
(trained from the current train files, loaded without pickle) and any text without an error.

The letters here are written for these tests; none is taken from the corpus."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.apology import corpus, roles
from incidents.apology.check import (
    CODES,
    ELEMENT_LABELS,
    ELEMENTS,
    ERROR,
    MESSAGES,
    SEVERITY,
    Finding,
    Person,
    check,
    elements,
    has_errors,
    judge,
    named_blame,
)

# --- letters built from parts, so a test changes exactly one part --------------------------------

KO = {
    "greeting": "최유나 고객님께",
    "facts": "12월 1일 오후 2시부터 약 40분 동안 하루페이 앱에서 카드 결제가 되지 않았습니다.",
    "harm": "그 사이 주문을 마치지 못하신 고객님께 큰 불편을 드렸습니다.",
    "apology": "정말 죄송합니다.",
    "cause": "결제 서버의 보안 인증서를 제때 갱신하지 않은 것이 원인이었습니다.",
    "pending": "",
    "remedy": "불편을 겪으신 모든 고객님께 5,000원 할인 쿠폰을 지급해 드렸습니다.",
    "change": "앞으로는 인증서 만료 30일 전에 담당 엔지니어에게 자동으로 알림이 가도록 점검 절차를 바꾸었습니다.",
    "contact": "궁금하신 점은 02-555-0123으로 전화 주시면 제가 직접 답변드리겠습니다.",
    "closing": "감사합니다.",
    "signature": "하루페이 운영본부장 김도윤 드림",
}
EN = {
    "greeting": "Dear Mr. Patel,",
    "facts": "On Monday, December 1, card payments in the HaruPay app failed for about 40 minutes "
             "from 2:00 pm.",
    "harm": "Many of you could not finish your orders and had to try again later.",
    "apology": "I am sorry.",
    "cause": "It happened because the security certificate on our payment server expired and "
             "nobody had renewed it.",
    "pending": "",
    "remedy": "We have added a $5 credit to your account.",
    "change": "From now on, our monitoring alerts the on-call engineer 30 days before any "
              "certificate expires.",
    "contact": "If you have any questions, reply to this email or call me on 020 7946 0123.",
    "closing": "Kind regards,",
    "signature": "Dana Cho\nHead of Payments, HaruPay",
}
PARTS = {"ko": KO, "en": EN}
PEOPLE = {"ko": [Person("김도윤", "운영본부장")], "en": [Person("Dana Cho", "Head of Payments")]}

# The same letter told differently: the format only moves and relabels the parts.
HEADINGS = {
    "ko": {"facts": "## 무슨 일이 있었나요", "cause": "## 원인", "remedy": "## 보상",
           "change": "## 달라지는 점", "contact": "## 문의"},
    "en": {"facts": "## What happened", "cause": "## Why it happened", "remedy": "## What you get",
           "change": "## What changes", "contact": "## Questions"},
}
TITLE = {"ko": "# 12월 1일 결제 장애 안내", "en": "# The payment outage on December 1"}
SPEAKER_TOP = {"ko": "안녕하세요. 하루페이 운영본부장 김도윤입니다.",
               "en": "Hello, I'm Dana Cho, Head of Payments at HaruPay."}
EXECUTIVES = {"ko": "하루페이 대표이사 김도윤, 최고기술책임자 박소연 드림",
              "en": "Dana Cho, Chief Executive Officer\nOmar Reyes, Chief Technology Officer"}
EXECUTIVE_PEOPLE = {"ko": [Person("김도윤", "대표이사"), Person("박소연", "최고기술책임자")],
                    "en": [Person("Dana Cho", "Chief Executive Officer"),
                           Person("Omar Reyes", "Chief Technology Officer")]}
TEAM = {"ko": "하루페이 임직원 일동", "en": "The HaruPay Team"}

SMS = {
    "ko": {"facts": "[하루페이] 12월 1일 오후 2시부터 40분간 카드 결제가 되지 않았습니다.",
           "apology": "불편을 드려 죄송합니다.",
           "remedy": "5,000원 할인 쿠폰을 계정에 넣어 드렸습니다.",
           "cause": ""},
    "en": {"facts": "HaruPay: card payments failed for 40 minutes from 2pm today.",
           "apology": "We're sorry.",
           "remedy": "A $5 credit has been added to your account.",
           "cause": ""},
}
LONG_FORMATS = ("email", "notice", "speaker_top", "executives")
FORMATS = (*LONG_FORMATS, "sms")


def compose(language: str, form: str = "email", **changes: str) -> tuple[str, list[Person]]:
    """A letter in `form` with `changes` to its parts ("" drops a part), and its signatories."""
    if form == "sms":
        parts = {**SMS[language], **changes}
        text = " ".join(parts[k] for k in ("facts", "cause", "apology", "remedy") if parts[k])
        return text, []
    parts = {**PARTS[language], **changes}
    people = PEOPLE[language]
    if form == "speaker_top":
        # The speaker introduces themself and the letter ends without a signature block.
        parts["greeting"] = changes.get("greeting", SPEAKER_TOP[language])
        parts["signature"] = changes.get("signature", "")
        parts["closing"] = changes.get("closing", "")
    elif form == "executives":
        parts["signature"] = changes.get("signature", EXECUTIVES[language])
        people = EXECUTIVE_PEOPLE[language]
    if form == "notice":
        heads = HEADINGS[language]
        blocks = [TITLE[language]]
        body = {"facts": ("facts", "harm", "apology"), "cause": ("cause", "pending"),
                "remedy": ("remedy",), "change": ("change",), "contact": ("contact",)}
        for key, names in body.items():
            sentences = " ".join(parts[n] for n in names if parts[n])
            if sentences:
                blocks += [heads[key], sentences]
        blocks += [parts["signature"]]
        return "\n\n".join(b for b in blocks if b) + "\n", people
    paragraphs = [parts["greeting"],
                  " ".join(parts[k] for k in ("facts", "harm", "apology", "cause", "pending")
                           if parts[k]),
                  parts["remedy"], parts["change"], parts["contact"], parts["closing"],
                  parts["signature"]]
    return "\n\n".join(p for p in paragraphs if p) + "\n", people


def codes_of(text: str, language: str, people=()) -> set[str]:
    return {f.code for f in check(text, language, people)}


# --- the variants that carry each code ---------------------------------------------------------

# code -> language -> part changes. Each change makes one fault in an otherwise good letter.
VARIANTS = {
    "placeholder_left": {"ko": {"remedy": "불편을 겪으신 모든 고객님께 [보상 금액] 할인 쿠폰을 지급해 드렸습니다."},
                         "en": {"remedy": "We have added a credit of {{amount}} to your account."}},
    "no_named_signatory": {"ko": {"signature": "", "contact": "궁금하신 점은 02-555-0123으로 전화 주십시오."},
                           "en": {"signature": "",
                                  "contact": "If you have any questions, call 020 7946 0123."}},
    "collective_signature": {"ko": {"signature": TEAM["ko"],
                                    "contact": "궁금하신 점은 02-555-0123으로 전화 주십시오."},
                             "en": {"signature": TEAM["en"],
                                    "contact": "If you have any questions, call 020 7946 0123."}},
    "contradiction": {"ko": {"pending": "정확한 원인은 아직 조사 중이며, 12월 5일까지 알려 드리겠습니다."},
                      "en": {"pending": "We are still investigating the cause and will tell you "
                                        "what we find by Friday."}},
    "missing_apology": {"ko": {"apology": ""}, "en": {"apology": ""}},
    "conditional_apology": {"ko": {"apology": "혹시 불편을 느끼셨다면 사과드립니다."},
                            "en": {"apology": "We apologise if anyone felt inconvenienced."}},
    "blames_customer": {"ko": {"cause": "고객님께서 카드 비밀번호를 여러 번 잘못 입력하셔서 결제가 막힌 것입니다."},
                        "en": {"cause": "Your payment failed because you entered the wrong card "
                                        "number several times."}},
    "blames_employee": {"ko": {"cause": "신입 직원 한 명이 인증서 갱신을 깜빡 잊은 것이 원인이었습니다."},
                        "en": {"cause": "It happened because one of our junior engineers forgot "
                                        "to renew the certificate."}},
    "missing_facts": {"ko": {"facts": "", "harm": ""}, "en": {"facts": "", "harm": ""}},
    "missing_cause": {"ko": {"cause": ""}, "en": {"cause": ""}},
    "missing_remedy": {"ko": {"remedy": ""}, "en": {"remedy": ""}},
    "missing_prevention": {"ko": {"change": ""}, "en": {"change": ""}},
    "vague_promise": {"ko": {"change": "앞으로 이런 일이 없도록 최선을 다하겠습니다."},
                      "en": {"change": "We will do our very best to make sure this never "
                                       "happens again."}},
    "missing_contact": {"ko": {"contact": ""}, "en": {"contact": ""}},
}
# A notice of two lines is not asked for a signature, a cause, a change or a contact.
SMS_VARIANTS = {
    "placeholder_left": {"ko": {"remedy": "[보상 금액] 할인 쿠폰을 계정에 넣어 드렸습니다."},
                         "en": {"remedy": "A credit of {{amount}} has been added to your account."}},
    "missing_apology": {"ko": {"apology": ""}, "en": {"apology": ""}},
    "conditional_apology": {"ko": {"apology": "불편을 느끼셨다면 죄송합니다."},
                            "en": {"apology": "Sorry if this caused you any trouble."}},
    "blames_customer": {"ko": {"cause": "고객님께서 결제 정보를 잘못 입력하셔서 일부 결제가 실패했습니다."},
                        "en": {"cause": "Some payments failed because you entered old card details."}},
    "blames_employee": {"ko": {"cause": "담당 직원 한 명의 실수로 결제 서버가 꺼졌습니다."},
                        "en": {"cause": "A member of our staff switched off the payment server by "
                                        "mistake."}},
    "missing_facts": {"ko": {"facts": "[하루페이] 고객님께 알려 드립니다."},
                      "en": {"facts": "HaruPay: a note for you."}},
    "missing_remedy": {"ko": {"remedy": ""}, "en": {"remedy": ""}},
}
# The sentence a finding about the code must point at (codes about a missing part point at none).
POINTED = {"placeholder_left": ("greeting", "remedy"), "conditional_apology": ("apology",),
           "blames_customer": ("cause",), "blames_employee": ("cause",),
           "collective_signature": ("signature",), "vague_promise": ("change",),
           "contradiction": ("cause",)}


# Clear sentences the shipped model misjudges (reported to the issue; strict, so a model that
# gets them right fails here until the mark is removed).
MISJUDGED = {
    ("blames_customer", "en"): "'failed because you entered the wrong card number' is not "
                               "read as blame on the customer",
    **{("missing_remedy", "ko", form): "'전화 주시면 제가 직접 답변드리겠습니다' (contact) is also "
                                       "read as a remedy (not under the notice's heading)"
       for form in ("email", "speaker_top", "executives")},
    ("blames_employee", "en", "sms"): "'A member of our staff switched off the server by mistake' "
                                      "is not read as blame on an employee",
    ("missing_facts", "en", "sms"): "'HaruPay: a note for you.' is read as facts",
}


def _param(code, language, form, changes):
    reason = MISJUDGED.get((code, language, form)) or (
        MISJUDGED.get((code, language)) if form != "sms" else None)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(code, language, form, changes, id=f"{code}-{language}-{form}", marks=marks)


def _cases():
    for code, by_language in VARIANTS.items():
        for language, changes in by_language.items():
            for form in LONG_FORMATS:
                if form in ("speaker_top", "executives") and code in ("no_named_signatory",
                                                                      "collective_signature"):
                    continue  # a named speaker signs these: the unsigned letters are tested below
                yield _param(code, language, form, changes)
    for code, by_language in SMS_VARIANTS.items():
        for language, changes in by_language.items():
            yield _param(code, language, "sms", changes)


@pytest.mark.parametrize(("code", "language", "form", "changes"), list(_cases()))
def test_each_code_is_found(code, language, form, changes):
    text, people = compose(language, form, **changes)
    findings = check(text, language, people)
    found = [f for f in findings if f.code == code]
    assert found, f"{code} not found in {[f.code for f in findings]}:\n{text}"
    assert all(f.severity == SEVERITY[code] for f in found)
    if code in POINTED:
        # The finding names the sentence it is about: the changed part lies inside its span.
        changed = [changes[part] for part in POINTED[code] if changes.get(part)]
        if code == "collective_signature":
            changed = [TEAM[language]]
        if code == "contradiction":
            changed = [PARTS[language]["cause"]]
        assert any(f.span and any(text[f.span[0]:f.span[1]] in c or c in text[f.span[0]:f.span[1]]
                                  for c in changed) for f in found), (found, changed)
    else:
        assert all(f.span is None for f in found)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_speaker_top_letter_without_any_name_is_not_signed(language):
    text, _people = compose(language, "speaker_top",
                            greeting={"ko": "안녕하세요.", "en": "Hello,"}[language],
                            contact=VARIANTS["no_named_signatory"][language]["contact"])
    assert "no_named_signatory" in codes_of(text, language)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_team_signing_is_a_collective_signature(language):
    text, _people = compose(language, "notice", signature=TEAM[language],
                            contact=VARIANTS["collective_signature"][language]["contact"])
    findings = check(text, language, [])
    collective = [f for f in findings if f.code == "collective_signature"]
    assert collective and collective[0].severity == ERROR
    assert text[collective[0].span[0]:collective[0].span[1]] == TEAM[language]
    assert has_errors(findings)


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("form", FORMATS)
def test_good_letters_are_not_flagged(language, form):
    text, people = compose(language, form)
    assert check(text, language, people) == [], text


@pytest.mark.parametrize("language", ["ko", "en"])
def test_good_letter_signed_by_a_named_person_and_the_team(language):
    signature = {"ko": "운영본부장 김도윤 외 하루페이 임직원 일동",
                 "en": "Dana Cho, Head of Payments, and the whole HaruPay team"}[language]
    text, people = compose(language, "email", signature=signature)
    assert not has_errors(check(text, language, people))


@pytest.mark.parametrize("language", ["ko", "en"])
def test_honest_pending_cause_is_no_contradiction(language):
    pending = VARIANTS["contradiction"][language]["pending"]
    text, people = compose(language, "email", cause="", pending=pending)
    found = codes_of(text, language, people)
    assert "contradiction" not in found
    assert "missing_cause" not in found


@pytest.mark.xfail(strict=True, reason="the model reads 'We apologise if anyone felt "
                   "inconvenienced.' as an apology as well as a conditional one")
def test_the_only_conditional_apology_is_also_a_missing_apology():
    text, people = compose("en", "email", apology="We apologise if anyone felt inconvenienced.",
                           closing="Kind regards,")
    found = codes_of(text, "en", people)
    assert {"conditional_apology", "missing_apology"} <= found


def test_findings_carry_message_and_severity():
    text, people = compose("ko", "email", greeting="[고객 성함] 고객님께")
    findings = check(text, "ko", people)
    placeholder = [f for f in findings if f.code == "placeholder_left"]
    assert placeholder[0].span == (0, len("[고객 성함]"))
    assert placeholder[0].severity == ERROR and str(placeholder[0].message) == str(
        MESSAGES["placeholder_left"])
    assert placeholder[0].as_dict()["span"] == [0, len("[고객 성함]")]
    assert {f.code for f in findings} <= set(CODES)


def test_brand_bracket_opening_an_sms_is_no_placeholder():
    text, _people = compose("ko", "sms")
    assert text.startswith("[하루페이]")
    assert "placeholder_left" not in codes_of(text, "ko")


# --- elements: where each part of a good apology is, or that it is missing ------------------------

@pytest.mark.parametrize("language", ["ko", "en"])
def test_elements_are_found_in_a_good_letter(language):
    text, people = compose(language, "email")
    found = elements(text, language, people)
    assert set(found) == set(ELEMENTS) == set(ELEMENT_LABELS)
    parts = PARTS[language]
    expected = {"apology": parts["apology"], "facts": parts["facts"], "harm": parts["harm"],
                "cause": parts["cause"], "remedy": parts["remedy"], "change": parts["change"],
                "contact": parts["contact"], "speaker": parts["signature"].split("\n")[0]}
    for element, sentence in expected.items():
        texts = [text[a:b] for a, b in found[element]]
        assert any(t in sentence or sentence in t for t in texts), (element, texts)


@pytest.mark.parametrize(("language", "element", "part"), [
    pytest.param("ko", "remedy", "remedy", marks=pytest.mark.xfail(
        strict=True, reason="the contact sentence is also read as a remedy")),
    *[(language, element, element) for language in ("ko", "en")
      for element in ("remedy", "contact", "cause", "change") if (language, element) != ("ko", "remedy")],
])
def test_elements_report_a_missing_part(language, element, part):
    text, people = compose(language, "email", **{part: ""})
    assert elements(text, language, people)[element] == []


def test_elements_reuse_a_judgement():
    text, people = compose("en", "notice")
    judgement = judge(text, "en", people)
    assert elements(text, "en", people, judgement) == elements(text, "en", people)


# --- postmortems: blame on a named person ---------------------------------------------------------

POSTMORTEM_KO = ("## 경과\n12월 1일 14시에 결제 서버가 멈췄습니다.\n\n## 원인\n"
                 "박지훈 상담원이 실수해서 환불 요청이 두 번 처리되었습니다.\n")
POSTMORTEM_EN = ("## Timeline\nAt 14:00 on December 1 the payment server stopped.\n\n## Cause\n"
                 "Kim forgot to renew the certificate, so the payment server rejected every card.\n")


def test_named_blame_finds_a_named_korean_employee():
    found = named_blame(POSTMORTEM_KO, "ko", ["박지훈", "이서연"])
    assert [f.code for f in found] == ["blames_named_person"]
    start, end = found[0].span
    assert POSTMORTEM_KO[start:end].startswith("박지훈 상담원이 실수해서")


def test_named_blame_finds_a_named_english_employee():
    found = named_blame(POSTMORTEM_EN, "en", ["Kim Minji"])
    assert [f.code for f in found] == ["blames_named_person"]
    start, end = found[0].span
    assert POSTMORTEM_EN[start:end].startswith("Kim forgot to")


@pytest.mark.parametrize(("text", "language"), [(POSTMORTEM_KO, "ko"), (POSTMORTEM_EN, "en")])
def test_named_blame_needs_names(text, language):
    assert named_blame(text, language, []) == []
    assert named_blame(text, language, ["Nobody Here", "최없음"]) == []


def test_named_blame_leaves_a_named_person_who_did_nothing_wrong():
    text = "## 조치\n박지훈 상담원이 14시 10분에 고객님께 전화로 상황을 안내했습니다.\n"
    assert named_blame(text, "ko", ["박지훈"]) == []


# --- the shipped model --------------------------------------------------------------------------

def test_model_was_trained_on_the_current_train_files():
    # A stale model (train files changed since `make check-train`) fails here.
    settings_ = roles.model().settings
    assert settings_["train_hash"] == roles.files_hash(corpus.files("train"))
    assert settings_["train_files"] == [p.name for p in corpus.files("train")]


def test_every_corpus_letter_is_labelled_consistently():
    """The validator's rules over every split (pending letters too): verbatim sentences,
    codes that follow from the roles, ids unique across the corpus."""
    letters = [x for split in (*corpus.SPLITS, corpus.PENDING) for x in corpus.load(split)]
    assert len(letters) >= 400
    assert {x.id: corpus.problems(x) for x in letters if corpus.problems(x)} == {}
    assert len({x.id for x in letters}) == len(letters)


def test_model_loads_without_pickle():
    with zipfile.ZipFile(roles.WEIGHTS) as archive:
        assert sorted(archive.namelist()) == ["bias.npy", "features.npy", "weights.npy"]
    with np.load(roles.WEIGHTS, allow_pickle=False) as data:
        assert all(data[key].dtype.kind != "O" for key in data.files)
    loaded = roles.read(roles.WEIGHTS, roles.SETTINGS)
    assert loaded.weights.shape == (len(loaded.index), len(loaded.roles))


# --- any text ------------------------------------------------------------------------------------

MIXED = st.text(alphabet=st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(list("[]{}<>()○X#*-_>\n\t\r\x00\x07\x1b가나다님께서 ABCxyz.,!?:;@+0123456789")),
), max_size=400)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=MIXED, language=st.sampled_from(["ko", "en", "fr", ""]),
       names=st.lists(st.text(max_size=12), max_size=3))
def test_any_text_gets_findings(text, language, names):
    people = [Person(n, "팀장") for n in names]
    findings = check(text, language, people)
    assert isinstance(findings, list) and all(isinstance(f, Finding) for f in findings)
    assert all(f.span is None or 0 <= f.span[0] <= f.span[1] <= len(text) for f in findings)
    assert isinstance(named_blame(text, language, names), list)
    assert set(elements(text, language, people)) == set(ELEMENTS)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(piece=st.sampled_from(["[" * 500, "{{" * 300 + "x", "가" * 3000, "a." * 2000,
                              "\n" * 5000, "○" * 1000, "XXX " * 800, "(" * 2000 + ")" * 2000]),
       times=st.integers(min_value=1, max_value=40))
def test_huge_text_is_bounded(piece, times):
    findings = check(piece * times, "ko")
    assert all(isinstance(f, Finding) for f in findings)
