"""Search bench: index 10,000 and 100,000 synthetic playbooks through the app's own code.

Usage:
  .venv/bin/python bench/search_bench.py run [--sizes 10000,100000] [--quick]   # all, JSON out
  .venv/bin/python bench/search_bench.py size N --json OUT                      # one corpus size
  .venv/bin/python bench/search_bench.py memory --db DB --index DIR --json OUT [--preload]
  .venv/bin/python bench/search_bench.py relevance --json OUT

For each size, in a fresh process: a fresh migrated SQLite file gets N published playbooks by
bulk insert (bench/search_corpus.py, deterministic), then `app.search.rebuild()` builds the index
(full-rebuild time, docs/s, size on disk); 200 queries go through `app.search.search()` twice on
the same warm searcher and the second pass is timed; 50 single-record updates (half
`playbooks.services.publish_new`, half `revise`, each committed, then `app.search.apply_pending()`)
are timed; then the same corpus goes into SQLite FTS5 tables (trigram and unicode61) and the same
200 queries, terms OR-ed, are timed there as the reference. On the largest size, gunicorn (2 sync
workers) serves /search over that index under wrk, and each worker's /proc/PID/smaps_rollup is
read. Every loop is bounded; all traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
OUT = BENCH_DIR / "out"
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(PROJECT_ROOT))

import search_corpus  # noqa: E402

# The targets.
TARGETS = {10_000: {"query_p95_ms": 25.0, "rebuild_s": 60.0, "update_p95_ms": 150.0},
           100_000: {"query_p95_ms": 200.0}}
PRIVATE_MB_TARGET = 100.0
N_QUERIES = 200
N_UPDATES = 50
LEAD_EMAIL = "bench-lead@example.com"


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def summary_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 2), "p95_ms": round(pct(ms, 95), 2),
            "p99_ms": round(pct(ms, 99), 2), "max_ms": round(max(ms), 2),
            "mean_ms": round(statistics.fmean(ms), 2)}


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def cpu_others_meter():
    """Share of all CPUs used by processes other than this one (and its children) from now on."""
    import resource

    def busy() -> int:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(values) - values[3] - values[4]

    def ours() -> float:
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    hz = os.sysconf("SC_CLK_TCK")
    t0, b0, o0 = time.monotonic(), busy(), ours()

    def read() -> float:
        elapsed = time.monotonic() - t0
        other = (busy() - b0) - (ours() - o0) * hz
        return max(other, 0) / max(elapsed * hz * (os.cpu_count() or 1), 1e-9)
    return read


# --- one corpus size, in its own process --------------------------------------------------------

def make_app(db_path: Path, index_dir: Path):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": "bench",
                       "SEARCH_INDEX_DIR": str(index_dir)})


def fresh_db(db_path: Path, rows: list[dict]) -> dict:
    """Migrated file, an admin and a lead, and the playbooks by bulk insert. Returns timings."""
    import seed
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app import users
    from app.extensions import db
    from app.models import Category, Grade, Role
    from playbooks.models import Playbook, PlaybookStatus

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    timings = {}
    t = time.perf_counter()
    upgrade()
    admin = users.create_user(email=seed.ADMIN_EMAIL, name="Bench Admin", title="Ops",
                              role=Role.admin, password=seed.ADMIN_PASSWORD)
    lead = users.create_user(email=LEAD_EMAIL, name="김민지", title="CX 팀장", role=Role.lead,
                             password=seed.ADMIN_PASSWORD)
    db.session.commit()
    timings["migrate_users_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    grades = {g.name: g.id for g in db.session.scalars(select(Grade))}
    categories = {c.slug: c.id for c in db.session.scalars(select(Category))}
    now = datetime.now(UTC).replace(tzinfo=None)
    span = timedelta(days=730).total_seconds()
    table_rows = []
    for i, row in enumerate(rows):
        at = now - timedelta(seconds=span * (len(rows) - i) / len(rows))
        table_rows.append({
            **{k: row[k] for k in ("title", "summary", "symptoms", "steps", "authority",
                                   "compensation", "message", "escalation", "prevention",
                                   "language", "tags")},
            "grade_id": grades[row["grade"]], "category_id": categories[row["category"]],
            "status": PlaybookStatus.published, "recurrence_count": 1, "version": 1,
            "created_by_id": lead.id, "created_at": at, "updated_at": at, "published_at": at,
            "published_by_id": lead.id})
    db.session.connection().exec_driver_sql("PRAGMA cache_size=-262144")
    statement = insert(Playbook.__table__)
    for start in range(0, len(table_rows), 5000):
        db.session.execute(statement, table_rows[start:start + 5000])
        db.session.commit()
    db.session.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.session.commit()
    timings["insert_s"] = round(time.perf_counter() - t, 2)
    del admin
    return timings


def playbook_data(row: dict):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Category, Grade
    from playbooks.services import PlaybookData

    return PlaybookData(
        title=row["title"], summary=row["summary"], symptoms=row["symptoms"], steps=row["steps"],
        authority=row["authority"], compensation=row["compensation"], message=row["message"],
        escalation=row["escalation"], prevention=row["prevention"], tags=row["tags"],
        language=row["language"],
        grade=db.session.scalar(select(Grade).where(Grade.name == row["grade"])),
        category=db.session.scalar(select(Category).where(Category.slug == row["category"])))


def time_queries(queries: list[str]) -> dict:
    """Two passes through app.search.search() (as /search calls it: 10 per page, snippets);
    the first warms the searcher and caches, the second is timed. Also the engine alone."""
    from app import ranking, search

    for q in queries:
        search.search(q, per_page=10)
    timed, hits = [], []
    for q in queries:
        t = time.perf_counter()
        results = search.search(q, per_page=10)
        timed.append(time.perf_counter() - t)
        hits.append(results.total)
    engine = []
    for q in queries:
        t = time.perf_counter()
        searcher = search.searcher()
        best, _total = ranking.rank(searcher, search.terms(q), search.SEARCHED_FIELDS, limit=10)
        _ = [searcher.stored_fields(docnum)["key"] for _score, docnum in best]
        engine.append(time.perf_counter() - t)
    return {**summary_ms(timed), "engine_only": summary_ms(engine),
            "queries_without_hits": sum(1 for h in hits if h == 0),
            "median_total_hits": int(statistics.median(hits))}


def time_updates(n: int, seed: int) -> dict:
    """n single-record updates: even ones revise an existing playbook, odd ones publish a new
    one; each commits, then apply_pending() writes the index. Timed whole and index part."""
    import random

    from sqlalchemy import func, select

    from app import search
    from app.extensions import db
    from app.users import find_by_email
    from playbooks import services
    from playbooks.models import Playbook

    rng = random.Random(seed)
    lead = find_by_email(LEAD_EMAIL)
    top = db.session.scalar(select(func.max(Playbook.id)))
    new_rows = search_corpus.corpus(n, seed=seed)
    whole, index_part, merges = [], [], []
    for i in range(n):
        if i % 2 == 0:
            playbook = services.get(rng.randint(1, top))
            row = new_rows[i]
            data = playbook_data({**row, "title": playbook.title})
            t = time.perf_counter()
            services.revise(lead, playbook, data, note="bench revision")
        else:
            data = playbook_data(new_rows[i])
            t = time.perf_counter()
            services.publish_new(lead, data, note="bench")
        db.session.commit()
        t_commit = time.perf_counter()
        applied = search.apply_pending()
        t_end = time.perf_counter()
        if applied != 1:
            raise SystemExit(f"update {i}: apply_pending applied {applied} rows, expected 1")
        whole.append(t_end - t)
        index_part.append(t_end - t_commit)
        # What the app does once the response has gone out; nobody waits for it, but it is
        # work the worker does, so it is timed and reported too.
        t = time.perf_counter()
        if search.merge_segments():
            merges.append(time.perf_counter() - t)
    return {**summary_ms(whole), "index_only": summary_ms(index_part),
            "merges_after_response": summary_ms(merges) if merges else {"n": 0}}


def fts5(rows: list[dict], queries: list[str], path: Path) -> dict:
    """The same corpus in FTS5 (one file per tokenizer), the same queries, terms OR-ed."""
    from playbooks.models import TEXT_FIELDS

    docs = [(r["title"], "\n\n".join(r[f] for f in TEXT_FIELDS if r[f])) for r in rows]
    out = {}
    for tokenizer in ("trigram", "unicode61"):
        file = path.with_name(f"{path.stem}-{tokenizer}.db")
        file.unlink(missing_ok=True)
        con = sqlite3.connect(file)
        try:
            t = time.perf_counter()
            con.execute(f"CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='{tokenizer}')")
            con.executemany("INSERT INTO docs (title, body) VALUES (?, ?)", docs)
            con.commit()
            build = time.perf_counter() - t
            sql = ("SELECT rowid, title, snippet(docs, 1, '<mark>', '</mark>', ' … ', 24) "
                   "FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 2.5, 1.0) LIMIT 10")
            matches = [" OR ".join('"' + w.replace('"', '""') + '"' for w in q.split())
                       for q in queries]
            for m in matches:
                con.execute(sql, (m,)).fetchall()
            timed, empty = [], 0
            for m in matches:
                t = time.perf_counter()
                found = con.execute(sql, (m,)).fetchall()
                timed.append(time.perf_counter() - t)
                empty += not found
        finally:
            con.close()
        out[tokenizer] = {"build_s": round(build, 2), "docs_per_s": round(len(docs) / build),
                          "size_mb": round(file.stat().st_size / 2**20, 1),
                          "queries_without_hits": empty, **summary_ms(timed)}
        file.unlink(missing_ok=True)
    return out


def measure_size(n: int, keep: bool) -> dict:
    from app import search
    from app.extensions import db

    others = cpu_others_meter()
    db_path, index_dir = OUT / f"search-{n}.db", OUT / f"search-{n}-index"
    shutil.rmtree(index_dir, ignore_errors=True)
    t = time.perf_counter()
    rows = search_corpus.corpus(n)
    queries = search_corpus.queries(N_QUERIES)
    sizes = sorted(sum(len(r[k].encode()) for k in ("title", "summary", "symptoms", "steps",
                                                    "authority", "compensation", "message",
                                                    "escalation", "prevention")) for r in rows)
    result = {"docs": n, "generate_s": round(time.perf_counter() - t, 2),
              "doc_bytes": {"p5": sizes[len(sizes) // 20], "median": sizes[len(sizes) // 2],
                            "p95": sizes[len(sizes) * 19 // 20]},
              "korean_share": round(sum(r["language"] == "ko" for r in rows) / n, 3)}
    app = make_app(db_path, index_dir)
    with app.app_context():
        result["db"] = fresh_db(db_path, rows)
        print(f"  [{n:,}] corpus in the database ({result['db']['insert_s']} s); rebuilding the index",
              flush=True)
        t = time.perf_counter()
        count = search.rebuild()
        rebuild_s = time.perf_counter() - t
        current = (index_dir / "current").resolve()
        segments = len(search.searcher().reader().leaf_readers()) if count else 0
        result["rebuild"] = {"docs": count, "seconds": round(rebuild_s, 1),
                             "docs_per_s": round(count / rebuild_s), "segments": segments,
                             "index_mb": round(dir_bytes(current) / 2**20, 1),
                             "index_files": sum(1 for f in current.iterdir() if f.is_file())}
        print(f"  [{n:,}] rebuild {rebuild_s:.1f} s ({count / rebuild_s:.0f} docs/s), "
              f"index {result['rebuild']['index_mb']} MB; timing {len(queries)} queries", flush=True)
        result["queries"] = time_queries(queries)
        print(f"  [{n:,}] query p50 {result['queries']['p50_ms']} ms, p95 "
              f"{result['queries']['p95_ms']} ms; timing {N_UPDATES} updates", flush=True)
        result["updates"] = time_updates(N_UPDATES, seed=n)
        print(f"  [{n:,}] update p50 {result['updates']['p50_ms']} ms, p95 "
              f"{result['updates']['p95_ms']} ms; FTS5 reference", flush=True)
        result["segments_after_updates"] = len(search.searcher().reader().leaf_readers())
        db.session.remove()
        db.engine.dispose()
    result["fts5"] = fts5(rows, queries, OUT / f"search-{n}-fts")
    print(f"  [{n:,}] FTS5 trigram p95 {result['fts5']['trigram']['p95_ms']} ms, unicode61 p95 "
          f"{result['fts5']['unicode61']['p95_ms']} ms", flush=True)
    result["db_mb"] = round(db_path.stat().st_size / 2**20, 1)
    result["others_cpu"] = round(others(), 3)
    if not keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(index_dir, ignore_errors=True)
    return result


# --- relevance (the test's set) -----------------------------------------------------------------

def relevance() -> dict:
    from flask_migrate import upgrade

    from app import search
    from app.extensions import db
    from playbooks import services
    from tests.search import test_relevance as rel

    db_path, index_dir = OUT / "search-relevance.db", OUT / "search-relevance-index"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    app = make_app(db_path, index_dir)
    with app.app_context():
        upgrade()
        services.import_lines(rel._lines("relevance_playbooks.jsonl"))
        db.session.commit()
        search.apply_pending()
        ours = {q["query"]: [h.title for h in search.search(q["query"], types=["playbook"],
                                                             per_page=rel.K).hits]
                for q in rel.QUERIES}
        figures = {"playbooks": len(rel.PLAYBOOKS), "queries": len(rel.QUERIES), "k": rel.K,
                   "ours": round(rel.recall_at_k(ours), 3),
                   "fts5_trigram": round(rel.recall_at_k(rel.fts5_ranked("trigram")), 3),
                   "fts5_unicode61": round(rel.recall_at_k(rel.fts5_ranked("unicode61")), 3)}
        db.session.remove()
        db.engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    return figures


# --- memory per gunicorn worker -----------------------------------------------------------------

def smaps(pid: int) -> dict:
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        fields[name.strip()] = int(rest.split()[0]) / 1024  # kB -> MB
    return {"rss_mb": round(fields["Rss"], 1), "pss_mb": round(fields["Pss"], 1),
            "shared_mb": round(fields["Shared_Clean"] + fields["Shared_Dirty"], 1),
            "private_mb": round(fields["Private_Clean"] + fields["Private_Dirty"], 1),
            "private_clean_mb": round(fields["Private_Clean"], 1),
            "private_dirty_mb": round(fields["Private_Dirty"], 1),
            "anonymous_mb": round(fields["Anonymous"], 1)}


def memory(db_path: Path, index_dir: Path, preload: bool, seconds: int) -> dict:
    import run as bench  # the helpers of bench/run.py (gunicorn, sign-in, wrk)

    queries = search_corpus.queries(N_QUERIES)
    paths_file = OUT / "search-paths.txt"
    paths_file.write_text("".join(f"/search?q={quote(q)}\n" for q in queries))
    port = bench.free_port()
    env = {"SEARCH_INDEX_DIR": str(index_dir)}
    server, shown = bench.start_gunicorn(db_path, port, 2, OUT / "gunicorn-search.log", env=env,
                                         extra=["--preload"] if preload else [])
    try:
        bench.wait_until_up(server, port, seconds=60)
        cookie = bench.sign_in(port, bench.seeding_admin()[0], bench.seeding_admin()[1])
        workers = [p for p in bench._family(server.pid) if p != server.pid]
        before = {pid: smaps(pid) for pid in workers}  # signed in, nothing searched yet
        status, _, body = bench.fetch(port, "GET", "/search?q=" + quote(queries[0]), cookie, timeout=60)
        if status != 200 or "/playbooks/" not in body:
            raise SystemExit(f"GET /search answered {status} without playbook hits")
        with (OUT / "wrk-search.log").open("a") as log:
            bench.wrk(port, "/", cookie, 5, 2, 4, ["paths", str(paths_file)], log)
            meter = bench.CpuMeter(server.pid)
            meter.start()
            load = bench.wrk(port, "/", cookie, seconds, 2, 4, ["paths", str(paths_file)], log)
            load["cpu_ms"] = meter.server_ms() / load["requests"]
            load["others"] = meter.others()
        after = {pid: smaps(pid) for pid in workers}
        master = smaps(server.pid)
    finally:
        bench.stop(server)
    return {"preload": preload, "server_command": shown, "wrk_seconds": seconds,
            "load": load, "master": master,
            "workers": [{"pid": pid, "before": before[pid], "after": after[pid]} for pid in workers]}


# --- all of it -----------------------------------------------------------------------------------

def _child(args: list[str], timeout: int) -> dict:
    out = OUT / f"search-{args[0]}-{args[1] if len(args) > 1 and args[1].isdigit() else 'x'}.json"
    out.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__)), *args, "--json", str(out)]
    print("  $", " ".join(command[1:]).replace(str(PROJECT_ROOT) + "/", ""), flush=True)
    subprocess.run(command, check=True, timeout=timeout, cwd=PROJECT_ROOT)
    return json.loads(out.read_text())


def run(sizes: list[int], memory_seconds: int = 30, preload_too: bool = True) -> dict:
    started = time.perf_counter()
    results = {"started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "sizes": {},
               "targets": {str(k): v for k, v in TARGETS.items()},
               "private_mb_target": PRIVATE_MB_TARGET}
    largest = max(sizes)
    for n in sizes:
        extra = ["--keep"] if n == largest else []
        results["sizes"][str(n)] = _child(["size", str(n), *extra], timeout=2400)
    db_path, index_dir = OUT / f"search-{largest}.db", OUT / f"search-{largest}-index"
    results["memory"] = [_child(["memory", "--db", str(db_path), "--index", str(index_dir),
                                 "--seconds", str(memory_seconds)], timeout=600)]
    if preload_too:
        results["memory"].append(_child(["memory", "--db", str(db_path), "--index", str(index_dir),
                                         "--seconds", str(memory_seconds), "--preload"], timeout=600))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    results["relevance"] = _child(["relevance"], timeout=600)
    results["total_s"] = round(time.perf_counter() - started, 1)
    (OUT / "search.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return results


# --- the RESULTS.md section ------------------------------------------------------------------------

def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def verdicts(results: dict) -> list[tuple[str, str, str, bool]]:
    rows = []
    for n, t in TARGETS.items():
        r = results["sizes"].get(str(n))
        if r is None:
            continue
        if "query_p95_ms" in t:
            rows.append((f"{n:,}: query p95", f"≤ {t['query_p95_ms']:g} ms",
                         f"{r['queries']['p95_ms']:.1f} ms", r["queries"]["p95_ms"] <= t["query_p95_ms"]))
        if "rebuild_s" in t:
            rows.append((f"{n:,}: full rebuild", f"≤ {t['rebuild_s']:g} s",
                         f"{r['rebuild']['seconds']:.1f} s", r["rebuild"]["seconds"] <= t["rebuild_s"]))
        if "update_p95_ms" in t:
            rows.append((f"{n:,}: single-record update p95", f"≤ {t['update_p95_ms']:g} ms",
                         f"{r['updates']['p95_ms']:.1f} ms", r["updates"]["p95_ms"] <= t["update_p95_ms"]))
    for m in results.get("memory", []):
        worst = max(w["after"]["private_mb"] for w in m["workers"])
        label = "with `--preload`" if m["preload"] else "without `--preload` (as `make run`)"
        rows.append((f"{max(int(s) for s in results['sizes']):,}: private memory per worker, {label}",
                     f"≤ {PRIVATE_MB_TARGET:g} MB", f"{worst:.1f} MB", worst <= PRIVATE_MB_TARGET))
    return rows


def _merges(m: dict) -> str:
    return f"{m['n']}, {m['p50_ms']} / {m['max_ms']} ms" if m.get("n") else "0"


def render(results: dict, command: str) -> str:
    sizes = results["sizes"]
    cols = list(sizes)
    head = "| | " + " | ".join(f"{int(n):,} playbooks" for n in cols) + " |\n|---|" + "---:|" * len(cols)

    def row(label, fn):
        return f"| {label} | " + " | ".join(fn(sizes[n]) for n in cols) + " |"

    main_rows = [
        row("playbook text, bytes (p5 / median / p95)",
            lambda r: f"{r['doc_bytes']['p5']:,} / {r['doc_bytes']['median']:,} / {r['doc_bytes']['p95']:,}"),
        row("written in Korean (the rest in English; both mix)", lambda r: f"{r['korean_share']:.0%}"),
        row("bulk insert into SQLite", lambda r: f"{r['db']['insert_s']} s"),
        row("**full rebuild** (`app.search.rebuild()`)", lambda r: f"**{r['rebuild']['seconds']} s**"),
        row("indexing rate", lambda r: f"{r['rebuild']['docs_per_s']:,} docs/s"),
        row("index size on disk (files, segments)",
            lambda r: f"{r['rebuild']['index_mb']} MB ({r['rebuild']['index_files']} files, "
                      f"{r['rebuild']['segments']} segment{'s' if r['rebuild']['segments'] != 1 else ''})"),
        row("**query p50 / p95** (`search()`, 10 per page, snippets)",
            lambda r: f"{r['queries']['p50_ms']} / **{r['queries']['p95_ms']}** ms"),
        row("query p99 / max", lambda r: f"{r['queries']['p99_ms']} / {r['queries']['max_ms']} ms"),
        row("of which the engine (query + 10 stored docs, no snippets) p50 / p95",
            lambda r: f"{r['queries']['engine_only']['p50_ms']} / {r['queries']['engine_only']['p95_ms']} ms"),
        row("queries with no hit; median hits per query",
            lambda r: f"{r['queries']['queries_without_hits']}; {r['queries']['median_total_hits']:,}"),
        row("**single-record update p50 / p95** (service + commit + `apply_pending()`)",
            lambda r: f"{r['updates']['p50_ms']} / **{r['updates']['p95_ms']}** ms"),
        row("of which `apply_pending()` p50 / p95",
            lambda r: f"{r['updates']['index_only']['p50_ms']} / {r['updates']['index_only']['p95_ms']} ms"),
        row("segment merges after those responses: count, p50 / max (nobody waits; see below)",
            lambda r: _merges(r["updates"].get("merges_after_response", {"n": 0}))),
        row("segments after the updates", lambda r: str(r["segments_after_updates"])),
        row("CPU used by other processes during this size", lambda r: f"{r['others_cpu']:.0%}"),
    ]
    fts_rows = []
    for tok in ("trigram", "unicode61"):
        fts_rows += [
            row(f"FTS5 {tok}: build (docs/s), size",
                lambda r, t=tok: f"{r['fts5'][t]['build_s']} s ({r['fts5'][t]['docs_per_s']:,}/s), "
                                 f"{r['fts5'][t]['size_mb']} MB"),
            row(f"FTS5 {tok}: query p50 / p95",
                lambda r, t=tok: f"{r['fts5'][t]['p50_ms']} / {r['fts5'][t]['p95_ms']} ms"),
            row(f"FTS5 {tok}: queries with no hit",
                lambda r, t=tok: str(r["fts5"][t]["queries_without_hits"])),
        ]
    verdict_rows = "\n".join(f"| {what} | {target} | {got} | {_yes(ok)} |"
                             for what, target, got, ok in verdicts(results))
    mem_rows = []
    for m in results.get("memory", []):
        for i, w in enumerate(m["workers"], start=1):
            a, b = w["after"], w["before"]
            mem_rows.append(
                f"| {'yes' if m['preload'] else 'no'} | worker {i} | {b['private_mb']} | "
                f"{a['private_mb']} ({a['private_dirty_mb']} dirty + {a['private_clean_mb']} clean) | "
                f"{a['shared_mb']} | {a['rss_mb']} | {a['pss_mb']} | {a['anonymous_mb']} |")
        mem_rows.append(f"| {'yes' if m['preload'] else 'no'} | master | | {m['master']['private_mb']} | "
                        f"{m['master']['shared_mb']} | {m['master']['rss_mb']} | {m['master']['pss_mb']} | "
                        f"{m['master']['anonymous_mb']} |")
    load_rows = [f"| {'yes' if m['preload'] else 'no'} | {m['load']['requests']:,} | "
                 f"{m['load']['rps']:.1f} | {m['load']['p50_ms']:.0f} | {m['load']['p95_ms']:.0f} | "
                 f"{m['load']['p99_ms']:.0f} | {m['load']['cpu_ms']:.1f} | {m['load']['others']:.0%} |"
                 for m in results.get("memory", [])]
    rel = results.get("relevance")
    largest = max(int(n) for n in sizes)
    others = max(r["others_cpu"] for r in sizes.values())
    text = f"""## Search

