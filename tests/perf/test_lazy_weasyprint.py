"""WeasyPrint (over a second to import) loads only when a certificate is rendered: a fresh
process serves pages, verification and a stored certificate PDF without it, and imports it
on issuing a certificate. The PDF it issues is small and its QR code is the verify link."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from bench import _live
from portal.certificates import services as certificates
from portal.common.clock import FrozenClock
from tests.helpers import log_in, make_user, services
from tests.learning.journey import COURSE, complete_all_lessons, enroll, take_test_scoring

ROOT = Path(__file__).resolve().parents[2]
SAM = "sam@example.gov"
PDF_BUDGET = 50 * 1024


@pytest.fixture
def app_config(app_config):
    """The app on a clock the seed can move: it earns a certificate in last year's session."""
    return {**app_config, "CLOCK": FrozenClock(datetime.now(UTC).replace(microsecond=0))}


# Runs in a new interpreter, so nothing the test process imported can hide an eager import.
SERVE_THEN_ISSUE = r"""
import json, sys
from portal import create_app
from tests.helpers import log_in, submit

given = json.loads(sys.argv[1])
app = create_app(given["config"])
def weasyprint_loaded():
    return sorted(m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint."))
result = {"after_start": weasyprint_loaded(), "statuses": {}}
visitor, casey = app.test_client(), app.test_client()
for path in given["public"]:
    result["statuses"][path] = visitor.get(path).status_code
log_in(casey, given["casey"], given["password"])
for path in given["learner"]:
    response = casey.get(path)
    result["statuses"][path] = response.status_code
    if path.endswith(".pdf"):
        result["pdf_starts"] = response.data[:5].decode("latin-1")
result["after_serving"] = weasyprint_loaded()
sam = app.test_client()
log_in(sam, given["sam"], given["password"])
issued = submit(sam, given["honor_code"], {"answer": "yes"})
result["issue"] = [issued.status_code, issued.location]
result["after_issue"] = weasyprint_loaded()
print(json.dumps(result))
"""


def passed_not_attested(app) -> None:
    """Sam has passed the post-test; attesting to the honor code will issue the certificate."""
    make_user(app, SAM, name="Sam Ortiz", password=_live.PASSWORD)
    sam = app.test_client()
    log_in(sam, SAM, _live.PASSWORD)
    assert enroll(sam).status_code == 303
    take_test_scoring(sam, app, "pre", 5, SAM)
    complete_all_lessons(sam, app)
    take_test_scoring(sam, app, "post", 10, SAM)


def qr_matches(pdf: bytes, url: str) -> bool:
    """The PDF's one image is, pixel for pixel, the QR code of `url`."""
    import segno

    [image] = list(PdfReader(io.BytesIO(pdf)).pages[0].images)
    picture = image.image.convert("L")
    modules = [list(row) for row in segno.make(url, error="m").matrix_iter(scale=4, border=2)]
    if picture.size != (len(modules[0]), len(modules)):
        return False
    return all((picture.getpixel((x, y)) < 128) == bool(dark)
               for y, row in enumerate(modules) for x, dark in enumerate(row))


def test_weasyprint_loads_only_to_render_a_certificate(app, app_config):
    seeded = _live.seed(app)
    passed_not_attested(app)
    number = seeded["certificate"]
    given = {
        "config": {k: v for k, v in app_config.items() if k != "CLOCK"},
        "public": ["/", "/catalog", f"/courses/{COURSE}", f"/verify/{number}", f"/verify?number={number}"],
        "learner": [seeded["lesson"], "/my/certificates", f"/certificates/{number}", seeded["pdf"]],
        "casey": _live.CASEY, "sam": SAM, "password": _live.PASSWORD,
        "honor_code": f"/learn/{COURSE}/honor-code",
    }
    done = subprocess.run([sys.executable, "-c", SERVE_THEN_ISSUE, json.dumps(given)], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["after_start"] == [], result
    # /verify?number= redirects to the canonical verify page.
    expected = {path: 200 for path in given["public"] + given["learner"]} | {f"/verify?number={number}": 302}
    assert result["statuses"] == expected
    assert result["pdf_starts"] == "%PDF-"
    assert result["after_serving"] == [], "serving pages or a stored PDF imported WeasyPrint"
    status, location = result["issue"]
    assert status == 303 and "/certificates/PSTP-" in location, result["issue"]
    assert "weasyprint" in result["after_issue"], "issuing a certificate should have rendered its PDF"

    issued = location.rsplit("/", 1)[-1]
    s = services(app)
    with s.database.session() as db:
        stored = s.storage.get(db, certificates.pdf_key(certificates.find_by_number(db, issued)))
    assert stored is not None, "the issued certificate's PDF was not stored"
    info, pdf = stored
    assert pdf.startswith(b"%PDF-") and info.content_type == "application/pdf"
    assert len(pdf) <= PDF_BUDGET, f"the certificate PDF is {len(pdf):,} B, budget {PDF_BUDGET:,}"
    verify_url = f"{app_config['PORTAL_BASE_URL']}/verify/{issued}"
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert "Sam Ortiz" in text and issued in text and verify_url in text, text
    assert qr_matches(pdf, verify_url), "the PDF's QR code does not encode the verify link"
