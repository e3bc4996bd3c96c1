"""Credentials: argon2 password hashes, signed access tokens, opaque refresh tokens, OTP codes."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from settings import Settings

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=30)
CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5
_ALGORITHM = "HS256"
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        _hasher.verify(password_hash or _DUMMY_HASH, password)  # raises on a mismatch
    except (VerificationError, InvalidHashError):
        return False
    return bool(password_hash)  # a match against the dummy hash lets nobody in


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def load_secret(settings: Settings) -> bytes:
    """The signing key: created once under the data dir (mode 0600) and reused on restarts.

    Settings has no secret field yet; a deployment mounts this file from its secret store."""
    path = settings.signing_key
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    session_id: str
    issued_at: datetime
    mfa_at: datetime | None


class InvalidToken(Exception):
    pass


class Tokens:
    """Signs and checks access tokens; hashes refresh tokens and one-time codes."""

    def __init__(self, secret: bytes, *, access_ttl: timedelta = ACCESS_TTL) -> None:
        self._secret, self.access_ttl = secret, access_ttl

    def access_token(self, *, user_id: str, session_id: str, mfa_at: datetime | None) -> str:
        now = datetime.now(UTC)
        claims: dict[str, object] = {
            "sub": user_id,
            "sid": session_id,
            "typ": "access",
            "iat": now,
            "exp": now + self.access_ttl,
        }
        if mfa_at is not None:
            # RFC 9470's auth_time/acr: what a resource server needs to judge the step-up.
            claims["auth_time"] = int(mfa_at.timestamp())
            claims["acr"] = "mfa"
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def decode_access(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                options={"require": ["sub", "sid", "exp", "iat", "typ"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        if claims["typ"] != "access":
            raise InvalidToken("not an access token")
        auth_time = claims.get("auth_time")
        return AccessClaims(
            user_id=str(claims["sub"]),
            session_id=str(claims["sid"]),
            issued_at=datetime.fromtimestamp(claims["iat"], UTC),
            mfa_at=datetime.fromtimestamp(auth_time, UTC) if auth_time else None,
        )

    @staticmethod
    def new_refresh_token() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def hash_refresh_token(token: str) -> str:
        # The token has 256 random bits: a plain digest is enough, no salt or slow hash needed.
        return hashlib.sha256(token.encode()).hexdigest()

    def hash_code(self, code: str, *, code_id: str) -> str:
        # Keyed, because six digits would fall to an offline search of a plain digest.
        return hmac.new(self._secret, f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()

    def code_matches(self, code: str, *, code_id: str, code_hash: str) -> bool:
        return hmac.compare_digest(self.hash_code(code, code_id=code_id), code_hash)


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"
