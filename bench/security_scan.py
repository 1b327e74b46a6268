"""Run nikto and wapiti against a local portal, signed in as a seeded learner, and print each
tool's finding count. Loopback only, and bounded in time.

    python bench/security_scan.py                  # both tools, about two minutes in all
    python bench/security_scan.py --seconds 60     # a longer, deeper pass

Needs the Debian packages `wapiti` (main) and `nikto` (non-free; add the non-free component
to apt's sources first). The portal runs under gunicorn on 127.0.0.1 (bench/server.py) with
a fresh SQLite database; the learner is enrolled in the intro course, and both scanners send
the learner's session cookies, so they see the signed-in pages. The log-out form is left out
of the crawl so the session lives through the scan. The latest output is kept in
bench/README.md ("Security scan").
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import ROOT, SECRET_KEY, Server, fresh_database  # noqa: E402

PORT = 19080
LEARNER, PASSWORD = "scan.learner@example.gov", "a long passphrase for the scanner's learner"
COURSE = "intro-sro-programs"
_NIKTO_ROW = re.compile(r'"OSVDB-\d+","([A-Z]+)","([^"]*)","(.*)"\s*$')


def seed_learner(url: str, data_dir: str) -> None:
    """The learner account, made with the portal's own hasher, confirmed."""
    from portal import create_app
    from portal.accounts.models import User

    app = create_app({"DATABASE_URL": url, "PORTAL_DATA_DIR": data_dir, "SECRET_KEY": SECRET_KEY,
                      "PORTAL_BASE_URL": f"http://127.0.0.1:{PORT}", "RATELIMIT_ENABLED": False})
    s = app.extensions["portal"]
    now = s.clock.now()
    with s.database.session() as db:
        db.add(User(email=LEARNER, name="Scan Learner", password_hash=s.hasher.hash(PASSWORD), created_at=now,
                    password_changed_at=now, email_verified_at=now))
        db.commit()
    s.database.dispose()


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def sign_in_and_enroll(base: str) -> dict[str, str]:
    """Log the learner in over HTTP, enroll in the course, and return the cookies."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def post(path: str, form_page: str, data: dict) -> None:
        token = _csrf(opener.open(base + form_page, timeout=10).read().decode())
        body = urllib.parse.urlencode({"csrf_token": token, **data}).encode()
        request = urllib.request.Request(base + path, data=body, headers={"Referer": base + form_page})
        opener.open(request, timeout=10).read()

    post("/account/login", "/account/login", {"email": LEARNER, "password": PASSWORD})
    post(f"/courses/{COURSE}/enroll", f"/courses/{COURSE}", {})
    cookies = {c.name: c.value for c in jar}
    if not any("session" in name for name in cookies):
        raise RuntimeError(f"log-in gave no session cookie: {sorted(cookies)}")
    if opener.open(base + "/account/profile", timeout=10).geturl().endswith("/account/login"):
        raise RuntimeError("the learner is not signed in")
    return cookies


def run_wapiti(base: str, cookies: dict[str, str], seconds: int, out: Path) -> tuple[int, Counter, Counter]:
    report = out / "wapiti.json"
    cookie_header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    # (gzip only: the Debian wapiti advertises br without decoding it, and then finds no links)
    command = ["wapiti", "-u", base + "/", "--scope", "folder", "-H", f"Cookie: {cookie_header}",
               "-H", "Accept-Encoding: gzip",
               # the crawl is bounded by --max-scan-time; each of the ~20 attack modules by its own
               "--max-scan-time", str(seconds), "--max-attack-time", str(max(2, seconds // 8)), "--flush-session", "-t", "10", "-f", "json", "-o", str(report),
               "-v", "0", "--store-session", str(out / "wapiti-session")]
    started = time.monotonic()
    with open(out / "wapiti.log", "wb") as log:
        subprocess.run(command, cwd=out, stdout=log, stderr=subprocess.STDOUT, timeout=seconds * 3 + 60, check=False)
    took = time.monotonic() - started
    if not report.exists():
        print((out / "wapiti.log").read_text(errors="replace")[-2000:])
    data = json.loads(report.read_text()) if report.exists() else {}
    vulnerabilities = Counter({k: len(v) for k, v in data.get("vulnerabilities", {}).items() if v})
    anomalies = Counter({k: len(v) for k, v in data.get("anomalies", {}).items() if v})
    print(f"wapiti {took:.0f} s: {sum(vulnerabilities.values())} vulnerabilities, "
          f"{sum(anomalies.values())} anomalies (5xx, timeouts)")
    for name, count in sorted((vulnerabilities + anomalies).items()):
        print(f"  {count:4d}  {name}")
    return sum(vulnerabilities.values()) + sum(anomalies.values()), vulnerabilities, anomalies


def run_nikto(base: str, cookies: dict[str, str], seconds: int, out: Path) -> tuple[int, list[str]]:
    config = out / "nikto.conf"
    text = Path("/etc/nikto/config.txt").read_text()
    text = re.sub(r"(?m)^UPDATES=.*$", "UPDATES=no", text)  # never call home: loopback only
    text += "\nSTATIC-COOKIE=" + ";".join(f'"{k}"="{v}"' for k, v in cookies.items()) + "\n"
    config.write_text(text)
    report = out / "nikto.csv"
    host = urllib.parse.urlsplit(base)
    command = ["nikto", "-config", str(config), "-host", host.hostname, "-port", str(host.port), "-nolookup",
               "-ask", "no", "-maxtime", f"{seconds}s", "-timeout", "10", "-Format", "csv", "-output", str(report)]
    started = time.monotonic()
    subprocess.run(command, cwd=out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=seconds * 3 + 60, check=False)
    took = time.monotonic() - started
    findings = []
    if report.exists():
        # (nikto 2.1.5 writes a broken host column into its CSV: read the last three fields)
        for line in report.read_text(errors="replace").splitlines():
            match = _NIKTO_ROW.search(line)
            if match:
                findings.append(" ".join(match.groups()))
    print(f"nikto {took:.0f} s: {len(findings)} findings")
    for finding in findings:
        print(f"  - {finding}")
    return len(findings), findings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=25,
                        help="nikto's time, and wapiti's crawl (each attack module gets an eighth); default 25")
    parser.add_argument("--keep", help="keep the reports in this folder")
    args = parser.parse_args()
    missing = [tool for tool in ("wapiti", "nikto") if shutil.which(tool) is None]
    if missing:
        print(f"missing: {', '.join(missing)} (apt-get install wapiti nikto; nikto is in Debian's non-free)")
        return 2
    out = Path(args.keep or tempfile.mkdtemp(prefix="portal-scan-"))
    out.mkdir(parents=True, exist_ok=True)
    url = fresh_database(f"sqlite:///{out / 'scan.db'}")
    seed_learner(url, str(out / "seed-data"))
    with Server(url, workers=1, threads=4, port=PORT) as server:
        base = server.base_url
        assert base.startswith("http://127.0.0.1:"), base  # loopback only
        cookies = sign_in_and_enroll(base)
        print(f"portal at {base}, signed in as {LEARNER} (cookies: {', '.join(sorted(cookies))})")
        wapiti_count, _, _ = run_wapiti(base, cookies, args.seconds, out)
        nikto_count, _ = run_nikto(base, cookies, args.seconds, out)
        errors = [line for line in server.log_tail(10_000).splitlines() if " 500 " in line or "Traceback" in line]
        print(f"server log: {len(errors)} lines with a 500 or a traceback")
    print(f"findings: wapiti {wapiti_count}, nikto {nikto_count}; reports in {out}")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
