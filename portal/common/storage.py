"""One small interface for files the portal generates or users upload.

Files live in the database so that several app hosts sharing one PostgreSQL
see the same files; nothing another host needs stays on one host's disk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Field, Session, SQLModel, select

from portal.common.db import UTCDateTime


class StoredFile(SQLModel, table=True):
    __tablename__ = "stored_file"

    key: str = Field(primary_key=True, max_length=200)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    data: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(sa_type=UTCDateTime)


@dataclass(frozen=True)
class FileInfo:
    key: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class DatabaseStorage:
    """Put, get and delete files by key inside the caller's transaction."""

    def put(self, session: Session, key: str, data: bytes, content_type: str, now: datetime) -> FileInfo:
        digest = hashlib.sha256(data).hexdigest()
        row = session.get(StoredFile, key)
        if row is None:
            row = StoredFile(key=key, content_type=content_type, size=len(data), sha256=digest,
                             data=data, created_at=now)
        else:
            row.content_type, row.size, row.sha256, row.data = content_type, len(data), digest, data
        session.add(row)
        return FileInfo(key, content_type, len(data), digest, now)

    def get(self, session: Session, key: str) -> tuple[FileInfo, bytes] | None:
        row = session.get(StoredFile, key)
        if row is None:
            return None
        return FileInfo(row.key, row.content_type, row.size, row.sha256, row.created_at), row.data

    def info(self, session: Session, key: str) -> FileInfo | None:
        row = session.exec(
            select(StoredFile.key, StoredFile.content_type, StoredFile.size, StoredFile.sha256,
                   StoredFile.created_at).where(StoredFile.key == key)
        ).first()
        return FileInfo(*row) if row else None

    def delete(self, session: Session, key: str) -> bool:
        row = session.get(StoredFile, key)
        if row is None:
            return False
        session.delete(row)
        return True
