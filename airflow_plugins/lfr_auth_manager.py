"""Airflow's sign-in against the platform's own identity: `[core] auth_manager = lfr_auth_manager.LfrAuthManager`
(lfr_ops/local_stack/airflow_service.py sets it).

Airflow's users are the platform's people (lfr_core/identity/people.py), under their own names:

- **Sign-in.** `POST /auth/token` (JSON or form: `username`, `password`; the UI's form at `/auth/login`)
  opens a PostgreSQL connection as the person, so PostgreSQL checks the password and refuses a disabled
  (NOLOGIN) person. Only a person who may sign in (`people.may_sign_in`: a login in `lfr_person`, neither
  a superuser nor a service login; the owner roles cannot log in at all) is tried; any other name answers
  as a wrong password does. `POST /auth/token/exchange` takes the platform's own sign-in token instead
  (`Authorization: Bearer`, lfr_core/identity/tokens.py: the force's OIDC provider in production, the local issuer
  in the embedded setup). No password is written anywhere: Airflow has no accounts of its own.
- **Every request.** The JWT Airflow issues names the person only. Their roles are looked up in the database
  on every request (one query on a kept connection), so a person disabled with `lfr person disable` is
  refused at once (401) with the token they already hold, and a role taken away is gone at once.
- **Roles.** Planners read and trigger runs of `lfr_deployment`; authorisers read and answer its Required
  Actions (Airflow then checks they are among the task's assigned authorisers); auditors and admins read
  (the audit view is theirs, airflow_plugins/lfr_audit_view.py); operators have nothing in Airflow and
  cannot sign in to it. Nobody edits connections, variables, configuration or pools, pauses DAGs or
  clears tasks through Airflow: what changes the platform's data is decided again by the database, as the
  person, when a task acts for them.
"""

from __future__ import annotations

import asyncio
import html
import threading
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from airflow.api_fastapi.app import AUTH_MANAGER_FASTAPI_APP_PREFIX, get_cookie_path
from airflow.api_fastapi.auth.managers.base_auth_manager import (
    COOKIE_NAME_JWT_TOKEN,
    BaseAuthManager,
)
from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.types import MenuItem
from airflow.configuration import conf
from fastapi import Depends, FastAPI, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    import psycopg
    from airflow.api_fastapi.auth.managers.base_auth_manager import ResourceMethod
    from airflow.api_fastapi.auth.managers.models.resource_details import (
        AccessView,
        AssetAliasDetails,
        AssetDetails,
        ConfigurationDetails,
        ConnectionDetails,
        DagDetails,
        PoolDetails,
        VariableDetails,
    )

DEPLOYMENT_DAG = "lfr_deployment"
READERS = frozenset({"planner", "authoriser", "admin", "auditor"})  # an operator has nothing in Airflow
AUDIT_READERS = frozenset({"admin", "auditor"})
# What a reader finds in the menu; connections, variables, configuration and pools are nobody's here.
READER_MENU = frozenset({MenuItem.REQUIRED_ACTIONS, MenuItem.DAGS, MenuItem.ASSETS, MenuItem.AUDIT_LOG,
                         MenuItem.DOCS, MenuItem.JOBS, MenuItem.XCOMS, MenuItem.DEADLINES, MenuItem.PLUGINS,
                         MenuItem.PROVIDERS})
REFUSED = "wrong name or password, or the person is disabled"
BEARER = HTTPBearer(auto_error=False)  # module level: the routes' annotations are resolved from here


