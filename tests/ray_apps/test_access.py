"""Who is calling the ingress (ray_apps/ingress/access.py), without Ray or PostgreSQL: the database is a table of
answers by function (what `Access` would run on the service's connection), the tokens are the local issuer's,
signed with a key under a temporary LFR_HOME. Each refusal's status and reason, and what the caches keep."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import HTTPException
from fastapi.security import HTTPAuthorizationCredentials

from lfr_core.config import Settings
from lfr_core.deployments import camera_keys as apikeys
from lfr_core.errors import NotSignedIn
from lfr_core.identity import people, sessions, tokens
from lfr_core.identity.model import Actor
from ray_apps.ingress import access
from ray_apps.ingress.access import WRONG_PASSWORD, Access

DEPLOYMENT = uuid.uuid4()
CAMERA_KEY = "lfr_" + "k" * 40  # its text only matters to the fake database


class FakeDb:
    """Answers `await db(fn, *args)` from what `answer(fn, value)` set (a value, or a function of the
    arguments), as the ingress's one connection would, and counts the calls of each function."""

    def __init__(self) -> None:
        self.answers: dict[Any, Any] = {}
        self.calls: Counter[str] = Counter()
        self.revoked: list[tokens.Verified] = []

    def answer(self, fn, value) -> FakeDb:
        self.answers[fn] = value
        return self

    async def __call__(self, fn, *args):
        self.calls[fn.__name__] += 1
        if fn is tokens.revoke:
            self.revoked.append(args[0])
            return True
        value = self.answers[fn]
        return value(*args) if callable(value) else value


def bound_key(deployment_id: uuid.UUID, name: str = "cam-1") -> SimpleNamespace:
    """A key's holder as `camera_keys.verify` finds it: its name and its one deployment."""
    return SimpleNamespace(name=name, deployment_id=deployment_id)


@pytest.fixture()
def settings(tmp_path) -> Settings:
    return Settings(_env_file=None, home=tmp_path)


def bearer(token: str, scheme: str = "Bearer") -> HTTPAuthorizationCredentials:
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=token)


def refused(coro) -> HTTPException:
    with pytest.raises(HTTPException) as caught:
        asyncio.run(coro)
    return caught.value


# -- cameras ------------------------------------------------------------------------------------------------


def test_a_frame_without_a_camera_key_is_refused_401_before_any_lookup(settings):
    db = FakeDb()
    for raw in (None, ""):
        error = refused(Access(settings, db, 10.0).camera(raw, DEPLOYMENT))
        assert error.status_code == 401 and "X-API-Key" in error.detail
        assert error.headers == {"WWW-Authenticate": "API-Key"}
    assert db.calls == Counter()


def test_an_unknown_camera_key_is_refused_401_and_asked_of_the_database_once_while_cached(settings):
    db = FakeDb().answer(apikeys.verify, None)
    gate = Access(settings, db, 10.0)
    for _ in range(3):
        error = refused(gate.camera(CAMERA_KEY, DEPLOYMENT))
        assert error.status_code == 401 and "unknown or revoked" in error.detail
    assert db.calls["verify"] == 1


def test_a_camera_key_bound_to_another_deployment_is_refused_403_naming_the_key(settings):
    db = FakeDb().answer(apikeys.verify, bound_key(uuid.uuid4(), name="north-gate"))
    error = refused(Access(settings, db, 10.0).camera(CAMERA_KEY, DEPLOYMENT))
    assert error.status_code == 403 and "north-gate" in error.detail and "another deployment" in error.detail


def test_a_camera_key_bound_here_is_the_caller_and_is_cached_for_cache_s(settings):
    key = bound_key(DEPLOYMENT)
    db = FakeDb().answer(apikeys.verify, key)
    cached = Access(settings, db, 10.0)
    assert [asyncio.run(cached.camera(CAMERA_KEY, DEPLOYMENT)) for _ in range(3)] == [key] * 3
    assert db.calls["verify"] == 1
    uncached = Access(settings, db, 0.0)  # auth_cache_s = 0: every frame asks the database
    for _ in range(3):
        asyncio.run(uncached.camera(CAMERA_KEY, DEPLOYMENT))
    assert db.calls["verify"] == 4


