"""State POST exports through the `portal_post_export_formats` hook (issue 17): the agency's
members' portal certificates, with credit hours, as the generic CSV this plugin defines; a
format a plugin adds appears beside it; malformed or duplicate formats are errors."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest

from portal.certificates.models import Certificate
from portal_agencies.post_export import ExportFormatError, export_formats
from tests.agencies.support import add_member, new_agency, page_text, signed_in
from tests.helpers import get_user, make_user, services


@pytest.fixture
def agency(frozen_app) -> int:
    return new_agency(frozen_app)


def give_certificate(app, email, number, title="An Introduction to SRO Programs", hours=4.0, completed=date(2026, 5, 2)):
    from portal.learning.models import Enrollment

    user = get_user(app, email)
    now = datetime(2026, 6, 15, 14, tzinfo=timezone.utc)
    with services(app).database.session() as db:
        enrollment = Enrollment(user_id=user.id, pack_id=f"pack-{number}", pack_version="1.0.0", session_year=2026,
                                enrolled_at=now)
        db.add(enrollment)
        db.flush()
        db.add(Certificate(number=number, enrollment_id=enrollment.id, user_id=user.id, pack_id=f"pack-{number}",
                           pack_version="1.0.0", learner_name=user.name, course_title=title, provider_name="NASRO",
                           completed_on=completed, session_year=2026, hours=hours,
                           accreditation="Utah POST: 4 hours\nAZ POST: 4 hours", issued_at=now))
        db.commit()


def test_the_generic_csv_lists_each_members_certificates_with_hours(frozen_app, agency):
    add_member(frozen_app, agency, "rivera@example.gov", name="=Ofc. Rivera")
    make_user(frozen_app, email="outsider@example.gov", name="Not A Member")
    give_certificate(frozen_app, "rivera@example.gov", "C-1", hours=4.0)
    give_certificate(frozen_app, "rivera@example.gov", "C-2", title="School Safety", hours=1.5,
                     completed=date(2026, 6, 1))
    give_certificate(frozen_app, "outsider@example.gov", "C-3")
    coord = signed_in(frozen_app, "coord@example.gov")
    page = page_text(coord.get(f"/agencies/{agency}/members"))
    assert "Training records (generic CSV)" in page
    response = coord.get(f"/agencies/{agency}/post-export.csv?format=generic-csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert rows == [
        ["officer_name", "officer_email", "course_title", "provider", "completed_on", "hours", "certificate_number",
         "session_year", "accreditation"],
        ["'=Ofc. Rivera", "rivera@example.gov", "An Introduction to SRO Programs", "NASRO", "2026-05-02", "4", "C-1",
         "2026", "Utah POST: 4 hours; AZ POST: 4 hours"],
        ["'=Ofc. Rivera", "rivera@example.gov", "School Safety", "NASRO", "2026-06-01", "1.5", "C-2", "2026",
         "Utah POST: 4 hours; AZ POST: 4 hours"],
    ]


def test_an_unknown_format_and_another_agency_are_404(frozen_app, agency):
    coord = signed_in(frozen_app, "coord@example.gov")
    assert coord.get(f"/agencies/{agency}/post-export.csv?format=utah-post").status_code == 404
    other = new_agency(frozen_app, name="Oak Town PD", coordinator="oak@example.gov")
    assert coord.get(f"/agencies/{other}/post-export.csv").status_code == 404


def test_formats_from_plugins_are_collected_and_checked():
    def columns(records):
        return ["a"], [[len(records)]]

    extra = {"id": "state-x", "label": "State X", "source": "https://example.gov/spec", "columns": columns}
    from portal_agencies.post_export import GENERIC_CSV

    assert list(export_formats([[GENERIC_CSV], [extra]])) == ["generic-csv", "state-x"]
    with pytest.raises(ExportFormatError, match="two POST export formats use the id 'generic-csv'"):
        export_formats([[GENERIC_CSV], [GENERIC_CSV]])
    with pytest.raises(ExportFormatError, match="lacks source"):
        export_formats([[{"id": "x", "label": "X", "columns": columns}]])
