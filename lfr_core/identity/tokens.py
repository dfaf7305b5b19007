"""Sign-in tokens for the web routes (the operator console and its API).

In production the force's OIDC provider (e.g. Keycloak) signs them: `identity.issuer`, `identity.audience`
and `identity.jwks_url` name it, and the person is the token's `identity.username_claim`. In the embedded
setup the platform's local issuer signs them with an Ed25519 key under LFR_HOME after PostgreSQL has
checked the person's password (lfr_core/identity/sessions.py). Either way a token only says who someone is; their
roles are looked up in the database for every request (lfr_core/identity/people.py).

Signing out (POST /v1/auth/logout) revokes a token by its id (`jti`): the id is kept in `revoked_tokens`
until the token expires, so every ingress replica refuses it, before and after a restart.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lfr_core.config import Settings
from lfr_core.errors import InvalidInput, NotSignedIn
from lfr_core.identity import queries
from lfr_core.storage.keyfiles import ed25519_private_key

OIDC_ALGORITHMS = ["RS256", "ES256", "EdDSA"]
MAX_NAME = 63  # PostgreSQL's identifier length: a person is a login role of that name
MAX_TOKEN_ID = 255  # revoked_tokens.jti's bound


class InvalidToken(NotSignedIn):
    """Not a token this platform accepts (bad signature, expired, wrong issuer or audience)."""


def _key_files(settings: Settings) -> tuple[Path, Path]:
    private = settings.identity.issuer_key_file or settings.home / "keys" / "issuer.pem"
    return private, private.with_suffix(".pub.pem")


def _issuer_key(settings: Settings) -> Ed25519PrivateKey:
    """The local issuer's key; created (0600) on first use in the embedded setup."""
    private, public = _key_files(settings)
    return ed25519_private_key(private, public, may_create=settings.db.embedded,
                               missing=f"no local issuer key at {private}: production signs in through the "
                                       f"force's OIDC provider (LFR_IDENTITY__JWKS_URL)")


def issue(settings: Settings, name: str) -> tuple[str, int]:
    """A token for a person whose password has just been checked; returns it and its lifetime in seconds."""
    if settings.identity.jwks_url:
        raise InvalidInput("sign-in goes through the force's OIDC provider here; the local issuer is off")
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=settings.identity.token_minutes)
    claims = {"iss": settings.identity.issuer, "aud": settings.identity.audience, "sub": name,
              settings.identity.username_claim: name, "iat": now, "exp": now + lifetime, "jti": str(uuid.uuid4())}
    return jwt.encode(claims, _issuer_key(settings), algorithm="EdDSA"), int(lifetime.total_seconds())


@functools.lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)


def _verification_key(settings: Settings, token: str) -> tuple[Any, list[str]]:
    """The key that signed a token (the identity provider's, of any algorithm it uses, or the local issuer's)
    and the algorithms accepted with it."""
    if settings.identity.jwks_url:
        try:
            return _jwks_client(settings.identity.jwks_url).get_signing_key_from_jwt(token).key, OIDC_ALGORITHMS
        except jwt.PyJWKClientError as e:
            raise InvalidToken(f"the token's signing key is not the identity provider's ({e})") from e
    _, public = _key_files(settings)
    if not public.exists():
        _issuer_key(settings)
    key = serialization.load_pem_public_key(public.read_bytes())
    assert isinstance(key, Ed25519PublicKey)
    return key, ["EdDSA"]


@dataclass(frozen=True)
class Verified:
    """What a valid token says: who, its id (None only from an OIDC provider that sets none), until when."""
    name: str
    token_id: str | None
    expires_at: datetime


def verify(settings: Settings, token: str) -> Verified:
    """The claims of a valid token; InvalidToken otherwise. Revocation is checked apart (`is_revoked`)."""
    # The local issuer always sets an id; a force's provider may not, and its tokens cannot be signed out here.
    required = ["exp", "iat", "iss", "aud"] + ([] if settings.identity.jwks_url else ["jti"])
    try:
        key, algorithms = _verification_key(settings, token)
        claims = jwt.decode(token, key, algorithms=algorithms, audience=settings.identity.audience,
                            issuer=settings.identity.issuer, options={"require": required})
    except jwt.PyJWTError as e:
        raise InvalidToken(f"sign-in token refused: {e}") from e
    name = claims.get(settings.identity.username_claim)
    # A name PostgreSQL cannot hold (NUL, too long) names no person; refused here rather than by the database.
    if not isinstance(name, str) or not name or len(name) > MAX_NAME or "\x00" in name:
        raise InvalidToken(f"sign-in token names no person (claim {settings.identity.username_claim!r})")
    token_id = claims.get("jti")
    if token_id is not None and (not isinstance(token_id, str) or not token_id or len(token_id) > MAX_TOKEN_ID
                                 or "\x00" in token_id):
        raise InvalidToken("sign-in token refused: its id (jti) is not a string of 1-255 characters")
    return Verified(name, token_id, datetime.fromtimestamp(claims["exp"], UTC))


def person_of(settings: Settings, token: str) -> str:
    """The person a valid token names; InvalidToken otherwise."""
    return verify(settings, token).name


def revoke(conn: psycopg.Connection, token: Verified) -> bool:
    """Refuse this token from now until it expires (on the services' connection, autocommit); False if it
    was already revoked. Ids of expired tokens are deleted on the way: their tokens fail on `exp` anyway."""
    if token.token_id is None:
        raise InvalidInput("this token has no id (jti) and cannot be signed out here; sign out at the force's "
                           "identity provider")
    with conn.transaction():
        queries.forget_expired_revocations(conn)
        return queries.revoke_token(conn, token.token_id, token.expires_at)


def is_revoked(conn: psycopg.Connection, token_id: str) -> bool:
    return queries.is_revoked(conn, token_id)
