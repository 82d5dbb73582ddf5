"""Removing customers' personal data from text that leaves the incident (playbooks, search).

Known values (the affected customers' names, contacts and references as recorded) are removed
wherever they appear, and so is anything shaped like an e-mail address or a phone number (Korean
and international formats), in any spelling a reader would still recognise: Markdown emphasis,
links or escapes inside a value, invisible characters, HTML entities, full-width forms, spaced
digits, "name at example dot com", names spaced or in either order.

Matching runs on a projection of the text: entities decoded, Unicode NFKC, invisible characters
dropped, Markdown reduced to its plain text. Every projected character remembers the span of the
original it came from, so what comes out is the original Markdown with only the offending spans
replaced by a marker.
"""

from __future__ import annotations

import functools
import html
import itertools
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

MARKER = "[redacted]"
# The marker sits inside the reader's sentence, so it must be written in the reader's language.
MARKERS = {"en": MARKER, "ko": "[개인정보 삭제]"}


def marker_for(language: str) -> str:
    """The marker for a language code ("ko", "ko-KR", "en_GB"); English when unknown."""
    return MARKERS.get(re.split(r"[-_]", language or "")[0].lower(), MARKER)


@dataclass(frozen=True)
class Removed:
    kind: str  # "known", "email" or "phone"
    value: str


# --- the projection ---------------------------------------------------------------------------
# Markdown is reduced to text here by a few token patterns, not by the Markdown library: its
# HTML output has no offsets back to the source, and the output here must be the source with
# only the offending spans replaced. Values hide in inline markup only, which the patterns cover.

# A pass turns each match into pieces (a, b, new) over its own input: new=None copies input
# characters a..b one for one, a string stands for the whole of a..b. Characters map back to
# spans of the original, so passes compose.
Piece = tuple[int, int, "str | None"]


@dataclass
class _Projection:
    text: str
    starts: list[int]
    ends: list[int]
    links: list[tuple[int, int]] = field(default_factory=list)  # original spans, in order

    def rewrite(self, pattern: re.Pattern, replace: Callable[[re.Match], list[Piece] | None]) -> None:
        """One pass: each match of `pattern` becomes the pieces `replace` gives (None: as it is)."""
        text, starts, ends = self.text, self.starts, self.ends
        out: list[str] = []
        new_starts: list[int] = []
        new_ends: list[int] = []
        last = 0
        for match in pattern.finditer(text):
            pieces = replace(match)
            if pieces is None:
                continue
            a = match.start()
            out.append(text[last:a])
            new_starts += starts[last:a]
            new_ends += ends[last:a]
            for start, end, new in pieces:
                if new is None:
                    out.append(text[start:end])
                    new_starts += starts[start:end]
                    new_ends += ends[start:end]
                elif new:
                    out.append(new)
                    new_starts += [starts[start]] * len(new)
                    new_ends += [ends[end - 1]] * len(new)
            last = match.end()
        if not out:
            return
        out.append(text[last:])
        self.text = "".join(out)
        self.starts = new_starts + starts[last:]
        self.ends = new_ends + ends[last:]

    def original(self, a: int, b: int) -> tuple[int, int]:
        """The span of the original that projected characters a..b came from."""
        return self.starts[a], self.ends[b - 1]


# A numeric reference may lack its ";" ("kim&#64example.com" still reads as an address), but
# not where markup or another entity may cut it: "&#6**4;", "&#6</b>4;" and "&#6&#52;;" are
# "&#64;" once the markup is gone and the inner entity decoded.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}(?:;|(?![0-9*_~`\\&<]))|#[xX][0-9a-fA-F]{1,6}(?:;|(?![0-9a-fA-F*_~`\\&<]))"
                     r"|[A-Za-z][A-Za-z0-9]{1,31};)")
