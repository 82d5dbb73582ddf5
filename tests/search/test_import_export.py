"""`flask playbooks import|export`: JSON Lines, all lines or none, every bad line reported."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from app import search
from app.extensions import db
from playbooks.models import Playbook

DATA = Path(__file__).parent / "relevance_playbooks.jsonl"


def count() -> int:
    return db.session.scalar(select(func.count(Playbook.id)))


def write(tmp_path: Path, lines: list[str], name: str = "playbooks.jsonl") -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


GOOD = {"title": "쿠폰 적용 오류", "summary": "쿠폰이 적용되지 않았다는 문의.", "symptoms": "",
        "steps": "쿠폰 조건을 확인합니다.", "language": "ko", "tags": ["쿠폰"], "grade": "green",
        "category": "billing"}


def test_import_a_valid_file(runner, tmp_path):
    result = runner.invoke(args=["playbooks", "import", str(DATA)])
    assert result.exit_code == 0, result.output
    total = len(DATA.read_text(encoding="utf-8").splitlines())
    assert f"Imported {total} playbook(s)." in result.output
    assert count() == total
    assert search.pending_count() == 0
    assert search.search("배탈").hits[0].title == "음식 섭취 후 복통 신고"


def test_bad_lines_are_each_reported_and_nothing_is_imported(runner, tmp_path):
    lines = [
        json.dumps(GOOD, ensure_ascii=False),                        # 1 fine
        '{"title": "Broken JSON", "language": "en"',                 # 2 invalid JSON
        json.dumps({**GOOD, "colour": "red"}, ensure_ascii=False),   # 3 unknown field
        json.dumps({k: v for k, v in GOOD.items() if k != "title"}, ensure_ascii=False),  # 4
        "",                                                          # 5 blank: skipped
        json.dumps({**GOOD, "language": "ja"}, ensure_ascii=False),  # 6 bad language
        json.dumps({**GOOD, "grade": "Purple"}, ensure_ascii=False), # 7 unknown grade
        json.dumps({**GOOD, "title": "   "}, ensure_ascii=False),    # 8 blank title
        "[1, 2]",                                                    # 9 not an object
        json.dumps({**GOOD, "category": "nope"}, ensure_ascii=False),  # 10 unknown category
        json.dumps({**GOOD, "title": "또 다른 정상 줄"}, ensure_ascii=False),  # 11 fine
    ]
    before = count()
    result = runner.invoke(args=["playbooks", "import", write(tmp_path, lines)])
    assert result.exit_code != 0
    reported = _reported(result.output)
    assert sorted(reported) == [2, 3, 4, 6, 7, 8, 9, 10]
    assert "JSON" in reported[2]
    assert "colour" in reported[3]
    assert "title" in reported[4] and "title" in reported[8]
    assert "language" in reported[6]
    assert "Purple" in reported[7]
    assert "nope" in reported[10]
    assert "8 bad line(s); nothing was imported." in result.output
    assert count() == before
    assert search.pending_count() == 0
    assert search.search("쿠폰").total == 0


def _reported(output: str) -> dict[int, str]:
    found = {}
    for line in output.splitlines():
        if line.startswith("line "):
            number, _sep, message = line.removeprefix("line ").partition(": ")
            found[int(number)] = message
    return found


def test_export_round_trips_through_import(runner, tmp_path):
    assert runner.invoke(args=["playbooks", "import", str(DATA)]).exit_code == 0
    out = tmp_path / "export.jsonl"
    result = runner.invoke(args=["playbooks", "export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    exported = out.read_text(encoding="utf-8").splitlines()
    assert len(exported) == count()
    objects = [json.loads(line) for line in exported]
    assert all(isinstance(o, dict) and o["title"] for o in objects)
    source = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    assert [o["title"] for o in objects] == [s["title"] for s in source]
    assert objects[0]["grade"] == source[0]["grade"]
    assert objects[0]["category"] == source[0]["category"]

    stdout = runner.invoke(args=["playbooks", "export"])
    assert stdout.exit_code == 0
    assert [json.loads(line) for line in stdout.output.splitlines() if line.startswith("{")] == objects

    # Back in: the same content again, then exported identically.
    assert runner.invoke(args=["playbooks", "import", str(out)]).exit_code == 0
    assert count() == 2 * len(source)
    again = tmp_path / "again.jsonl"
    assert runner.invoke(args=["playbooks", "export", "-o", str(again)]).exit_code == 0
    assert again.read_text(encoding="utf-8").splitlines() == exported * 2


def test_import_of_a_missing_file_fails(runner, tmp_path):
    result = runner.invoke(args=["playbooks", "import", str(tmp_path / "missing.jsonl")])
    assert result.exit_code != 0 and count() == 0
