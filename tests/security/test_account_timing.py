"""Audit finding 4: account existence by timing. Forgot-password answered an existing address
0.9 ms slower (84% of single requests classified right), resend-verification 1.6 ms slower
(94%; 98% with a 5-request vote): only a known address wrote a token and a mail and paid for
the commit.

Now every address does the same work: each request queues exactly one mail in one committed
transaction (a reset link, a confirmation link, or a notice that there is no such account).
The test takes many interleaved samples in process, where there is no network noise to hide
behind, and fails if a single request says more than THRESHOLD about whether the address has
an account: the accuracy of the best possible threshold classifier on the two samples.
"""

from __future__ import annotations

import random
import statistics
import time

import pytest

from tests.helpers import csrf_token, make_user, outbox

# A coin toss is 50%. With SAMPLES per side, the best threshold found on the data itself
# reaches about 53% on identical distributions, and above 56% once in a thousand runs; 60% is
# far from that noise and far below the 84% and 94% the audit measured.
THRESHOLD = 0.60
SAMPLES = 600
WARM_UP = 20


def best_threshold_accuracy(known: list[float], unknown: list[float]) -> float:
    """The share of single requests the best cut-off between the two samples classifies right
    (in either direction): what an attacker timing one request at a time could reach."""
    labelled = sorted([(t, 1) for t in known] + [(t, 0) for t in unknown])
    total, known_total = len(labelled), len(known)
    best, known_below, unknown_below = 0.5, 0, 0
    for index, (value, label) in enumerate(labelled):
        known_below += label
        unknown_below += 1 - label
        if index + 1 < total and labelled[index + 1][0] == value:
            continue  # a cut can only fall between two different times
        # everything at or below the cut called "unknown", above called "known" (or the reverse)
        right = unknown_below + (known_total - known_below)
        best = max(best, right / total, (total - right) / total)
    return best


def _timed_posts(app, path: str, known_address: str) -> tuple[list[float], list[float]]:
    client = app.test_client()
    token = csrf_token(client, path)
    order = ["known", "unknown"] * (SAMPLES + WARM_UP)
    random.Random(4).shuffle(order)
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for n, kind in enumerate(order):
        email = known_address if kind == "known" else f"nobody-{n}@example.gov"
        started = time.perf_counter()
        response = client.post(path, data={"csrf_token": token, "email": email})
        elapsed = time.perf_counter() - started
        assert response.status_code == 302
        times[kind].append(elapsed * 1000)
    return times["known"][WARM_UP:], times["unknown"][WARM_UP:]


@pytest.mark.parametrize(("path", "verified"), [("/account/password/forgot", True),
                                                 ("/account/verify/resend", False)])
def test_a_single_request_cannot_tell_a_known_address_from_an_unknown_one(app, path, verified):
    make_user(app, "known@example.gov", verified=verified)
    known, unknown = _timed_posts(app, path, "known@example.gov")
    accuracy = best_threshold_accuracy(known, unknown)
    gap = statistics.median(known) - statistics.median(unknown)
    print(f"\n{path}: median known {statistics.median(known):.3f} ms, unknown {statistics.median(unknown):.3f} ms, "
          f"gap {gap:+.3f} ms, single-request accuracy {accuracy:.1%} over {len(known)}+{len(unknown)} samples")
    assert accuracy < THRESHOLD, (f"a single request tells known from unknown addresses {accuracy:.1%} of the time "
                                  f"(gap {gap:+.3f} ms)")


@pytest.mark.parametrize("path", ["/account/password/forgot", "/account/verify/resend"])
def test_every_address_gets_exactly_one_mail_and_no_other_difference(app, path):
    """The work is the same because the outcome has the same shape: one mail each."""
    make_user(app, "verified@example.gov")
    make_user(app, "unverified@example.gov", verified=False)
    make_user(app, "inactive@example.gov", active=False)
    client = app.test_client()
    token = csrf_token(client, path)
    for email in ("verified@example.gov", "unverified@example.gov", "inactive@example.gov", "nobody@example.gov"):
        before = len(outbox(app))
        assert client.post(path, data={"csrf_token": token, "email": email}).status_code == 302
        [mail] = outbox(app)[before:]
        assert mail.to_address == email


def test_the_classifier_measure_is_right():
    assert best_threshold_accuracy([2.0, 2.1, 2.2], [1.0, 1.1, 1.2]) == 1.0
    assert best_threshold_accuracy([1.0, 2.0], [1.0, 2.0]) == 0.5
    assert best_threshold_accuracy([1.0, 1.0, 1.0, 3.0], [2.0, 2.0, 2.0, 2.0]) == 0.875
