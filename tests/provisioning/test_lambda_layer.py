"""Dependency layers on (moto's) Lambda: published once, found again, replaced when they change."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from provisioning.apply.orchestrator import Orchestrator
from provisioning.aws import AwsContext
from provisioning.events import ListSink
from provisioning.provisioners.base import Action
from provisioning.provisioners.lambda_layer import LayerProvisioner
from provisioning.state import MemoryStateStore
from provisioning.strands import layers, packaging
from tests.provisioning.lifecycle import apply, replan


def layer(requirements: list[str], **extra: Any) -> dict[str, Any]:
    platform = layers.PLATFORMS["x86_64"]
    return {
        "name": "acme-dev-deps",
        "key": layers.layer_key(requirements, platform, "3.12"),
        "requirements": requirements,
        "architecture": "x86_64",
        "python_version": "3.12",
        "artifacts_bucket": None,
        **extra,
    }


@pytest.fixture
def provisioner(aws: AwsContext, tmp_path: Path) -> LayerProvisioner:
    p = LayerProvisioner(aws)
    p.cache_dir = tmp_path / "cache"
    return p


def test_a_layer_is_published_once_and_an_unchanged_one_is_never_uploaded_again(
    provisioner: LayerProvisioner, aws: AwsContext
) -> None:
    # Given a published dependency layer
    recorded = apply(provisioner, "layer/abc", layer(["six==1.16.0"]))
    lam = aws.client("lambda")
    assert recorded.outputs["arn"].endswith(":layer:acme-dev-deps:1")
    assert recorded.outputs["unzipped_size"] > 0

    # When the same requirements are planned and applied again
    change = replan(provisioner, layer(["six==1.16.0"]), recorded)
    again = apply(provisioner, "layer/abc", layer(["six==1.16.0"]), recorded)

    # Then nothing changes and no second version is published
    assert change.action == Action.NO_CHANGE
    assert again.outputs["arn"] == recorded.outputs["arn"]
    assert len(lam.list_layer_versions(LayerName="acme-dev-deps")["LayerVersions"]) == 1

    # And new requirements publish a new version that functions then reference
    newer = layer(["six==1.17.0"])
    assert replan(provisioner, newer, recorded).action == Action.UPDATE
    updated = apply(provisioner, "layer/abc", newer, recorded)
    assert updated.outputs["arn"].endswith(":layer:acme-dev-deps:2")

    # Destroy removes every version
    provisioner.destroy(updated)
    assert lam.list_layer_versions(LayerName="acme-dev-deps")["LayerVersions"] == []
    provisioner.destroy(updated)  # already gone counts as done


def test_a_layer_over_50_mb_goes_through_the_artifacts_bucket(
    provisioner: LayerProvisioner, aws: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.client("s3").create_bucket(Bucket="acme-dev-artifacts")
    monkeypatch.setattr(layers, "DIRECT_UPLOAD_LIMIT", 1000)  # six's layer is "big" now

    recorded = apply(
        provisioner, "layer/abc", layer(["six==1.16.0"], artifacts_bucket="acme-dev-artifacts")
    )

    keys = [
        o["Key"] for o in aws.client("s3").list_objects_v2(Bucket="acme-dev-artifacts")["Contents"]
    ]
    assert keys == [f"layers/acme-dev-deps/{layer(['six==1.16.0'])['key']}.zip"]
    assert recorded.outputs["version"] == 1


def test_a_layer_over_250_mb_unzipped_is_refused_naming_its_biggest_packages(
    provisioner: LayerProvisioner, aws: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packaging, "UNZIPPED_LIMIT", 1000)

    with pytest.raises(packaging.PackagingError, match=r"largest packages: six\.py"):
        apply(provisioner, "layer/abc", layer(["six==1.16.0"]))
    assert (
        aws.client("lambda").list_layer_versions(LayerName="acme-dev-deps")["LayerVersions"] == []
    )


def test_an_arm64_layer_holds_binaries_for_arm64(tmp_path: Path) -> None:
    built = layers.build_layer(["MarkupSafe==3.0.2"], architecture="arm64", cache_dir=tmp_path)

    names = zipfile.ZipFile(io.BytesIO(built.path.read_bytes())).namelist()
    binaries = [n for n in names if n.endswith(".so")]
    assert binaries and all("aarch64" in n for n in binaries)
    assert not [n for n in names if n.endswith(".pyc")]


def test_the_layer_is_built_from_the_index_the_engine_was_given(
    aws: AwsContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an orchestrator told to build from a private mirror, and a pip that records its argv
    seen: list[list[str]] = []

    def pip(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        seen.append(argv)
        return subprocess.CompletedProcess(argv, 1, "", "ERROR: stopped by the test")

    monkeypatch.setattr(subprocess, "run", pip)
    mirror = "https://mirror.example/simple"
    orchestrator = Orchestrator(
        aws, MemoryStateStore(), ListSink(), builds=layers.Builds(index_url=mirror)
    )
    provisioner = orchestrator.provisioner("lambda:layer-version")
    assert isinstance(provisioner, LayerProvisioner)
    provisioner.cache_dir = tmp_path

    # When it builds a layer
    with pytest.raises(packaging.PackagingError, match="stopped by the test"):
        provisioner.provision("layer/abc", layer(["six==1.16.0"]), None)

    # Then pip was sent to that index alone
    (argv,) = seen
    assert argv[argv.index("--index-url") + 1] == mirror
    assert "--isolated" in argv
