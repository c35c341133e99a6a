"""Dependency layers: pip-installed for the functions' platform, published when they change.

lambda:layer-version properties:
  name: str                        the layer's name (versions accumulate under it)
  key: str                         layers.layer_key of what follows: the layer's identity
  requirements: list[str], architecture: "x86_64" | "arm64", python_version: "3.12"
  artifacts_bucket: str | None     where zips over 50 MB go before Lambda takes them
outputs: physical_id (name), name, arn (the version ARN functions reference), version,
         unzipped_size (bytes), largest (the biggest packages, for size refusals)

A version's description records its key, so an unchanged layer is found, not rebuilt,
and a retry after a crash adopts the version the first attempt published.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from provisioning.errors import aws_errors
from provisioning.provisioners.base import Current, Provisioner, physical_id_of
from provisioning.state import RecordedResource
from provisioning.strands import layers, packaging

_MARK = "strands-deploy"


def describe(key: str, unzipped_size: int, largest: str) -> str:
    return f"{_MARK} {key} {unzipped_size} {largest}"[:256]


def parse_description(text: str) -> tuple[str, int, str] | None:
    parts = (text or "").split(" ", 3)
    if len(parts) < 3 or parts[0] != _MARK or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2]), parts[3] if len(parts) > 3 else ""


def largest_packages(sizes: Mapping[str, int], count: int = 5) -> str:
    top = sorted(sizes.items(), key=lambda item: (-item[1], item[0]))[:count]
    return ", ".join(f"{name} {size / packaging.MB:.1f} MB" for name, size in top)


class LayerProvisioner(Provisioner):
    resource_type = "lambda:layer-version"
    noun = "Lambda layer"
    # Only the key is read back; the inputs it is made of are compared as recorded.
    write_only = frozenset({"requirements", "architecture", "python_version", "artifacts_bucket"})
    cache_dir: Path | None = None
    """Where built layers are kept; None means layers.default_cache_dir()."""

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        name = physical_id_of(properties, recorded)
        wanted = (properties or {}).get("key")
        with aws_errors("reading Lambda layer", name):
            versions = list(self._versions(name))
        ours = [
            (v, parsed) for v in versions if (parsed := parse_description(v.get("Description", "")))
        ]
        if not ours:
            return None
        match = next(((v, p) for v, p in ours if p[0] == wanted), None)
        version, (key, size, largest) = match or max(ours, key=lambda vp: vp[0]["Version"])
        outputs = {
            "physical_id": name,
            "name": name,
            "arn": version["LayerVersionArn"],
            "version": version["Version"],
            "unzipped_size": size,
            "largest": largest,
        }
        return Current({"name": name, "key": key}, outputs)

    def _versions(self, name: str) -> Iterator[dict[str, Any]]:
        lam = self.aws.client("lambda")
        args: dict[str, Any] = {"LayerName": name}
        while True:
            page = lam.list_layer_versions(**args)
            yield from page.get("LayerVersions", [])
            if not page.get("NextMarker"):
                return
            args["Marker"] = page["NextMarker"]

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # Publishing is not idempotent: sent once, and after a lost reply the version it
        # made is found by the key in its description.
        return self._publish(properties, self.aws.client_once("lambda"))

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        if current.properties.get("key") == properties["key"]:
            return dict(current.outputs)
        with aws_errors("publishing Lambda layer", properties["name"]):
            return self._publish(properties, self.aws.client("lambda"))

    def _publish(self, properties: Mapping[str, Any], lam: Any) -> dict[str, Any]:
        """A new version holding the requirements, built here (or taken from the cache)."""
        name = properties["name"]
        artifact = layers.build_layer(
            list(properties["requirements"]),
            python_version=properties["python_version"],
            architecture=properties["architecture"],
            cache_dir=self.cache_dir or layers.default_cache_dir(),
            index_url=self.builds.index_url,
        )
        largest = largest_packages(artifact.package_sizes)
        packaging.check_sizes(artifact.zip_size, artifact.package_sizes)
        content = self._content(name, artifact, properties.get("artifacts_bucket"))
        published = lam.publish_layer_version(
            LayerName=name,
            Description=describe(artifact.key, artifact.unzipped_size, largest),
            Content=content,
            CompatibleRuntimes=[f"python{properties['python_version']}"],
            CompatibleArchitectures=[properties["architecture"]],
        )
        return {
            "physical_id": name,
            "name": name,
            "arn": published["LayerVersionArn"],
            "version": published["Version"],
            "unzipped_size": artifact.unzipped_size,
            "largest": largest,
        }

    def _content(
        self, name: str, artifact: layers.LayerArtifact, bucket: str | None
    ) -> dict[str, Any]:
        if not artifact.upload_via_s3:
            return {"ZipFile": artifact.path.read_bytes()}
        if not bucket:
            raise packaging.PackagingError(
                f"layer {name} is {artifact.zip_size / packaging.MB:.1f} MB zipped, over the "
                "50 MB direct-upload limit, and no artifacts bucket was given"
            )
        key = f"layers/{name}/{artifact.key}.zip"
        self.aws.client("s3").upload_file(str(artifact.path), bucket, key)
        return {"S3Bucket": bucket, "S3Key": key}

    def destroy(self, recorded: RecordedResource) -> None:
        name = recorded.physical_id
        lam = self.aws.client("lambda")
        with aws_errors("deleting Lambda layer", name):
            for version in list(self._versions(name)):
                # Deleting a version that is already gone succeeds: nothing to tolerate.
                lam.delete_layer_version(LayerName=name, VersionNumber=version["Version"])


PROVISIONERS: tuple[type[Provisioner], ...] = (LayerProvisioner,)
