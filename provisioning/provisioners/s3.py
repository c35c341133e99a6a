"""S3 buckets: encrypted, versioned on request, public access blocked.

s3:bucket properties:
  name: str (lowercase, 3-63)
  versioning: bool
  encryption: {"algorithm": "AES256" | "aws:kms", "kms_key_id": str | None}
  block_public_access: bool
  tls_only: bool        (optional: absent leaves the bucket policy alone)
outputs: physical_id (name), name, arn

`encryption` may be None: the bucket then gets AES256, and the plan compares it
as {"algorithm": "AES256", "kms_key_id": None} so it does not show as a change.

`tls_only` is one statement of the bucket policy (sid `TLS_ONLY_SID`) that denies every
request not made over TLS; other statements of the policy are kept as they are. The
sandbox does not write it: the emulator cannot evaluate `aws:SecureTransport` and would
refuse every object request, so there it reads as what the spec wants."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from provisioning.errors import ProvisioningError, aws_errors, delete_if_present, is_not_found
from provisioning.provisioners.base import Current, Provisioner, physical_id_of, tag_dict
from provisioning.state import RecordedResource

_ALGORITHMS = ("AES256", "aws:kms")
_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys per call
_NO_BUCKET = ("404", "NoSuchBucket")
_PUBLIC_ACCESS_FLAGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)


def _setting(
    get: Callable[..., Mapping[str, Any]], bucket: str, key: str, unset_code: str
) -> Mapping[str, Any] | None:
    """The bucket's `key` setting as `get` answers it; None when the bucket has none
    (S3 answers `unset_code` then rather than an empty setting)."""
    try:
        setting: Mapping[str, Any] = get(Bucket=bucket)[key]
    except ClientError as exc:
        if is_not_found(exc, unset_code):
            return None
        raise
    return setting


def canonical_encryption(encryption: Mapping[str, Any] | None) -> dict[str, Any]:
    """The spec's encryption with its default filled in: AES256 when not given."""
    if not encryption:
        return {"algorithm": "AES256", "kms_key_id": None}
    algorithm = encryption.get("algorithm") or "AES256"
    key = encryption.get("kms_key_id") if algorithm == "aws:kms" else None
    return {"algorithm": algorithm, "kms_key_id": key or None}