class LfrUser(BaseUser):
    """A person of the platform, with the roles the database gave them for this request."""

    def __init__(self, name: str, roles: tuple[str, ...] = ()) -> None:
        self.name = name
        self.roles = roles

    def get_id(self) -> str:
        return self.name

    def get_name(self) -> str:
        return self.name

    def holds(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


class _Directory:
    """The platform's database as the services see it (the platform's own login): one connection per API
    server process, kept open, used by one request at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: psycopg.Connection | None = None

    def run(self, fn: Any, *args: Any) -> Any:
        import psycopg

        from lfr_core.config import get_settings
        from lfr_core.db.connection import connect

        with self._lock:
            for attempt in range(2):
                try:
                    if self._conn is None or self._conn.closed:
                        self._conn = connect(get_settings(), vector=False)
                    return fn(self._conn, *args)
                except psycopg.OperationalError:  # the server restarted: one fresh connection, then give up
                    self._conn = None
                    if attempt:
                        raise
        raise AssertionError("unreachable")

    def roles(self, name: str) -> tuple[str, ...]:
        """The person's roles now; none for a disabled person, a superuser or a login that is no person."""
        from lfr_core.identity import people

        return tuple(self.run(people.signed_in_roles, name))

    def may_sign_in(self, name: str) -> bool:
        from lfr_core.identity import people

        return bool(self.run(people.may_sign_in, name))


DIRECTORY = _Directory()


async def _roles_now(name: str) -> tuple[str, ...]:
    from lfr_core.db.connection import DatabaseUnavailable

    try:
        return await asyncio.to_thread(DIRECTORY.roles, name)
    except DatabaseUnavailable as e:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the platform's database is unavailable") from e


def _check_password(name: str, password: str) -> None:
    """PostgreSQL checks the password: a connection as the person (refused for a disabled one)."""
    from lfr_core.config import get_settings
    from lfr_core.identity import sessions

    sessions.connect_as(get_settings(), name, password).close()


async def sign_in(name: str, password: str) -> LfrUser:
    """The person, if PostgreSQL accepts their password and they have something to do in Airflow: 401 for a
    wrong password, a disabled person or a login that is no person (alike), 403 for an operator."""
    from lfr_core.db.connection import DatabaseUnavailable
    from lfr_core.identity import sessions

    if not name or not password or len(name) > 63 or "\x00" in name + password:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, REFUSED)
    try:
        if not await asyncio.to_thread(DIRECTORY.may_sign_in, name):  # no password is tried for other logins
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, REFUSED)
        await asyncio.to_thread(_check_password, name, password)
    except sessions.NotSignedIn as e:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, REFUSED) from e
    except DatabaseUnavailable as e:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the platform's database is unavailable") from e
    return _reader(name, await _roles_now(name))


def _reader(name: str, roles: tuple[str, ...]) -> LfrUser:
    if not roles:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, REFUSED)
    if not READERS.intersection(roles):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{name} ({', '.join(roles)}) has nothing to do in Airflow")
    return LfrUser(name, roles)


class LoginBody(BaseModel):
    username: str = Field(max_length=63)
    password: str = Field(max_length=1024)


class LoginResponse(BaseModel):
    access_token: str


def _login_page(next_url: str, problem: str = "", status_code: int = 200) -> HTMLResponse:
    e = html.escape
    warning = f"<p role='alert' style='color:#b3261e'>{e(problem)}</p>" if problem else ""
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Sign in to Airflow (LFR)</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><style>body{font:15px system-ui,"
        "sans-serif;background:#f5f6f8;display:flex;justify-content:center;padding-top:10vh}form{background:#fff;"
        "border:1px solid #d5d9e0;border-radius:8px;padding:1.5rem 2rem;display:flex;flex-direction:column;"
        "gap:.7rem;min-width:18rem}input,button{font:inherit;padding:.4rem}</style></head><body>"
        f"<form method='post' action='{AUTH_MANAGER_FASTAPI_APP_PREFIX}/login'><h1 style='font-size:1.2rem'>"
        "Sign in to Airflow</h1><p>With your own name and password on the platform.</p>"
        f"{warning}<input type='hidden' name='next' value='{e(next_url)}'>"
        "<label>Name <input name='username' autocomplete='username' required></label>"
        "<label>Password <input name='password' type='password' autocomplete='current-password' required></label>"
        "<button type='submit'>Sign in</button></form></body></html>", status_code=status_code)


def _auth_app(manager: LfrAuthManager) -> FastAPI:
    from airflow.api_fastapi.core_api.security import is_safe_url

    app = FastAPI(title="LFR sign-in", docs_url=None, redoc_url=None, openapi_url=None)

    def _token(user: LfrUser, cli: bool = False) -> str:
        lifetime = conf.getint("api_auth", "jwt_cli_expiration_time" if cli else "jwt_expiration_time")
        return manager.generate_jwt(user, expiration_time_in_seconds=lifetime)

    async def _body(request: Request) -> LoginBody:
        if request.headers.get("content-type", "").startswith("application/json"):
            raw = await request.json()
        else:
            form = await request.form()
            raw = {"username": form.get("username"), "password": form.get("password")}
        try:
            return LoginBody.model_validate(raw)
        except ValueError as e:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "username and password must be given") from e

    @app.post("/token", status_code=status.HTTP_201_CREATED)
    async def create_token(request: Request) -> LoginResponse:
        body = await _body(request)
        return LoginResponse(access_token=_token(await sign_in(body.username, body.password)))

    @app.post("/token/cli", status_code=status.HTTP_201_CREATED)
    async def create_token_cli(body: LoginBody) -> LoginResponse:
        return LoginResponse(access_token=_token(await sign_in(body.username, body.password), cli=True))

    @app.post("/token/exchange", status_code=status.HTTP_201_CREATED)
    async def exchange(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> LoginResponse:
        """An Airflow token for the holder of a platform sign-in token (the force's OIDC provider's in
        production, the local issuer's in the embedded setup)."""
        from lfr_core.config import get_settings
        from lfr_core.identity import tokens

        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "send Authorization: Bearer <platform sign-in token>")
        try:
            verified = tokens.verify(get_settings(), credentials.credentials)
            revoked = verified.token_id is not None and await asyncio.to_thread(
                DIRECTORY.run, tokens.is_revoked, verified.token_id)
        except tokens.InvalidToken as e:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(e)) from e
        if revoked:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this sign-in token was signed out")
        return LoginResponse(access_token=_token(_reader(verified.name, await _roles_now(verified.name))))

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(next: str = "") -> HTMLResponse:
        return _login_page(next)

    @app.post("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login(request: Request, username: str = Form(""), password: str = Form(""),
                    next: str = Form("")) -> Any:
        try:
            user = await sign_in(username, password)
        except HTTPException as e:
            return _login_page(next, str(e.detail), e.status_code)
        target = next if next and is_safe_url(next, request=request) else conf.get("api", "base_url", fallback="/")
        response = RedirectResponse(url=target or "/", status_code=status.HTTP_303_SEE_OTHER)
        secure = request.base_url.scheme == "https" or bool(conf.get("api", "ssl_cert", fallback=""))
        response.set_cookie(COOKIE_NAME_JWT_TOKEN, _token(user), path=get_cookie_path(), secure=secure,
                            httponly=True, samesite="lax")
        return response

    return app