def test_the_key_cache_forgets_its_oldest_keys_beyond_its_bound(settings, monkeypatch):
    monkeypatch.setattr(access, "CACHE_ENTRIES", 3)
    db = FakeDb().answer(apikeys.verify, None)
    gate = Access(settings, db, 60.0)
    for i in range(5):
        refused(gate.camera(f"{CAMERA_KEY}{i}", DEPLOYMENT))
    assert len(gate._cameras) == 3
    refused(gate.camera(f"{CAMERA_KEY}4", DEPLOYMENT))  # the newest is still cached
    assert db.calls["verify"] == 5
    refused(gate.camera(f"{CAMERA_KEY}0", DEPLOYMENT))  # the oldest was forgotten: asked again
    assert db.calls["verify"] == 6


# -- people -------------------------------------------------------------------------------------------------


def signed_in(settings, name: str = "olly.operator") -> tuple[HTTPAuthorizationCredentials, tokens.Verified]:
    token, _ = tokens.issue(settings, name)
    return bearer(token), tokens.verify(settings, token)


def people_db(roles: list[str], *, revoked: bool = False) -> FakeDb:
    return FakeDb().answer(people.signed_in_roles, roles).answer(tokens.is_revoked, revoked)


@pytest.mark.parametrize("credentials", [None, bearer("abc", scheme="Basic")])
def test_no_bearer_token_is_refused_401_saying_how_to_sign_in(settings, credentials):
    db = people_db(["operator"])
    error = refused(Access(settings, db, 10.0).person(credentials, "operator"))
    assert error.status_code == 401 and "POST /v1/auth/token" in error.detail
    assert error.headers == {"WWW-Authenticate": "Bearer"}
    assert db.calls == Counter()


def test_a_token_not_signed_by_the_issuer_is_no_sign_in(settings, tmp_path):
    other = Settings(_env_file=None, home=tmp_path / "elsewhere")
    forged, _ = signed_in(other)
    with pytest.raises(tokens.InvalidToken):
        asyncio.run(Access(settings, people_db(["admin"]), 10.0).person(forged, "admin"))


def test_a_signed_in_person_acts_in_the_first_asked_role_they_hold(settings):
    credentials, _ = signed_in(settings, "pam.both")
    gate = Access(settings, people_db(["planner", "authoriser"]), 10.0)
    assert asyncio.run(gate.person(credentials, "authoriser", "planner")) == Actor("pam.both", "authoriser")
    assert asyncio.run(gate.person(credentials, "admin", "planner")) == Actor("pam.both", "planner")
    assert asyncio.run(gate.person(credentials)) == Actor("pam.both", "planner")  # no role asked: their first


def test_a_person_without_the_role_is_refused_403_naming_what_it_needs(settings):
    credentials, _ = signed_in(settings, "olly.operator")
    error = refused(Access(settings, people_db(["operator"]), 10.0).person(credentials, "admin", "auditor"))
    assert error.status_code == 403
    assert "olly.operator (operator)" in error.detail and "admin or auditor" in error.detail


def test_a_token_naming_no_one_who_may_sign_in_now_is_refused_401(settings):
    credentials, _ = signed_in(settings, "gone.person")
    error = refused(Access(settings, people_db([]), 10.0).person(credentials, "operator"))
    assert error.status_code == 401 and "gone.person may not sign in here" in error.detail


def test_a_persons_roles_are_cached_for_cache_s_and_read_again_without_a_cache(settings):
    credentials, _ = signed_in(settings)
    db = people_db(["operator"])
    cached = Access(settings, db, 10.0)
    for _ in range(3):
        asyncio.run(cached.person(credentials, "operator"))
    assert db.calls["signed_in_roles"] == 1
    uncached = Access(settings, db, 0.0)
    for _ in range(3):
        asyncio.run(uncached.person(credentials, "operator"))
    assert db.calls["signed_in_roles"] == 4


