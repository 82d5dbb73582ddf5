"""The apology corpus: letters written for training and judging the check, labelled sentence
by sentence. `python -m incidents.apology.corpus` validates every file and prints counts.

Layout: incidents/apology/letters_corpus/{train,test}/*.jsonl, one letter a line. The test
split is for measuring only: no rule, feature or setting of the check is tuned on it.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# The placeholder rule lives in codes.py, beside the codes it decides; the check uses it too.
from incidents.apology.codes import CODES, ROLE_SET, Judged, derive, has_errors, placeholder_spans

CORPUS_DIR = Path(__file__).resolve().parent / "letters_corpus"
SPLITS = ("train", "test")
# Letters written but not yet trained on (README: "pending"); validated with the rest.
PENDING = "pending"
LANGUAGES = ("ko", "en")
FORMATS = ("sms", "push", "banner", "email", "notice", "letter")
DOMAINS = ("outage", "food_safety", "delivery", "billing", "data_breach", "abusive_service",
           "other")

# What may stand between sentences: spaces, Markdown markers, list numbers, quote marks.
_BETWEEN = re.compile(r"[\s#>*\-+_=|`~·•▶■□◆◇※]*(?:\d{1,2}[.)][\s]*)?[\s#>*\-+_=|`~·•▶■□◆◇※]*")


@dataclass
class Sentence:
    text: str
    roles: list[str]
    start: int = 0
    end: int = 0


@dataclass
class Letter:
    id: str
    language: str
    format: str
    domain: str
    quality: str
    text: str
    sentences: list[Sentence]
    codes: list[str]
    signatories: list[dict] = field(default_factory=list)
    note: str = ""
    split: str = ""

    def judged(self) -> list[Judged]:
        return [Judged(s.start, s.end, frozenset(s.roles)) for s in self.sentences]


def parse(raw: dict, split: str = "") -> Letter:
    sentences = [Sentence(s["text"], list(s.get("roles", []))) for s in raw["sentences"]]
    letter = Letter(raw["id"], raw["language"], raw["format"], raw["domain"], raw["quality"],
                    raw["text"], sentences, list(raw.get("codes", [])),
                    list(raw.get("signatories", [])), raw.get("note", ""), split)
    cursor = 0
    for sentence in letter.sentences:
        at = letter.text.find(sentence.text, cursor)
        sentence.start, sentence.end = (at, at + len(sentence.text)) if at >= 0 else (-1, -1)
        if at >= 0:
            cursor = at + len(sentence.text)
    return letter


def problems(letter: Letter) -> list[str]:
    """What is wrong with a labelled letter (empty: it is consistent)."""
    found = []
    if letter.language not in LANGUAGES:
        found.append(f"language {letter.language!r}")
    if letter.format not in FORMATS:
        found.append(f"format {letter.format!r}")
    if letter.domain not in DOMAINS:
        found.append(f"domain {letter.domain!r}")
    if letter.quality not in ("good", "bad"):
        found.append(f"quality {letter.quality!r}")
    cursor = 0
    for i, sentence in enumerate(letter.sentences):
        if not sentence.text.strip():
            found.append(f"sentence {i} is empty")
        if sentence.start < 0:
            found.append(f"sentence {i} is not in the text, in order: {sentence.text[:40]!r}")
            continue
        gap = letter.text[cursor:sentence.start]
        if not _BETWEEN.fullmatch(gap):
            found.append(f"text before sentence {i} is in no sentence: {gap.strip()[:40]!r}")
        cursor = sentence.end
        unknown = set(sentence.roles) - ROLE_SET
        if unknown:
            found.append(f"sentence {i}: unknown roles {sorted(unknown)}")
    if not _BETWEEN.fullmatch(letter.text[cursor:]):
        found.append(f"text after the last sentence: {letter.text[cursor:].strip()[:40]!r}")
    unknown = set(letter.codes) - set(CODES)
    if unknown:
        found.append(f"unknown codes {sorted(unknown)}")
    derived = derive(letter.judged(), letter.text,
                     placeholders=bool(placeholder_spans(letter.text)))
    if derived != set(letter.codes):
        found.append(f"codes {sorted(letter.codes)} but the roles give {sorted(derived)}")
    if letter.quality == "good" and letter.codes:
        found.append(f"a good letter has codes {sorted(letter.codes)}")
    if letter.quality == "bad" and not letter.codes:
        found.append("a bad letter has no codes")
    return found


def files(split: str) -> list[Path]:
    return sorted((CORPUS_DIR / split).glob("*.jsonl"))


def load(split: str) -> Iterator[Letter]:
    for path in files(split):
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        yield parse(json.loads(line), split)
                    except (KeyError, TypeError, json.JSONDecodeError) as err:
                        raise ValueError(f"{path.name}:{number}: {err}") from None


def main(argv: list[str]) -> int:
    bad = 0
    seen: set[str] = set()
    for split in (*SPLITS, PENDING):
        letters = list(load(split))
        for letter in letters:
            found = problems(letter)
            if letter.id in seen:
                found.append("duplicate id")
            seen.add(letter.id)
            if found:
                bad += 1
                print(f"{split}/{letter.id}: " + "; ".join(found))
        by = Counter((x.language, x.quality) for x in letters)
        formats = Counter(x.format for x in letters)
        roles = Counter(r for x in letters for s in x.sentences for r in s.roles)
        codes = Counter(c for x in letters for c in x.codes)
        errors = sum(1 for x in letters if has_errors(x.codes))
        print(f"{split}: {len(letters)} letters {dict(sorted(by.items()))}; formats "
              f"{dict(sorted(formats.items()))}; {sum(len(x.sentences) for x in letters)} "
              f"sentences; with an error code {errors}")
        print(f"  roles {dict(sorted(roles.items()))}")
        print(f"  codes {dict(sorted(codes.items()))}")
    print(f"{bad} letter(s) with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
