"""Soak: mixed traffic against the real portal (gunicorn, 2 workers) for a bounded time, on loopback.

    .venv/bin/python bench/soak.py                       # 600 s on SQLite
    .venv/bin/python bench/soak.py --seconds 60          # a short check
    .venv/bin/python bench/soak.py --pg postgresql://postgres@127.0.0.1:5432/bench_soak

wrk (--threads threads, --connections connections) replays one long list of requests for
--seconds, drawn in this mix:

    25%  GET a lesson page, signed in (500 learners, cycling through the lessons)
    15%  GET /catalog, anonymous
    10%  GET the course page, anonymous
    10%  GET /verify/<number> of a real certificate, anonymous
    10%  GET My courses, signed in
     5%  GET a certificate page, signed in as its owner
    15%  POST a post-test submission: a different learner's open attempt each time
    10%  POST an enrollment: a different confirmed learner, not yet enrolled, each time

The writes are each sent once (wrk/requests.lua); the list is sized for --rate-guess
requests per second, so they last the whole run. Every 10 s the resident memory (RSS) of each
gunicorn worker is read from /proc. At the end: requests, errors (socket errors and
responses >= 400) and their rate, latency percentiles over all requests, the rows the writes
made, and RSS at the start, middle and end. The server's data folder and database are
temporary; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from sqlalchemy import create_engine, text  # noqa: E402

from load import (COURSE, build_app, lesson_lines, probe, run_wrk, seed_learners,  # noqa: E402
                  submission_lines)
from server import Server, fresh_database  # noqa: E402

MIX = [("lesson", 25), ("catalog", 15), ("course", 10), ("verify", 10), ("my courses", 10), ("certificate", 5),
       ("submit", 15), ("enroll", 10)]


def give_certificates(app, learners) -> list[tuple[str, str]]:
    """Mark these learners' enrollments passed and issue certificates; returns (cookie, number)."""
    from datetime import UTC, datetime

    from sqlmodel import select

    from portal.certificates.models import Certificate
    from portal.certificates.services import new_certificate_number
    from portal.learning.models import Enrollment

    pack = app.extensions["packs"].get(COURSE)
    now = datetime.now(UTC)
    made = []
    with app.extensions["portal"].database.session() as db:
        for learner in learners:
            enrollment = db.exec(select(Enrollment).where(Enrollment.user_id == learner.user_id)).one()
            enrollment.passed_at = now
            number = new_certificate_number(enrollment.session_year)
            db.add(Certificate(number=number, enrollment_id=enrollment.id, user_id=learner.user_id, pack_id=COURSE,
                               pack_version=pack.version, learner_name=f"Bench Learner {learner.user_id}",
                               course_title=pack.title, provider_name=pack.provider.name, completed_on=now.date(),
                               session_year=enrollment.session_year, hours=4.0, issued_at=now))
            made.append((learner.cookie, number))
        db.commit()
    return made


def enroll_lines(learners) -> list[str]:
    return [f"POST\t/courses/{COURSE}/enroll\t{learner.cookie}\t{urlencode({'csrf_token': learner.csrf})}\tonce"
            for learner in learners]


def build_requests(app, total: int, seed: int = 7) -> tuple[list[str], dict[str, int]]:
    """`total` request lines in the mix above, and how many of each kind."""
    rng = random.Random(seed)
    weights = dict(MIX)
    share = {kind: int(total * w / 100) + 1 for kind, w in MIX}
    readers = seed_learners(app, 500, open_post_test=False, seed=1, email_prefix="reader")
    graduates = give_certificates(app, seed_learners(app, 200, open_post_test=False, seed=3, email_prefix="grad"))
    writers = seed_learners(app, share["submit"], open_post_test=True, seed=2, email_prefix="writer")
    enrollers = seed_learners(app, share["enroll"], open_post_test=False, seed=4, email_prefix="new", enrolled=False)
    pools = {
        "lesson": lesson_lines(app, readers),
        "catalog": ["GET\t/catalog\t-\t-"],
        "course": [f"GET\t/courses/{COURSE}\t-\t-"],
        "verify": [f"GET\t/verify/{number}\t-\t-" for _, number in graduates],
        "my courses": [f"GET\t/my/courses\t{r.cookie}\t-" for r in readers],
        "certificate": [f"GET\t/certificates/{number}\t{cookie}\t-" for cookie, number in graduates],
        "submit": [line + "\tonce" for line in submission_lines(writers)],
        "enroll": enroll_lines(enrollers),
    }
    lines, counts = [], {kind: 0 for kind in weights}
    kinds, shares = list(weights), list(weights.values())
    for _ in range(total):
        kind = rng.choices(kinds, shares)[0]
        pool = pools[kind]
        if kind in ("submit", "enroll"):
            if counts[kind] >= len(pool):
                continue
            lines.append(pool[counts[kind]])
        else:
            lines.append(pool[counts[kind] % len(pool)])
        counts[kind] += 1
    return lines, counts


