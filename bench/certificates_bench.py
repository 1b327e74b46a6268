"""Certificate PDFs: the first render in a fresh process (WeasyPrint's import included), a
warm render, serving a stored PDF over HTTP next to a static asset of similar size, and
the PDF's size.

    .venv/bin/python bench/certificates_bench.py [DATABASE_URL]

Goals: a warm render of at most 150 ms, a stored certificate served about as fast as a
static file, at most 50 KB a PDF, and WeasyPrint imported only when a certificate is
rendered (tests/perf/test_lazy_weasyprint.py checks the last two).
"""

from __future__ import annotations

import http.client
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _live  # noqa: E402

FRESH_PROCESSES = 3
WARM_RENDERS = 20
REQUESTS = 300

# Run in a new interpreter: the clock starts before the portal's renderer is even imported.
FIRST_RENDER = """
import sys, time
began = time.perf_counter()
from portal.certificates.services import render_certificate_pdf
imported = time.perf_counter()
import weasyprint
weasyprint_imported = time.perf_counter()
render_certificate_pdf(open(sys.argv[1]).read())
done = time.perf_counter()
print(imported - began, weasyprint_imported - imported, done - weasyprint_imported, done - began)
"""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def certificate_html(app, number: str) -> str:
    """The HTML the portal hands WeasyPrint for this certificate, QR code and all."""
    from portal.certificates import services as certificates
    from portal.certificates.views import _pdf_html

    with app.test_request_context():
        with app.extensions["portal"].database.session() as db:
            return _pdf_html(certificates.find_by_number(db, number))()


def first_renders(html: str) -> list[tuple[float, ...]]:
    with tempfile.NamedTemporaryFile("w", suffix=".html") as page:
        page.write(html)
        page.flush()
        runs = []
        for _ in range(FRESH_PROCESSES):
            out = subprocess.run([sys.executable, "-c", FIRST_RENDER, page.name], cwd=ROOT, check=True,
                                 capture_output=True, text=True).stdout.split()
            runs.append(tuple(float(x) for x in out))
        return runs


def warm_renders(app, number: str) -> tuple[list[float], list[float], bytes]:
    """(render times, times of template and QR code, the last PDF)."""
    from portal.certificates.services import render_certificate_pdf

    html = certificate_html(app, number)
    pdf = render_certificate_pdf(html)  # warm up
    renders, templates = [], []
    for _ in range(WARM_RENDERS):
        began = time.perf_counter()
        html = certificate_html(app, number)
        middle = time.perf_counter()
        pdf = render_certificate_pdf(html)
        templates.append(middle - began)
        renders.append(time.perf_counter() - middle)
    return renders, templates, pdf


class Browser:
    """One keep-alive HTTP connection holding the session cookie, like a browser's."""

    def __init__(self, base: str):
        self.connection = http.client.HTTPConnection(urlsplit(base).netloc)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response, data

    def sign_in(self, email: str) -> None:
        _, page = self.request("GET", "/account/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
        response, _ = self.request("POST", "/account/login", urlencode(
            {"csrf_token": token, "email": email, "password": _live.PASSWORD}))
        assert response.status in (302, 303), f"{email} could not sign in: {response.status}"

    def timed(self, path: str, headers: dict | None = None) -> tuple[list[float], int, str]:
        times, size, encoding = [], 0, ""
        for _ in range(REQUESTS):
            began = time.perf_counter()
            response, data = self.request("GET", path, headers=headers)
            times.append(time.perf_counter() - began)
            assert response.status == 200, (path, response.status)
            size, encoding = len(data), response.headers.get("Content-Encoding", "")
        return times, size, encoding


def main(database_url: str | None = None) -> None:
    from portal.common.assets import asset_url

    with _live.live_portal(database_url) as (app, base, seeded):
        number = seeded["certificate"]
        html = certificate_html(app, number)
        print(f"Certificate {number}: {len(html):,} B of HTML for WeasyPrint\n")

        runs = first_renders(html)
        print(f"first render in a fresh process (median of {FRESH_PROCESSES}):")
        for label, column in (("import the portal's services", 0), ("import WeasyPrint", 1), ("first render", 2),
                              ("total, from a cold start", 3)):
            print(f"  {label:28} {ms(statistics.median(r[column] for r in runs))}")

        renders, templates, pdf = warm_renders(app, number)
        print(f"warm (median of {WARM_RENDERS}; fastest in brackets):")
        print(f"  {'template and QR code':28} {ms(statistics.median(templates))}  ({ms(min(templates)).strip()})")
        print(f"  {'WeasyPrint render':28} {ms(statistics.median(renders))}  ({ms(min(renders)).strip()})")
        print(f"{'PDF size':30} {len(pdf):8,} B")

        browser = Browser(base)
        browser.sign_in(_live.CASEY)
        static = asset_url("htmx.min.js")  # br-compressed it is about the PDF's size
        browser.timed(seeded["pdf"])  # warm up both paths
        browser.timed(static, {"Accept-Encoding": "br"})
        stored, stored_size, _ = browser.timed(seeded["pdf"])
        asset, asset_size, encoding = browser.timed(static, {"Accept-Encoding": "br"})
        print(f"\nover HTTP, median of {REQUESTS} requests on one keep-alive connection (p90 in brackets):")
        for name, times, size in (("stored certificate PDF", stored, stored_size),
                                  (f"static asset ({encoding})", asset, asset_size)):
            p90 = statistics.quantiles(times, n=10)[-1]
            print(f"  {name:28} {ms(statistics.median(times))}  ({ms(p90).strip()})  {size:,} B")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