Written by the search section of `make bench` (`bench/search_bench.py`), started {results['started']},
{results['total_s']:.0f} s in all. The issue's targets, on a synthetic corpus of published playbooks
(`bench/search_corpus.py`: 1-2 KB of text each, CX incident write-ups in Korean with English names
and terms, or English with Korean ones; per-category templates filled with products, regions, apps,
payment methods, amounts, lots and order numbers; random seed 20261122), indexed through the app's
own code (`app.search.rebuild()`, i.e. `playbooks.services` as the provider, redaction and Markdown
stripping included):

| target | limit | measured | met |
|---|---|---:|---|
{verdict_rows}

{head}
{chr(10).join(main_rows)}
{chr(10).join(fts_rows)}

How each figure is taken:

- *Full rebuild*: wall time of `app.search.rebuild()` on a fresh database with N published
  playbooks (inserted as rows in bulk, 5,000 per `executemany`): read every playbook, build a new
  index directory, commit, swap the `current` symlink. *Index size*: the bytes of the new directory.
- *Queries*: {N_QUERIES} distinct queries of 1-3 words (40% Korean, 30% English, 30% mixed; other
  inflections than the documents: 배송 지연, 환불받지 못함, refunded, deploys), through
  `app.search.search(q, per_page=10)` exactly as `/search` calls it (OR of the terms, first page,
  highlighted snippets, exact total), in one process on one warm searcher: a first pass is
  discarded, the second timed. Ranking is Whoosh's BM25F computed over whole posting lists with
  numpy (`app/ranking.py`), not Whoosh's matcher walk. *Engine* re-times the same queries as
  `app.ranking.rank()` plus reading the 10 keys, to show what the snippets cost.
