"""Passwords for local accounts: Argon2id hashes, never the password itself."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tracker.errors import DomainError

MIN_PASSWORD_LENGTH = 12

_HASHER = PasswordHasher()  # Argon2id with the library's current recommended parameters.
# Compared against when there is no hash to check, so a wrong address costs as long as a
# wrong password and timing does not reveal which accounts exist.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An Argon2id hash of `password`, which must be at least 12 characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            "password", f"must be at least {MIN_PASSWORD_LENGTH} characters (a short phrase works)"
        )
    return _HASHER.hash(password)


def password_matches(stored: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash; takes as long when there is none."""
    try:
        _HASHER.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None
