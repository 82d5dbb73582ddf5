"""A letter cut into units (sentences, headings, label, list and signature lines), each with its
span in the text and, for Korean, its morphemes from Kiwi.

Kiwi's model takes about 500 MB and a second to load, so there is one instance per process,
made on first use and kept in this module (never in an object that gets pickled). Kiwi splits
Korean sentences well but neither splits at line breaks nor between English sentences: lines are
cut here first, then Hangul lines go to Kiwi and English sentences are cut by a bounded pattern.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

_kiwi = None
_kiwi_lock = threading.Lock()


def kiwi():
    """The process' one Kiwi, loaded on first use (about 1 s) and warmed up."""
    global _kiwi
    if _kiwi is None:
        with _kiwi_lock:
            if _kiwi is None:
                from kiwipiepy import Kiwi

                instance = Kiwi()
                instance.tokenize("준비합니다.")  # the first call loads the rest of the model
                _kiwi = instance
    return _kiwi


@dataclass(frozen=True)
class Unit:
    """One sentence or line of a letter. `start`/`end` index the letter's text."""
    start: int
    end: int
    text: str
    line: int          # number of the (non-empty) line it is on, from 0
    marker: str        # the line's Markdown marker: "#", "-", "1.", ">" or ""
    first_in_line: bool
    last_in_line: bool
    morphs: tuple[tuple[str, str], ...] = ()  # Kiwi (form, tag) for a line with Hangul


HANGUL = re.compile(r"[가-힣ㄱ-ㅎㅏ-ㅣ]")
# What opens a line without being part of its first sentence: indentation, Markdown markers
# (headings, lists, quotes, rules) and a list number. Bounded: at most 12 marker characters.
_LEAD = re.compile(r"[ \t\u3000]*(?P<marker>(?:[#>*\-+•·▶■□◆◇※=_~`|][ \t]*){0,12})"
                   r"(?P<number>\d{1,2}[.)](?=[ \t]))?[ \t]*")
# An English sentence ends at ., ! or ? (and closing quotes) followed by spaces and a capital,
# a digit, an opening quote or Hangul.
_EN_END = re.compile(r"[.!?]{1,3}[\"'”’)\]]{0,2}[ \t]+(?=[\"'“‘(\[]?[A-Z0-9가-힣])")
# "Mr. Kim", "a.m. on", "No. 5", "J. Smith": a period that ends no sentence.
_ABBREVIATION = re.compile(
    r"(?:\b(?:mr|mrs|ms|dr|st|no|vs|etc|inc|ltd|co|corp|jr|sr|prof|approx|dept|e\.g|i\.e|"
    r"a\.m|p\.m|u\.s|u\.k|ref|tel|ext|fig|vol|ave|rd)|\b[A-Z])\.$", re.IGNORECASE)


def _english_cuts(text: str) -> list[int]:
    """Offsets in `text` where a new English sentence starts."""
    cuts = []
    for match in _EN_END.finditer(text):
        word = text[max(0, match.start() - 8):match.start() + 1]
        if text[match.start()] == "." and _ABBREVIATION.search(word):
            continue
        cuts.append(match.end())
    return cuts


def _lines(text: str) -> list[tuple[int, int, str]]:
    """(start, end, marker) of each line's content, without its leading Markdown markers."""
    found = []
    for match in re.finditer(r"[^\n]+", text):
        line = match.group()
        lead = _LEAD.match(line)
        start = match.start() + lead.end()
        end = match.start() + len(line.rstrip())
        if end <= start:
            continue
        marker = lead.group("marker").strip()
        marker = marker[:1] if marker else ""
        if lead.group("number"):
            marker = "1."
        # A line of markers only ("---", "***") is a rule, not a unit: _LEAD ate it whole.
        found.append((start, end, marker))
    return found


def units(text: str) -> list[Unit]:
    """The letter's units in order. Works on any text; a line of Hangul is read by Kiwi."""
    lines = _lines(text)
    hangul = [text[s:e] for s, e, _m in lines if HANGUL.search(text, s, e)]
    analysed = _korean(hangul)
    found: list[Unit] = []
    for number, (start, end, marker) in enumerate(lines):
        line = text[start:end]
        # (start, end, morphs) of each piece of the line, offsets within the line.
        pieces: list[tuple[int, int, tuple]] = []
        for sentence_start, sentence_end, morphs in analysed.get(line, ()):
            pieces.extend(_split_english(line, sentence_start, sentence_end, morphs))
        if not pieces:
            pieces = _split_english(line, 0, len(line), ())
        pieces = _join_openers(line, _cover(line, pieces))
        for i, (a, b, morphs) in enumerate(pieces):
            found.append(Unit(start + a, start + b, line[a:b], number, marker, i == 0,
                              i == len(pieces) - 1, tuple((f, t) for _s, f, t in morphs)))
    return found


