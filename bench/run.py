"""`make bench`: seed, serve with gunicorn, load with wrk on 127.0.0.1, write bench/RESULTS.md.

Usage: .venv/bin/python bench/run.py [--reuse] [--db PATH] [--duration S] [--warmup S] ...
       [--sections main,dashboard,pages,search] [--quick] [--search-sizes 10000,100000]
(see --help). Four sections: *main* (incident list and pages), *dashboard* (bench/dashboard_bench.py,
the dashboard and its API on the same seeded file and server), *pages* (bench/pages_bench.py, every
other page on that server, one request at a time) and *search* (bench/search_bench.py, its own
corpora and processes). RESULTS.md keeps the sections a run did not measure as they were.
Every run is bounded: each wrk run lasts a fixed time, waiting for a quiet machine has a fixed
budget, gunicorn is stopped in a `finally`, and all traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
OUT = BENCH_DIR / "out"
RESULTS = BENCH_DIR / "RESULTS.md"
HOST = "127.0.0.1"
USER_AGENT = "incidentbook-bench"  # Flask-Login ties the session to it, so wrk sends the same

P95_TARGET_MS = 50.0
RATIO_TARGET = 0.25
QUIET_BUSY = 0.10  # the machine counts as quiet when other processes use under 10% of its CPU

sys.path.insert(0, str(BENCH_DIR))  # bench/ is not a package; seed.py sits next to this file


# --- HTTP (stdlib only) -----------------------------------------------------------------------

def fetch(port: int, method: str, path: str, cookie: str = "", form: dict | None = None,
          timeout: float = 30) -> tuple[int, dict, str]:
    headers = {"User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return (response.status, {k.lower(): v for k, v in response.getheaders()},
                response.read().decode("utf-8", "replace"))
    finally:
        conn.close()


def _session_cookie(headers: dict) -> str:
    cookie = SimpleCookie(headers.get("set-cookie", ""))
    if "session" not in cookie:
        raise SystemExit(f"no session cookie in the response: {headers}")
    return f"session={cookie['session'].value}"


def sign_in(port: int, email: str, password: str) -> str:
    """The real login form: GET for the CSRF token and cookie, then POST the credentials."""
    status, headers, page = fetch(port, "GET", "/login")
    if status != 200:
        raise SystemExit(f"GET /login answered {status}")
    match = (re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
             or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page))
    if not match:
        raise SystemExit("no csrf_token input in the login form")
    status, headers, _ = fetch(port, "POST", "/login", _session_cookie(headers),
                               {"csrf_token": match.group(1), "email": email, "password": password})
    if status != 302:
        raise SystemExit(f"POST /login answered {status}, expected a 302 redirect")
    return _session_cookie(headers)


# --- gunicorn ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_gunicorn(db_path: Path, port: int, workers: int, log: Path, env: dict | None = None,
                   extra: list[str] | None = None, app: str = "wsgi:app"
                   ) -> tuple[subprocess.Popen, str]:
    # The search index beside the bench files, never the developer's instance/search.
    env = {"SEARCH_INDEX_DIR": str(OUT / "search-app"), **(env or {})}
    full_env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": "bench-secret",
                **env}
    command = [str(PROJECT_ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(workers),
               "--bind", f"{HOST}:{port}", "--log-level", "warning", *(extra or []), app]
    shown = (f"DATABASE_URL=sqlite:///{db_path} SECRET_KEY=… "
             + "".join(f"{k}={v} " for k, v in env.items()) + " ".join(command))
    print("$", shown, flush=True)
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=full_env, stdout=out,
                                  stderr=subprocess.STDOUT)
    return server, shown


def wait_until_up(server: subprocess.Popen, port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see bench/out/gunicorn.log")
        try:
            if fetch(port, "GET", "/healthz", timeout=2)[0] == 200:
                return
        except OSError:
            pass  # not listening yet: poll again
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer /healthz within {seconds:.0f} s")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


# --- the machine ------------------------------------------------------------------------------

def _busy_ticks() -> int:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4]  # all but idle and iowait


def _process_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a worker that just exited
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def _family(root: int) -> list[int]:
    """The gunicorn master and its workers."""
    pids = [root]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == root:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


class CpuMeter:
    """CPU used by other processes (not gunicorn, not wrk) while a measurement runs.

    This machine may be shared: a figure taken while something else was busy understates the
    app, so runs are repeated when others took more than QUIET_BUSY of the CPUs.
    """

    def __init__(self, server_pid: int):
        self.server_pid = server_pid

    def start(self) -> None:
        self.pids = _family(self.server_pid)
        self.t0, self.busy0 = time.monotonic(), _busy_ticks()
        self.ours0 = _process_ticks(self.pids)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it has been waited for
        self.wrk0 = usage.ru_utime + usage.ru_stime

    def server_ms(self) -> float:
        """CPU milliseconds gunicorn has used since start(): divided by the requests served,
        what a request costs the server, whoever else shares the machine."""
        return (_process_ticks(self.pids) - self.ours0) * 1000 / os.sysconf("SC_CLK_TCK")

    def others(self) -> float:
        hz = os.sysconf("SC_CLK_TCK")
        elapsed = time.monotonic() - self.t0
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk_ticks = (usage.ru_utime + usage.ru_stime - self.wrk0) * hz
        ours = _process_ticks(self.pids) - self.ours0 + wrk_ticks
        other = (_busy_ticks() - self.busy0) - ours
        return max(other, 0) / (elapsed * hz * (os.cpu_count() or 1))


def cpu_busy(seconds: float = 1.0) -> float:
    """Share of all CPUs busy over `seconds` (our server is idle then: other processes)."""
    busy0, t0 = _busy_ticks(), time.monotonic()
    time.sleep(seconds)
    hz = os.sysconf("SC_CLK_TCK")
    return (_busy_ticks() - busy0) / ((time.monotonic() - t0) * hz * (os.cpu_count() or 1))


class QuietWaiter:
    """Waits, within a budget for the whole run, for other processes to leave the CPUs alone."""

    def __init__(self, budget: float):
        self.left = budget

    def wait(self) -> None:
        busy = cpu_busy()
        while busy > QUIET_BUSY and self.left > 0:
            print(f"    machine busy ({busy:.0%} of the CPUs used by other processes); waiting",
                  flush=True)
            time.sleep(min(2.0, self.left))
            self.left -= 3
            busy = cpu_busy()


def machine() -> dict:
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    model = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split(" [")[0]
    gunicorn = subprocess.run([str(PROJECT_ROOT / ".venv/bin/gunicorn"), "--version"],
                              capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "memory_gib": round(mem_kb / 2**20, 1),
            "cpu": model.group(1).strip() if model else platform.processor() or "unknown",
            "kernel": platform.release(), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "gunicorn": gunicorn, "wrk": wrk_version.strip()}


# --- wrk --------------------------------------------------------------------------------------

def wrk(port: int, path: str, cookie: str, seconds: int, threads: int, connections: int,
        script_args: list[str], log, headers: list[str] | None = None) -> dict:
    sent = [f"User-Agent: {USER_AGENT}", *([f"Cookie: {cookie}"] if cookie else []), *(headers or [])]
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
               "--timeout", "5s", *(x for h in sent for x in ("-H", h)),
               "-s", str(BENCH_DIR / "bench.lua"), f"http://{HOST}:{port}{path}"]
    if script_args:
        command += ["--", *script_args]
    shown = " ".join(f"'{c}'" if " " in c else c for c in command)
    if cookie:
        shown = shown.replace(cookie, "session=…")
    shown = re.sub(r"Bearer [^' ]+", "Bearer …", shown)
    print("    $", shown, flush=True)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    log.write(f"$ {shown}\n{done.stdout}{done.stderr}\n")
    log.flush()
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    result = json.loads(line.removeprefix("BENCH_RESULT "))
    if result["non200"] or result["socket_errors"] or result["wrk_status_errors"] or \
            not result["requests"]:
        raise SystemExit(f"{path}: {result['requests']} requests, {result['non200']} not 200 "
                         f"(first: {result['first_non200']}), {result['socket_errors']} socket "
                         "errors: the figures would be meaningless. See bench/out/wrk.log")
    return result


# --- the report -------------------------------------------------------------------------------

def verdicts(runs: list[dict]) -> bool:
    ceiling = runs[0]["load"]["rps"]
    all_met = True
    for run in runs:
        run["ratio"] = run["load"]["rps"] / ceiling
        run["cpu_ratio"] = runs[0]["load"]["cpu_ms"] / run["load"]["cpu_ms"]
        if run["target"]:
            run["met"] = run["load"]["p95_ms"] < P95_TARGET_MS and run["ratio"] >= RATIO_TARGET
            all_met &= run["met"]
    return all_met


def main_section(runs: list[dict], all_met: bool, summary: dict, info: dict, args,
                 seeded_now: bool, server_command: str) -> str:
    load_rows, service_rows = [], []
    for run in runs:
        load, single = run["load"], run["single"]
        if not run["target"]:
            verdict = "(ceiling)" if run is runs[0] else "(reference)"
        else:
            misses = [f"p95 ≥ {P95_TARGET_MS:.0f} ms"] if load["p95_ms"] >= P95_TARGET_MS else []
            if run["ratio"] < RATIO_TARGET:
                misses.append(f"< {RATIO_TARGET:.0%} of ceiling")
            verdict = "yes" if run["met"] else "**no**: " + ", ".join(misses)
        load_rows.append(
            f"| {run['name']} | `{run['path']}` | {load['p50_ms']:.1f} | {load['p95_ms']:.1f} | "
            f"{load['p99_ms']:.1f} | {load['rps']:.0f} | {run['ratio']:.0%} | {load['requests']:,} | "
            f"{load['cpu_ms']:.2f} | {run['cpu_ratio']:.0%} | {run['others']:.0%} | {verdict} |")
        service_rows.append(
            f"| {run['name']} | {single['p50_ms']:.1f} | {single['p95_ms']:.1f} | "
            f"{single['p99_ms']:.1f} | {single['rps']:.0f} |")
    c, e = summary["counts"], summary["events_per_incident"]
    seeding = f"{summary['total_s']} s (" + ", ".join(
        f"{k} {v} s" for k, v in summary["timings_s"].items()) + ")"
    if not seeded_now:
        seeding += "; this run reused that file (`--reuse`)"
    busiest = summary["busiest_incident"]
    invocation = " ".join([".venv/bin/python bench/run.py", *sys.argv[1:]]).strip()
    caution = ""
    if max(r["others"] for r in runs) > QUIET_BUSY:
        caution = (f"\n**Caution:** other processes on this machine took more than {QUIET_BUSY:.0%} of "
                   "the CPUs during some rows' measurement even after retrying (column *CPU used "
                   "by others*); those rows understate the code. Re-run on a quiet machine.\n")
    text = f"""# Incidentbook performance benchmark