def sample_memory(server: Server, stop: threading.Event, every: float, samples: list) -> None:
    began = time.monotonic()
    while True:
        samples.append((time.monotonic() - began, server.worker_rss_mb()))
        if stop.wait(every):
            return


def table_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        counts = {
            "submitted post-tests": connection.execute(text(
                "SELECT COUNT(*) FROM attempt WHERE kind = 'post' AND submitted_at IS NOT NULL")).scalar(),
            "enrollments": connection.execute(text("SELECT COUNT(*) FROM enrollment")).scalar(),
        }
    engine.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--sqlite", default=f"sqlite:///{HERE / 'out' / 'soak.db'}")
    parser.add_argument("--pg", default="", help="a PostgreSQL URL (its database is dropped and recreated)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate-guess", type=int, default=300, help="requests per second to size the writes for")
    parser.add_argument("--sample-every", type=float, default=10.0)
    args = parser.parse_args()

    url = fresh_database(args.pg or args.sqlite)
    app = build_app(url, tempfile.mkdtemp(prefix="portal-soak-seed-"))
    began = time.perf_counter()
    lines, mix = build_requests(app, args.seconds * args.rate_guess)
    app.extensions["portal"].database.dispose()
    print(f"{url}: {len(lines):,} request lines ({', '.join(f'{k} {n:,}' for k, n in mix.items())}), "
          f"seeded in {time.perf_counter() - began:.0f} s", flush=True)
    before = table_counts(url)
    samples: list = []
    stop = threading.Event()
    with Server(url, workers=args.workers) as server:
        for marker in ("/lessons/", "/my/courses", "/certificates/", "/verify/"):  # signed in, owned, real
            probe(server.base_url, next(line for line in lines if marker in line), 200)
        sampler = threading.Thread(target=sample_memory, args=(server, stop, args.sample_every, samples))
        sampler.start()
        try:
            figures = run_wrk(server.base_url, lines, seconds=args.seconds, threads=args.threads,
                              connections=args.connections)
        finally:
            stop.set()
            sampler.join()
        log_tail = server.log_tail(5)
    after = table_counts(url)

    rate = figures["errors"] / max(1, figures["requests"])
    print(f"\n{args.seconds} s, gunicorn {args.workers} workers, wrk {args.threads} threads / "
          f"{args.connections} connections, {url.split('://')[0]}")
    print(f"requests {figures['requests']:,} ({figures['rps']:.0f}/s), errors {figures['errors']:,} ({rate:.3%}): "
          f"connect {figures['connect']}, read {figures['read']}, write {figures['write']}, "
          f"timeout {figures['timeout']}, status>=400 {figures['status']}")
    print("latency ms: " + ", ".join(f"p{p} {figures[f'p{p}_us'] / 1000:.1f}" for p in ("50", "90", "95", "99", "999"))
          + f", max {figures['max_us'] / 1000:.1f}")
    print(f"writes: {after['submitted post-tests'] - before['submitted post-tests']:,} post-tests scored, "
          f"{after['enrollments'] - before['enrollments']:,} enrollments made"
          + (f"; SPOILED: ran out of requests {figures['exhausted']} times" if figures["exhausted"] else ""))
    if samples:
        picks = [("start", samples[0]), ("middle", samples[len(samples) // 2]), ("end", samples[-1])]
        for label, (at, sizes) in picks:
            print(f"RSS {label:6} ({at:5.0f} s): " + ", ".join(f"worker {pid} {mb:.1f} MiB"
                                                              for pid, mb in sorted(sizes.items())))
        first, middle, last = (sum(samples[i][1].values()) for i in (0, len(samples) // 2, -1))
        print(f"RSS of all workers: {first:.1f} -> {middle:.1f} -> {last:.1f} MiB (second half {last - middle:+.1f} "
              f"MiB; the first seconds fill caches); {len(samples)} samples, "
              f"max {max(sum(s.values()) for _, s in samples):.1f} MiB")
    if figures["errors"]:
        print("server log tail:\n" + log_tail)
    print(f"goal: errors under 0.1% -> {'met' if rate < 0.001 else 'NOT met'}")


if __name__ == "__main__":
    main()