# Kiwi's reading of a line, kept for the lines seen last: while a writer types, the check runs
# again on a letter of which only one line changed, and Kiwi is most of its time.
_LINE_CACHE: OrderedDict[str, tuple] = OrderedDict()
_LINE_CACHE_SIZE = 4096
_cache_lock = threading.Lock()


def _korean(lines: list[str]) -> dict[str, tuple]:
    """Each Hangul line's sentences: (start, end, ((offset, form, tag), ...)) per sentence."""
    found: dict[str, tuple] = {}
    with _cache_lock:
        for line in lines:
            if line in _LINE_CACHE:
                _LINE_CACHE.move_to_end(line)
                found[line] = _LINE_CACHE[line]
    missing = sorted({line for line in lines if line not in found})
    if missing:
        results = kiwi().split_into_sents(missing, return_tokens=True)
        for line, sentences in zip(missing, results, strict=True):
            found[line] = tuple((s.start, s.end, tuple((t.start, t.form, t.tag) for t in s.tokens))
                                for s in sentences or ())
        with _cache_lock:
            for line in missing:
                _LINE_CACHE[line] = found[line]
            while len(_LINE_CACHE) > _LINE_CACHE_SIZE:
                _LINE_CACHE.popitem(last=False)
    return found


def _split_english(line: str, start: int, end: int, morphs: tuple) -> list[tuple[int, int, tuple]]:
    segment = line[start:end]
    bounds = [0, *_english_cuts(segment), len(segment)]
    pieces = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        a, b = start + a, start + b
        while b > a and line[b - 1].isspace():
            b -= 1
        if b > a:
            pieces.append((a, b, tuple(m for m in morphs if a <= m[0] < b)))
    return pieces


def _cover(line: str, pieces: list[tuple[int, int, tuple]]) -> list[tuple[int, int, tuple]]:
    """Pieces in order, not overlapping, trimmed of spaces; text Kiwi left out between two
    sentences (it should not, but any text must work) joins the piece before it."""
    pieces = sorted(pieces, key=lambda p: p[0])
    out: list[tuple[int, int, tuple]] = []
    cursor = 0
    for a, b, morphs in pieces:
        a = max(a, cursor)
        while a < b and line[a].isspace():
            a += 1
        if b <= a:
            continue
        if out and line[cursor:a].strip():
            pa, _pb, pm = out[-1]
            out[-1] = (pa, a, pm)
        elif not out and line[:a].strip():
            a = 0
        out.append((a, b, morphs))
        cursor = b
    if out and line[cursor:].strip():
        pa, _pb, pm = out[-1]
        out[-1] = (pa, len(line.rstrip()), pm)
    if not out and line.strip():
        out.append((0, len(line.rstrip()), ()))
    return out


# Kiwi ends a sentence after "안녕하세요," or "고객님." and the English pattern after "Questions?";
# a writer reads "안녕하세요, 하루마켓 대표 김하루입니다." and "Questions? Call us ..." as one
# sentence: the greeting or label opens the sentence after it.
_OPENER = re.compile(r"(?:(?:안녕하(?:세요|십니까|셨어요)|[가-힣]{1,12} ?님|hi|hello|dear [^,]{1,30}|"
                     r"questions|any questions)[,.!?]? ?){1,3}", re.IGNORECASE)


def _join_openers(line: str, pieces: list[tuple[int, int, tuple]]) -> list[tuple[int, int, tuple]]:
    out: list[tuple[int, int, tuple]] = []
    for piece in pieces:
        if out:
            a, b, morphs = out[-1]
            if line[a:b].endswith(",") or _OPENER.fullmatch(line[a:b]):
                out[-1] = (a, piece[1], morphs + piece[2])
                continue
        out.append(piece)
    return out


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def assign(spans: Sequence[tuple[int, int]], targets: Sequence[tuple[int, int]]) -> list[int | None]:
    """For each span, the index of the target it overlaps most (None: it overlaps none)."""
    out: list[int | None] = []
    j = 0
    for span in spans:
        while j < len(targets) and targets[j][1] <= span[0]:
            j += 1
        best, best_overlap = None, 0
        k = j
        while k < len(targets) and targets[k][0] < span[1]:
            size = overlap(span, targets[k])
            if size > best_overlap:
                best, best_overlap = k, size
            k += 1
        out.append(best)
    return out
