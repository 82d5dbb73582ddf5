"""Where a page's time goes: CPU per request in-process, on the seeded bench file.

Usage: .venv/bin/python bench/page_profile.py [PATH ...] [--db bench/out/bench.db] [--user admin|viewer]
       [--runs 300] [--cprofile] [--sort tottime] [--lines 40]

PATH may be a path or one of the bench's own names: healthz, signed-in, layout, list, all, page,
busy (page = a random incident each run, as the bench's wrk script does). It signs in through
the real login form with Flask's test client, warms each path, then times `--runs` requests and
prints the mean and the quartiles of process CPU time. No server, no network: this is the
figure the bench's throughput divides, without wrk and gunicorn's share. `--cprofile` adds a
profile of the same requests. Not part of `make bench`; a developer's tool for the why.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import re
import sqlite3
import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))

USERS = {"admin": ("bench-admin@example.com", "bench-password-1"),
         "viewer": ("auditor@example.com", "bench-password-1")}


def _named_paths(db: str) -> dict[str, object]:
    con = sqlite3.connect(db)
    try:
        count = con.execute("SELECT max(id) FROM incidents").fetchone()[0]
        busiest = con.execute(
            "SELECT incident_id FROM timeline_events GROUP BY incident_id "
            "ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    finally:
        con.close()
    rng = random.Random(7)
    return {"healthz": "/healthz", "signed-in": "/_bench/signed-in", "layout": "/_bench/layout",
            "list": "/incidents/", "all": "/incidents/?status=all",
            "page": lambda: f"/incidents/{rng.randint(1, count)}", "busy": f"/incidents/{busiest}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=["healthz", "layout", "list", "page"])
    parser.add_argument("--db", default=str(BENCH_DIR / "out" / "bench.db"))
    parser.add_argument("--user", choices=sorted(USERS), default="admin")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--lines", type=int, default=40)
    args = parser.parse_args()
    if not Path(args.db).exists():
        raise SystemExit(f"{args.db} does not exist: seed it with bench/seed.py first")

    os.environ.update(DATABASE_URL=f"sqlite:///{Path(args.db).resolve()}", SECRET_KEY="profile",
                      SEARCH_INDEX_DIR=str(BENCH_DIR / "out" / "search"),
                      LOGIN_RATE_LIMIT="1000 per minute")
    from probe_wsgi import app  # the bench's server: wsgi:app plus its two reference pages

    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = "incidentbook-bench"
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
    email, password = USERS[args.user]
    signed = client.post("/login", data={"csrf_token": token, "email": email, "password": password})
    if signed.status_code != 302:
        raise SystemExit(f"sign-in as {email} answered {signed.status_code}")

    named = _named_paths(args.db)
    for name in args.paths:
        target = named.get(name, name)
        next_path = target if callable(target) else (lambda t=target: t)
        for _ in range(20):
            client.get(next_path())
        status = client.get(next_path()).status_code
        profile = cProfile.Profile() if args.cprofile else None
        times = []
        for _ in range(args.runs):
            path = next_path()
            start = time.process_time()
            if profile:
                profile.enable()
            client.get(path)
            if profile:
                profile.disable()
            times.append((time.process_time() - start) * 1000)
        q = statistics.quantiles(times, n=4)
        print(f"{name:<12} {status}  mean {statistics.fmean(times):6.2f} ms  "
              f"q1 {q[0]:6.2f}  median {q[1]:6.2f}  q3 {q[2]:6.2f}  ({args.runs} runs)")
        if profile:
            pstats.Stats(profile).sort_stats(args.sort).print_stats(args.lines)


if __name__ == "__main__":
    main()
