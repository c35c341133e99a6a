"""S3 buckets against moto: create, no drift, update, drift, destroy."""

from __future__ import annotations

from typing import Any

import pytest

from provisioning.aws import AwsContext
from provisioning.errors import ProvisioningError
from provisioning.provisioners.base import Action
from provisioning.provisioners.s3 import BucketProvisioner, build_encryption_config
from provisioning.state import RecordedResource

BUCKET = "acme-dev-uploads"


def spec(**overrides: Any) -> dict[str, Any]:
    return {
        "name": BUCKET,
        "versioning": False,
        "encryption": {"algorithm": "AES256", "kms_key_id": None},
        "block_public_access": True,
        **overrides,
    }


def record(outputs: dict[str, Any], props: dict[str, Any]) -> RecordedResource:
    return RecordedResource(
        "bucket/uploads", "s3:bucket", outputs["physical_id"], outputs["arn"], outputs, "", props
    )


def changed(
    provisioner: BucketProvisioner, props: dict[str, Any], rec: RecordedResource
) -> list[str]:
    plan = provisioner.plan(rec.logical_id, props, rec, provisioner.get_current_state(props, rec))
    return [c.name for c in plan.changes]


def test_build_encryption_config_defaults_to_aes256() -> None:
    assert build_encryption_config(None) == {
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }


def test_build_encryption_config_with_kms_key_uses_bucket_key() -> None:
    config = build_encryption_config({"algorithm": "aws:kms", "kms_key_id": "alias/acme"})
    assert config == {
        "Rules": [
            {
                "ApplyServerSideEncryptionByDefault": {
                    "SSEAlgorithm": "aws:kms",
                    "KMSMasterKeyID": "alias/acme",
                },
                "BucketKeyEnabled": True,
            }
        ]
    }


def test_build_encryption_config_rejects_unknown_algorithm() -> None:
    with pytest.raises(ValueError, match="DES"):
        build_encryption_config({"algorithm": "DES", "kms_key_id": None})


def test_bucket_lifecycle(aws: AwsContext) -> None:
    s3 = aws.client("s3")
    bucket = BucketProvisioner(aws)
    props = spec()

    # given a new bucket spec, the plan creates it
    assert (
        bucket.plan("bucket/uploads", props, None, bucket.get_current_state(props, None)).action
        == Action.CREATE
    )
    outputs = bucket.provision("bucket/uploads", props, None)
    assert outputs == {"physical_id": BUCKET, "name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"}
    rec = record(outputs, props)

    # then it is secure and tagged, and nothing differs
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]}
    assert tags["strands-deploy:logical-id"] == "bucket/uploads"
    current = bucket.get_current_state(props, rec)
    assert bucket.plan("bucket/uploads", props, rec, current).action == Action.NO_CHANGE

    # when each mutable property changes, the plan shows exactly it, and provision applies it
    for name, value in [
        ("versioning", True),
        ("encryption", {"algorithm": "aws:kms", "kms_key_id": "alias/acme"}),
        ("block_public_access", False),
    ]:
        props = {**props, name: value}
        assert changed(bucket, props, rec) == [name]
        bucket.provision("bucket/uploads", props, bucket.get_current_state(props, rec))
        assert changed(bucket, props, rec) == []
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"

    # when someone suspends versioning by hand, the plan reports it
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    assert changed(bucket, props, rec) == ["versioning"]

    # a new name cannot be applied in place
    plan = bucket.plan(
        "bucket/uploads",
        {**props, "name": "acme-dev-other"},
        rec,
        bucket.get_current_state(props, rec),
    )
    assert plan.action == Action.REPLACE
    assert "rename" in plan.reason

    bucket.destroy(rec)
    assert bucket.get_current_state(props, rec) is None
    bucket.destroy(rec)  # already gone is done


def test_missing_encryption_means_aes256_and_is_not_drift(aws: AwsContext) -> None:
    bucket = BucketProvisioner(aws)
    props = spec(encryption=None)
    outputs = bucket.provision("bucket/uploads", props, None)
    rec = record(outputs, props)
    assert changed(bucket, props, rec) == []
    assert bucket.get_current_state(props, rec).properties["encryption"] == {  # type: ignore[union-attr]
        "algorithm": "AES256",
        "kms_key_id": None,
    }


def test_create_adopts_an_existing_bucket_instead_of_failing(aws: AwsContext) -> None:
    # given a crash left the bucket made but unrecorded
    aws.client("s3").create_bucket(Bucket=BUCKET)
    bucket = BucketProvisioner(aws)
    current = bucket.get_current_state(spec(), None)
    plan = bucket.plan("bucket/uploads", spec(), None, current)
    assert plan.adopt is True

    # when provisioned, it is brought to the spec rather than recreated
    outputs = bucket.provision("bucket/uploads", spec(), None)
    assert outputs["physical_id"] == BUCKET
    assert [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]] == [BUCKET]
    assert changed(bucket, spec(), record(outputs, spec())) == []


def test_destroy_empties_a_versioned_bucket_with_many_objects(aws: AwsContext) -> None:
    s3 = aws.client("s3")
    bucket = BucketProvisioner(aws)
    props = spec(versioning=True)
    rec = record(bucket.provision("bucket/uploads", props, None), props)
    # given objects with several versions each, and delete markers
    for i in range(1100):
        s3.put_object(Bucket=BUCKET, Key=f"k/{i}", Body=b"a")
    for i in range(5):
        s3.put_object(Bucket=BUCKET, Key=f"k/{i}", Body=b"b")
        s3.delete_object(Bucket=BUCKET, Key=f"k/{i}")

    bucket.destroy(rec)

    assert s3.list_buckets()["Buckets"] == []


def test_errors_name_action_and_bucket(aws: AwsContext) -> None:
    bucket = BucketProvisioner(aws)
    with pytest.raises(ProvisioningError) as raised:
        bucket.provision("bucket/uploads", spec(name="ab"), None)
    assert str(raised.value).startswith("creating S3 bucket ab: InvalidBucketName")
    assert raised.value.code
