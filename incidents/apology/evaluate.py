"""The check measured on letters it never saw: `python -m incidents.apology.evaluate`
(make check-eval) prints, for the test split only, per-role and per-code precision and recall,
the share of letters judged exactly right and of good letters flagged with an error, overall,
per language and per format. It reports; nothing is tuned on what it prints.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from incidents.apology.analysis import Unit, assign, overlap
from incidents.apology.codes import CODES, ROLES, has_errors
from incidents.apology.corpus import FORMATS, LANGUAGES, Letter


def gold_unit_roles(letter: Letter, units: Sequence[Unit]) -> list[frozenset[str]]:
    """The gold roles of our units: those of the labelled sentence each unit overlaps most,
    and of every labelled sentence a unit holds (mostly) whole."""
    spans = [(s.start, s.end) for s in letter.sentences]
    best = assign([(u.start, u.end) for u in units], spans)
    out = []
    for unit, index in zip(units, best, strict=True):
        found = set(letter.sentences[index].roles) if index is not None else set()
        for sentence, span in zip(letter.sentences, spans, strict=True):
            if span[1] > span[0] and overlap((unit.start, unit.end), span) >= 0.8 * (span[1] - span[0]):
                found.update(sentence.roles)
        out.append(frozenset(found))
    return out


def sentence_roles(letter: Letter, units: Sequence[Unit],
                   unit_roles: Sequence[frozenset[str]]) -> list[set[str]]:
    """The predicted roles of each labelled sentence: those of the units that overlap it most."""
    spans = [(s.start, s.end) for s in letter.sentences]
    out: list[set[str]] = [set() for _ in spans]
    for index, found in zip(assign([(u.start, u.end) for u in units], spans), unit_roles,
                            strict=True):
        if index is not None:
            out[index] |= found
    return out


@dataclass
class Tally:
    tp: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fp: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fn: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, gold: Iterable[str], predicted: Iterable[str]) -> None:
        gold, predicted = set(gold), set(predicted)
        for key in gold & predicted:
            self.tp[key] += 1
        for key in predicted - gold:
            self.fp[key] += 1
        for key in gold - predicted:
            self.fn[key] += 1

    def precision(self, key: str) -> float | None:
        called = self.tp[key] + self.fp[key]
        return self.tp[key] / called if called else None

    def recall(self, key: str) -> float | None:
        real = self.tp[key] + self.fn[key]
        return self.tp[key] / real if real else None

    def support(self, key: str) -> int:
        return self.tp[key] + self.fn[key]


@dataclass
class Result:
    """One letter: its gold and predicted codes, and per labelled sentence gold and predicted roles."""
    language: str
    format: str
    quality: str
    gold_codes: frozenset[str]
    codes: frozenset[str]
    sentences: list[tuple[set[str], set[str]]]

    @property
    def exact(self) -> bool:
        return self.gold_codes == self.codes


def result(letter: Letter, units: Sequence[Unit], unit_roles: Sequence[frozenset[str]],
           codes: Iterable[str]) -> Result:
    predicted = sentence_roles(letter, units, unit_roles)
    return Result(letter.language, letter.format, letter.quality, frozenset(letter.codes),
                  frozenset(codes), [(set(s.roles), p) for s, p in zip(letter.sentences, predicted,
                                                                      strict=True)])


@dataclass
class Summary:
    letters: int
    exact: float
    good: int
    good_flagged: float
    roles: Tally
    codes: Tally


def summarise(results: Sequence[Result]) -> Summary:
    roles, codes = Tally(), Tally()
    for r in results:
        codes.add(r.gold_codes, r.codes)
        for gold, predicted in r.sentences:
            roles.add(gold, predicted)
    good = [r for r in results if r.quality == "good"]
    return Summary(len(results), sum(r.exact for r in results) / len(results) if results else 0.0,
                   len(good), sum(has_errors(r.codes) for r in good) / len(good) if good else 0.0,
                   roles, codes)


def _pr(tally: Tally, key: str) -> str:
    p, r = tally.precision(key), tally.recall(key)
    show = lambda x: "  -  " if x is None else f"{x:.2f}"  # noqa: E731
    return f"{show(p):>5} {show(r):>5} {tally.support(key):>4}"


def report(results: Sequence[Result], out=sys.stdout) -> None:
    overall = summarise(results)
    groups = [("all", overall)]
    groups += [(lang, summarise([r for r in results if r.language == lang])) for lang in LANGUAGES]
    groups += [(fmt, summarise([r for r in results if r.format == fmt])) for fmt in FORMATS]
    groups = [(name, s) for name, s in groups if s.letters]

    print("Letters judged exactly right (predicted codes == gold codes), good letters flagged "
          "with an error:", file=out)
    print(f"  {'group':<8} {'letters':>7} {'exact':>6} {'good':>5} {'good+error':>10}", file=out)
    for name, s in groups:
        print(f"  {name:<8} {s.letters:>7} {s.exact:>6.1%} {s.good:>5} {s.good_flagged:>10.1%}",
              file=out)
    for title, keys, attr in (("Per role (labelled sentences)", ROLES, "roles"),
                              ("Per code (letters)", CODES, "codes")):
        print(f"\n{title}: precision recall support", file=out)
        print(f"  {'':<21}" + "".join(f"{name:^17}" for name, _s in groups), file=out)
        for key in keys:
            cells = "".join(f"{_pr(getattr(s, attr), key):>17}" for _n, s in groups)
            print(f"  {key:<21}{cells}", file=out)


def main(argv: list[str]) -> int:
    from incidents.apology import check, corpus, roles

    split = argv[0] if argv else "test"
    letters = list(corpus.load(split))
    if not letters:
        print(f"No letters in the {split} split.")
        return 1
    stale = roles.model().settings.get("train_hash") != roles.files_hash(corpus.files("train"))
    results = []
    for letter in letters:
        people = [check.Person(s.get("name", ""), s.get("title", "")) for s in letter.signatories]
        judgement = check.judge(letter.text, letter.language, people)
        results.append(result(letter, judgement.units, judgement.roles, judgement.codes))
    print(f"The apology check on the {split} split ({len(letters)} letters); model trained on "
          f"{roles.model().settings.get('train_letters')} train letters"
          + (" (STALE: the train files changed since; run make check-train)" if stale else "") + ".\n")
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
