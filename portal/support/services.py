"""Support work on accounts, staff roles, the audit log and contact requests.

Every action a staff member takes on an account is written to the audit log in
the same transaction as the action itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import aliased
from sqlmodel import Session, delete, func, or_, select

from portal.accounts import services as accounts
from portal.accounts.models import STAFF_ROLES, LoginSession, User, UserRole
from portal.accounts.sessions import end_all_login_sessions
from portal.mail.services import Mailer
from portal.support.models import AuditEntry, ContactRequest


class SupportError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def record(db: Session, actor_id: int | None, action: str, target_user_id: int | None,
           now: datetime, detail: str = "") -> None:
    db.add(AuditEntry(actor_id=actor_id, action=action, target_user_id=target_user_id,
                      detail=detail[:500], created_at=now))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def find_users(db: Session, query: str, limit: int = 50) -> list[User]:
    """Accounts whose email or name contains the query, case-insensitively."""
    query = " ".join((query or "").split())[:120]
    if not query:
        return []
    pattern = _like(query)
    return list(db.exec(
        select(User)
        .where(or_(func.lower(User.email).like(pattern, escape="\\"),
                   func.lower(User.name).like(pattern, escape="\\")))
        .order_by(User.name, User.id).limit(limit)
    ).all())


@dataclass
class AccountState:
    user: User
    roles: set[str]
    active_sessions: int


def account_state(db: Session, user: User, now: datetime) -> AccountState:
    sessions = db.exec(
        select(func.count()).select_from(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None),
               LoginSession.expires_at > now)
    ).one()
    return AccountState(user, accounts.roles_of(db, user.id), sessions)


def _guard_staff_target(db: Session, actor: User, target: User) -> None:
    """Support staff may help learners; only administrators act on staff accounts."""
    target_roles = accounts.roles_of(db, target.id)
    if target_roles & set(STAFF_ROLES) and "admin" not in accounts.roles_of(db, actor.id):
        raise SupportError("Only an administrator can change a staff account.")


def confirm_account(db: Session, actor: User, target: User, now: datetime) -> None:
    _guard_staff_target(db, actor, target)
    if target.email_verified_at is not None:
        raise SupportError("This account is already confirmed.")
    target.email_verified_at = now
    db.add(target)
    record(db, actor.id, "account.confirm", target.id, now, f"confirmed {target.email} by hand")
    db.commit()


def send_password_reset(db: Session, mailer: Mailer, lifetimes: accounts.TokenLifetimes,
                        actor: User, target: User, now: datetime) -> None:
    _guard_staff_target(db, actor, target)
    if not target.is_active:
        raise SupportError("Reactivate the account before sending a reset link.")
    record(db, actor.id, "account.send_reset", target.id, now, f"reset link mailed to {target.email}")
    accounts.request_password_reset(db, mailer, now, lifetimes, target.email)  # commits


def deactivate(db: Session, actor: User, target: User, now: datetime, reason: str = "") -> None:
    if actor.id == target.id:
        raise SupportError("You cannot deactivate your own account.")
    _guard_staff_target(db, actor, target)
    if not target.is_active:
        raise SupportError("This account is already deactivated.")
    target.is_active = False
    db.add(target)
    end_all_login_sessions(db, target.id, now)
    record(db, actor.id, "account.deactivate", target.id, now, reason)
    db.commit()


def reactivate(db: Session, actor: User, target: User, now: datetime) -> None:
    _guard_staff_target(db, actor, target)
    if target.is_active:
        raise SupportError("This account is already active.")
    target.is_active = True
    db.add(target)
    record(db, actor.id, "account.reactivate", target.id, now)
    db.commit()


def grant_role(db: Session, actor: User, target: User, role: str, now: datetime) -> None:
    if role not in STAFF_ROLES:
        raise SupportError("Unknown role.")
    if role in accounts.roles_of(db, target.id):
        raise SupportError(f"This account already has the {role} role.")
    if not target.is_active or not target.is_verified:
        raise SupportError("Only an active, confirmed account can be given a staff role.")
    db.add(UserRole(user_id=target.id, role=role, granted_at=now))
    record(db, actor.id, "role.grant", target.id, now, role)
    db.commit()


def revoke_role(db: Session, actor: User, target: User, role: str, now: datetime) -> None:
    if role not in STAFF_ROLES:
        raise SupportError("Unknown role.")
    if actor.id == target.id and role == "admin":
        raise SupportError("You cannot remove your own administrator role.")
    removed = db.exec(delete(UserRole).where(UserRole.user_id == target.id, UserRole.role == role)).rowcount
    if not removed:
        raise SupportError(f"This account does not have the {role} role.")
    record(db, actor.id, "role.revoke", target.id, now, role)
    db.commit()


@dataclass
class AuditRow:
    entry: AuditEntry
    actor_email: str | None
    target_email: str | None


def audit_log(db: Session, page: int = 1, per_page: int = 50,
              target_user_id: int | None = None) -> tuple[list[AuditRow], int]:
    actor, target = aliased(User), aliased(User)
    statement = (select(AuditEntry, actor.email, target.email)
                 .outerjoin(actor, actor.id == AuditEntry.actor_id)
                 .outerjoin(target, target.id == AuditEntry.target_user_id))
    count = select(func.count()).select_from(AuditEntry)
    if target_user_id is not None:
        statement = statement.where(AuditEntry.target_user_id == target_user_id)
        count = count.where(AuditEntry.target_user_id == target_user_id)
    rows = db.exec(statement.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
                   .offset((page - 1) * per_page).limit(per_page)).all()
    return [AuditRow(*row) for row in rows], db.exec(count).one()


def submit_contact_request(db: Session, mailer: Mailer, now: datetime, support_email: str, *,
                           name: str, email: str, subject: str, message: str,
                           user_id: int | None) -> ContactRequest:
    """Store the request and queue a mail to support, in one transaction."""
    request = ContactRequest(user_id=user_id, name=" ".join(name.split()), email=accounts.normalise_email(email),
                             subject=" ".join(subject.split()), message=message.strip(), created_at=now)
    db.add(request)
    db.flush()
    mailer.queue(db, support_email, "mail/contact_request.txt", now, request_id=request.id,
                 subject=request.subject, sender_name=request.name, sender_email=request.email,
                 message=request.message, account_id=user_id)
    db.commit()
    return request


def recent_contact_requests(db: Session, limit: int = 100) -> list[ContactRequest]:
    return list(db.exec(select(ContactRequest).order_by(ContactRequest.created_at.desc(),
                                                        ContactRequest.id.desc()).limit(limit)).all())
