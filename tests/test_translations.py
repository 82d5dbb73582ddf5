"""The Korean catalogue is complete, current, compiled, and actually served.

When a test here fails because a string was added or changed, run `make translations`,
translate the new empty msgstr entries in translations/ko/LC_MESSAGES/messages.po,
then run `make translations` again (it compiles messages.mo) and commit both files.

The extraction must pass `--ignore-dirs '.* __*'`: babel's default also skips every
"_"-prefixed directory, so templates/_macros would silently drop out of the catalogue.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
PO = TRANSLATIONS / "ko" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "ko" / "LC_MESSAGES" / "messages.mo"
# The Makefile's `pybabel extract -k _l -k lazy_gettext -k wtforms_message:1,2` adds these to
# babel's defaults (None: the first argument is the message; (1, 2): singular and plural).
KEYWORDS = {"_l": None, "lazy_gettext": None, "wtforms_message": (1, 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
# msgids whose Korean text rightly has no Hangul (product names, codes); add with care.
SAME_IN_KOREAN: set[str] = set()


def _key(msgid) -> tuple[str, ...]:
    """A message's identity: its msgid, plus the plural msgid for ngettext entries."""
    return (msgid,) if isinstance(msgid, str) else tuple(msgid)


def _forms(string) -> list[str]:
    return [string] if isinstance(string, str) else list(string)


def _read_po(path: Path):
    with path.open("rb") as fh:
        return read_po(fh, locale="ko" if path.suffix == ".po" else None, abort_invalid=True)


@pytest.fixture(scope="module")
def po():
    return _read_po(PO)


def _messages(catalog) -> dict[tuple[str, ...], list[str]]:
    return {_key(m.id): _forms(m.string) for m in catalog if m.id}


def _keep_dir(dirpath: str) -> bool:
    # Babel's default filter also drops "_"-prefixed directories, which would silently
    # skip templates/_macros; only hidden and dunder directories are irrelevant here.
    name = os.path.basename(dirpath)
    return not (name.startswith(".") or name.startswith("__"))


@pytest.fixture(scope="module")
def extracted() -> set[tuple[str, ...]]:
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {**DEFAULT_KEYWORDS, **KEYWORDS}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords, directory_filter=_keep_dir):
        key = tuple(part for part in _key(message) if part)
        if key:
            found.add(key)
    assert found, "extraction found no messages: is babel.cfg still at the repository root?"
    return found


def test_catalogue_header_is_korean_with_one_plural_form(po):
    assert str(po.locale) == "ko"
    assert po.num_plurals == 1
    assert not po.fuzzy, "a fuzzy header makes pybabel compile skip the whole catalogue"


def test_every_message_is_translated_and_not_fuzzy(po):
    empty = [m.id for m in po if m.id and not all(s.strip() for s in _forms(m.string))]
    fuzzy = [m.id for m in po if m.id and m.fuzzy]
    assert not empty, f"untranslated (run `make translations`, then translate): {empty}"
    assert not fuzzy, f"fuzzy (review, then remove the fuzzy flag): {fuzzy}"


def test_plural_entries_have_exactly_one_korean_form(po):
    for message in po:
        if message.id and message.pluralizable:
            assert len(_forms(message.string)) == 1, message.id


def test_catalogue_matches_the_source(po, extracted):
    in_po = set(_messages(po))
    assert not extracted - in_po, (
        f"strings in the code but not in messages.po (run `make translations`; if they come "
        f"from templates/_macros, the extract command lacks --ignore-dirs '.* __*'): "
        f"{sorted(extracted - in_po)}")
    assert not in_po - extracted, (
        f"strings in messages.po that the code no longer uses (run `make translations`): "
        f"{sorted(in_po - extracted)}")


def test_template_is_up_to_date(extracted):
    in_pot = set(_messages(_read_po(POT)))
    assert in_pot == extracted, (
        f"messages.pot is stale (run `make translations`); missing: {sorted(extracted - in_pot)}, "
        f"extra: {sorted(in_pot - extracted)}")


def test_compiled_catalogue_matches_the_po(po):
    with MO.open("rb") as fh:
        mo = read_mo(fh)
    assert _messages(mo) == _messages(po), "messages.mo is out of date: run `pybabel compile -d translations`"


def test_placeholders_are_kept(po):
    problems = []
    for message in po:
        if not message.id:
            continue
        ids = _key(message.id)
        expected = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for form in _forms(message.string):
            if set(PLACEHOLDER.findall(form)) != expected:
                problems.append((ids[0], form))
                continue
            if expected:
                try:  # a stray "%" would break formatting at run time
                    form % dict.fromkeys(expected, "x")
                except (ValueError, TypeError, KeyError) as exc:
                    problems.append((ids[0], f"{form} ({exc})"))
    assert not problems, problems
    assert not [(m.id, errors) for m, errors in po.check()]


def test_translations_are_korean(po):
    # Every entry has some Hangul, so an English copy of the msgid cannot pass as translated.
    untranslated = [m.id for m in po if m.id and _key(m.id)[0] not in SAME_IN_KOREAN
                    and not all(HANGUL.search(s) for s in _forms(m.string))]
    assert not untranslated, untranslated


def test_signed_in_korean_user_sees_korean(client, login, make_incident):
    user = login("agent", locale="ko")
    make_incident(actor=user, title="결제 페이지 시간 초과")
    html = client.get("/incidents/").get_data(as_text=True)
    assert '<html lang="ko">' in html
    assert "<h1>인시던트</h1>" in html
    assert "인시던트 1건" in html
    assert "인시던트 열기" in html
    assert "<h1>Incidents</h1>" not in html and "Open incident" not in html


def test_browser_language_picks_korean_before_sign_in(client, make_user):
    make_user("admin")
    html = client.get("/login", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"},
                      follow_redirects=True).get_data(as_text=True)
    assert "<h1>로그인</h1>" in html and "비밀번호" in html


def test_paged_list_is_translated(app, client, login, make_incident):
    """The pager once shadowed `_` with `{% set _ = ... %}`, breaking every paged page."""
    app.config["INCIDENTS_PER_PAGE"] = 1
    user = login("agent", locale="ko")
    make_incident(actor=user)
    make_incident(actor=user)
    response = client.get("/incidents/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "다음" in html and "1/2쪽" in html