Written by `make bench` (`bench/run.py`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; each run rewrites the
sections it measures (`--sections`). The figures hold for this machine only.

## Result

Targets: incident list and incident page p95 under {P95_TARGET_MS:.0f} ms, and their throughput at
least {RATIO_TARGET:.0%} of `/healthz`'s (the ceiling: one `SELECT 1` through the same stack).
**All targets met: {"yes" if all_met else "no"}.**

Under load, `wrk -t{args.threads} -c{args.connections} -d{args.duration}s`: {args.connections} requests always in flight,
{args.connections / args.workers:g} per gunicorn worker. That keeps both workers busy all the time (the
most requests per second they can serve), and a request's latency includes waiting for the one
ahead of it. With sync workers latency grows with the connections (about connections ÷ req/s),
so at `-c{2 * args.connections}` expect about twice these latencies at the same req/s.

| endpoint | path | p50 ms | p95 ms | p99 ms | req/s | of /healthz | requests | server CPU ms per request | of /healthz by CPU | CPU used by others | target met |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
{chr(10).join(load_rows)}

Service time: the same requests one at a time (`wrk -t1 -c1 -d{args.single}s`): one worker busy,
nothing queued, so this is what one request costs:

| endpoint | p50 ms | p95 ms | p99 ms | req/s |
|---|---:|---:|---:|---:|
{chr(10).join(service_rows)}
{caution}
*Server CPU ms per request* is the CPU time gunicorn's processes used during the run (from
`/proc`) divided by the requests served: what one request costs the server, which other
processes disturb far less than the wall-clock figures (they still inflate it a little, through
shared caches). *Of /healthz by CPU* is `/healthz`'s cost divided by the endpoint's, the throughput
ratio to expect when the server has the CPUs to itself. The throughput target therefore asks
for at most {runs[0]["load"]["cpu_ms"] / RATIO_TARGET:.1f} ms of server CPU per list or page request
({1 / RATIO_TARGET:g} × `/healthz`'s {runs[0]["load"]["cpu_ms"]:.2f} ms).

Each measured run follows a {args.warmup} s warm-up run of the same requests (discarded), signed
in as an admin through the login form; every response is checked to be a 200 (any other status
fails the bench). gunicorn runs {args.workers} sync workers, no access log; SQLite in WAL mode.
wrk runs on the same {info["nproc"]} CPUs as gunicorn and takes part of them, which lowers the
ceiling too.

## Machine

| | |
|---|---|
| CPUs (nproc) | {info["nproc"]} × {info["cpu"]} |
| memory | {info["memory_gib"]} GiB |
| kernel | {info["kernel"]} |
| Python | {info["python"]} |
| SQLite | {info["sqlite"]} |
| server | {info["gunicorn"]}, {args.workers} sync workers |
| load generator | {info["wrk"]} |

## Data set

| | |
|---|---|
| incidents | {c["incidents"]:,}: {summary["open_incidents"]:,} open, the rest closed; detected over the last 2 years |
| timeline events | {c["timeline_events"]:,}; per incident median {e["median"]}, p99 {e["p99"]}, max {e["max"]}; {e["incidents_with_100_or_more"]} incidents have 100 or more |
| escalations | {summary.get("escalations", 0):,} late, unshared incidents escalated by the app's own check while seeding, as a live system would have done (their timeline entries are among the events) |
| affected customers | {c["affected_customers"]:,} |
| responders | {c["incident_responders"]:,} |
| users | {c["users"]} |
| database file | {summary["file_mb"]} MiB, schema from the Alembic migrations, no `ANALYZE` (the app never runs it) |
| seeding time | {seeding} |

`bench/seed.py` mixes grades (mostly Blue and Green, 1.5% Red), statuses (about 3.5% open, open
ones mostly from the last 30 days), channels and categories; titles and descriptions are mixed
Korean and English; status timestamps follow each incident's status history (skipped steps,
a few reopened); event ids grow with event time, so an incident's events are spread through the
table as in real use. Same random seed every run ({summary["random_seed"]}).

