"""What the platform's own S3 key may do: read and write objects under the prefixes it uses, never configure a
bucket.

The buckets are made (versioned, object-locked where needed) by another identity: the store's administrator in
production, the embedded stand-in's admin key under LFR_HOME locally. Were the platform's key allowed bucket
configuration, whoever holds it could suspend versioning, attach a bucket policy that locks the platform out
of its reports, or set lifecycle rules that expire what it keeps. The same document is attached to the key in
both places: the stand-in (`lfr_ops.local_stack.s3_guard`) evaluates it, and `infra/terraform/object_store.tf`
renders it for the force's store (a test checks that the two agree).

Deletion is granted where the platform purges (watchlist images and snapshots, alert crops) and nowhere in the
reports bucket: reports, purge receipts and audit checkpoints are kept. Checkpoints are written under
COMPLIANCE retention (s3:PutObjectRetention), which no key can shorten.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from lfr_core.config import S3Settings

READ = ("s3:GetObject", "s3:GetObjectVersion")
WRITE = ("s3:PutObject",)
# Purges delete every version, and the snapshot bucket's default GOVERNANCE retention is lifted for them.
DELETE = ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention")
RETAIN = ("s3:PutObjectRetention",)
LIST = ("s3:ListBucket", "s3:ListBucketVersions")
# Where the audit checkpoints are written in the reports bucket (lfr_core/audit/checkpoints.py writes there).
CHECKPOINTS = "audit-checkpoints/"


def application_policy(s3: S3Settings) -> dict[str, Any]:
    """The IAM policy document (the syntax of AWS, MinIO, Ceph RGW and StorageGRID) of the platform's key."""

    def objects(bucket: str, prefix: str = "") -> str:
        return f"arn:aws:s3:::{bucket}/{prefix}*"

    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ListPlatformBuckets", "Effect": "Allow", "Action": list(LIST),
         "Resource": [f"arn:aws:s3:::{b}" for b in (s3.bucket_sources, s3.bucket_images, s3.bucket_watchlists,
                                                     s3.bucket_alerts, s3.bucket_reports)]},
        # Staged custody images (lfr_core/watchlist/sources.py), reports and purge receipts: kept.
        {"Sid": "WriteAndKeep", "Effect": "Allow", "Action": list(READ + WRITE),
         "Resource": [objects(s3.bucket_sources, "staging/"), objects(s3.bucket_reports, "reports/"),
                      objects(s3.bucket_reports, "receipts/")]},
        {"Sid": "WriteAndPurge", "Effect": "Allow", "Action": list(READ + WRITE + DELETE),
         "Resource": [objects(s3.bucket_images), objects(s3.bucket_watchlists), objects(s3.bucket_alerts)]},
        {"Sid": "WriteCheckpointsUnderRetention", "Effect": "Allow", "Action": list(READ + WRITE + RETAIN),
         "Resource": [objects(s3.bucket_reports, CHECKPOINTS)]},
    ]}


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcards: `*` any run of characters, `?` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def allows(documents: Iterable[dict[str, Any]], action: str, resource: str) -> bool:
    """IAM evaluation of identity policies: an explicit Deny wins, else an Allow is needed (default deny)."""
    allowed = False
    for document in documents:
        for statement in _listed(document.get("Statement", [])):
            if not any(_matches(a, action, ignore_case=True) for a in _listed(statement.get("Action", []))):
                continue
            if not any(_matches(r, resource) for r in _listed(statement.get("Resource", []))):
                continue
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
    return allowed
