"""Load benchmark: the real portal under gunicorn (2 workers), driven by wrk, on SQLite and PostgreSQL.

    .venv/bin/python bench/load.py                        # both backends, 3 runs of 10 s per route
    .venv/bin/python bench/load.py --backend sqlite --runs 5 --seconds 10 --connections 8
    .venv/bin/python bench/load.py --pg postgresql://postgres@127.0.0.1:5432/bench_load

Routes, each run in turn for `--seconds` with wrk (`--threads` threads, `--connections`
connections), `--runs` times; the table shows the median of each figure over the runs:

- GET /healthz: no database, no template: the machine's floor for this server.
- GET /catalog: anonymous.
- GET a lesson page, signed in: each request comes from one of 500 learners (their own
  session cookie, enrollment, completed pre-test and lesson progress), cycling through the six
  lessons of intro-sro-programs.
- POST a post-test submission: each request submits a different learner's open post-test
  attempt (10 questions, answers chosen at random, about 80% right) with that learner's session
  cookie and CSRF token, exactly as the browser form does. Each line is sent once (see
  wrk/requests.lua); the run is flagged if wrk ran out of attempts, and the number of attempts
  the database shows as submitted is printed beside the request count. The portal scores the
  attempt, updates the enrollment's report summaries and the per-question counts, and answers
  303 to the result page.

Learners are written straight into the database (bulk insert) with a server-side log-in
session each; their cookies are signed by an app built with the server's secret key, the same
cookies a log-in would set. Errors are socket errors plus responses with status >= 400.
"cpu ms" is the CPU time the gunicorn workers spent per request (from /proc): unlike requests
per second it hardly moves when other work shares the machine, and 2 cores / cpu ms bounds the
rate two workers can reach.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from sqlalchemy import create_engine, text  # noqa: E402

from bulk import BulkWriter, next_ids  # noqa: E402
from server import SECRET_KEY, Server, bench_env, fresh_database  # noqa: E402

COURSE = "intro-sro-programs"
LUA = HERE / "wrk" / "requests.lua"
COLUMNS = {
    "user_account": "id, email, name, agency, password_hash, email_verified_at, is_active, created_at, "
                    "last_login_at, password_changed_at",
    "login_session": "id, token_hash, user_id, remember, created_at, last_seen_at, expires_at, ended_at, user_agent",
    "enrollment": "id, user_id, pack_id, pack_version, session_year, enrolled_at, last_lesson_id, last_activity_at, "
                  "passed_at, pre_score, post_attempts",
    "lesson_progress": "id, enrollment_id, lesson_id, pack_version, video_position, completed_at, updated_at",
    "attempt": "id, enrollment_id, pack_id, pack_version, kind, number, started_at, submitted_at, correct_count, "
               "question_count, score",
    "attempt_item": "id, attempt_id, position, question_id, choice_order",
}


@dataclass
class Learner:
    user_id: int
    token: str
    post_attempt_id: int | None = None
    answers: dict[str, list[str]] | None = None  # form field -> chosen positions
    cookie: str = ""
    csrf: str = ""


def build_app(url: str, data_dir: str):
    """An app like the server's (same database and secret key) to sign cookies with."""
    from portal import create_app

    env = bench_env(url, data_dir, 0)
    return create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "PORTAL_DATA_DIR": data_dir,
                       "PORTAL_BASE_URL": env["PORTAL_BASE_URL"]})