Endpoints: `/incidents/` is the default list (open incidents, most urgent first, first page of
25); `?status=all` is the same over all {c["incidents"]:,}; *incident page: random* requests
`/incidents/<id>` with ids drawn uniformly from 1..{c["incidents"]:,} (a fixed sequence per wrk
thread); *busiest* is incident #{busiest["id"]}, which has {busiest["events"]} events (its page shows
the newest 100). The *floor* rows are reference pages that only the bench's server has
(`bench/probe_wsgi.py`, which is `wsgi:app` plus these routes): a signed-in request that renders
nothing; the layout around an empty page; and *issue 2's page content*, random ids as above, the
least the incident page could cost: what issue 2 asks the page to show (facts, affected customers,
status steps and buttons, the note form, a page of the timeline) from four Core statements in one
flat template, with no ORM objects, no WTForms, no macros and none of the panels of issues 3 to 6.
They pass the same sign-in check, session, user load and hooks as every page, so they show how
much of the {RATIO_TARGET:.0%} target is spent before a page does any work of its own, and whether
the page's minimum content fits in what is left.

## Reproduce

This file came from `{invocation}`.

```sh
cd /work/main
make bench                                          # fresh bench/out/bench.db, then measure
.venv/bin/python bench/run.py --reuse               # measure again on the existing file
.venv/bin/python bench/seed.py bench/out/bench.db   # seed only; prints timings
.venv/bin/python bench/run.py --help                # duration, connections, workers, ...
.venv/bin/python bench/run.py --reuse --sections main,dashboard   # no search section
.venv/bin/python bench/run.py --quick               # every section, short runs, search at 10k only
```

