"""Pages section of `make bench`: every other page of the web UI, one request at a time.

The main section times the incident list and pages against their targets; this one sweeps
the rest on the same 100,000-incident file and server, so that a page which reads a whole
table, or one row at a time, shows up here (the inbox and the action items did: 0.8 s and
0.4 s a page, unnoticed until measured). There is no target per page; a page whose p95 is
over SLOW_MS (the dashboard's own target) is marked slow.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SLOW_MS = 200.0

# Endpoints not swept, and why. Every other GET endpoint of the web UI must be in PAGES:
# tests/test_bench_pages.py checks that against the app's URL map.
NOT_SWEPT = {
    "static": "files, not pages",
    "health.healthz": "the main section's ceiling",
    "root.home": "a redirect to the incident list",
    "auth.login": "a redirect once signed in",
    "auth.setup": "a redirect once an admin exists",
    "incidents.index": "the main section",
    "incidents.detail": "the main section (random and busiest incident)",
}

# (endpoint, path with {placeholders}, why this sample). The placeholders are filled from
# SAMPLES, each one SQL statement on the seeded file.
PAGES = [
    ("incidents.create", "/incidents/new", ""),
    ("incidents.edit", "/incidents/{busiest}/edit", "the incident with the most events"),
    ("postmortem.edit", "/incidents/{postmortem}/postmortem", "a published postmortem"),
    ("postmortem.version", "/incidents/{postmortem}/postmortem/versions/1",
     "the first saved text of a published postmortem"),
    ("postmortem.make_playbook", "/incidents/{playbook_ready}/playbook",
     "a closed incident whose postmortem no playbook uses yet"),
    ("postmortem.actions", "/actions", "every open action item, 50 a page"),
    ("postmortem.actions", "/actions?page={last_actions_page}", "the last page of them"),
    ("apology.detail", "/apologies/{letter}", "the letter with the most versions (the lowest id of equals)"),
    ("apology.diff", "/apologies/{letter}/diff", ""),
    ("apology.download", "/apologies/{letter}/export.md", ""),
    ("compensation.approvals", "/approvals", "compensations waiting for approval"),
    ("compensation.delegation", "/reports/delegation", "a year of decisions"),
    ("compensation.policy", "/admin/authority", ""),
    ("dashboard.index", "/dashboard", "also in the dashboard section, here for comparison"),
    ("dashboard.download", "/dashboard.csv?chart=summary", ""),
    ("dashboard.growth", "/admin/growth", ""),
    ("escalation.inbox", "/inbox", "the bench admin's notifications, 50 a page"),
    ("escalation.oncall", "/oncall", ""),
    ("playbooks.index", "/playbooks/", ""),
    ("playbooks.detail", "/playbooks/{playbook}", "the playbook made from the most incidents"),
    ("playbooks.search_page", "/search?q=payment", "over the server's own index (see below)"),
    ("playbooks.similar", "/playbooks/similar?text=payment+page+times+out", ""),
    ("auth.account", "/account", ""),
    ("admin.users_index", "/admin/users", ""),
    ("admin.users_create", "/admin/users/new", ""),
    ("admin.users_edit", "/admin/users/{admin}", ""),
    ("admin.grades_index", "/admin/grades", ""),
    ("admin.grades_edit", "/admin/grades/{grade}", ""),
    ("admin.categories_index", "/admin/categories", ""),
    ("admin.categories_edit", "/admin/categories/{category}", ""),
    ("admin.categories_edit", "/admin/categories/new", ""),
]

SAMPLES = {
    "busiest": "SELECT incident_id FROM timeline_events GROUP BY incident_id "
               "ORDER BY count(*) DESC LIMIT 1",
    "postmortem": "SELECT incident_id FROM postmortems WHERE status = 'published' "
                  "ORDER BY length(body) DESC LIMIT 1",
    "playbook_ready": "SELECT p.incident_id FROM postmortems p JOIN incidents i "
                      "ON i.id = p.incident_id WHERE p.status = 'published' "
                      "AND i.status = 'closed' AND p.incident_id NOT IN "
                      "(SELECT incident_id FROM playbook_sources) ORDER BY p.incident_id LIMIT 1",
    "last_actions_page": "SELECT (count(*) + 49) / 50 FROM action_items WHERE status = 'open'",
    "letter": "SELECT letter_id FROM apology_versions GROUP BY letter_id "
              "ORDER BY count(*) DESC, letter_id LIMIT 1",
    "playbook": "SELECT playbook_id FROM playbook_sources GROUP BY playbook_id "
                "ORDER BY count(*) DESC, playbook_id LIMIT 1",
    "admin": "SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1",
    "grade": "SELECT id FROM grades ORDER BY rank LIMIT 1",
    "category": "SELECT id FROM categories ORDER BY id LIMIT 1",
}


def endpoints(db_path: Path) -> list[dict]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        values = {name: conn.execute(sql).fetchone() for name, sql in SAMPLES.items()}
    missing = sorted(name for name, row in values.items() if not row or row[0] is None)
    if missing:
        raise SystemExit(f"the bench data has no sample for {missing}; reseed (bench/seed.py)")
    ids = {name: row[0] for name, row in values.items()}
    return [{"endpoint": endpoint, "path": path.format(**ids), "why": why}
            for endpoint, path, why in PAGES]


def check(port: int, cookie: str, pages: list[dict]) -> None:
    """Every page answers 200 with a page of the app, signed in (wrk would fail later)."""
    import run as bench

    for page in pages:
        status, headers, body = bench.fetch(port, "GET", page["path"], cookie, timeout=60)
        if status != 200 or 'action="/login' in body:  # the sign-in form: the session failed
            raise SystemExit(f"GET {page['path']} answered {status} "
                             f"{headers.get('location', '')}: {body[:800]}")


def measure(port: int, cookie: str, pages: list[dict], args, quiet, log) -> list[dict]:
    """One request at a time only: the question is how long a user waits for each page."""
    import run as bench

    runs = []
    for page in pages:
        print(f"  {page['path']}", flush=True)
        quiet.wait()
        bench.wrk(port, page["path"], cookie, args.warmup, 1, 1, [], log)
        single = bench.wrk(port, page["path"], cookie, args.single, 1, 1, [], log)
        print(f"    p50 {single['p50_ms']:.1f} ms, p95 {single['p95_ms']:.1f} ms", flush=True)
        runs.append({"path": page["path"], "why": page["why"], "single": single})
    return runs


def render(runs: list[dict], summary: dict, args, server_command: str, invocation: str) -> str:
    rows = []
    for run in sorted(runs, key=lambda r: -r["single"]["p95_ms"]):
        single = run["single"]
        slow = " **slow**" if single["p95_ms"] > SLOW_MS else ""
        rows.append(f"| `{run['path']}` | {single['p50_ms']:.1f} | {single['p95_ms']:.1f}{slow} | "
                    f"{single['p99_ms']:.1f} | {single['rps']:.1f} | {run['why']} |")
    slow = [r["path"] for r in runs if r["single"]["p95_ms"] > SLOW_MS]
    verdict = (f"**Slow pages (p95 over {SLOW_MS:.0f} ms): {', '.join(f'`{p}`' for p in slow)}.**"
               if slow else f"No page is over {SLOW_MS:.0f} ms p95.")
    not_swept = "\n".join(f"- `{endpoint}`: {why}" for endpoint, why in NOT_SWEPT.items())
    return f"""## Every other page

Each page of the web UI that the main and search sections do not time, on the same
{summary['counts']['incidents']:,}-incident file and server, signed in as the bench admin (who sees
every page), one request at a time (`wrk -t1 -c1 -d{args.single}s` after a {args.warmup} s warm-up).
No page has a target of its own; one over {SLOW_MS:.0f} ms p95 (the dashboard's target) is marked
slow. {verdict}

| page | p50 ms | p95 ms | p99 ms | req/s | sample |
|---|---:|---:|---:|---:|---|
{chr(10).join(rows)}

Samples are chosen by SQL on the seeded file (`bench/pages_bench.py`, `SAMPLES`): the
largest of each kind, so a page that grows with its data shows it. The server's search index
starts empty for each run (`bench/out/search-app`), so `/search` and `/playbooks/similar`
here time the page around few hits; the search section measures search itself.

Not swept here:
{not_swept}

Server as in the main section (`{server_command}`). This run: `{invocation}`; this section
alone: `.venv/bin/python bench/run.py --reuse --sections pages`.
"""
