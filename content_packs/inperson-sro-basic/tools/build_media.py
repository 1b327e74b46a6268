#!/usr/bin/env python3
"""Regenerate the downloads of the ``inperson-sro-basic`` content pack.

This in-person course listing has no video. The only generated file is

* ``pack/downloads/course-flyer.pdf``: a printable flyer built from ``pack/pack.yaml``
  (title, summary, description, session dates, registration link), so the flyer
  can never disagree with the listing.

Rebuild it after you edit ``pack.yaml``.

Requirements
------------
* DejaVu fonts (Debian: ``fonts-dejavu-core``)
* Python 3.11+ with ``weasyprint``, ``markdown-it-py`` and ``pyyaml``, e.g.::

      python3 -m venv /tmp/packvenv
      /tmp/packvenv/bin/pip install weasyprint markdown-it-py pyyaml
      /tmp/packvenv/bin/python tools/build_media.py

The page frame is shared with the other bundled packs: ``content_packs/tools/packmedia.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT.parent / "tools"))  # the shared packmedia build tool

import packmedia  # noqa: E402

PACK = ROOT / "portal_pack_inperson_sro_basic" / "pack"
DOWNLOADS = PACK / "downloads"

CSS = """
.banner { background: #1f4e3d; color: white; padding: 14pt 16pt; margin-bottom: 12pt; }
.banner .provider { font-size: 9pt; letter-spacing: 0.5pt; text-transform: uppercase; color: #cfe6dc; }
.banner h1 { font-size: 20pt; margin: 4pt 0 4pt 0; }
.banner p { margin: 0; font-size: 10pt; color: #eef6f2; }
h2 { font-size: 12pt; color: #1f4e3d; margin: 12pt 0 4pt 0; page-break-after: avoid; }
p { margin: 0 0 6pt 0; }
ul { margin: 0 0 6pt 0; padding-left: 16pt; }
li { margin-bottom: 2pt; }
table.sessions { width: 100%; border-collapse: collapse; margin: 4pt 0 10pt 0; }
table.sessions th { text-align: left; background: #e4efe9; color: #1f4e3d; padding: 4pt 6pt; }
table.sessions td { border-bottom: 1px solid #d5e2db; padding: 4pt 6pt; }
.register { border: 2px solid #1f4e3d; padding: 8pt 10pt; margin: 8pt 0 12pt 0; }
.register strong { color: #1f4e3d; }
a { color: #1f4e3d; }
"""


def fmt_date(value) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return f"{value:%A, %B} {value.day}, {value.year}"


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    import yaml

    manifest = yaml.safe_load((PACK / "pack.yaml").read_text(encoding="utf-8"))
    provider = manifest["provider"]
    in_person = manifest["in_person"]
    esc = html.escape

    rows = "".join(
        f"<tr><td>{esc(s['location'])}</td><td>{fmt_date(s['starts'])}</td><td>{fmt_date(s['ends'])}</td></tr>"
        for s in in_person["sessions"]
    )
    url = esc(in_person["registration_url"])
    body = f"""
<div class="banner">
  <div class="provider">{esc(provider['name'])}</div>
  <h1>{esc(manifest['title'])}</h1>
  <p>{esc(manifest['summary'])}</p>
</div>
<h2>Sessions</h2>
<table class="sessions">
  <tr><th>Location</th><th>Starts</th><th>Ends</th></tr>
  {rows}
</table>
<div class="register">
  <strong>Register online:</strong> <a href="{url}">{url}</a><br>
  <strong>Questions:</strong> {esc(provider['contact'])} &middot; {esc(provider['website'])}<br>
  <strong>Length:</strong> {manifest['estimated_hours']} hours over five days
</div>
{packmedia.markdown_to_html(manifest['description'])}
"""
    packmedia.write_pdf(body, DOWNLOADS / "course-flyer.pdf", title=esc(manifest["title"]),
                        footer=f"{provider['name']} \u00b7 {provider['website']}", css=CSS, base_url=PACK,
                        margin="0.7in 0.8in 0.8in 0.8in")


if __name__ == "__main__":
    main()