`bench/run.py` starts the server on a free port,

```sh
{server_command}
```

signs in through `/login` (CSRF token from the form), then for each endpoint runs:

```sh
wrk -t{args.threads} -c{args.connections} -d{args.warmup}s  ...                  # warm-up, discarded
wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency --timeout 5s \\
    -H 'User-Agent: {USER_AGENT}' -H 'Cookie: session=…' -s bench/bench.lua URL [-- ids 1 N]
wrk -t1 -c1 -d{args.single}s ...                                     # service time
```

`bench/bench.lua` prints p50/p95/p99 and req/s on one `BENCH_RESULT` line and counts non-200
responses. The machine may be shared, so before each run the bench waits (at most
{args.quiet_budget} s in all) for other processes to use under {QUIET_BUSY:.0%} of the CPUs, measures
what they take during the run (from `/proc`), and repeats a disturbed measurement (up to
{args.attempts} attempts, keeping the least disturbed). Raw wrk output: `bench/out/wrk.log`; seeding summary: `bench/out/bench.db.json`.
"""
    return text


# --- RESULTS.md: one file, four sections, each replaced only when measured --------------------

SECTIONS = ("main", "dashboard", "pages", "search", "apology")


def _marker(name: str, end: bool = False) -> str:
    return f"<!-- {'/' if end else ''}section:{name} -->"


def read_sections() -> dict[str, str]:
    """The sections of the current RESULTS.md; a file from before the sections is all *main*."""
    if not RESULTS.exists():
        return {}
    text = RESULTS.read_text()
    if _marker("main") not in text and not any(_marker(n) in text for n in SECTIONS):
        return {"main": text.strip() + "\n"}
    found = {}
    for name in SECTIONS:
        match = re.search(re.escape(_marker(name)) + r"\n(.*?)" + re.escape(_marker(name, True)),
                          text, re.S)
        if match:
            found[name] = match.group(1)
    return found


def write_sections(new: dict[str, str]) -> None:
    sections = {**read_sections(), **new}
    parts = []
    if "main" not in sections:
        parts.append("# Incidentbook performance benchmark\n\nWritten by `make bench` "
                     "(`bench/run.py`); the incident-list section has not been measured yet.\n")
    for name in SECTIONS:
        if name in sections:
            parts.append(f"{_marker(name)}\n{sections[name].rstrip()}\n{_marker(name, True)}\n")
    RESULTS.write_text("\n".join(parts))


def measure(endpoints: list[dict], port: int, cookie: str, args, quiet: QuietWaiter,
            meter: CpuMeter, log) -> list[dict]:
    """Each endpoint: warm-up, then under load and one at a time, repeated while disturbed."""
    runs = []
    for e in endpoints:
        name, path, script_args, headers = e["name"], e["path"], e["script_args"], e.get("headers")
        use_cookie = "" if e.get("no_cookie") else cookie
        print(f"  {name}", flush=True)
        quiet.wait()
        wrk(port, path, use_cookie, args.warmup, args.threads, args.connections, script_args, log,
            headers)
        best = None
        for attempt in range(1, args.attempts + 1):
            if attempt > 1:
                quiet.wait()
            meter.start()
            load = wrk(port, path, use_cookie, args.duration, args.threads, args.connections,
                       script_args, log, headers)
            load["cpu_ms"] = meter.server_ms() / load["requests"]
            single = wrk(port, path, use_cookie, args.single, 1, 1, script_args, log, headers)
            others = meter.others()
            print(f"    under load: p50 {load['p50_ms']:.1f} ms, p95 {load['p95_ms']:.1f} ms, "
                  f"p99 {load['p99_ms']:.1f} ms, {load['rps']:.0f} req/s; one at a time: "
                  f"p50 {single['p50_ms']:.1f} ms, p95 {single['p95_ms']:.1f} ms, "
                  f"{single['rps']:.0f} req/s; server CPU "
                  f"{load['cpu_ms']:.2f} ms/request; other "
                  f"processes used {others:.0%} of the CPUs", flush=True)
            if best is None or others < best["others"]:
                best = {"name": name, "path": e["shown"], "target": e["target"], "others": others,
                        "attempts": attempt, "load": load, "single": single}
            if others <= QUIET_BUSY:
                break
        runs.append(best)
    return runs


def seeding_admin() -> tuple[str, str]:
    import seed as seeding

    return seeding.ADMIN_EMAIL, seeding.ADMIN_PASSWORD


def schema_is_current(db_path: Path) -> bool:
    """Whether a seeded file has every migration: the app may have moved on since."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    if not db_path.exists():
        return False
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        try:
            have = {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}
        except sqlite3.Error:
            return False
    return have == heads


