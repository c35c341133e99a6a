"""The provisioner registry: one class per resource type, each listed by its own module."""

from __future__ import annotations

from provisioning.provisioners import _MODULES, REGISTRY, provisioner_for


def test_each_module_registers_only_the_classes_it_defines() -> None:
    for module in _MODULES:
        for cls in module.PROVISIONERS:
            assert cls.__module__ == module.__name__, f"{module.__name__} lists {cls.__name__}"


def test_every_provisioner_class_is_named_after_what_it_provisions() -> None:
    names = [cls.__name__ for cls in REGISTRY.values()]
    assert all(name.endswith("Provisioner") for name in names), names


def test_no_resource_type_is_claimed_twice() -> None:
    listed = [cls.resource_type for module in _MODULES for cls in module.PROVISIONERS]
    assert len(listed) == len(set(listed)) == len(REGISTRY)
    assert provisioner_for("sqs:queue").__name__ == "QueueProvisioner"
