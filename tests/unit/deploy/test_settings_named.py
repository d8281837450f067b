"""Every DIALOGNET_* setting compose, the Kubernetes manifests or the image pass exists in the
Settings model: pydantic-settings ignores an unknown name (extra="ignore"), so a misspelt one
would silently leave its default in place."""

from collections.abc import Iterable, Iterator

import pytest

from services.runtime.settings import Settings
from tests.unit.deploy.deploy_files import (
    BASE,
    OVERLAYS,
    compose,
    environment_of,
    image_environment,
    load_yaml,
    overlay,
    rendered,
    settings_named_in_k8s,
)

PREFIX = "DIALOGNET_"


def unknown_settings(named: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """{where: names} of the DIALOGNET_* names that are no field of Settings."""
    fields = set(Settings.model_fields)
    unknown: dict[str, set[str]] = {}
    for where, name in named:
        if name.startswith(PREFIX) and name.removeprefix(PREFIX).lower() not in fields:
            unknown.setdefault(where, set()).add(name)
    return unknown


def named_in_compose() -> Iterator[tuple[str, str]]:
    for service_name, service in compose()["services"].items():
        for name in environment_of(service):
            yield f"compose {service_name}", name


def test_the_check_finds_a_misspelt_setting() -> None:
    named = [("x", "DIALOGNET_KAFKA_BOOTSTRAP"), ("x", "DIALOGNET_KAFKA_BOOTSTRAPS")]
    assert unknown_settings(named) == {"x": {"DIALOGNET_KAFKA_BOOTSTRAPS"}}


def test_compose_passes_only_settings_that_exist() -> None:
    named = list(named_in_compose())
    assert any(name == "DIALOGNET_KAFKA_SSL_CAFILE" for _, name in named)
    assert unknown_settings(named) == {}


@pytest.mark.parametrize("name", ["base", *OVERLAYS])
def test_the_manifests_pass_only_settings_that_exist(name: str) -> None:
    documents = rendered(BASE) if name == "base" else overlay(name)
    named = list(settings_named_in_k8s(documents))
    assert any(setting == "DIALOGNET_KAFKA_SASL_PASSWORD" for _, setting in named)
    assert unknown_settings(named) == {}


def test_the_secret_template_and_the_image_name_only_settings_that_exist() -> None:
    template = (BASE / "secret.example.yaml").read_text()
    in_template = {line.strip().lstrip("# ").split(":")[0] for line in template.splitlines()}
    named = [("secret.example.yaml", n) for n in in_template if n.startswith(PREFIX)]
    named += [
        ("secret.example.yaml", n) for n in load_yaml(BASE / "secret.example.yaml")["stringData"]
    ]
    named += [("Dockerfile", name) for name in image_environment()]
    assert len(named) > 5
    assert unknown_settings(named) == {}
