"""The policy the production object store attaches to the platform's key (infra/terraform/object_store.tf) is
the one the embedded stand-in enforces (lfr_core/storage/policy.py), follows bucket names set in
extra_lfr_env, and grants object reads and writes only: no bucket configuration, no deletion in the reports
bucket, no wildcard action."""

from __future__ import annotations

from lfr_core.config import S3Settings
from lfr_core.storage.policy import application_policy
from tests.infra.conftest import EXAMPLE_TFVARS, render, tfvars_with

OBJECT_ACTIONS = {"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectRetention", "s3:DeleteObject",
                  "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:ListBucket", "s3:ListBucketVersions"}


def test_production_attaches_the_policy_the_embedded_store_enforces(rendered) -> None:
    for variant in rendered.values():
        assert variant["object_store_policy"] == application_policy(S3Settings())


def test_bucket_names_set_in_extra_lfr_env_reach_the_policy(eval_dir) -> None:
    names = {"LFR_S3__BUCKET_REPORTS": "force-lfr-reports", "LFR_S3__BUCKET_ALERTS": "force-lfr-alerts"}
    extra = "{ " + ", ".join(f'{k} = "{v}"' for k, v in names.items()) + " }"
    out = render(eval_dir, tfvars_with(EXAMPLE_TFVARS.read_text(), extra_lfr_env=extra), "bucket-names")
    assert out["object_store_policy"] == application_policy(S3Settings(bucket_reports="force-lfr-reports",
                                                                       bucket_alerts="force-lfr-alerts"))


def test_the_platform_key_gets_object_actions_only_and_no_deletion_of_reports(rendered) -> None:
    statements = rendered["cnpg-gpu"]["object_store_policy"]["Statement"]
    assert {s["Effect"] for s in statements} == {"Allow"}
    actions = {a for s in statements for a in s["Action"]}
    assert actions <= OBJECT_ACTIONS and not any("*" in a for a in actions)
    for s in statements:
        for resource in s["Resource"]:
            bucket = resource.removeprefix("arn:aws:s3:::").partition("/")[0]
            assert bucket and "*" not in bucket, resource  # named buckets only
            if bucket == "lfr-reports":
                assert not {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"} & \
                    set(s["Action"]), s