def seed_learners(app, count: int, *, open_post_test: bool, seed: int = 1, email_prefix: str = "learner",
                  lessons_done: bool = True, enrolled: bool = True) -> list[Learner]:
    """Learners in this session of the course: pre-test submitted, every lesson done and (if
    asked) a post-test attempt opened with its drawn questions, as `open_attempt` makes it."""
    from portal.accounts.sessions import hash_token
    from portal.learning.sessions import session_year
    from zoneinfo import ZoneInfo

    rng = random.Random(seed)
    pack = app.extensions["packs"].get(COURSE)
    now = datetime.now(UTC)
    year = session_year(now, ZoneInfo(app.config["PORTAL_TIMEZONE"]))
    engine = app.extensions["portal"].database.engine
    ids = next_ids(engine, COLUMNS)
    writer = BulkWriter(engine, COLUMNS)
    password_hash = app.extensions["portal"].hasher.hash("bench password not used")
    learners = []
    for n in range(count):
        uid = ids["user_account"] + n
        email = f"{email_prefix}{uid}@bench.example"
        token = secrets.token_urlsafe(32)
        writer.add("user_account", (uid, email, f"Bench Learner {uid}", "Bench PD", password_hash, now, True,
                                    now, now, now))
        writer.add("login_session", (ids["login_session"] + n, hash_token(token), uid, True, now, now,
                                     now + timedelta(days=30), None, ""))
        learner = Learner(uid, token)
        learners.append(learner)
        if not enrolled:
            continue
        eid = ids["enrollment"]
        ids["enrollment"] += 1
        writer.add("enrollment", (eid, uid, COURSE, pack.version, year, now, pack.lessons[-1].id, now, None,
                                  60.0, 0))
        writer.add("attempt", (ids["attempt"], eid, COURSE, pack.version, "pre", 1, now, now, 6, pack.pre_draw, 60.0))
        ids["attempt"] += 1
        if lessons_done:
            for lesson in pack.lessons:
                writer.add("lesson_progress", (ids["lesson_progress"], eid, lesson.id, pack.version, 0.0, now, now))
                ids["lesson_progress"] += 1
        if open_post_test:
            aid = ids["attempt"]
            ids["attempt"] += 1
            writer.add("attempt", (aid, eid, COURSE, pack.version, "post", 1, now, None, None, pack.post_draw, None))
            answers = {}
            for position, question in enumerate(rng.sample(list(pack.questions_for("post")), pack.post_draw)):
                order = [c.id for c in question.choices]
                if question.type != "true_false":
                    rng.shuffle(order)
                writer.add("attempt_item", (ids["attempt_item"], aid, position, question.id, ",".join(order)))
                ids["attempt_item"] += 1
                picks = sorted(question.correct_ids) if rng.random() < 0.8 else \
                    [c.id for c in question.choices if not c.correct][:1]
                answers[f"q-{position + 1}"] = [str(order.index(p) + 1) for p in picks]
            learner.post_attempt_id, learner.answers = aid, answers
    writer.finish(analyze=True)
    sign_cookies(app, learners)
    return learners


def sign_cookies(app, learners: list[Learner]) -> None:
    """The session cookie a log-in sets (Flask-Login's user id is the session token) and
    the CSRF token the learner's forms carry."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    serializer = app.session_interface.get_signing_serializer(app)
    name = app.config["SESSION_COOKIE_NAME"]
    for learner in learners:
        with app.test_request_context():
            session["_user_id"] = learner.token
            session["_fresh"] = True
            learner.csrf = generate_csrf()
            learner.cookie = f"{name}={serializer.dumps(dict(session))}"


def lesson_lines(app, learners: list[Learner]) -> list[str]:
    lessons = app.extensions["packs"].get(COURSE).lessons
    return [f"GET\t/learn/{COURSE}/lessons/{lessons[i % len(lessons)].id}\t{learner.cookie}\t-"
            for i, learner in enumerate(learners)]


def submission_lines(learners: list[Learner]) -> list[str]:
    lines = []
    for learner in learners:
        fields = [("csrf_token", learner.csrf), ("attempt_id", str(learner.post_attempt_id))]
        fields += [(name, value) for name, values in learner.answers.items() for value in values]
        lines.append(f"POST\t/learn/{COURSE}/tests/post/submit\t{learner.cookie}\t{urlencode(fields)}")
    return lines


def run_wrk(base_url: str, lines: list[str], *, seconds: float, threads: int, connections: int,
            once: bool = False, server: Server | None = None) -> dict:
    """One wrk run over these request lines; returns wrk's figures (see wrk/requests.lua)."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        handle.write("\n".join(lines) + "\n")
    cpu_before = server.worker_cpu_seconds() if server else 0.0
    try:
        env = {**os.environ, "WRK_REQUESTS": handle.name, "WRK_ONCE": "1" if once else "0",
               "WRK_THREADS": str(threads)}
        done = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{int(seconds)}s",
                               "--timeout", "10s", "-s", str(LUA), base_url],
                              env=env, capture_output=True, text=True, timeout=seconds + 60)
    finally:
        os.unlink(handle.name)
    for line in done.stdout.splitlines():
        if line.startswith("WRKJSON "):
            figures = json.loads(line[len("WRKJSON "):])
            figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
            figures["errors"] = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
            if server:
                figures["cpu_ms"] = (server.worker_cpu_seconds() - cpu_before) * 1000 / max(1, figures["requests"])
            return figures
    raise RuntimeError(f"wrk printed no figures:\n{done.stdout}\n{done.stderr}")


