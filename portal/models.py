"""Every table of the core, imported in one place for migrations and tests."""

from sqlmodel import SQLModel

from portal.accounts.models import AccountToken, LoginSession, User, UserRole
from portal.certificates.models import Certificate
from portal.common.assets import ReleaseAsset
from portal.common.storage import StoredFile
from portal.learning.models import Attempt, AttemptItem, Attestation, Enrollment, ItemStat, LessonProgress
from portal.mail.models import MailSenderHeartbeat, OutboxMessage
from portal.reports.models import ProviderStaff
from portal.rollcall.models import RollCallAttendee, RollCallShowing
from portal.standards.models import (StdPackage, StdRegistration, StdRegistrationAu, StdSession, XapiDocument,
                                     XapiStatement)
from portal.support.models import AuditEntry, ContactRequest

metadata = SQLModel.metadata

__all__ = ["Attempt", "AttemptItem", "ItemStat", "Attestation", "Certificate", "Enrollment", "LessonProgress",
           "AccountToken", "AuditEntry", "ContactRequest", "LoginSession", "MailSenderHeartbeat", "OutboxMessage",
           "ProviderStaff", "ReleaseAsset", "RollCallAttendee", "RollCallShowing", "StoredFile", "User", "UserRole", "metadata",
           "StdPackage", "StdRegistration", "StdRegistrationAu", "StdSession", "XapiDocument", "XapiStatement"]