def build_encryption_config(encryption: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `ServerSideEncryptionConfiguration` for PutBucketEncryption.

    KMS buckets get an S3 Bucket Key, which cuts KMS requests (and cost) by
    orders of magnitude without weakening anything.
    """
    wanted = canonical_encryption(encryption)
    if wanted["algorithm"] not in _ALGORITHMS:
        raise ValueError(
            f"unknown S3 encryption algorithm {wanted['algorithm']!r}; use AES256 or aws:kms"
        )
    default: dict[str, Any] = {"SSEAlgorithm": wanted["algorithm"]}
    rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": default}
    if wanted["algorithm"] == "aws:kms":
        if wanted["kms_key_id"]:
            default["KMSMasterKeyID"] = wanted["kms_key_id"]
        rule["BucketKeyEnabled"] = True
    return {"Rules": [rule]}


def bucket_arn(partition: str, name: str) -> str:
    return f"arn:{partition}:s3:::{name}"


TLS_ONLY_SID = "DenyInsecureTransport"


def tls_only_statement(arn: str) -> dict[str, Any]:
    """Refuse any request to the bucket or its objects that is not made over TLS."""
    return {
        "Sid": TLS_ONLY_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


class BucketProvisioner(Provisioner):
    resource_type = "s3:bucket"
    noun = "S3 bucket"
    replace_on = {"name": "S3 cannot rename a bucket"}

    def with_defaults(self, properties: Mapping[str, Any]) -> Mapping[str, Any]:
        wanted = dict(properties)
        if "encryption" in wanted:
            wanted["encryption"] = canonical_encryption(wanted["encryption"])
        return wanted

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        name = physical_id_of(properties, recorded)
        with aws_errors("reading S3 bucket", name):
            # S3 has no one-call description: three reads are the least, and the first
            # answers NoSuchBucket for a missing bucket, so no HeadBucket is needed.
            try:
                versioning = self._read_versioning(name)
            except ClientError as exc:
                if is_not_found(exc, *_NO_BUCKET):
                    return None
                raise
            live = {
                "name": name,
                "versioning": versioning,
                "encryption": self._read_encryption(name),
                "block_public_access": self._read_public_access_block(name),
                "tls_only": self._read_tls_only(name, properties),
            }
        return Current(properties=live, outputs=self._outputs(name))

    def owner_tags(self, current: Current) -> Mapping[str, str] | None:
        name = current.outputs["name"]
        with aws_errors("reading tags of S3 bucket", name):
            try:
                answer = self.aws.client("s3").get_bucket_tagging(Bucket=name)
            except ClientError as exc:
                if is_not_found(exc, "NoSuchTagSet"):
                    return {}
                raise
        return tag_dict(answer.get("TagSet") or [])

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # "BucketAlreadyOwnedByYou" after a lost reply: `provision` finds it and updates it.
        name = properties["name"]
        args: dict[str, Any] = {"Bucket": name}
        # us-east-1 is the one region that refuses an explicit LocationConstraint
        if self.aws.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": self.aws.region}
        s3 = self.aws.client("s3")
        s3.create_bucket(**args)
        s3.get_waiter("bucket_exists").wait(
            Bucket=name, WaiterConfig={"Delay": 2, "MaxAttempts": 30}
        )
        return self._configure(logical_id, properties, {})

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        return self._configure(logical_id, properties, current.properties)

    def _configure(
        self, logical_id: str, properties: Mapping[str, Any], have: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Settings S3 takes only after the bucket exists, its tags among them."""
        name = properties["name"]
        self._apply_public_access_block(name, properties, have)
        self._apply_encryption(name, properties, have)
        self._apply_versioning(name, properties, have)
        self._apply_tls_only(name, properties, have)
        self.aws.client("s3").put_bucket_tagging(
            Bucket=name, Tagging={"TagSet": self.aws.tag_list(logical_id)}
        )
        return self._outputs(name)

    def destroy(self, recorded: RecordedResource) -> None:
        name = recorded.physical_id
        with aws_errors("deleting S3 bucket", name):
            if delete_if_present(self._empty_and_delete, *_NO_BUCKET, name=name):
                self.aws.client("s3").get_waiter("bucket_not_exists").wait(
                    Bucket=name, WaiterConfig={"Delay": 2, "MaxAttempts": 30}
                )

    def _empty_and_delete(self, name: str) -> None:
        self._empty(name)
        self.aws.client("s3").delete_bucket(Bucket=name)

    def _outputs(self, name: str) -> dict[str, Any]:
        return {"physical_id": name, "name": name, "arn": bucket_arn(self.aws.partition, name)}

    def _apply_public_access_block(
        self, name: str, properties: Mapping[str, Any], have: Mapping[str, Any]
    ) -> None:
        wanted = bool(properties.get("block_public_access", True))
        if have.get("block_public_access") == wanted:
            return
        s3 = self.aws.client("s3")
        if wanted:
            s3.put_public_access_block(
                Bucket=name,
                PublicAccessBlockConfiguration=dict.fromkeys(_PUBLIC_ACCESS_FLAGS, True),
            )
        else:
            s3.delete_public_access_block(Bucket=name)

    def _apply_encryption(
        self, name: str, properties: Mapping[str, Any], have: Mapping[str, Any]
    ) -> None:
        wanted = properties.get("encryption")
        if canonical_encryption(wanted) == have.get("encryption"):
            return
        self.aws.client("s3").put_bucket_encryption(
            Bucket=name, ServerSideEncryptionConfiguration=build_encryption_config(wanted)
        )

    def _apply_versioning(
        self, name: str, properties: Mapping[str, Any], have: Mapping[str, Any]
    ) -> None:
        wanted = bool(properties.get("versioning", False))
        if bool(have.get("versioning", False)) == wanted:
            return
        # a bucket once versioned can only be suspended, never return to "unversioned"
        status = "Enabled" if wanted else "Suspended"
        self.aws.client("s3").put_bucket_versioning(
            Bucket=name, VersioningConfiguration={"Status": status}
        )

    def _apply_tls_only(
        self, name: str, properties: Mapping[str, Any], have: Mapping[str, Any]
    ) -> None:
        wanted = properties.get("tls_only")
        if wanted is None or have.get("tls_only") == wanted or self.aws.target.is_sandbox:
            return
        s3 = self.aws.client("s3")
        statements = [s for s in self._policy_statements(name) if s.get("Sid") != TLS_ONLY_SID]
        if wanted:
            statements.append(tls_only_statement(bucket_arn(self.aws.partition, name)))
        if statements:
            policy = {"Version": "2012-10-17", "Statement": statements}
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
        else:
            s3.delete_bucket_policy(Bucket=name)

    def _read_tls_only(self, name: str, properties: Mapping[str, Any] | None) -> bool:
        if self.aws.target.is_sandbox:
            return bool((properties or {}).get("tls_only"))
        return any(s.get("Sid") == TLS_ONLY_SID for s in self._policy_statements(name))

    def _policy_statements(self, name: str) -> list[dict[str, Any]]:
        try:
            policy = self.aws.client("s3").get_bucket_policy(Bucket=name)["Policy"]
        except ClientError as exc:
            if is_not_found(exc, "NoSuchBucketPolicy"):
                return []
            raise
        statements = json.loads(policy).get("Statement", [])
        return [statements] if isinstance(statements, dict) else list(statements)

    def _read_versioning(self, name: str) -> bool:
        status = self.aws.client("s3").get_bucket_versioning(Bucket=name).get("Status")
        return bool(status == "Enabled")

    def _read_encryption(self, name: str) -> dict[str, Any] | None:
        config = _setting(
            self.aws.client("s3").get_bucket_encryption,
            name,
            "ServerSideEncryptionConfiguration",
            "ServerSideEncryptionConfigurationNotFoundError",
        )
        rules = config.get("Rules", []) if config else []
        if not rules:
            return None
        default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
        return {
            "algorithm": default.get("SSEAlgorithm"),
            "kms_key_id": default.get("KMSMasterKeyID") or None,
        }

    def _read_public_access_block(self, name: str) -> bool:
        config = _setting(
            self.aws.client("s3").get_public_access_block,
            name,
            "PublicAccessBlockConfiguration",
            "NoSuchPublicAccessBlockConfiguration",
        )
        return config is not None and all(config.get(flag) for flag in _PUBLIC_ACCESS_FLAGS)

    def _empty(self, name: str) -> None:
        """Delete every object version and delete marker: S3 refuses to delete a
        bucket that still holds any."""
        s3 = self.aws.client("s3")
        for batch in _version_batches(s3, name):
            result = s3.delete_objects(Bucket=name, Delete={"Objects": batch, "Quiet": True})
            errors = result.get("Errors") or []
            if errors:
                first = errors[0]
                raise ProvisioningError(
                    "emptying S3 bucket",
                    name,
                    f"{len(errors)} objects not deleted, e.g. {first.get('Key')}: "
                    f"{first.get('Code')}: {first.get('Message')}",
                    code=str(first.get("Code", "")),
                )


def _version_batches(s3: Any, name: str) -> Iterator[list[dict[str, str]]]:
    """Batches of versions and delete markers until none are left.

    Each round lists from the start again rather than following a marker: the
    listing shifts under us as we delete, and restarting cannot skip anything.
    """
    while True:
        page = s3.list_object_versions(Bucket=name, MaxKeys=_DELETE_BATCH)
        entries = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        if not entries:
            return
        for start in range(0, len(entries), _DELETE_BATCH):
            yield entries[start : start + _DELETE_BATCH]


PROVISIONERS: tuple[type[Provisioner], ...] = (BucketProvisioner,)
