"""Audit finding 6: certificate numbers carried 40 bits a year and `/verify/<number>` had no
rate limit (213 guesses a second from one client; a hit shows name, course and date).

New numbers carry 80 bits in Crockford base32 (no I, L, O or U; typed O, I and L are read as
0, 1 and 1), grouped in fours, case-insensitive, spaces as good as dashes; numbers issued
before keep verifying; `/verify` allows VERIFY_LIMIT per client address.
"""

from __future__ import annotations

import math
import re

from sqlalchemy import text

from portal.certificates import services as certificates
from portal.certificates.views import VERIFY_LIMIT
from tests.helpers import services

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NEW_NUMBER = re.compile(r"^PSTP-(\d{4})((?:-[0-9A-HJKMNP-TV-Z]{4}){4})$")


def test_new_numbers_carry_at_least_80_bits_in_unambiguous_groups():
    numbers = {certificates.new_certificate_number(2026) for _ in range(3000)}
    assert len(numbers) == 3000
    body_symbols = set()
    for number in numbers:
        match = NEW_NUMBER.match(number)
        assert match and match.group(1) == "2026", number
        body_symbols.update(match.group(2).replace("-", ""))
    assert body_symbols == set(CROCKFORD)  # every symbol turns up; nothing outside the alphabet
    assert 16 * math.log2(len(CROCKFORD)) >= 80
    assert not set("ILOU") & body_symbols


def _number_of(world, who="certificate") -> str:
    return world.ids[who]


def test_the_issued_number_verifies_however_it_is_typed(world):
    number = _number_of(world)
    assert NEW_NUMBER.match(number), number
    public = world.app.test_client()
    groups = number.split("-")
    spoken = " ".join(groups).lower()                        # read aloud, typed with spaces
    squashed = "".join(groups)                                # no separators at all
    misread = number[:10] + number[10:].replace("0", "O").replace("1", "l")  # O for zero, l for one
    for typed in (spoken, squashed, misread, f"  {number.lower()}\t", " - ".join(groups)):
        response = public.get("/verify", query_string={"number": typed})
        assert response.status_code == 302 and response.location.endswith(f"/verify/{number}"), typed
        assert public.get(response.location).status_code == 200
    assert public.get(f"/verify/{spoken.replace(' ', '%20')}").status_code == 200


def test_numbers_issued_before_keep_verifying(world):
    old = "PSTP-2025-ABCD-EFGH"  # the 40-bit format: 8 symbols of 23456789ABCDEFGHJKLMNPQRSTUVWXYZ
    with services(world.app).database.engine.begin() as connection:
        connection.execute(text("UPDATE certificate SET number = :old WHERE number = :number"),
                           {"old": old, "number": _number_of(world)})
    public = world.app.test_client()
    for typed in (old, old.lower(), "pstp 2025 abcd efgh", "PSTP2025ABCDEFGH"):
        response = public.get("/verify", query_string={"number": typed})
        assert response.status_code == 302 and response.location.endswith(f"/verify/{old}"), typed
        assert "Valid" in public.get(response.location).get_data(as_text=True)


def test_verify_is_rate_limited_per_client(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    per_minute = int(VERIFY_LIMIT.split(" per minute")[0])
    guesser = app.test_client()
    statuses = [guesser.get(f"/verify/PSTP-2026-{i:04d}-0000-0000-0000").status_code for i in range(per_minute)]
    assert statuses == [404] * per_minute
    refused = guesser.get("/verify/PSTP-2026-ZZZZ-0000-0000-0000")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    # the form and the address share one budget: a guesser cannot switch between them
    assert guesser.get("/verify", query_string={"number": "PSTP-2026-ZZZZ-ZZZZ-ZZZZ-ZZZZ"}).status_code == 429
    other = app.test_client()
    assert other.get("/verify/PSTP-2026-ZZZZ-0000-0000-0000",
                     environ_base={"REMOTE_ADDR": "127.0.0.9"}).status_code == 404


def test_crockford_aliases_apply_to_new_numbers_only():
    assert certificates.normalise_number("pstp 2026 oooo iiii llll 0a0b") == "PSTP-2026-0000-1111-1111-0A0B"
    assert certificates.normalise_number("PSTP-2025-LLLL-OOOO") == "PSTP-2025-LLLL-OOOO"  # an old number as printed
    assert certificates.normalise_number("PSTP-2026-<script>") == "PSTP-2026-SCRIPT"
    assert len(certificates.normalise_number("x" * 500)) <= 32
