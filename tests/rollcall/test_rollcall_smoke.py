"""Roll call through the test client: series, projector, log a showing, history, CSV."""

import csv
import io
import zipfile

from tests.helpers import log_in, make_user, submit

SERIES = "rollcall-school-safety"


def test_series_projector_log_history_and_export(client, app):
    pack = app.extensions["packs"].get(SERIES)
    episode = pack.lessons[0]
    page = client.get(f"/series/{SERIES}").get_data(as_text=True)
    assert "Whole series, one file (ZIP)" in page and "Projector mode" in page
    projector = client.get(f"/series/{SERIES}/{episode.id}/projector").get_data(as_text=True)
    assert 'class="projector"' in projector and "<header" not in projector
    assert 'preload="none"' in projector and "autoplay" not in projector and 'kind="captions"' in projector
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/series/{SERIES}/download.zip").data))
    assert sum(name.endswith(".mp4") for name in archive.namelist()) == len(pack.lessons)

    make_user(app, email="trainer@example.gov", name="Sgt. Trainer", agency="Elm City PD")
    officer = make_user(app, email="officer@example.gov", name="Ofc. Present")
    log_in(client, "trainer@example.gov")
    url = f"/series/{SERIES}/{episode.id}/log"
    response = submit(client, url, {"shown_on": "2026-06-15", "agency": "Elm City PD", "officers_present": "12",
                                     "attendees": "officer@example.gov, nobody@example.gov", "notes": "=cmd()"})
    assert response.status_code == 303
    exported = client.get("/rollcall/log.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert rows[0]["agency"] == "Elm City PD" and rows[0]["officers_present"] == "12"
    assert rows[0]["portal_accounts_listed"] == "2" and rows[0]["notes"] == "'=cmd()"

    other = app.test_client()
    log_in(other, "officer@example.gov")
    assert episode.title in other.get("/my/roll-calls").get_data(as_text=True)
    assert "Elm City PD" not in other.get("/rollcall/log").get_data(as_text=True)
    assert officer.id


def test_resources_are_found_by_the_catalog_search(client):
    page = client.get("/catalog?q=threat").get_data(as_text=True)
    assert "National Threat Assessment Center" in page
    assert "REMS" in client.get("/resources?q=emergency").get_data(as_text=True)