# Soft hyphen, zero-width space/joiners, word joiner, BOM, bidi marks, variation selectors, tag
# characters and the Hangul fillers: they render as nothing, so they must not split a value.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]")
_NON_ASCII = re.compile(r"[\x00-\x7f]?[^\x00-\x7f]+")
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")
# Links and autolinks: the text and the target are both read, and a value in either takes the
# whole link with it, so no half of it (a name, a mailto: target) is left behind.
_LINK = re.compile(
    r"!?\[(?P<text>[^\[\]\n]{0,500})\]\((?P<target>[^()\s]{0,2000})"
    r"(?:\s+(?:\"(?P<title>[^\"\n]{0,500})\"|'(?P<title2>[^'\n]{0,500})'))?\)"
    r"|<(?P<auto>(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:|[^\s<>@]{1,200}@)[^\s<>]{0,2000})>")
_TAG = r"</?[A-Za-z][A-Za-z0-9-]{0,30}(?:\s[^<>]{0,200})?/?>"
# Inline markers a renderer drops: escapes, emphasis and code delimiters, strikethrough (GFM
# takes a single ~ too, and "~*~" is a run like any other), inline HTML tags and comments.
# Block markers (headings, lists, quotes) never sit inside a value, so they stay as they are.
_MARKUP = re.compile(
    rf"\\(?=[!-/:-@\[-`{{-~])|[*_`~]+|<!--.{{0,500}}?-->|{_TAG}",
    re.DOTALL)
# An underscore inside a word (kim_minji@...) is part of it, not emphasis.
_DELIMITERS = re.compile(rf"[*~`]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|{_TAG}")
_DELIMITERS_BEFORE = re.compile(rf"(?:[*_~`]|{_TAG})+\Z")
_DELIMITERS_AFTER = re.compile(rf"(?:[*_~`]|{_TAG})+")


@functools.lru_cache(maxsize=4096)
def _joins_previous(char: str) -> bool:
    """Whether NFKC may merge this character into the one before it (accents, Hangul vowel and
    final jamo: "&#x1112;&#x1169;&#x11BC;" is 홍)."""
    return (unicodedata.combining(char) != 0 or "\u1160" <= char <= "\u11ff"
            or "\ud7b0" <= char <= "\ud7ff" or unicodedata.category(char) in ("Mn", "Mc", "Me"))


def _decode_entity(match: re.Match) -> list[Piece] | None:
    decoded = html.unescape(match.group())
    return None if decoded == match.group() else [(match.start(), match.end(), decoded)]


def _drop(match: re.Match) -> list[Piece]:
    return [(match.start(), match.end(), "")]


def _fold(match: re.Match) -> list[Piece] | None:
    """NFKC (full width, ligatures, composed Hangul) and digits of other scripts as ASCII."""
    run = match.group()
    if unicodedata.is_normalized("NFKC", run) and not _OTHER_DIGIT.search(run) \
            and not _joins_previous(run[0]):
        return None
    pieces: list[Piece] = []
    chunk_start = offset = match.start()
    for i, char in enumerate(run[1:], offset + 1):
        if not _joins_previous(char):
            pieces.append((chunk_start, i, _nfkc(match.string[chunk_start:i])))
            chunk_start = i
    pieces.append((chunk_start, match.end(), _nfkc(match.string[chunk_start:match.end()])))
    return pieces


def _nfkc(chunk: str) -> str:
    folded = unicodedata.normalize("NFKC", chunk)
    return _OTHER_DIGIT.sub(lambda m: str(unicodedata.digit(m.group(), 0)), folded)


