"""Issue exactly one certificate per completed enrollment, render its PDF once, verify it.

WeasyPrint is imported only when a PDF is rendered, so no other request pays for it.
"""

from __future__ import annotations

import re
import secrets
import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from portal.accounts.models import User
from portal.catalog.services import approval_status
from portal.certificates.models import Certificate
from portal.common.storage import DatabaseStorage
from portal.learning.models import Enrollment
from portal.learning.services import LearningError, attestation_of
from portal.learning.sessions import local_date
from portal.packs.model import Pack

# Numbers are read aloud over the phone and typed from paper. New ones are 16 symbols of
# Crockford's base32 (80 bits: guessing one is hopeless even without the /verify rate limit),
# in groups of four. Its alphabet has no I, L, O or U, and reads a typed O as 0 and I or L as 1.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
NUMBER_SYMBOLS = 16
# Numbers issued before: 8 symbols (40 bits) of this alphabet, PSTP-YYYY-XXXX-XXXX. They keep verifying.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
OLD_NUMBER_SYMBOLS = 8
PREFIX = "PSTP"
_TYPED = re.compile(rf"{PREFIX}(\d{{4}})([0-9A-Z]+)")


def new_certificate_number(year: int) -> str:
    body = "".join(secrets.choice(CROCKFORD) for _ in range(NUMBER_SYMBOLS))
    return f"{PREFIX}-{year}-" + "-".join(body[i:i + 4] for i in range(0, NUMBER_SYMBOLS, 4))


def normalise_number(text: str) -> str:
    """A number as typed or read aloud, in its printed form: any case, spaces or dashes or
    none between groups. Crockford's aliases apply to new numbers only (old ones may hold L)."""
    cleaned = "".join(ch for ch in (text or "").upper()[:64] if ch.isascii() and (ch.isalnum() or ch in " -\t"))
    squashed = "".join(ch for ch in cleaned if ch.isalnum())
    match = _TYPED.fullmatch(squashed)
    if match is None:
        return "-".join(cleaned.replace("\t", " ").replace("-", " ").split())[:32]
    year, body = match.groups()
    if len(body) == NUMBER_SYMBOLS:
        body = body.translate(_CROCKFORD_ALIASES)
    elif len(body) != OLD_NUMBER_SYMBOLS:
        return "-".join(cleaned.replace("\t", " ").replace("-", " ").split())[:32]
    return f"{PREFIX}-{year}-" + "-".join(body[i:i + 4] for i in range(0, len(body), 4))


def accreditation_lines(pack: Pack, completed_on: date) -> str:
    """The approvals valid on the completion date; an expired one is never printed."""
    lines = []
    for entry in pack.accreditation:
        if approval_status(entry, completed_on) == "approved":
            lines.append(f"{entry.statement} ({entry.state}), approval {entry.number}, "
                         f"{entry.credit_hours:g} credit hour{'s' if entry.credit_hours != 1 else ''}")
    return "\n".join(lines)


def certificate_for_enrollment(db: Session, enrollment_id: int) -> Certificate | None:
    return db.exec(select(Certificate).where(Certificate.enrollment_id == enrollment_id)).first()


def issue_certificate(db: Session, enrollment: Enrollment, user: User, pack: Pack, now: datetime,
                      tz: ZoneInfo) -> Certificate:
    """The enrollment's certificate, issued now if it has none. Concurrent calls get the same one:
    the unique enrollment_id decides, and the loser reads the winner's row."""
    return issue_or_find_certificate(db, enrollment, user, pack, now, tz)[0]


