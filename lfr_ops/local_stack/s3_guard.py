"""Who may do what on the embedded S3 server, checked before moto sees a request.

moto's server answers anyone and applies every call, which would leave the stand-in weaker than the MinIO it
stands for on two counts. This WSGI middleware closes both:

* Identities. Every request must be signed (AWS Signature V4) by a known key: the admin key, kept under
  LFR_HOME (0600) and used only by `lfr services up` to make and configure the buckets, or the platform's key
  (LFR_S3__ACCESS_KEY), which gets what its policy documents grant (`<policies>/*.json`, attached by the admin,
  lfr_core/storage/policy.py): object reads and writes, never bucket configuration. Anything else is refused,
  moto's own `/moto-api/` (reset, state, seed) included.
* Object lock. The rules S3 and MinIO keep and moto does not, for every key, the admin's included: versioning
  cannot be suspended on a bucket with object lock (InvalidBucketState); a locked version cannot be deleted (by
  DeleteObject with its versionId, or in a DeleteObjects batch), replaced (a write that would overwrite a null
  version) or have its retention shortened, removed or (COMPLIANCE) switched to GOVERNANCE (AccessDenied); a
  bypass-governance header does nothing to COMPLIANCE; a bucket that still holds versions cannot be deleted.

The lock rules read moto's state, so they must run while no other change does: `s3_durable.durable` holds its
lock around this middleware for every change.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote
from xml.etree import ElementTree

from lfr_core.storage.policy import allows

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_SKEW = timedelta(minutes=15)  # as S3: RequestTimeTooSkewed beyond it
UNSIGNED = {"UNSIGNED-PAYLOAD"}
LOCKED = "Access Denied because object protected by object lock."

# Subresources of a bucket or an object: which action each names (IAM's names). A request with none is the
# plain call (ListBucket, CreateBucket, DeleteBucket; GetObject, PutObject, DeleteObject).
_OBJECT_GET = {"versionId": "s3:GetObjectVersion", "retention": "s3:GetObjectRetention",
               "legal-hold": "s3:GetObjectLegalHold", "tagging": "s3:GetObjectTagging", "acl": "s3:GetObjectAcl",
               "attributes": "s3:GetObjectAttributes", "uploadId": "s3:ListMultipartUploadParts",
               "torrent": "s3:GetObjectTorrent"}
_OBJECT_PUT = {"retention": "s3:PutObjectRetention", "legal-hold": "s3:PutObjectLegalHold",
               "tagging": "s3:PutObjectTagging", "acl": "s3:PutObjectAcl", "uploadId": "s3:PutObject"}
_OBJECT_DELETE = {"uploadId": "s3:AbortMultipartUpload", "tagging": "s3:DeleteObjectTagging",
                  "versionId": "s3:DeleteObjectVersion"}
_OBJECT_POST = {"uploads": "s3:PutObject", "uploadId": "s3:PutObject", "restore": "s3:RestoreObject",
                "select": "s3:GetObject"}
_BUCKET_READ = {"versions": "s3:ListBucketVersions", "uploads": "s3:ListBucketMultipartUploads",
                "location": "s3:GetBucketLocation"}
# Parameters of a listing, not subresources.
_LISTING = {"prefix", "delimiter", "marker", "max-keys", "list-type", "continuation-token", "start-after",
            "fetch-owner", "encoding-type", "key-marker", "version-id-marker", "max-uploads", "upload-id-marker",
            "metadata"}  # MinIO's listing with user metadata
# Any other subresource of a bucket is its configuration (versioning, policy, object-lock, lifecycle, acl,
# cors, encryption, replication, notification, tagging, website, logging, ownershipControls, ...): it is named
# s3:<Verb>Bucket<Subresource> (s3:PutBucketVersioning, s3:PutBucketObjectLock), which no platform policy grants.


def _bucket_action(verb: str, subresource: str) -> str:
    return f"s3:{verb}Bucket" + "".join(p[:1].upper() + p[1:] for p in re.split(r"[-_]", subresource))


@dataclass(frozen=True)
class Key:
    name: str  # "admin" or "application"
    access_key: str
    secret_key: str = field(repr=False)


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str


def _denied(message: str = "Access Denied") -> Refusal:
    return Refusal(403, "AccessDenied", message)


@dataclass
class Request:
    method: str
    bucket: str
    key: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @classmethod
    def of(cls, environ: Mapping[str, Any], body: bytes) -> Request:
        bucket, _, key = unquote(environ.get("PATH_INFO", "")).lstrip("/").partition("/")
        headers = {name[5:].replace("_", "-").lower(): str(value) for name, value in environ.items()
                   if name.startswith("HTTP_")}
        for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(name):
                headers[name.replace("_", "-").lower()] = str(environ[name])
        return cls(environ.get("REQUEST_METHOD", "GET"), bucket, key,
                   parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True), headers, body)

    @property
    def bypass(self) -> bool:
        return self.headers.get("x-amz-bypass-governance-retention", "").lower() == "true"

    @property
    def version_id(self) -> str | None:
        return self.query.get("versionId", [None])[0]

    def resource(self) -> str:
        return f"arn:aws:s3:::{self.bucket}/{self.key}" if self.key else f"arn:aws:s3:::{self.bucket or '*'}"

    def writes_a_version(self) -> bool:
        """PutObject, CopyObject, CompleteMultipartUpload: a new current version (or a replaced null one)."""
        if self.method == "PUT":
            return not set(self.query) & {"retention", "legal-hold", "tagging", "acl", "uploadId"}
        return self.method == "POST" and "uploadId" in self.query

    def actions(self) -> list[tuple[str, str]]:
        """(IAM action, resource) pairs this request needs; a DeleteObjects batch is checked per object."""
        if not self.bucket:
            return [("s3:ListAllMyBuckets", "arn:aws:s3:::*")]
        if not self.key:
            named = [q for q in self.query if q not in _LISTING]
            if self.method in ("GET", "HEAD"):
                return [(_BUCKET_READ.get(q) or _bucket_action("Get", q), self.resource())
                        for q in named] or [("s3:ListBucket", self.resource())]
            if self.method == "POST" and named == ["delete"]:
                return []  # checked object by object: `Guard._delete_batch`
            verb = self.method.capitalize()
            if named:
                return [(_bucket_action(verb, q), self.resource()) for q in named]
            return [({"PUT": "s3:CreateBucket", "DELETE": "s3:DeleteBucket"}.get(self.method)
                     or _bucket_action(verb, ""), self.resource())]
        table = {"GET": _OBJECT_GET, "HEAD": _OBJECT_GET, "PUT": _OBJECT_PUT, "DELETE": _OBJECT_DELETE,
                 "POST": _OBJECT_POST}.get(self.method, {})
        default = {"GET": "s3:GetObject", "HEAD": "s3:GetObject", "PUT": "s3:PutObject",
                   "DELETE": "s3:DeleteObject"}.get(self.method) or f"s3:{self.method.capitalize()}Object"
        # A versionId names the version a subresource applies to; alone it is the call on that version.
        subresources = [table[q] for q in self.query if q in table and q != "versionId"]
        if not subresources and "versionId" in self.query and "versionId" in table:
            subresources = [table["versionId"]]
        needed = [(action, self.resource()) for action in subresources or [default]]
        if self.method == "PUT" and self.writes_a_version():
            if "x-amz-object-lock-mode" in self.headers or "x-amz-object-lock-retain-until-date" in self.headers:
                needed.append(("s3:PutObjectRetention", self.resource()))
            if "x-amz-object-lock-legal-hold" in self.headers:
                needed.append(("s3:PutObjectLegalHold", self.resource()))
            source = self.headers.get("x-amz-copy-source")
            if source:
                path, _, query = unquote(source).lstrip("/").partition("?")
                needed.append(("s3:GetObjectVersion" if "versionId=" in query else "s3:GetObject",
                               f"arn:aws:s3:::{path}"))
        if self.bypass and (self.method == "DELETE" or "retention" in self.query):
            needed.append(("s3:BypassGovernanceRetention", self.resource()))
        return needed

    def batch(self) -> list[tuple[str, str | None]]:
        """(key, version id) of each object a DeleteObjects body names."""
        root = ElementTree.fromstring(self.body)
        entries = []
        for obj in (el for el in root.iter() if _local(el.tag) == "Object"):
            fields = {_local(child.tag): child.text or "" for child in obj}
            entries.append((fields.get("Key", ""), fields.get("VersionId") or None))
        return entries


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _text(body: bytes, tag: str) -> str | None:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    for el in root.iter():
        if _local(el.tag) == tag:
            return (el.text or "").strip()
    return None


# -- AWS Signature Version 4 --------------------------------------------------------------------------------

def _hmac(key: bytes, data: str) -> bytes:
    return hmac.new(key, data.encode(), hashlib.sha256).digest()


def _canonical_query(query: str) -> str:
    pairs = []
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def signer(environ: Mapping[str, Any], body: bytes, keys: Mapping[str, Key], now: datetime) -> Key | Refusal:
    """The key whose signature this request carries, or why it is refused."""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return _denied("Requests must be signed (AWS Signature Version 4)")
    try:
        fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        access_key, day, region, service, terminal = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
    except (KeyError, ValueError):
        return Refusal(400, "AuthorizationHeaderMalformed", "The authorization header is malformed")
    key = keys.get(access_key)
    if key is None:
        return Refusal(403, "InvalidAccessKeyId", "The access key ID you provided does not exist in our records.")
    if service != "s3" or terminal != "aws4_request":
        return _denied("Only S3 is served here")
    request = Request.of(environ, body)
    stamp = request.headers.get("x-amz-date", "")
    try:
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return _denied("x-amz-date is missing or malformed")
    if abs(now - when) > MAX_SKEW or stamp[:8] != day:
        return Refusal(403, "RequestTimeTooSkewed",
                       "The difference between the request time and the current time is too large.")
    payload = request.headers.get("x-amz-content-sha256", "")
    if payload not in UNSIGNED and payload != hashlib.sha256(body).hexdigest():
        return Refusal(400, "XAmzContentSHA256Mismatch",
                       "The provided 'x-amz-content-sha256' header does not match what was computed.")
    raw_path = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "")))
    path, _, query = raw_path.partition("?")
    headers = "".join(f"{h}:{' '.join(request.headers.get(h, '').split())}\n" for h in signed)
    canonical = "\n".join([request.method, path or "/", _canonical_query(query), headers, ";".join(signed), payload])
    scope = f"{day}/{region}/{service}/{terminal}"
    to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    signing = _hmac(_hmac(_hmac(_hmac(f"AWS4{key.secret_key}".encode(), day), region), service), terminal)
    if not hmac.compare_digest(hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest(), signature):
        return Refusal(403, "SignatureDoesNotMatch",
                       "The request signature we calculated does not match the signature you provided.")
    return key


# -- object lock --------------------------------------------------------------------------------------------

def _versions(bucket: Any, key: str) -> list[Any]:
    return list(dict.get(bucket.keys, key) or [])


def _locked(version: Any, bypass: bool) -> bool:
    is_locked = getattr(version, "is_locked", None)
    return bool(is_locked and is_locked(governance_bypass=bypass))


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def removal_refusal(bucket: Any, key: str, version_id: str | None, bypass: bool) -> Refusal | None:
    """DeleteObject: removing a locked version by its id, or (versioning not enabled) the null version in place."""
    versions = _versions(bucket, key)
    if version_id is not None:
        doomed = [v for v in versions if str(v.version_id) == version_id]
    elif bucket.versioning_status == "Enabled":
        return None  # a delete marker on top; every version stays
    else:
        doomed = versions
    return _denied(LOCKED) if any(_locked(v, bypass) for v in doomed) else None


def _retention_refusal(request: Request, bucket: Any) -> Refusal | None:
    versions = _versions(bucket, request.key)
    if request.version_id is not None:
        versions = [v for v in versions if str(v.version_id) == request.version_id]
    if not versions:
        return None
    current = versions[-1]
    until = _instant(getattr(current, "lock_until", None))
    if until is None or until <= datetime.now(UTC) or current.lock_mode not in ("COMPLIANCE", "GOVERNANCE"):
        return None
    mode, new_until = _text(request.body, "Mode"), _instant(_text(request.body, "RetainUntilDate"))
    weakened = new_until is None or new_until < until or mode not in ("COMPLIANCE", "GOVERNANCE")
    if current.lock_mode == "COMPLIANCE" and (weakened or mode != "COMPLIANCE"):
        return _denied(LOCKED)
    if current.lock_mode == "GOVERNANCE" and weakened and not request.bypass:
        return _denied(LOCKED)
    return None


def lock_refusal(request: Request, buckets: Mapping[str, Any]) -> Refusal | None:
    """What S3 refuses on object-lock grounds, for any key; None lets the request through to moto."""
    bucket = buckets.get(request.bucket)
    if bucket is None:
        return None  # moto answers NoSuchBucket
    if not request.key:
        if request.method == "PUT" and "versioning" in request.query and bucket.object_lock_enabled \
                and _text(request.body, "Status") != "Enabled":
            return Refusal(409, "InvalidBucketState", "An Object Lock configuration is present on this bucket, so "
                                                      "the versioning state cannot be changed.")
        if request.method == "PUT" and "object-lock" in request.query and bucket.object_lock_enabled \
                and _text(request.body, "ObjectLockEnabled") != "Enabled":
            return Refusal(400, "InvalidRequest", "Object Lock cannot be disabled on a bucket once enabled.")
        if request.method == "DELETE" and not request.query and any(dict.values(bucket.keys)):
            return Refusal(409, "BucketNotEmpty", "The bucket you tried to delete is not empty. You must delete "
                                                  "all versions in the bucket.")
        return None
    if request.method == "DELETE" and not set(request.query) & {"uploadId", "tagging"}:
        return removal_refusal(bucket, request.key, request.version_id, request.bypass)
    if request.writes_a_version() and bucket.versioning_status != "Enabled" \
            and any(_locked(v, False) for v in _versions(bucket, request.key)):
        return _denied(LOCKED)  # it would replace the locked null version
    if request.method == "PUT" and "retention" in request.query:
        return _retention_refusal(request, bucket)
    return None


# -- the middleware -----------------------------------------------------------------------------------------

def _error_body(refusal: Refusal, resource: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{refusal.code}</Code>'
            f"<Message>{_escape(refusal.message)}</Message><Resource>{_escape(resource)}</Resource>"
            f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>").encode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _respond(start_response: Callable, status: int, body: bytes, method: str) -> list[bytes]:
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}.get(status, "")
    start_response(f"{status} {reason}", [("Content-Type", "application/xml"),
                                          ("Content-Length", "0" if method == "HEAD" else str(len(body)))])
    return [] if method == "HEAD" else [body]


class Guard:
    """WSGI middleware in front of moto's server: identities, the platform key's policy, the lock rules."""

    def __init__(self, app: Callable, keys: Iterable[Key], policies: Path, buckets: Callable[[], Mapping[str, Any]]):
        self.app = app
        self.keys = {key.access_key: key for key in keys}
        self.policies = policies
        self.buckets = buckets
        self._cache: tuple[tuple[tuple[str, int], ...], list[dict[str, Any]]] = ((), [])

    def documents(self) -> list[dict[str, Any]]:
        """The policy documents attached to the platform's key, re-read when a file changes."""
        files = sorted(self.policies.glob("*.json"))
        stamp = tuple((f.name, f.stat().st_mtime_ns) for f in files)
        if stamp != self._cache[0]:
            self._cache = (stamp, [json.loads(f.read_text()) for f in files])
        return self._cache[1]

    def permitted(self, key: Key, action: str, resource: str) -> bool:
        return key.name == "admin" or allows(self.documents(), action, resource)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        method = environ.get("REQUEST_METHOD", "GET")
        path = str(environ.get("PATH_INFO", ""))
        if path.lstrip("/").startswith("moto-api"):
            return _respond(start_response, 403, _error_body(_denied("moto's control API is not served"), path),
                            method)
        key = signer(environ, body, self.keys, datetime.now(UTC))
        if isinstance(key, Refusal):
            return _respond(start_response, key.status, _error_body(key, path), method)
        request = Request.of(environ, body)
        for action, resource in request.actions():
            if not self.permitted(key, action, resource):
                return _respond(start_response, 403, _error_body(_denied(), path), method)
        if method not in ("PUT", "POST", "DELETE"):
            return self.app(environ, start_response)
        if method == "POST" and not request.key and "delete" in request.query:
            return self._delete_batch(request, key, environ, start_response)
        refusal = lock_refusal(request, self.buckets())
        if refusal is not None:
            return _respond(start_response, refusal.status, _error_body(refusal, path), method)
        return self.app(environ, start_response)

    def _delete_batch(self, request: Request, key: Key, environ: dict[str, Any],
                      start_response: Callable) -> Iterable[bytes]:
        """DeleteObjects: as S3, each object the key may not delete, or that is locked, comes back as an error
        in a 200 answer, and the others are deleted."""
        bucket = self.buckets().get(request.bucket)
        if bucket is None:
            return self.app(environ, start_response)
        try:
            entries = request.batch()
        except ElementTree.ParseError:
            return _respond(start_response, 400, _error_body(Refusal(400, "MalformedXML", "The XML you provided "
                                                                     "was not well-formed"), request.bucket), "POST")
        errors: list[tuple[str, str | None, Refusal]] = []
        kept: list[tuple[str, str | None]] = []
        for name, version_id in entries:
            resource = f"arn:aws:s3:::{request.bucket}/{name}"
            needed = ["s3:DeleteObjectVersion" if version_id else "s3:DeleteObject"]
            needed += ["s3:BypassGovernanceRetention"] if request.bypass else []
            refusal = None if all(self.permitted(key, a, resource) for a in needed) else _denied()
            refusal = refusal or removal_refusal(bucket, name, version_id, request.bypass)
            if refusal is None:
                kept.append((name, version_id))
            else:
                errors.append((name, version_id, refusal))
        if not errors:
            return self.app(environ, start_response)
        result = ElementTree.Element("DeleteResult", xmlns=S3_NS)
        if kept:
            answer = _forward_batch(self.app, environ, request, kept)
            if answer is None:
                return self.app(environ, start_response)  # moto's own error, for the whole request
            for child in answer:
                child.tag = _local(child.tag)
                for grandchild in child.iter():
                    grandchild.tag = _local(grandchild.tag)
                result.append(child)
        for name, version_id, refusal in errors:
            error = ElementTree.SubElement(result, "Error")
            ElementTree.SubElement(error, "Key").text = name
            if version_id:
                ElementTree.SubElement(error, "VersionId").text = version_id
            ElementTree.SubElement(error, "Code").text = refusal.code
            ElementTree.SubElement(error, "Message").text = refusal.message
        body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(result)
        return _respond(start_response, 200, body, "POST")


def _forward_batch(app: Callable, environ: dict[str, Any], request: Request,
                   kept: list[tuple[str, str | None]]) -> ElementTree.Element | None:
    """moto's DeleteResult for the objects that may go, or None when moto refused the batch as a whole."""
    root = ElementTree.Element("Delete")
    quiet = _text(request.body, "Quiet")
    if quiet:
        ElementTree.SubElement(root, "Quiet").text = quiet
    for name, version_id in kept:
        obj = ElementTree.SubElement(root, "Object")
        ElementTree.SubElement(obj, "Key").text = name
        if version_id:
            ElementTree.SubElement(obj, "VersionId").text = version_id
    body = ElementTree.tostring(root)
    inner = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
             "HTTP_CONTENT_MD5": base64.b64encode(hashlib.md5(body).digest()).decode(),  # S3's Content-MD5
             "HTTP_X_AMZ_CONTENT_SHA256": hashlib.sha256(body).hexdigest()}
    status: list[str] = []
    answer = b"".join(app(inner, lambda s, headers, exc_info=None: status.append(s)))
    if not status or not status[0].startswith("200"):
        return None
    return ElementTree.fromstring(answer)
