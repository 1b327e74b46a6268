"""Lessons of a course pack made of a cmi5 AU or a SCORM 1.2 SCO.

In pack.yaml a lesson names, instead of `file:`, the package it is made of (a zip inside the
pack) and which unit of it is the lesson:

    - id: use-of-force
      title: Use of force
      minutes: 25
      cmi5: {package: packages/use-of-force.zip, au: "https://academy.example.gov/au/uof-1"}
    - id: report-writing
      title: Report writing
      minutes: 30
      scorm: {package: packages/report-writing.zip, sco: "item-1"}

`au` / `sco` may be left out when the package has one unit. The package is checked by the
same importer as an upload. The lesson is complete when the package says so (cmi5 moveOn
evaluated by the portal; SCORM lesson_status completed or passed); the learner cannot mark it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from portal.standards.archive import Limits
from portal.standards.importer import PackageRefused, Upload, import_package, read_package
from portal.standards.models import StdPackage

KINDS = {"cmi5": ("cmi5", "au", "AU"), "scorm": ("scorm12", "sco", "SCO")}
# A fixed namespace: the same package file gets the same id on every host.
_NAMESPACE = uuid.UUID("6f1c0d3e-5b7a-4e8e-9d2a-1c3b5e7f9a10")


@dataclass(frozen=True)
class PackageLesson:
    standard: str  # cmi5 | scorm12
    file: str  # the package zip, inside the pack
    unit_id: str  # the AU id, or the SCORM item identifier
    unit_index: int
    sha256: str


def package_lesson(c, item: dict, path: tuple) -> PackageLesson | None:
    """Read and check a lesson's `cmi5:` or `scorm:` entry with the validator's checker `c`."""
    for key, (standard, unit_key, label) in KINDS.items():
        if item.get(key) is None:
            continue
        entry = c.mapping(item[key], path + (key,))
        file = c.file(entry, "package", path + (key,))
        unit = c.text(entry, unit_key, path + (key,), required=False, max_len=2000)
        if not file:
            return None
        data = (c.root / file).read_bytes()
        limits = Limits(max_file_bytes=c.max_file_bytes, max_total_bytes=max(c.max_file_bytes, len(data)) * 8)
        try:
            found, structure, _ = read_package(Upload(data, "application/zip", file), limits)
        except PackageRefused as error:
            c.fail(path + (key, "package"), f"{file} is not a package the portal can import: {error}")
            return None
        if found != standard:
            other = "scorm" if key == "cmi5" else "cmi5"
            c.fail(path + (key, "package"), f"{file} is a {'SCORM 1.2' if found == 'scorm12' else 'cmi5'} package: "
                                            f"list it under `{other}:`")
            return None
        units = structure["aus"]
        if unit:
            matches = [u for u in units if u["publisher_id"] == unit]
            if not matches:
                c.fail(path + (key, unit_key), f"{file} has no {label} {unit!r}; it has "
                                               + ", ".join(repr(u["publisher_id"]) for u in units[:5]))
                return None
            chosen = matches[0]
        elif len(units) == 1:
            chosen = units[0]
        else:
            c.fail(path + (key,), f"{file} has {len(units)} {label}s: name the lesson's with `{unit_key}:`")
            return None
        return PackageLesson(standard, file, chosen["publisher_id"], chosen["index"],
                             hashlib.sha256(data).hexdigest())
    return None


def stored_package(db: Session, storage, pack, lesson, limits: Limits, now: datetime) -> StdPackage:
    """The lesson's package in the database (imported on first use), published for the course."""
    ref: PackageLesson = lesson.package
    uid = str(uuid.uuid5(_NAMESPACE, f"{pack.id}/{lesson.id}/{ref.sha256}"))
    package = db.exec(select(StdPackage).where(StdPackage.uid == uid)).first()
    if package is not None:
        return package
    data = (pack.root / ref.file).read_bytes()
    package = import_package(db, storage, Upload(data, "application/zip", ref.file.rsplit("/", 1)[-1]), limits,
                             pack.provider.name, None, now, uid=uid,
                             lesson={"pack": pack.id, "lesson": lesson.id, "version": pack.version})
    package.status, package.published_at = "published", now
    db.add(package)
    db.flush()
    return package


def lesson_of(package: StdPackage) -> tuple[str, str] | None:
    """(pack id, lesson id) when this package is a course pack's lesson."""
    import json

    link = json.loads(package.structure).get("lesson")
    return (link["pack"], link["lesson"]) if link else None


def credit_lesson(db: Session, package: StdPackage, registration, packs, now: datetime, tz) -> bool:
    """Complete the course lesson this package's unit is, through the learning service, once the
    unit is satisfied for the learner (cmi5 moveOn, or SCORM completed/passed). True when done."""
    import logging

    from portal.learning import services as learning
    from portal.standards.models import StdRegistrationAu

    link = lesson_of(package)
    pack = packs.get(link[0]) if link else None
    lesson = pack.lesson(link[1]) if pack else None
    if lesson is None or getattr(lesson, "package", None) is None:
        return False
    row = db.exec(select(StdRegistrationAu).where(StdRegistrationAu.registration_id == registration.id,
                                                  StdRegistrationAu.au_index == lesson.package.unit_index)).first()
    if row is None or not row.satisfied:
        return False
    enrollment = learning.enrollment_for_study(db, registration.user_id, pack.id, now, tz)
    if enrollment is None or enrollment.passed_at is not None:
        return False
    try:
        learning.complete_lesson(db, enrollment, pack, lesson.id, now, tz)
    except learning.LearningError as error:
        logging.getLogger(__name__).info("lesson %s/%s not credited: %s", pack.id, lesson.id, error)
        return False
    return True
