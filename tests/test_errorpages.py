"""What a refused form gives back: typed text, never secrets or hidden fields."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from app.errorpages import typed_text

NAMES = st.sampled_from(["body", "note", "title", "description", "password", "confirm", "new_password",
                         "csrf_token", "api_token", "expected", "next", "version", "kind"])
FIELDS = st.lists(st.tuples(NAMES, st.text(max_size=60)), max_size=8)


def secret(name: str) -> bool:
    return any(word in name for word in ("password", "confirm", "token", "csrf"))


@given(FIELDS)
def test_typed_text_gives_back_sentences_and_never_a_secret(fields):
    typed = typed_text(MultiDict(fields))
    shown = [value for name, value in fields if not secret(name)]
    assert all(value in shown for value in typed)  # nothing from a secret field
    assert all(value.strip() for value in typed)  # nothing blank
    for name, value in fields:
        sentence = len(value.strip().split()) > 1 or (len(value) > 30 and value.strip())
        if not secret(name) and sentence:
            assert value in typed, (name, value)


def test_hidden_single_words_stay_out():
    form = MultiDict([("expected", "detected"), ("next", "/incidents/2?page=3"), ("version", "4"),
                      ("body", "Called the customer back"), ("kind", "note")])
    assert typed_text(form) == ["Called the customer back"]