def _project(text: str) -> _Projection:
    """The text as a reader takes it in, with a map back to the original."""
    projection = _Projection(text, list(range(len(text))), list(range(1, len(text) + 1)))

    def link(match: re.Match) -> list[Piece]:
        projection.links.append(projection.original(*match.span()))
        if match.group("auto") is not None:
            return [(*match.span("auto"), None)]
        pieces: list[Piece] = [(*match.span("text"), None),
                               (match.end("text"), match.start("target"), " "),
                               (*match.span("target"), None)]
        for title in ("title", "title2"):
            if match.group(title):
                pieces += [(match.start(title) - 1, match.start(title), " "), (*match.span(title), None)]
        return pieces

    # Full width before entities too: "&#64；" and "＆＃６４；" read as "@" as well.
    for pattern, replace in ((_INVISIBLE, _drop), (_NON_ASCII, _fold), (_ENTITY, _decode_entity),
                             (_INVISIBLE, _drop), (_NON_ASCII, _fold), (_LINK, link), (_MARKUP, _drop)):
        projection.rewrite(pattern, replace)
    # Again while an entity or markup is left: "&amp;#64;", "&\u200b#64;" and "&**#64;" all show
    # "&#64;", which reads as "@", and "<**b>" is a tag once the emphasis is gone.
    for _ in range(3):
        if not (_ENTITY.search(projection.text) or _MARKUP.search(projection.text)):
            break
        for pattern, replace in ((_ENTITY, _decode_entity), (_INVISIBLE, _drop), (_NON_ASCII, _fold),
                                 (_MARKUP, _drop)):
            projection.rewrite(pattern, replace)
    links: list[tuple[int, int]] = []
    for start, end in sorted(projection.links):  # disjoint, for a bisect when widening
        if links and start < links[-1][1]:
            links[-1] = (links[-1][0], max(end, links[-1][1]))
        else:
            links.append((start, end))
    projection.links = links
    return projection


# --- what is matched ----------------------------------------------------------------------------

_LATIN = "A-Za-z0-9\u00c0-\u024f"
# Between the letters and digits of a reference or phone number: "ORD 2024-00123", "(02) - 345".
_SEP = r"[\s\-./,()\[\]\u00b7\u2010-\u2015\u2212]{0,4}"
_HANGUL_GAP = r"[\s\-\u00b7\u2010-\u2015\u30fb]{0,2}"  # 홍 길동, 홍 길 동, 홍-길동
# Kim Minji, KIM, Minji, Kim-Minji, KimMinji, Minji (Kim): the bracket must close after the
# name, so "(Kim Minji)" keeps its own.
_PART_GAP = r"\s*(?:[,.\-]|(\())?\s*"
_H = r"[^\S\n]{0,3}"  # horizontal space around an obfuscated @ or dot
# "@", " @ ", "[at]", "(at)", "{@}", and Korean 골뱅이/앳 ("at" as it is said aloud).
_AT_MARK = rf"(?:{_H}@{_H}|{_H}[\[({{<]{_H}(?:at|@|골뱅이|앳){_H}[\]){{}}>]{_H})"
_AT_WORD = rf"(?:{_H}\s(?:at|골뱅이|앳)\s{_H})"
_DOT_PLAIN = r"\."
_DOT_MARK = (rf"(?:[^\S\n]{{1,3}}\.{_H}|{_H}[\[({{<]{_H}(?:dot|\.|닷|점){_H}[\]){{}}>]{_H}"
             rf"|{_H}\s(?:dot|닷|점)\s{_H})")
_DOT = rf"(?:{_DOT_PLAIN}|{_DOT_MARK})"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})"
_LOCAL = r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}"

# ASCII classes throughout: in Python `\w` also matches Hangul, so a boundary written with
# it fails before a particle ("010-1234-5678로", "kim@example.com으로") and the value stays.
# A bare " at " is ordinary English ("the outage at api.example.com"), so it counts only
# with an obfuscated dot after it ("kim at example dot com").
EMAIL = re.compile(
    rf"{_LOCAL}(?:{_AT_MARK}{_LABEL}(?:{_DOT}{_LABEL})+"
    rf"|{_AT_WORD}{_LABEL}(?:{_DOT}{_LABEL})*{_DOT_MARK}{_LABEL}(?:{_DOT}{_LABEL})*)(?![A-Za-z0-9-])",
    re.IGNORECASE)