def issue_or_find_certificate(db: Session, enrollment: Enrollment, user: User, pack: Pack, now: datetime,
                              tz: ZoneInfo) -> tuple[Certificate, bool]:
    """(certificate, True) for the one call that issued it; (certificate, False) for every other."""
    existing = certificate_for_enrollment(db, enrollment.id)
    if existing:
        return existing, False
    if enrollment.passed_at is None:
        raise LearningError("Pass the post-test to earn a certificate.", 409)
    if attestation_of(db, enrollment.id) is None:
        raise LearningError("Attest to the honor code to receive your certificate.", 409)
    completed_on = local_date(enrollment.passed_at, tz)
    for _ in range(5):  # a clash of random numbers is astronomically rare; try again if it happens
        certificate = Certificate(
            number=new_certificate_number(enrollment.session_year), enrollment_id=enrollment.id, user_id=user.id,
            pack_id=pack.id, pack_version=pack.version, learner_name=user.name, course_title=pack.title,
            provider_name=pack.provider.name, completed_on=completed_on,
            session_year=enrollment.session_year, hours=pack.estimated_hours,
            accreditation=accreditation_lines(pack, completed_on), issued_at=now)
        db.add(certificate)
        try:
            db.commit()
            return certificate, True
        except IntegrityError:
            db.rollback()
            existing = certificate_for_enrollment(db, enrollment.id)
            if existing:
                return existing, False
    raise LearningError("The certificate could not be issued; please try again.", 503)


def find_by_number(db: Session, number: str) -> Certificate | None:
    number = normalise_number(number)
    if not number:
        return None
    return db.exec(select(Certificate).where(Certificate.number == number)).first()


def certificates_of(db: Session, user_id: int) -> list[Certificate]:
    return list(db.exec(select(Certificate).where(Certificate.user_id == user_id)
                        .order_by(Certificate.completed_on.desc(), Certificate.id.desc())).all())


def pdf_key(certificate: Certificate) -> str:
    return f"certificates/{certificate.number}.pdf"


_render_lock = threading.Lock()
_font_config = None


def render_certificate_pdf(html: str) -> bytes:
    global _font_config
    from weasyprint import HTML  # imported here: only certificate rendering pays for it
    from weasyprint.text.fonts import FontConfiguration

    # One font configuration per process: a new one per document (WeasyPrint's default) loads
    # the fonts afresh, tens of milliseconds each render. Pango's font maps are not thread-safe,
    # hence the lock; rendering is CPU-bound under the GIL, so serialising it costs no throughput.
    with _render_lock:
        if _font_config is None:
            _font_config = FontConfiguration()
        return HTML(string=html, base_url=None).write_pdf(font_config=_font_config)


def stored_pdf_or_render(db: Session, storage: DatabaseStorage, certificate: Certificate, render_html) -> bytes:
    """The stored PDF. Should it be missing (its issue was interrupted after the commit),
    render it for this response without storing: a GET changes nothing."""
    found = storage.get(db, pdf_key(certificate))
    return found[1] if found else render_certificate_pdf(render_html())


def save_pdf(db: Session, storage: DatabaseStorage, certificate: Certificate, pdf: bytes, now: datetime) -> bytes:
    """Keep a certificate's rendered PDF (rendered by the caller outside any transaction, so
    no write lock is held while WeasyPrint works)."""
    found = storage.get(db, pdf_key(certificate))
    if found:
        return found[1]
    storage.put(db, pdf_key(certificate), pdf, "application/pdf", now)
    row = db.get(Certificate, certificate.id)
    row.pdf_key = pdf_key(certificate)
    db.add(row)
    try:
        db.commit()
    except IntegrityError:  # rendered twice at once; both PDFs say the same, keep the first
        db.rollback()
        found = storage.get(db, pdf_key(certificate))
        return found[1] if found else pdf
    return pdf


def qr_svg_data_uri(url: str) -> str:
    """The QR code for web pages: a small, sharp vector."""
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=4, border=2, dark="#111")


def qr_png_data_uri(url: str) -> str:
    """The QR code for the PDF: WeasyPrint parses the SVG's path of hundreds of segments
    slowly (about a quarter of a render); it places a PNG of 4×4 pixels a module at once, and
    `image-rendering: pixelated` in pdf.html keeps its edges sharp when printed."""
    import segno

    return segno.make(url, error="m").png_data_uri(scale=4, border=2, dark="#111")