class LfrAuthManager(BaseAuthManager[LfrUser]):
    """People of the platform sign in with their own password; their roles are the database's, now."""

    def deserialize_user(self, token: dict[str, Any]) -> LfrUser:
        return LfrUser(str(token["sub"]))  # roles: looked up for the request (get_user_from_token)

    def serialize_user(self, user: LfrUser) -> dict[str, Any]:
        return {"sub": user.name}  # nothing else: a token must not outlive a disable or a role taken away

    async def get_user_from_token(self, token: str) -> BaseUser:
        user = await super().get_user_from_token(token)
        return _reader(user.get_name(), await _roles_now(user.get_name()))

    def get_url_login(self, **kwargs: Any) -> str:
        url = f"{AUTH_MANAGER_FASTAPI_APP_PREFIX}/login"
        return f"{url}?{urlencode({'next': kwargs['next_url']})}" if kwargs.get("next_url") else url

    def get_fastapi_app(self) -> FastAPI | None:
        return _auth_app(self)

    @staticmethod
    def _reads(user: LfrUser, method: ResourceMethod) -> bool:
        return method == "GET" and user.holds(*READERS)

    def is_authorized_configuration(self, *, method: ResourceMethod, user: LfrUser,
                                    details: ConfigurationDetails | None = None) -> bool:
        return False

    def is_authorized_connection(self, *, method: ResourceMethod, user: LfrUser,
                                 details: ConnectionDetails | None = None) -> bool:
        return False

    def is_authorized_variable(self, *, method: ResourceMethod, user: LfrUser,
                               details: VariableDetails | None = None) -> bool:
        return False

    def is_authorized_pool(self, *, method: ResourceMethod, user: LfrUser, details: PoolDetails | None = None) -> bool:
        return self._reads(user, method)

    def is_authorized_asset(self, *, method: ResourceMethod, user: LfrUser,
                            details: AssetDetails | None = None) -> bool:
        return self._reads(user, method)

    def is_authorized_asset_alias(self, *, method: ResourceMethod, user: LfrUser,
                                  details: AssetAliasDetails | None = None) -> bool:
        return self._reads(user, method)

    def is_authorized_dag(self, *, method: ResourceMethod, user: LfrUser, access_entity: DagAccessEntity | None = None,
                          details: DagDetails | None = None) -> bool:
        if self._reads(user, method):
            return True
        if details is None or details.id != DEPLOYMENT_DAG:
            return False
        if access_entity == DagAccessEntity.RUN and method == "POST":
            return user.holds("planner")  # the run's planner is who triggered it (lfr_core/workflow/tasks.py)
        if access_entity == DagAccessEntity.HITL_DETAIL and method == "PUT":
            return user.holds("authoriser")  # and one of the task's assigned users (is_authorized_hitl_task)
        return False

    def is_authorized_view(self, *, access_view: AccessView, user: LfrUser) -> bool:
        return user.holds(*READERS)

    def is_authorized_custom_view(self, *, method: ResourceMethod, resource_name: str, user: LfrUser) -> bool:
        return method == "GET" and user.holds(*AUDIT_READERS)

    def filter_authorized_menu_items(self, menu_items: list[MenuItem], *, user: LfrUser) -> list[MenuItem]:
        return [item for item in menu_items if item in READER_MENU] if user.holds(*READERS) else []
