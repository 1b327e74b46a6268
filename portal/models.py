"""Every table of the core, imported in one place for migrations and tests."""

from sqlmodel import SQLModel

from portal.accounts.models import AccountToken, LoginSession, User, UserRole
from portal.common.storage import StoredFile
from portal.mail.models import OutboxMessage
from portal.support.models import AuditEntry, ContactRequest

metadata = SQLModel.metadata

__all__ = ["AccountToken", "AuditEntry", "ContactRequest", "LoginSession", "OutboxMessage",
           "StoredFile", "User", "UserRole", "metadata"]