- *Single-record update*: {N_UPDATES} in a row, alternating `playbooks.services.revise()` of a random
  existing playbook and `publish_new()` of a new one, each followed by `db.session.commit()` and
  `app.search.apply_pending()` (one Whoosh writer, one commit, as after a request). The update
  writes a new segment and merges nothing: segments are merged by size tier (six of about the same
  size become one) after the response has been sent (`response.call_on_close`), so no request
  waits for a merge. The bench runs `app.search.merge_segments()` after each update, untimed in the
  update figure, and reports those merges on their own row.
- *FTS5 reference*: the same titles and bodies (the playbook's text fields joined, as indexed) in
  an SQLite {sqlite3.sqlite_version} FTS5 table per tokenizer, the same {N_QUERIES} queries with their words
  OR-ed (each quoted), `ORDER BY bm25(docs, 2.5, 1.0) LIMIT 10` with a `snippet()`, second pass
  timed. Trigram cannot match a 1-2 syllable Korean word (most Korean query words), hence its
  empty results.

### Memory per gunicorn worker ({largest:,}-playbook index)

gunicorn, 2 sync workers, on the {largest:,}-playbook database and index, signed in, then `wrk -t2 -c4`
over the {N_QUERIES} queries as `/search?q=…` (5 s warm-up, then {results['memory'][0]['wrk_seconds'] if results.get('memory') else 0} s);
`/proc/PID/smaps_rollup` of each process before the first search and after the load. *Private* is
Private_Clean + Private_Dirty: memory no other process shares (the target counts it);
*anonymous* is the heap. The index files are read through the OS page cache, not mapped or
copied into the workers (`app/search.py`, `_Storage`), so they appear in none of these
columns; only files up to 1 MB (the field lengths) are held in each worker's memory.

| `--preload` | process | private MB before searching | private MB after the load | shared MB | RSS MB | PSS MB | anonymous MB |
|---|---|---:|---:|---:|---:|---:|---:|
{chr(10).join(mem_rows)}

Under that load (every request a 200, checked):

| `--preload` | requests | req/s | p50 ms | p95 ms | p99 ms | server CPU ms per request | CPU used by others |
|---|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(load_rows)}
"""
    if rel:
        text += f"""