def test_a_revoked_token_is_refused_401_and_its_revocation_is_asked_on_every_request_until_seen(settings):
    credentials, _ = signed_in(settings)
    db = people_db(["operator"])
    gate = Access(settings, db, 10.0)
    asyncio.run(gate.person(credentials, "operator"))
    asyncio.run(gate.person(credentials, "operator"))
    assert db.calls["is_revoked"] == 2  # a valid token's id is never cached as valid
    db.answer(tokens.is_revoked, True)  # signed out at another replica
    for _ in range(2):
        error = refused(gate.person(credentials, "operator"))
        assert error.status_code == 401 and "signed out" in error.detail
    assert db.calls["is_revoked"] == 3  # once seen revoked, this replica remembers it


def test_signing_out_revokes_the_callers_own_token_and_this_replica_refuses_it_at_once(settings):
    credentials, verified = signed_in(settings)
    db = people_db(["operator"])
    gate = Access(settings, db, 10.0)
    assert asyncio.run(gate.sign_out(credentials)) == verified
    assert db.revoked == [verified]
    error = refused(gate.person(credentials, "operator"))  # the database still says "not revoked" here
    assert error.status_code == 401 and "signed out" in error.detail


# -- sign-in ------------------------------------------------------------------------------------------------


class Conn:
    closed = False

    def close(self) -> None:
        self.closed = True


def test_sign_in_gives_a_token_naming_the_person_once_postgresql_took_their_password(settings, monkeypatch):
    conn = Conn()
    monkeypatch.setattr(sessions, "connect_as", lambda s, name, password: conn)
    db = FakeDb().answer(people.may_sign_in, True).answer(people.signed_in_roles, ["operator"])
    token, lifetime = asyncio.run(Access(settings, db, 10.0).sign_in("olly.operator", "secret"))
    assert tokens.verify(settings, token).name == "olly.operator"
    assert lifetime == settings.identity.token_minutes * 60 and conn.closed


def test_sign_in_answers_alike_for_no_person_and_a_wrong_password(settings, monkeypatch):
    def wrong(s, name, password):
        raise NotSignedIn('password authentication failed for user "olly.operator"')

    monkeypatch.setattr(sessions, "connect_as", wrong)
    no_person = FakeDb().answer(people.may_sign_in, False)
    with pytest.raises(NotSignedIn) as not_a_person:
        asyncio.run(Access(settings, no_person, 10.0).sign_in("postgres", "secret"))
    person = FakeDb().answer(people.may_sign_in, True)
    with pytest.raises(NotSignedIn) as wrong_password:
        asyncio.run(Access(settings, person, 10.0).sign_in("olly.operator", "guess"))
    assert str(not_a_person.value) == str(wrong_password.value) == WRONG_PASSWORD
    assert no_person.calls["may_sign_in"] == 1  # refused before the password is tried


def test_sign_in_refuses_403_a_person_who_holds_no_role(settings, monkeypatch):
    monkeypatch.setattr(sessions, "connect_as", lambda s, name, password: Conn())
    db = FakeDb().answer(people.may_sign_in, True).answer(people.signed_in_roles, [])
    error = refused(Access(settings, db, 10.0).sign_in("new.person", "secret"))
    assert error.status_code == 403 and "new.person holds no role" in error.detail


def test_sign_in_is_the_forces_providers_where_one_is_configured(settings):
    oidc = settings.model_copy(update={"identity": settings.identity.model_copy(
        update={"jwks_url": "https://idp.example/jwks"})})
    db = FakeDb()
    error = refused(Access(oidc, db, 10.0).sign_in("olly.operator", "secret"))
    assert error.status_code == 404 and "identity provider" in error.detail
    assert db.calls == Counter()
