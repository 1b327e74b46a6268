"""Turn an uploaded cmi5 package (a zip with cmi5.xml at its root, or a bare cmi5.xml with
absolute AU URLs) or SCORM 1.2 package (a zip with imsmanifest.xml) into a stored draft package: everything is checked before anything is
written, and everything is written in the caller's one transaction."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlmodel import Session, select

from portal.common.storage import DatabaseStorage, StoredFile
from portal.packs.loader import content_type_of
from portal.standards.archive import ArchiveRefused, Limits, is_zip, read_zip
from portal.standards.cmi5_xml import StructureRefused, parse_course_structure
from portal.standards.models import StdPackage
from portal.standards.scorm_xml import MANIFEST, ManifestRefused, parse_manifest

ZIP_TYPES = ("application/zip", "application/x-zip-compressed", "application/x-zip")
XML_TYPES = ("text/xml", "application/xml")


class PackageRefused(Exception):
    """A package the portal will not import; `rule` is the cmi5 requirement it breaks."""

    def __init__(self, rule: str, message: str):
        self.rule, self.message = rule, message
        super().__init__(f"{message}" + (f" (cmi5 {rule})" if rule else ""))


@dataclass(frozen=True)
class Upload:
    data: bytes
    content_type: str
    filename: str


def file_key(package_uid: str, path: str) -> str:
    """Storage key of one package file: hashed so that any path fits the key column."""
    return f"std/{package_uid}/{hashlib.sha256(path.encode()).hexdigest()[:40]}"


def _kind(upload: Upload) -> str:
    media = upload.content_type.split(";", 1)[0].strip().lower()
    name = upload.filename.lower()
    if media in ZIP_TYPES or (media in ("", "application/octet-stream") and name.endswith(".zip")):
        return "zip"
    if media in XML_TYPES or (media in ("", "application/octet-stream") and name.endswith(".xml")):
        return "xml"
    if is_zip(upload.data) and media in ("", "application/octet-stream"):
        return "zip"
    raise PackageRefused("14.0.0.0-1", f"a package must be a zip archive or a cmi5.xml course structure, "
                                       f"not {media or 'an unnamed type'}")


def read_package(upload: Upload, limits: Limits) -> tuple[str, dict, dict[str, bytes]]:
    """Check the upload; return its standard (cmi5 or scorm12), its structure and its files by
    path. Raises PackageRefused."""
    kind = _kind(upload)
    try:
        if kind == "xml":
            if len(upload.data) > limits.max_file_bytes:
                raise PackageRefused("14.0.0.0-1", "the course structure is too large")
            structure = parse_course_structure(upload.data, xml_only=True, file=upload.filename or "cmi5.xml")
            return "cmi5", structure.to_json(), {}
        files = read_zip(upload.data, limits)
        if "cmi5.xml" not in files and MANIFEST in files:
            try:
                return "scorm12", parse_manifest(files[MANIFEST], files), files
            except ManifestRefused as error:
                raise PackageRefused("", error.message) from None
        if "cmi5.xml" not in files:
            raise PackageRefused("14.1.0.0-2", "the zip has no cmi5.xml (nor a SCORM 1.2 imsmanifest.xml) at its root")
        structure = parse_course_structure(files["cmi5.xml"], xml_only=False)
    except ArchiveRefused as error:
        raise PackageRefused(error.rule, error.message) from None
    except StructureRefused as error:
        raise PackageRefused(error.rule, str(error).rsplit(" (cmi5 ", 1)[0]) from None
    for au in structure.aus:
        parts = urlsplit(au.url)
        if not parts.scheme:
            path = parts.path.lstrip("./") if parts.path.startswith("./") else parts.path
            if path not in files:
                raise PackageRefused("14.1.0.0-4", f"AU {au.index + 1} ({au.title or au.publisher_id}) launches "
                                                   f"{au.url}, which is not in the package")
    return "cmi5", structure.to_json(), files


def import_package(db: Session, storage: DatabaseStorage, upload: Upload, limits: Limits, provider_name: str,
                   user_id: int | None, now: datetime, uid: str | None = None,
                   lesson: dict | None = None) -> StdPackage:
    """Check and store a package as a draft of `provider_name`. Nothing is written when it is refused.
    `lesson` ({pack, lesson, version}) marks a package a course pack's lesson is made of."""
    standard, document, files = read_package(upload, limits)
    uid = uid or str(uuid.uuid4())
    document["files"] = sorted(files)
    if lesson:
        document["lesson"] = lesson
    package = StdPackage(uid=uid, standard=standard, status="draft",
                         title=(document["title"] or upload.filename)[:300],
                         description=document["description"], publisher_id=document["publisher_id"][:2000],
                         structure=json.dumps(document), filename=(upload.filename or "cmi5.xml")[:300],
                         file_count=len(files), total_bytes=sum(len(v) for v in files.values()),
                         provider_name=provider_name, uploaded_by=user_id, created_at=now)
    db.add(package)
    for path, content in files.items():
        storage.put(db, file_key(uid, path), content, content_type_of(path), now)
    db.flush()
    return package


def delete_package(db: Session, package: StdPackage) -> None:
    """Remove a package and its files (registrations and statements about it stay in the LRS)."""
    for path in json.loads(package.structure).get("files", []):
        row = db.get(StoredFile, file_key(package.uid, path))
        if row is not None:
            db.delete(row)
    db.delete(package)


def structure_of(package: StdPackage) -> dict:
    return json.loads(package.structure)


def packages_for(db: Session, provider_names: set[str] | None) -> list[StdPackage]:
    """Every package (None: an administrator) or the packages of the given providers."""
    query = select(StdPackage).order_by(StdPackage.created_at.desc(), StdPackage.id.desc())
    if provider_names is not None:
        query = query.where(StdPackage.provider_name.in_(sorted(provider_names)))
    return list(db.exec(query).all())
