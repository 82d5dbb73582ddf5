"""Schemathesis against a throw-away server (`make api-fuzz`): every operation of
/api/v1/openapi.json, stateless and stateful, all checks, as a viewer, an agent and an admin.

Per role, a fresh SQLite file, search index and secret in a temporary folder (never
instance/), users and tokens made with the CLI, a few records made through the API so that path
ids exist, gunicorn on a free port, and one Schemathesis run with that role's token; roles run
side by side (--parallel). Exits non-zero if any run found a failure.

    .venv/bin/python tests/api_fuzz/run.py [--roles viewer,agent] [--max-examples N] [--seed N]
        [--parallel N] [-- extra schemathesis run options]
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
ROLES = ("viewer", "agent", "admin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask(env: dict, *args: str) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True)
    return done.stdout.strip()


def make_users(env: dict) -> dict[str, str]:
    """One user per role (lead and manager too, as owners and approvers); their tokens."""
    tokens = {}
    password = secrets.token_urlsafe(18)  # nobody signs in with it
    for role in ("viewer", "agent", "lead", "manager", "admin"):
        email = f"{role}@fuzz.example.com"
        flask(env, "users", "create", email, "--name", f"Fuzz {role.title()}", "--title",
              f"{role.title()} under test", "--role", role, "--password", password)
        tokens[role] = flask(env, "users", "token", email).splitlines()[-1]
    return tokens


def seed(base: str, tokens: dict[str, str]) -> None:
    """Records for path ids to find: an incident with a customer, a compensation proposal,
    an apology draft, a postmortem, an action item and a playbook."""
    admin = requests.Session()
    admin.headers["Authorization"] = f"Bearer {tokens['admin']}"

    def post(path: str, body: dict | None = None, method: str = "POST") -> dict:
        response = admin.request(method, base + path, json=body)
        if response.status_code >= 300:
            raise SystemExit(f"seeding {method} {path}: {response.status_code} {response.text}")
        return response.json()

    incident = post("/incidents", {
        "title": "Card declined twice", "grade": "Orange", "description": "Seeded by api-fuzz",
        "owner_email": "agent@fuzz.example.com", "abusive_customer": True, "abuse_kind": "insult",
        "affected_customers": [{"name": "Kim Minji", "contact": "minji@example.com",
                                "reference": "ORD-1", "impact": "Charged twice"}]})
    iid, customer = incident["id"], incident["affected_customers"][0]["id"]
    post(f"/incidents/{iid}/events", {"kind": "note", "body": "Checked the card processor."})
    post(f"/incidents/{iid}/compensations", {"type": "refund", "amount": 5000,
                                             "customer_id": customer, "approve": False})
    post(f"/incidents/{iid}/apologies", {"audience": "customer", "customer_id": customer,
                                         "language": "en"})
    post(f"/incidents/{iid}/postmortem", {"language": "en"}, method="PUT")
    post(f"/incidents/{iid}/action-items", {"title": "Alert on double charges",
                                            "owner_email": "agent@fuzz.example.com",
                                            "kind": "prevent"})
    post("/playbooks", {"title": "Double card charge", "summary": "Refund the second charge.",
                        "steps": "1. Find both charges.\n2. Refund one.", "tags": ["payment"],
                        "language": "en"})


def wait_for(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            if requests.get(url, timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or a worker still starting
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds} s")


def fuzz(schema_url: str, token: str, role: str, args, report_dir: Path, log) -> int:
    command = [str(BIN / "schemathesis"), "--config-file", str(HERE / "schemathesis.toml"),
               "run", schema_url, "--header", f"Authorization: Bearer {token}",
               # All checks; positive_data_acceptance as refined in hooks.py.
               "--checks", "all", "--exclude-checks", "positive_data_acceptance",
               "--phases", "examples,coverage,fuzzing,stateful",
               "--max-examples", str(args.max_examples), "--seed", str(args.seed),
               "--workers", str(args.workers), "--no-color",
               "--report", "junit", "--report-dir", str(report_dir / role), *args.extra]
    return subprocess.call(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                           stdout=log, stderr=subprocess.STDOUT)


def run_role(role: str, root: Path, args) -> tuple[int, float, str]:
    """One role against a server and database of its own, so that what one role's stateful
    run changes (an admin's, say) never shows in another's. Returns (exit code, seconds,
    everything printed)."""
    started = time.monotonic()
    tmp_path = root / role
    tmp_path.mkdir()
    # Everything the app would write under instance/ goes to the temporary folder instead.
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fuzz.db'}",
           "SECRET_KEY": secrets.token_hex(32),
           "SEARCH_INDEX_DIR": str(tmp_path / "search"),
           "ESCALATION_CHECK_SECONDS": "0", "MAIL_SERVER": ""}
    log_path = tmp_path / "schemathesis.log"
    code, finished = 1, False
    with open(log_path, "w", encoding="utf-8") as log:
        flask(env, "db", "upgrade")
        tokens = make_users(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "--error-logfile", str(tmp_path / "gunicorn.log"), "wsgi:app"],
            cwd=ROOT, env=env, start_new_session=True)
        try:
            wait_for(f"{base}/healthz", server)
            seed(f"{base}/api/v1", tokens)
            report_dir = Path(args.report_dir) if args.report_dir else root / "reports"
            code = fuzz(f"{base}/api/v1/openapi.json", tokens[role], role, args, report_dir, log)
            finished = True
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    printed = log_path.read_text(encoding="utf-8", errors="replace")
    server_log = tmp_path / "gunicorn.log"
    if (not finished or code) and server_log.exists():
        tail = server_log.read_text(errors="replace").splitlines()[-60:]
        printed += "\n--- gunicorn log (last lines) ---\n" + "\n".join(tail) + "\n"
    return code, time.monotonic() - started, printed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument("--max-examples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=20261123)
    # One: with threads, Python 3.11's parser (which Hypothesis calls to describe its
    # strategies) failed with "AST constructor recursion depth mismatch".
    parser.add_argument("--workers", default="1")
    # Roles at once, each a Schemathesis process and a server of its own: one role alone keeps
    # about one core busy (client and server wait on each other).
    parser.add_argument("--parallel", type=int, default=max(1, min(3, os.cpu_count() or 1)))
    parser.add_argument("--report-dir", default=None, help="keep the JUnit reports here")
    parser.add_argument("extra", nargs="*", help="after --: more `schemathesis run` options")
    args = parser.parse_args()
    roles = args.roles.split(",")

    # In memory where the system has it: SQLite's commits need not wait for a disk.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(prefix="ib-api-fuzz-", dir=shm) as tmp:
        with ThreadPoolExecutor(max_workers=args.parallel) as pool:
            futures = {role: pool.submit(run_role, role, Path(tmp), args) for role in roles}
            results = []
            for role in roles:  # printed in order, each role's output whole
                code, seconds, printed = futures[role].result()
                print(f"\n=== Schemathesis as {role} ===\n{printed}", flush=True)
                results.append((role, code, seconds))
        print("\n=== api-fuzz summary ===")
        for role, code, seconds in results:
            print(f"{role:8} {'ok' if code == 0 else 'FAILED'}  {seconds:6.1f} s")
        return 1 if any(code for _r, code, _s in results) else 0


if __name__ == "__main__":
    sys.exit(main())