# 010-1234-5678, 01012345678, 010 - 1234 - 5678, 02-123-4567, (02) 123-4567, +82 10-1234-5678,
# +82 (0)10-1234-5678, +82-2-123-4567, +1 (415) 555-0100, +44 20 7946 0958, 1588-1234
# (business numbers: 15xx, 16xx, 18xx, so a year range such as 1999-2024 is left alone). A
# leading 00 is not a Korean area code, so ten-digit references such as 0012345678 stay too
# (0082 is the one international prefix written that way). Brackets only as a pair around the
# area code, so "(010-1234-5678)" keeps its own. Dates and amounts never start with 0 or +; a
# country code of one digit is 1 or 7, and a number ends in three or four digits, so "+3" and
# "+31" before a date ("+3 2026-11-22") stay too.
# No phone number has fewer digits (1588-1234 has eight); "+31 2026" in "+31 2026 - 11 - 22" does.
_PHONE_DIGITS = 8
_S = r"(?:[^\S\n]{0,2}[.\-/\u2010-\u2015\u2212][^\S\n]{0,2}|[^\S\n]{1,2})?"
PHONE = re.compile(
    r"(?<![A-Za-z0-9_+])(?:"
    rf"(?:\+[^\S\n]?|00(?=82))(?:[17]|[2-9][0-9]{{1,2}}){_S}(?:\(0\){_S})?(?:\([0-9]{{1,4}}\)|[0-9]{{1,4}})"
    rf"(?:{_S}[0-9]{{2,4}}){{0,2}}{_S}[0-9]{{3,4}}"
    rf"|(?:\(0[1-9][0-9]{{0,2}}\)|0[1-9][0-9]{{0,2}}){_S}[0-9]{{3,4}}{_S}[0-9]{{4}}"
    r"|1[568][0-9]{2}[^\S\n]{0,2}[.-][^\S\n]{0,2}[0-9]{4}"
    r")(?![A-Za-z0-9_-])")
_NOT_ALNUM = re.compile(r"[\W_]+")
_NOT_DIGIT = re.compile(r"[^0-9]+")
_PHONE_SHAPE = re.compile(r"\+?[0-9\s().\-/\u2010-\u2015\u2212]+")