def probe(base_url: str, line: str, status: int, location_has: str = "") -> None:
    """Send one request line the way wrk will and check the answer, so a run never measures
    log-in redirects or CSRF refusals by mistake."""
    import http.client
    from urllib.parse import urlsplit

    method, path, cookie, body = line.split("\t")[:4]
    headers = {"Cookie": cookie} if cookie != "-" else {}
    if body != "-":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=30)
    connection.request(method, path, body=None if body == "-" else body, headers=headers)
    response = connection.getresponse()
    location = response.getheader("Location") or ""
    response.read()
    connection.close()
    if response.status != status or location_has not in location:
        raise RuntimeError(f"{method} {path} answered {response.status} {location}, not {status} {location_has}")


def submitted_posts(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT COUNT(*) FROM attempt WHERE kind = 'post' "
                                        "AND submitted_at IS NOT NULL")).scalar()
    engine.dispose()
    return count


def median_of(runs: list[dict]) -> dict:
    keys = ("rps", "p50_us", "p95_us", "p99_us", "errors", "requests", "exhausted", "cpu_ms")
    return {k: statistics.median(r[k] for r in runs) for k in keys} | {"runs": runs}


def print_row(backend: str, route: str, m: dict, note: str = "") -> None:
    print(f"{backend:10} {route:22} {m['rps']:8.0f} {m['p50_us'] / 1000:8.1f} {m['p95_us'] / 1000:8.1f} "
          f"{m['p99_us'] / 1000:8.1f} {m['errors']:7.0f} {m['cpu_ms']:8.2f}  {note}", flush=True)


def bench_backend(name: str, url: str, args) -> dict:
    url = fresh_database(url)
    data_dir = tempfile.mkdtemp(prefix="portal-bench-seed-")
    app = build_app(url, data_dir)
    began = time.perf_counter()
    readers = seed_learners(app, 500, open_post_test=False, seed=1, email_prefix="reader")
    per_run = args.submissions_per_run
    writers = seed_learners(app, per_run * args.runs + 1, open_post_test=True, seed=2, email_prefix="writer")
    probe_writer = writers.pop()
    pages = lesson_lines(app, readers)
    print(f"{name}: seeded {len(readers) + len(writers):,} learners in {time.perf_counter() - began:.0f} s",
          flush=True)
    app.extensions["portal"].database.dispose()
    results = {}
    with Server(url, workers=args.workers) as server:
        wrk = dict(seconds=args.seconds, threads=args.threads, connections=args.connections, server=server)
        base = server.base_url
        warm = ["GET\t/healthz\t-\t-", "GET\t/catalog\t-\t-"] + pages[:20]
        run_wrk(base, warm, seconds=2, threads=1, connections=2)  # imports, template compiles, pools
        probe(base, pages[0], 200)
        probe(base, submission_lines([probe_writer])[0], 303, "/results/")
        routes = [("healthz (floor)", ["GET\t/healthz\t-\t-"], False),
                  ("catalog", ["GET\t/catalog\t-\t-"], False),
                  ("lesson (signed in)", pages, False)]
        for route, lines, once in routes:
            runs = [run_wrk(base, lines, once=once, **wrk) for _ in range(args.runs)]
            results[route] = median_of(runs)
            print_row(name, route, results[route])
        before = submitted_posts(url)
        runs = []
        for r in range(args.runs):
            lines = submission_lines(writers[r * per_run:(r + 1) * per_run])
            runs.append(run_wrk(base, lines, once=True, **wrk))
        submitted = submitted_posts(url) - before
        sent = sum(run["requests"] - run["exhausted"] for run in runs)
        results["post-test submit"] = median_of(runs)
        spoiled = sum(run["exhausted"] for run in runs)
        note = f"{submitted:,} attempts scored for {sent:,} submissions"
        if spoiled:
            note += f"; SPOILED: ran out of attempts {spoiled} times (raise --submissions-per-run)"
        print_row(name, "post-test submit", results["post-test submit"], note)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--sqlite", default=f"sqlite:///{HERE / 'out' / 'load.db'}")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/bench_load")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--submissions-per-run", type=int, default=4000)
    args = parser.parse_args()
    print(f"wrk: {args.threads} threads, {args.connections} connections, {args.seconds:g} s per run, "
          f"median of {args.runs} runs; gunicorn {args.workers} workers x 4 threads")
    print(f"{'backend':10} {'route':22} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} "
          f"{'cpu ms':>8}  (cpu ms: worker CPU time per request)")
    backends = [("sqlite", args.sqlite), ("postgresql", args.pg)]
    for name, url in backends:
        if args.backend in (name, "both"):
            bench_backend(name, url, args)


if __name__ == "__main__":
    main()
