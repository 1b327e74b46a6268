"""Account rules: sign-up, verification, log-in, password reset and profile changes.

Plain Python: every function takes a database session, the time, and the
collaborators it needs. Nothing here knows about requests or templates.
"""

from __future__ import annotations

import secrets
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select, update

from portal.accounts.models import AccountToken, User, UserRole
from portal.accounts.passwords import Hasher, password_problems
from portal.accounts.sessions import end_all_login_sessions, hash_token
from portal.mail.services import Mailer

PURPOSE_VERIFY = "verify_email"
PURPOSE_RESET = "reset_password"
PURPOSE_CHANGE_EMAIL = "change_email"

LOGIN_FAILED = "That email and password do not match an account."


class AccountError(Exception):
    """A rule was broken; `message` is safe to show, `field` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class TokenLifetimes:
    """How long mailed links live, and the key that signs reset links (which no table holds)."""

    verify: timedelta = timedelta(hours=48)
    reset: timedelta = timedelta(minutes=60)
    secret: str = field(default="", repr=False)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(db: Session, email: str) -> User | None:
    return db.exec(select(User).where(User.email == normalise_email(email))).first()


def greeting_name(user: User) -> str:
    """The name to greet an account's own address with: only once that address is confirmed.
    Until then, whoever signed up chose the name, and it must not reach someone else's
    inbox (a name like "Your account is locked. Go to https://evil.example")."""
    return user.name if user.is_verified else ""


def roles_of(db: Session, user_id: int) -> set[str]:
    return set(db.exec(select(UserRole.role).where(UserRole.user_id == user_id)).all())


def _issue_token(db: Session, user: User, purpose: str, email: str, now: datetime, ttl: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    db.add(AccountToken(token_hash=hash_token(token), user_id=user.id, purpose=purpose,
                        email=email, created_at=now, expires_at=now + ttl))
    return token


def _retire_tokens(db: Session, user_id: int, purpose: str, now: datetime) -> None:
    db.exec(update(AccountToken)
            .where(AccountToken.user_id == user_id, AccountToken.purpose == purpose,
                   AccountToken.used_at.is_(None))
            .values(used_at=now))


# -- reset links: signed, not stored --------------------------------------------------------
# A reset link carries the account, its time of issue and a fingerprint of the password hash,
# address and state, signed with the secret key. Nothing is written to issue one, so asking for
# a reset does the same work for a known address as for an unknown one (audit finding 4: the
# token row only a known address paid for told which addresses had accounts). It stops working
# when it expires, when the password changes (so it works once), or when the address changes.

def _reset_signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="portal.accounts.reset-link")


def _reset_fingerprint(user: User) -> str:
    state = f"{user.password_hash}\n{user.email}\n{user.is_active}"
    return hashlib.sha256(state.encode()).hexdigest()[:24]


def signed_reset_token(user: User, now: datetime, secret: str) -> str:
    # (the nonce: two links asked for in the same second are still two links)
    return _reset_signer(secret).dumps([user.id, int(now.timestamp()), _reset_fingerprint(user),
                                        secrets.token_urlsafe(6)])


def _signed_reset_row(db: Session, token: str, now: datetime, lifetimes: TokenLifetimes) -> AccountToken | None:
    """A reset link made by signed_reset_token, as an (unsaved) token row; None if it is not valid."""
    try:
        user_id, issued, fingerprint, _nonce = _reset_signer(lifetimes.secret).loads(token)
        issued_at = datetime.fromtimestamp(int(issued), tz=now.tzinfo)
    except (BadSignature, TypeError, ValueError, OverflowError):
        return None
    user = db.get(User, user_id) if isinstance(user_id, int) else None
    if (user is None or not user.is_active or fingerprint != _reset_fingerprint(user)
            or not issued_at <= now < issued_at + lifetimes.reset):
        return None
    return AccountToken(token_hash=hash_token(token), user_id=user.id, purpose=PURPOSE_RESET, email=user.email,
                        created_at=issued_at, expires_at=issued_at + lifetimes.reset)


# Confirmation links asked for again (resend) are signed the same way, over the account and the
# address being confirmed: nothing is written for a known address that an unknown one skips.
# (Sign-up's first link is stored, as before; both kinds work.)

def _verify_signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="portal.accounts.verify-link")


def signed_verify_token(user: User, now: datetime, secret: str) -> str:
    return _verify_signer(secret).dumps([user.id, int(now.timestamp()), user.email, secrets.token_urlsafe(6)])


def _signed_verify_row(db: Session, token: str, now: datetime, lifetimes: TokenLifetimes) -> AccountToken | None:
    try:
        user_id, issued, email, _nonce = _verify_signer(lifetimes.secret).loads(token)
        issued_at = datetime.fromtimestamp(int(issued), tz=now.tzinfo)
    except (BadSignature, TypeError, ValueError, OverflowError):
        return None
    user = db.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or email != user.email or not issued_at <= now < issued_at + lifetimes.verify:
        return None
    return AccountToken(token_hash=hash_token(token), user_id=user.id, purpose=PURPOSE_VERIFY, email=email,
                        created_at=issued_at, expires_at=issued_at + lifetimes.verify)


def _stand_in(email: str) -> User:
    """An unsaved account for an address that has none, so that the request signs a link and
    renders a mail just as it would for a real account (then queues the notice instead)."""
    return User(id=0, email=normalise_email(email), name="", password_hash="$argon2id$" + "0" * 87,
                is_active=True)


def find_valid_token(db: Session, token: str, purpose: str, now: datetime,
                     lifetimes: TokenLifetimes | None = None) -> AccountToken | None:
    """The unused, unexpired token of that purpose, or None. Reading never spends it.
    Reset links are signed rather than stored (given `lifetimes`, which holds the key); a
    stored one, mailed before, still works."""
    if not token or len(token) > 200:
        return None
    row = db.exec(select(AccountToken).where(AccountToken.token_hash == hash_token(token))).first()
    if row is None and lifetimes is not None and lifetimes.secret:
        if purpose == PURPOSE_RESET:
            return _signed_reset_row(db, token, now, lifetimes)
        if purpose == PURPOSE_VERIFY:
            return _signed_verify_row(db, token, now, lifetimes)
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= now:
        return None
    if purpose == PURPOSE_VERIFY and db.exec(
            select(func.count()).select_from(AccountToken)
            .where(AccountToken.user_id == row.user_id, AccountToken.purpose == PURPOSE_VERIFY,
                   AccountToken.id > row.id)).one():
        return None  # a newer confirmation link was sent since: only the newest works
    return row


def _spend_token(db: Session, token: str, purpose: str, now: datetime,
                 lifetimes: TokenLifetimes | None = None) -> AccountToken:
    """Mark a token used exactly once, even if two requests race for it. (A signed reset link
    has no row: the password change that follows is what makes it stop working.)"""
    row = find_valid_token(db, token, purpose, now, lifetimes)
    if row is None:
        raise AccountError("This link has expired or has already been used.")
    if row.id is None:
        return row
    spent = db.exec(update(AccountToken)
                    .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
                    .values(used_at=now)).rowcount
    if spent != 1:
        raise AccountError("This link has expired or has already been used.")
    return row


def sign_up(db: Session, hasher: Hasher, mailer: Mailer, now: datetime, lifetimes: TokenLifetimes, *,
            name: str, email: str, password: str, agency: str | None) -> User | None:
    """Create an unverified account and mail a verification link.

    If the address already has an account, nothing is created and its owner is
    told by mail instead, so the page a visitor sees is the same either way.
    """
    email = normalise_email(email)
    name = " ".join((name or "").split())
    problems = password_problems(password, email=email, name=name)
    if problems:
        raise AccountError(problems[0], field="password")
    # Hash before the first query: the caller's write lock is not held through the slow hash,
    # and a known address takes as long to answer as a new one.
    password_hash = hasher.hash(password)
    existing = find_user_by_email(db, email)
    if existing is not None:
        mailer.queue(db, existing.email, "mail/account_exists.txt", now, name=greeting_name(existing))
        db.commit()
        return None
    user = User(email=email, name=name, agency=(agency or "").strip() or None,
                password_hash=password_hash, created_at=now, password_changed_at=now)
    db.add(user)
    try:
        db.flush()
    except IntegrityError:  # the same address signed up a moment ago in another request
        db.rollback()
        return None
    token = _issue_token(db, user, PURPOSE_VERIFY, email, now, lifetimes.verify)
    mailer.queue(db, email, "mail/verify_email.txt", now, name="", token=token,
                 hours=int(lifetimes.verify.total_seconds() // 3600))
    db.commit()
    return user


def resend_verification(db: Session, mailer: Mailer, now: datetime, lifetimes: TokenLifetimes,
                        email: str) -> None:
    """Mail a fresh link if the address has an unverified account, else a notice that no
    account waits for confirmation there. The caller shows the same answer in every case, and
    every case does the same work (one mail queued, one commit), so the time taken does not
    tell whether the address has an account either."""
    user = find_user_by_email(db, email)
    waiting = user is not None and not user.is_verified and user.is_active
    if not lifetimes.secret:  # no signing key (some tests): a stored link, as sign-up makes
        token = _issue_token(db, user, PURPOSE_VERIFY, user.email, now, lifetimes.verify) if waiting else ""
    else:
        # A signed link, made for a stand-in when no account waits: no row only a known
        # address pays for (audit finding 4).
        token = signed_verify_token(user if waiting else _stand_in(email), now, lifetimes.secret)
    hours = int(lifetimes.verify.total_seconds() // 3600)
    if waiting:
        mailer.queue(db, user.email, "mail/verify_email.txt", now, name="", token=token, hours=hours)
    else:
        mailer.queue(db, normalise_email(email), "mail/verify_not_needed.txt", now)
    db.commit()


def verify_email(db: Session, token: str, now: datetime, lifetimes: TokenLifetimes | None = None) -> User:
    row = _spend_token(db, token, PURPOSE_VERIFY, now, lifetimes)
    user = db.get(User, row.user_id)
    if user.email != row.email:
        db.rollback()
        raise AccountError("This link was for an earlier email address of this account.")
    if user.email_verified_at is None:
        user.email_verified_at = now
    db.add(user)
    db.commit()
    return user


def authenticate(db: Session, hasher: Hasher, email: str, password: str) -> User:
    """Return the user whose email and password match, or raise one generic error."""
    user = find_user_by_email(db, email)
    if not hasher.verify(user.password_hash if user else None, password or ""):
        raise AccountError(LOGIN_FAILED)
    if not user.is_active:
        raise AccountError("This account has been deactivated. Contact support for help.")
    if hasher.needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        db.add(user)
        db.commit()
    return user


def request_password_reset(db: Session, mailer: Mailer, now: datetime, lifetimes: TokenLifetimes,
                           email: str) -> None:
    """Mail a reset link if the address has an active account, else a notice that it has
    none. Same answer, and the same work (one mail queued, one commit), either way."""
    user = find_user_by_email(db, email)
    known = user is not None and user.is_active
    if not lifetimes.secret:  # no signing key (some tests): a stored link
        token = _issue_token(db, user, PURPOSE_RESET, user.email, now, lifetimes.reset) if known else ""
    else:  # signed for a stand-in when there is no account, so both do the same work
        token = signed_reset_token(user if known else _stand_in(email), now, lifetimes.secret)
    if known:
        mailer.queue(db, user.email, "mail/reset_password.txt", now, name=greeting_name(user), token=token,
                     minutes=int(lifetimes.reset.total_seconds() // 60))
    else:
        mailer.queue(db, normalise_email(email), "mail/reset_no_account.txt", now)
    db.commit()


def _set_password(db: Session, hasher: Hasher, mailer: Mailer, user: User, new_password: str,
                  now: datetime, keep_session_token: str | None) -> None:
    problems = password_problems(new_password, email=user.email, name=user.name)
    if problems:
        raise AccountError(problems[0], field="password")
    user.password_hash = hasher.hash(new_password)
    user.password_changed_at = now
    db.add(user)
    # Outstanding reset links die with the old password, as do other sessions.
    _retire_tokens(db, user.id, PURPOSE_RESET, now)
    end_all_login_sessions(db, user.id, now, keep_token=keep_session_token)
    mailer.queue(db, user.email, "mail/password_changed.txt", now, name=greeting_name(user),
                 when=now.strftime("%B %d, %Y at %H:%M UTC"))


def reset_password(db: Session, hasher: Hasher, mailer: Mailer, now: datetime, token: str,
                   new_password: str, lifetimes: TokenLifetimes | None = None) -> User:
    row = find_valid_token(db, token, PURPOSE_RESET, now, lifetimes)
    if row is None:
        raise AccountError("This link has expired or has already been used.")
    user = db.get(User, row.user_id)
    # Check the password before spending the token, so a typo does not waste the link.
    problems = password_problems(new_password, email=user.email, name=user.name)
    if problems:
        raise AccountError(problems[0], field="password")
    _spend_token(db, token, PURPOSE_RESET, now, lifetimes)
    _set_password(db, hasher, mailer, user, new_password, now, keep_session_token=None)
    if user.email_verified_at is None:
        user.email_verified_at = now  # the link proved they read mail at this address
    db.commit()
    return user


def change_password(db: Session, hasher: Hasher, mailer: Mailer, now: datetime, user: User,
                    current_password: str, new_password: str, session_token: str | None) -> None:
    if not hasher.verify(user.password_hash, current_password or ""):
        raise AccountError("Your current password is not right.", field="current_password")
    _set_password(db, hasher, mailer, user, new_password, now, keep_session_token=session_token)
    db.commit()


def update_profile(db: Session, user: User, *, name: str, agency: str | None) -> None:
    name = " ".join((name or "").split())
    if not name:
        raise AccountError("Enter your name.", field="name")
    user.name = name
    user.agency = (agency or "").strip() or None
    db.add(user)
    db.commit()


def request_email_change(db: Session, hasher: Hasher, mailer: Mailer, now: datetime,
                         lifetimes: TokenLifetimes, user: User, password: str, new_email: str) -> None:
    """Mail a confirmation link to the new address; the account keeps the old one until then."""
    if not hasher.verify(user.password_hash, password or ""):
        raise AccountError("Your password is not right.", field="password")
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise AccountError("That is already your email address.", field="email")
    taken = db.exec(select(func.count()).select_from(User).where(User.email == new_email)).one()
    _retire_tokens(db, user.id, PURPOSE_CHANGE_EMAIL, now)
    if not taken:  # never confirm to a visitor that another account uses the address
        token = _issue_token(db, user, PURPOSE_CHANGE_EMAIL, new_email, now, lifetimes.verify)
        mailer.queue(db, new_email, "mail/change_email.txt", now, name="", token=token,
                     hours=int(lifetimes.verify.total_seconds() // 3600))
    db.commit()


def confirm_email_change(db: Session, mailer: Mailer, now: datetime, token: str,
                         keep_session_token: str | None = None) -> User:
    """Move the account to the confirmed address. Every link mailed to the old address dies
    with it (a reset link in an old mailbox must not take the account back), and every other
    session ends; `keep_session_token` is the confirming browser's own, if it is signed in."""
    row = _spend_token(db, token, PURPOSE_CHANGE_EMAIL, now)
    user = db.get(User, row.user_id)
    if find_user_by_email(db, row.email) is not None:
        db.rollback()
        raise AccountError("That address is now used by another account.")
    old_email, old_greeting = user.email, greeting_name(user)
    user.email = row.email
    user.email_verified_at = now
    db.add(user)
    for purpose in (PURPOSE_RESET, PURPOSE_VERIFY, PURPOSE_CHANGE_EMAIL):
        _retire_tokens(db, user.id, purpose, now)
    end_all_login_sessions(db, user.id, now, keep_token=keep_session_token)
    mailer.queue(db, old_email, "mail/email_changed_notice.txt", now, name=old_greeting,
                 old_email=old_email, new_email=row.email, when=now.strftime("%B %d, %Y at %H:%M UTC"))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise AccountError("That address is now used by another account.")
    return user