### Relevance

`tests/search/relevance_*.jsonl` ({rel['playbooks']} playbooks, {rel['queries']} queries in other inflections than the
documents), scored with `tests/search/test_relevance.py`'s own `recall_at_k` and `fts5_ranked`:
recall@{rel['k']} **ours {rel['ours']:.3f}**, FTS5 trigram {rel['fts5_trigram']:.3f}, FTS5 unicode61
{rel['fts5_unicode61']:.3f}.
"""
    caution = ""
    if others > 0.10:
        caution = (f"\n**Caution:** other processes used up to {others:.0%} of the CPUs while a size was "
                   "measured (row *CPU used by other processes*): on this shared 2-CPU machine, "
                   "wall-clock figures are inflated by about that much or more.\n")
    text += caution + f"""
Reproduce:

```sh
{command}
.venv/bin/python bench/run.py --sections search --search-sizes 10000   # 10k only, about 3 min
.venv/bin/python bench/search_bench.py size 10000 --json /tmp/10k.json   # one size, no RESULTS.md
```
"""
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("size")
    p.add_argument("n", type=int)
    p.add_argument("--json", type=Path, required=True)
    p.add_argument("--keep", action="store_true", help="keep the database and index (for memory)")
    p = sub.add_parser("memory")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--json", type=Path, required=True)
    p.add_argument("--seconds", type=int, default=30)
    p.add_argument("--preload", action="store_true")
    p = sub.add_parser("relevance")
    p.add_argument("--json", type=Path, required=True)
    p = sub.add_parser("run")
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--memory-seconds", type=int, default=30)
    p.add_argument("--no-preload-run", action="store_true")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.what == "size":
        result = measure_size(args.n, args.keep)
    elif args.what == "memory":
        result = memory(args.db.resolve(), args.index.resolve(), args.preload, args.seconds)
    elif args.what == "relevance":
        result = relevance()
    else:
        result = run([int(s) for s in args.sizes.split(",")], args.memory_seconds,
                     not args.no_preload_run)
        print(render(result, "bench/search_bench.py run"))
        return 0
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