def _is_hangul(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3" or "\u1100" <= char <= "\u11ff" or "\u3130" <= char <= "\u318f"


def _edged(body: str, first: str, last: str) -> str:
    """A value that starts or ends with a Latin letter or digit must not touch another one
    there, so a customer called "Han" or "Park" leaves "handled" and "parking" alone; Hangul
    has no such edge, so 홍길동 goes from 홍길동님이 too."""
    before = rf"(?<![{_LATIN}])" if re.match(rf"[{_LATIN}]", first) else ""
    after = rf"(?![{_LATIN}])" if re.match(rf"[{_LATIN}]", last) else ""
    return f"{before}(?:{body}){after}"


def _spaced(chars: Iterable[str], gap: str = _SEP) -> str:
    return gap.join(re.escape(c) for c in chars)


def _email_pattern(value: str) -> str:
    """A known address in every spelling, a bare " at " with plain dots too; its local part
    before any @ is enough ("kim@exampel.com" is still the customer)."""
    local, domain = value.rsplit("@", 1)
    domain = _DOT.join(re.escape(label) for label in domain.split(".") if label)
    return (rf"(?<![A-Za-z0-9._%+-]){re.escape(local)}(?:{_AT_MARK}|{_AT_WORD})"
            rf"(?:{domain}|{_LABEL}(?:{_DOT_PLAIN}{_LABEL})*)(?![A-Za-z0-9-])")


def _phone_pattern(value: str, digits: str) -> str:
    """Its digits with any separators, and a Korean number in its +82 form as well."""
    if value.startswith("+") or digits.startswith("00"):
        digits = digits.lstrip("0") if digits.startswith("00") else digits
        if not digits.startswith("82"):
            return _edged(r"(?:\+|00)?" + _SEP + _spaced(digits), digits[0], digits[-1])
        digits = digits[2:] if digits[2:].startswith("0") else "0" + digits[2:]  # +82 (0)10
    # The area code may stand in brackets, "(02) 123-4567"; the number itself may too, "(...)".
    national = _edged(r"(?:\((?=[0-9]{2,4}[^\S\n]?\)))?" + _spaced(digits), digits[0], digits[-1])
    if not digits.startswith("0") or digits.startswith("00"):
        return national
    abroad = (rf"(?<![{_LATIN}+])(?:\+|00)?{_SEP}8{_SEP}2{_SEP}(?:\(0\){_SEP}|0{_SEP})?"
              + _spaced(digits[1:]) + rf"(?![{_LATIN}])")
    return f"{national}|{abroad}"


def _name_pattern(value: str) -> str:
    """Hangul syllables may stand apart (홍 길동, 홍 길 동); a Latin name's parts may come in
    any order, with a comma or nothing between them (Minji Kim, KIM, Minji, KimMinji)."""
    parts = [p for p in re.split(r"[\s,]+", value) if p]
    # Not in a two-syllable name: "이 수정" is "this fix" far more often than 이수 spaced out.
    syllables = sum(map(_is_hangul, value))
    gap = _HANGUL_GAP if syllables >= 3 else ""

    def part(text: str) -> str:
        out = ""
        for prev, char in zip(" " + text[:-1], text, strict=True):
            if _is_hangul(prev) and _is_hangul(char):
                out += gap
            out += r"[-'\u2019\s]?" if char in "-'\u2019" else re.escape(char)
        return out

    if all(_is_hangul(c) for c in value if c.isalpha()):
        return (gap or r"\s?").join(part(p) for p in parts)
    orders = list(itertools.permutations(parts)) if len(parts) <= 3 else [parts, parts[::-1]]
    alternatives, group = [], 0
    for order in orders:
        body = _PART_GAP.join(part(p) for p in order)
        opened = range(group + 1, group + len(order))  # the gaps' bracket groups, numbered
        group += len(order) - 1
        alternatives.append(_edged(body, order[0][0], order[-1][-1])
                            + "".join(rf"(?({n})\))" for n in opened))
    return "|".join(alternatives)


@dataclass(frozen=True)
class _Known:
    pattern: re.Pattern
    kind: str  # what its other spellings are reported as
    # Runs of letters and digits (or of digits alone) every spelling has whole: when the text
    # lacks one, the value is not there and its pattern need not scan the text at all.
    needles: tuple[str, ...]
    digits_only: bool


@functools.lru_cache(maxsize=1024)
def _known(value: str) -> _Known | None:
    """How a known value is matched on the projection, by what it looks like."""
    normal = _project(value).text.strip()
    atoms = [c for c in normal if c.isalnum()]
    if len(atoms) < 2:
        return None
    words = tuple(w.lower() for w in _NOT_ALNUM.split(normal) if w)
    if "@" in normal.strip("@"):  # the local part alone is matched, so it alone must be there
        body, kind = _email_pattern(normal), "email"
        words = tuple(w.lower() for w in _NOT_ALNUM.split(normal.rsplit("@", 1)[0]) if w)
    elif _PHONE_SHAPE.fullmatch(normal) and len(atoms) >= 7:
        digits = "".join(atoms)
        return _Known(re.compile(_phone_pattern(normal, digits)), "phone", (digits[-7:],), True)
    elif any(c.isdigit() for c in atoms):
        # References: their letters and digits with any separators, or none.
        body, kind, words = _edged(_spaced(atoms), atoms[0], atoms[-1]), "known", ("".join(words),)
    else:
        body, kind = _name_pattern(normal), "known"
    return _Known(re.compile(body, re.IGNORECASE), kind, words, False)


def _same(spelling: str) -> str:
    """A value as compared with what was recorded: any case, any run of spaces."""
    return " ".join(_project(spelling).text.casefold().split())


# --- replacing -------------------------------------------------------------------------------------

class _Claims:
    """Disjoint, sorted spans of the projection already taken by a match."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def add(self, a: int, b: int) -> bool:
        """Take a..b; False when it lies within what is taken already (nothing new)."""
        i = bisect_right(self.starts, a) - 1
        if i >= 0 and self.ends[i] >= b:
            return False
        lo = i if i >= 0 and self.ends[i] >= a else i + 1
        hi = bisect_left(self.starts, b + 1)
        if lo < hi:
            a, b = min(a, self.starts[lo]), max(b, self.ends[hi - 1])
        self.starts[lo:hi] = [a]
        self.ends[lo:hi] = [b]
        return True

    def __iter__(self):
        return iter(zip(self.starts, self.ends, strict=True))


def _widen(text: str, projection: _Projection, a: int, b: int) -> tuple[int, int]:
    """The original span to replace for projected a..b: the whole link it sits in, a mailto:
    before it, and the emphasis delimiters or tags around it when some were inside (*Kim* Minji
    and <b>홍</b>길동 go whole, not as *[redacted] and <b>[redacted])."""
    start, end = projection.original(a, b)
    links = projection.links
    i = bisect_left(links, (end,))  # links are disjoint and in order: only those before end
    while i > 0 and links[i - 1][1] > start:
        i -= 1
        start, end = min(start, links[i][0]), max(end, links[i][1])
    if text[max(0, start - 7):start].lower() == "mailto:":
        start -= 7
    if _DELIMITERS.search(text, start, end):
        before = _DELIMITERS_BEFORE.search(text, max(0, start - 250), start)
        after = _DELIMITERS_AFTER.match(text, end)
        start, end = before.start() if before else start, after.end() if after else end
    return start, end


def redact(text: str, known: Iterable[str] = (), *, marker: str = MARKER) -> tuple[str, list[Removed]]:
    """The text with every spelling of a known value, e-mail or phone number replaced by the
    marker (longest known values first), and what was removed."""
    removed: list[Removed] = []
    if not text:
        return text, removed
    projection = _project(text)
    claims = _Claims()
    values = sorted({v.strip() for v in known if v and len(v.strip()) >= 2}, key=lambda v: (-len(v), v))

    def shown(match: re.Match) -> str:
        return _INVISIBLE.sub("", text[slice(*projection.original(*match.span()))])

    # A known value is reported as recorded; another spelling of it as written, so the author
    # sees what went ("010 1234 5678" as a phone), as the generic rules would report it.
    alnum, digits = _NOT_ALNUM.sub("", projection.text).lower(), _NOT_DIGIT.sub("", projection.text)
    for value in values:
        known = _known(value)
        if known is None or not all(n in (digits if known.digits_only else alnum) for n in known.needles):
            continue
        for match in known.pattern.finditer(projection.text):
            if match.end() > match.start() and claims.add(*match.span()):
                spelling = shown(match)
                same = _same(spelling) == _same(value)
                what = Removed("known", value) if same else Removed(known.kind, spelling)
                if what not in removed:
                    removed.append(what)
    for kind, pattern in (("email", EMAIL), ("phone", PHONE)):
        for match in pattern.finditer(projection.text):
            if kind == "phone" and len(_NOT_DIGIT.sub("", match.group())) < _PHONE_DIGITS:
                continue
            if claims.add(*match.span()):
                removed.append(Removed(kind, shown(match)))
    spans = sorted(_widen(text, projection, a, b) for a, b in claims)
    out: list[str] = []
    last = 0
    for start, end in spans:
        if start < last:  # widened into the previous span: one marker for both
            last = max(last, end)
            continue
        out += [text[last:start], marker]
        last = end
    out.append(text[last:])
    return "".join(out), removed


def clean(text: str, known: Iterable[str] = (), *, marker: str = MARKER) -> str:
    """Just the redacted text."""
    return redact(text, known, marker=marker)[0]
