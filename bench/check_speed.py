"""How fast the apology check judges a letter while its writer types: the cold load (Kiwi and
the role model, once per process) and p50/p95/max of `check()` on letters of about 2,000
characters in Korean and English, seen for the first time and while being typed (one line
changed since the last check). `python bench/check_speed.py [--letters N] [--repeat R]`.

The letters are made from the train split's letters (never the test split): each is a letter
followed by the next ones of the same language until it reaches about 2,000 characters, cut at
a line break, so it has the shape of a long e-mail or public notice.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from incidents.apology import corpus  # noqa: E402

TARGET_CHARS = 2_000


def letters_of(language: str, count: int) -> list[str]:
    texts = [letter.text for letter in corpus.load("train") if letter.language == language]
    made = []
    for i in range(min(count, len(texts))):
        text, j = texts[i], i + 1
        while len(text) < TARGET_CHARS and j < i + len(texts):
            text += "\n" + texts[j % len(texts)]
            j += 1
        cut = text.rfind("\n", 0, TARGET_CHARS)
        made.append(text[:cut if cut > TARGET_CHARS // 2 else TARGET_CHARS])
    return made


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(letters: int = 40, repeat: int = 3) -> dict:
    """Cold load in ms and, per case and language, the timings of `check()` in ms."""
    started = time.perf_counter()
    from incidents.apology import analysis, features, roles
    from incidents.apology import check as apology_check
    from incidents.apology.analysis import kiwi

    kiwi()
    roles.model()
    result: dict = {"cold_ms": (time.perf_counter() - started) * 1000, "rows": []}
    # "first sight": a letter none of whose lines was read before (every cache emptied);
    # "typing": the same letter again with one line changed, as the editor checks it live.
    for case in ("first sight", "typing"):
        for language in ("ko", "en"):
            texts = letters_of(language, letters)
            timings = []
            for text in texts:
                lines = text.split("\n")
                for run in range(repeat):
                    if case == "first sight":
                        # Nothing of it seen before: Kiwi's lines, units' features, judgements.
                        analysis._LINE_CACHE.clear()
                        features._own.cache_clear()
                        apology_check._judged.cache_clear()
                        letter = text
                    else:
                        apology_check.check(text, language)
                        edited = list(lines)
                        edited[run % len(lines)] += " 네" if language == "ko" else " ok"
                        letter = "\n".join(edited)
                    begin = time.perf_counter()
                    apology_check.check(letter, language)
                    timings.append((time.perf_counter() - begin) * 1000)
            result["rows"].append({"case": case, "language": language, "letters": len(texts),
                                   "chars": statistics.mean(len(t) for t in texts),
                                   "p50": statistics.median(timings),
                                   "p95": percentile(timings, 0.95), "max": max(timings)})
    return result


def table(result: dict) -> list[str]:
    out = ["| case | language | letters | chars | p50 ms | p95 ms | max ms | p95 < 50 ms |",
           "|---|---|---:|---:|---:|---:|---:|---|"]
    for r in result["rows"]:
        out.append(f"| {r['case']} | {r['language']} | {r['letters']} | {r['chars']:.0f} | "
                   f"{r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | "
                   f"{'yes' if r['p95'] < 50 else 'no'} |")
    return out


def render(result: dict, evaluation: str, invocation: str) -> str:
    """The *apology* section of bench/RESULTS.md: speed, then make check-eval's printout."""
    return "\n".join([
        "## Apology check", "",
        f"`{invocation}` (bench/check_speed.py, then incidents/apology/evaluate.py). Issue 17's "
        "targets: p95 under 50 ms for a 2,000-character letter; on the untouched test split every "
        "code with precision and recall >= 0.90, >= 90% of letters exactly right, <= 1 in 20 good "
        "letters flagged with an error.", "",
        f"Cold load (import, Kiwi, role model), once per process: {result['cold_ms']:.0f} ms.", "",
        *table(result), "",
        "```", evaluation.rstrip(), "```", ""])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/check_speed.py")
    parser.add_argument("--letters", type=int, default=40, help="letters per language")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per letter")
    args = parser.parse_args(argv)
    result = measure(args.letters, args.repeat)
    print(f"cold load (import, Kiwi, role model): {result['cold_ms']:.0f} ms")
    print("\n".join(table(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