# --- main -------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    sys.modules.setdefault("run", sys.modules[__name__])  # one copy of these helpers for all
    import seed as seeding

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=seeding.DEFAULT_DB)
    parser.add_argument("--reuse", action="store_true", help="measure an already seeded file")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help="which sections to measure (others stay in RESULTS.md as they were): "
                             "main, dashboard, pages, search, apology (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="for iterating: 5 s runs, 2 s warm-up, 3 s one at a time, one attempt, "
                             "search at 10,000 only, no --preload comparison")
    parser.add_argument("--duration", type=int, default=None, help="seconds per measured run (15)")
    parser.add_argument("--warmup", type=int, default=None, help="seconds of warm-up per endpoint (3)")
    parser.add_argument("--single", type=int, default=None,
                        help="seconds of one-at-a-time requests per endpoint, service time (6)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quiet-budget", type=int, default=None,
                        help="seconds, for the whole run, to wait for other processes to go idle (90)")
    parser.add_argument("--attempts", type=int, default=None,
                        help="measure an endpoint up to this often while other processes disturb "
                             "it; the least disturbed attempt is kept (2)")
    parser.add_argument("--search-sizes", default=None,
                        help="playbook corpus sizes for the search section (10000,100000)")
    parser.add_argument("--search-memory-seconds", type=int, default=None,
                        help="seconds of wrk on /search while worker memory is measured (30)")
    args = parser.parse_args(argv)
    quick = args.quick
    for name, normal, fast in (("duration", 15, 5), ("warmup", 3, 2), ("single", 6, 3),
                               ("quiet_budget", 90, 20), ("attempts", 2, 1),
                               ("search_sizes", "10000,100000", "10000"),
                               ("search_memory_seconds", 30, 15)):
        if getattr(args, name) is None:
            setattr(args, name, fast if quick else normal)
    sections = [x.strip() for x in args.sections.split(",") if x.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    invocation = " ".join([".venv/bin/python bench/run.py", *sys.argv[1:]]).strip()
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    written: dict[str, str] = {}
    if {"main", "dashboard", "pages"} & set(sections):
        written.update(serve_and_measure(args, sections, seeding))
        write_sections(written)  # keep what is done even if search fails later
    if "search" in sections:
        import search_bench

        print("search", flush=True)
        results = search_bench.run([int(n) for n in args.search_sizes.split(",")],
                                   args.search_memory_seconds, preload_too=not quick)
        written["search"] = search_bench.render(results, invocation)
        write_sections(written)
        for what, target, got, ok in search_bench.verdicts(results):
            print(f"  {what:<60} {got:>10}  (target {target}) met: {'yes' if ok else 'no'}")
    if "apology" in sections:
        written["apology"] = apology_section(invocation)
        write_sections(written)
    print(f"wrote {RESULTS.relative_to(PROJECT_ROOT)} ({', '.join(written)}) in "
          f"{time.monotonic() - started:.0f} s")
    return 0


def apology_section(invocation: str) -> str:
    """Issue 17's figures: the check's speed, and make check-eval on the test split."""
    import contextlib
    import io

    import check_speed

    from incidents.apology import evaluate

    print("apology", flush=True)
    result = check_speed.measure()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        evaluate.main([])
    print("\n".join(check_speed.table(result)))
    return check_speed.render(result, printed.getvalue(), invocation)


def serve_and_measure(args, sections: list[str], seeding) -> dict[str, str]:
    """Seed (unless reusing a current file), serve, sign in, measure main, dashboard, pages."""
    import dashboard_bench
    import pages_bench

    db_path = args.db.resolve()
    summary_file = Path(f"{db_path}.json")
    current = (summary_file.exists() and schema_is_current(db_path) and
               json.loads(summary_file.read_text()).get("seed_version") == seeding.SEED_VERSION)
    seeded_now = not (args.reuse and current)
    if seeded_now:
        if args.reuse:
            print(f"{db_path} is missing, or older than the migrations or bench/seed.py; seeding it",
                  flush=True)
        subprocess.run([sys.executable, str(BENCH_DIR / "seed.py"), str(db_path)], check=True,
                       timeout=900)
    summary = json.loads(summary_file.read_text())
    n = summary["counts"]["incidents"]
    main_endpoints = [dict(zip(("name", "shown", "path", "script_args", "target"), e, strict=True))
                      for e in [  # name, path shown, path requested, bench.lua arguments, target
        ("health (ceiling)", "/healthz", "/healthz", [], False),
        ("floor: signed in, empty", "/_bench/signed-in", "/_bench/signed-in", [], False),
        ("floor: layout only", "/_bench/layout", "/_bench/layout", [], False),
        ("list: open (default)", "/incidents/", "/incidents/", [], True),
        ("list: all", "/incidents/?status=all", "/incidents/?status=all", [], True),
        ("incident page: random", "/incidents/<random id>", "/", ["ids", "1", str(n)], True),
        ("incident page: busiest", f"/incidents/{summary['busiest_incident']['id']}",
         f"/incidents/{summary['busiest_incident']['id']}", [], True),
        ("floor: issue 2's page content", "/_bench/floor-page/<random id>", "/",
         ["ids", "1", str(n), "/_bench/floor-page/"], False),
    ]]
    token = dashboard_bench.prepare(db_path) if "dashboard" in sections else ""
    dash_endpoints = dashboard_bench.endpoints(token) if "dashboard" in sections else []
    pages = pages_bench.endpoints(db_path) if "pages" in sections else []

    port = free_port()
    shutil.rmtree(OUT / "search-app", ignore_errors=True)
    server, server_command = start_gunicorn(db_path, port, args.workers, OUT / "gunicorn.log",
                                            extra=["--pythonpath", "bench"], app="probe_wsgi:app")
    quiet = QuietWaiter(args.quiet_budget)
    runs, dash_runs, page_runs, figures = [], [], [], {}
    try:
        wait_until_up(server, port)
        cookie = sign_in(port, summary["admin"]["email"], summary["admin"]["password"])
        if "main" in sections:
            for e in main_endpoints:  # every page must work before we time it
                path, script_args = e["path"], e["script_args"]
                probe = (f"{script_args[3] if len(script_args) > 3 else '/incidents/'}{n}"
                         if script_args else path)
                status, headers, body = fetch(port, "GET", probe, cookie)
                if status != 200:
                    raise SystemExit(f"GET {probe} answered {status} {headers.get('location', '')}")
                # A signed-in page with incidents on it, not a login or first-run form.
                expected = re.compile(r"#\d+ |href=\"/incidents/\d+\"")
                if probe.startswith("/_bench/") and 'name="password"' not in body:
                    continue
                if probe != "/healthz" and ('name="password"' in body or not expected.search(body)):
                    raise SystemExit(f"GET {probe} did not show incidents; see its HTML:\n{body[:2000]}")
        if dash_endpoints:
            figures = dashboard_bench.check(port, cookie, token, dash_endpoints)
        if pages:
            pages_bench.check(port, cookie, pages)
        meter = CpuMeter(server.pid)
        with (OUT / "wrk.log").open("w") as log:
            if "main" in sections:
                print("main", flush=True)
                runs = measure(main_endpoints, port, cookie, args,
                               quiet, meter, log)
            if dash_endpoints:
                print("dashboard", flush=True)
                dash_runs = measure(dash_endpoints, port, cookie, args, quiet, meter, log)
            if pages:
                print("pages", flush=True)
                page_runs = pages_bench.measure(port, cookie, pages, args, quiet, log)
    finally:
        stop(server)
    info = machine()
    written = {}
    if runs:
        all_met = verdicts(runs)
        written["main"] = main_section(runs, all_met, summary, info, args, seeded_now, server_command)
        for run in runs:
            print(f"  {run['name']:<24} p95 {run['load']['p95_ms']:6.1f} ms  {run['load']['rps']:6.0f} req/s"
                  f"  {run['ratio']:4.0%} of /healthz" + ("" if not run["target"] else
                                                         f"  target met: {'yes' if run['met'] else 'no'}"))
        print(f"main: all targets met: {'yes' if all_met else 'no'}")
    if dash_runs:
        invocation = " ".join([".venv/bin/python bench/run.py", *sys.argv[1:]]).strip()
        written["dashboard"] = dashboard_bench.render(dash_runs, figures, summary, args, info,
                                                     server_command, invocation, seeded_now)
        for run in dash_runs:
            print(f"  {run['name']:<32} p95 under load {run['load']['p95_ms']:6.1f} ms, one at a time "
                  f"{run['single']['p95_ms']:6.1f} ms" + ("" if not run["target"] else
                  f"  target met: {'yes' if run['met'] else 'no'}"))
    if page_runs:
        invocation = " ".join([".venv/bin/python bench/run.py", *sys.argv[1:]]).strip()
        written["pages"] = pages_bench.render(page_runs, summary, args, server_command, invocation)
        for run in page_runs:
            print(f"  {run['path']:<44} p95 {run['single']['p95_ms']:6.1f} ms"
                  + ("  slow" if run["single"]["p95_ms"] > pages_bench.SLOW_MS else ""))
    return written


if __name__ == "__main__":
    sys.exit(main())
