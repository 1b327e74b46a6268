"""Annual in-service hours per officer against the requirement the agency sets (issue 17),
e.g. Utah POST's 40 hours from July 1 to June 30: the members page shows each officer's
portal certificate hours in the current training year, those furthest behind first. The
clock is frozen on 2026-06-15, so Utah's training year is July 1, 2025 to June 30, 2026."""

from __future__ import annotations

from datetime import date

import pytest

from portal_agencies.services import training_year
from tests.agencies.support import Agency, add_member, get, new_agency, signed_in, table_rows
from tests.agencies.test_post_export import give_certificate
from tests.helpers import submit


@pytest.mark.parametrize("start,today,first,last", [
    (1, date(2026, 6, 15), date(2026, 1, 1), date(2026, 12, 31)),
    (7, date(2026, 6, 15), date(2025, 7, 1), date(2026, 6, 30)),
    (7, date(2026, 7, 1), date(2026, 7, 1), date(2027, 6, 30)),
    (3, date(2024, 2, 29), date(2023, 3, 1), date(2024, 2, 29)),
])
def test_the_training_year(start, today, first, last):
    assert training_year(start, today) == (first, last)


def test_members_are_sorted_by_who_is_behind_the_agencys_requirement(frozen_app):
    agency = new_agency(frozen_app)
    add_member(frozen_app, agency, "ahead@example.gov", name="Ofc. Ahead")
    add_member(frozen_app, agency, "behind@example.gov", name="Ofc. Behind")
    give_certificate(frozen_app, "ahead@example.gov", "C-1", hours=30, completed=date(2025, 9, 1))
    give_certificate(frozen_app, "ahead@example.gov", "C-2", hours=12, completed=date(2026, 6, 1))
    give_certificate(frozen_app, "behind@example.gov", "C-3", hours=8, completed=date(2026, 1, 10))
    give_certificate(frozen_app, "behind@example.gov", "C-4", hours=20, completed=date(2025, 6, 30))  # last year
    coord = signed_in(frozen_app, "coord@example.gov")
    response = submit(coord, f"/agencies/{agency}/settings", {"program_manager_email": "pm@cops.example.gov",
                                                              "annual_hours_required": "40",
                                                              "training_year_start_month": "7"})
    assert response.status_code == 303
    saved = get(frozen_app, Agency, agency)
    assert (saved.annual_hours_required, saved.training_year_start_month) == (40, 7)
    table = table_rows(coord.get(f"/agencies/{agency}/members"))
    assert table[0][6] == "Hours July 1, 2025 to June 30, 2026"
    assert [(row[0], row[6]) for row in table[1:]] == [
        ("Lt. Coordinator", "0 of 40 (40 behind)"),
        ("Ofc. Behind", "8 of 40 (32 behind)"),
        ("Ofc. Ahead", "42 of 40"),
    ]


@pytest.mark.parametrize("hours", ["-1", "401", "forty"])
def test_a_requirement_outside_0_to_400_is_refused(frozen_app, hours):
    agency = new_agency(frozen_app)
    coord = signed_in(frozen_app, "coord@example.gov")
    response = submit(coord, f"/agencies/{agency}/settings", {"annual_hours_required": hours,
                                                              "training_year_start_month": "7"})
    assert response.status_code == 422
    assert get(frozen_app, Agency, agency).annual_hours_required == 0
