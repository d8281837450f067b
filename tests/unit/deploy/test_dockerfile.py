"""deploy/Dockerfile: one slim, non-root image with the dialognet CLI as entrypoint, fit for a
read-only root filesystem, with a health check that asks the service it runs."""

import importlib

from tests.unit.deploy.deploy_files import (
    SERVICE_PORTS,
    dockerfile_instructions,
    exec_form,
    final_stage,
    image_environment,
    objects,
    overlay,
    pod_spec,
)


def runtime() -> list[tuple[str, str]]:
    return final_stage(dockerfile_instructions())


def only(keyword: str) -> str:
    (arguments,) = (arguments for found, arguments in runtime() if found == keyword)
    return arguments


def test_a_slim_image_built_from_the_package() -> None:
    instructions = dockerfile_instructions()
    assert "python:3.11-slim" in instructions[0][1]
    assert "python:3.11-slim" in runtime()[0][1]
    assert any(keyword == "RUN" and "pip install ." in args for keyword, args in instructions)


def test_runs_as_a_numeric_non_root_user() -> None:
    users = [arguments for keyword, arguments in runtime() if keyword == "USER"]
    assert users, "the image runs as root"
    user = users[-1].split(":")[0]
    assert user.isdigit(), "runAsNonRoot needs a numeric USER"
    assert int(user) != 0


def test_the_cli_is_the_entrypoint_and_registration_the_default() -> None:
    assert exec_form(only("ENTRYPOINT")) == ["dialognet"]
    assert exec_form(only("CMD")) == ["run", "registration"]
    exposed = {port for keyword, args in runtime() if keyword == "EXPOSE" for port in args.split()}
    assert exposed == {str(port) for port in SERVICE_PORTS.values()}


def test_everything_written_at_run_time_goes_to_tmp() -> None:
    environment = image_environment()
    assert environment["HOME"] == "/tmp"
    assert environment["DIALOGNET_DATA_DIR"].startswith("/tmp/")
    assert environment["PYTHONDONTWRITEBYTECODE"] == "1"
    for service in SERVICE_PORTS:
        assert environment[f"DIALOGNET_{service.upper()}_HOST"] == "0.0.0.0"


def test_the_healthcheck_runs_the_container_health_module() -> None:
    healthcheck = only("HEALTHCHECK")
    command = exec_form(healthcheck.split("CMD", 1)[1].strip())
    assert command[:2] == ["python", "-m"]
    module = importlib.import_module(command[2])
    assert callable(module.main)


def test_the_pods_run_as_the_image_user() -> None:
    user = [arguments for keyword, arguments in runtime() if keyword == "USER"][-1]
    for deployment in objects(overlay("production"), "Deployment").values():
        security = pod_spec(deployment)["securityContext"]
        assert user == f"{security['runAsUser']}:{security['runAsGroup']}"
