"""Password rules and hashing (argon2id).

The list of common passwords is the 20,000-entry list Django ships
(django/contrib/auth/common-passwords.txt.gz, BSD licence), itself drawn from
Royce Williams' list of breached passwords.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 1000  # long passphrases welcome; a cap keeps hashing cheap to refuse
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt.gz")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def password_problems(password: str, email: str = "", name: str = "") -> list[str]:
    """Return what is wrong with a new password, in words a user can act on."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters. A passphrase of several words works well.")
    elif len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    elif password.lower() in common_passwords() or password.strip().lower() in common_passwords():
        problems.append("That password is on a list of commonly breached passwords. Choose another.")
    elif email and password.lower() == email.lower():
        problems.append("Your password must not be your email address.")
    elif password.isspace():
        problems.append("Your password must not be only spaces.")
    return problems


class Hasher:
    """argon2id hashing with parameters from configuration."""

    def __init__(self, time_cost: int = 3, memory_cost: int = 65536):
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, type=Type.ID)
        self._dummy_hash: str | None = None

    @property
    def _dummy(self) -> str:
        # Made on first use, not at start-up: only refusing an unknown address needs it.
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("not a real password, used to even out timing")
        return self._dummy_hash

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Check a password; with no hash, spend the same time and say no."""
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
