"""The import rules of docs/ARCHITECTURE.md, checked on the source: domain modules import only
the contract and the standard library; the runtime and the contract know no service; no
service imports another; only the runtime runs the HTTP server."""

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("registration", "notification", "reporting")


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize(
    "service", [s for s in SERVICES if (ROOT / "services" / s / "domain").exists()]
)
def test_domain_modules_import_only_the_contract_and_the_standard_library(service: str) -> None:
    allowed_prefixes = ("schemas", f"services.{service}.domain", "pydantic")
    for path in _modules(f"services/{service}/domain"):
        for name in _imports(path):
            assert name.startswith(allowed_prefixes) or _top(name) in sys.stdlib_module_names, (
                f"{path.relative_to(ROOT)} imports {name}"
            )


@pytest.mark.parametrize("folder", ["schemas", "services/runtime"])
def test_the_contract_and_the_runtime_know_no_service(folder: str) -> None:
    for path in _modules(folder):
        for name in _imports(path):
            assert not name.startswith(tuple(f"services.{s}" for s in SERVICES)), (
                f"{path.relative_to(ROOT)} imports {name}"
            )
            assert not name.startswith("services.cli"), f"{path.relative_to(ROOT)} imports {name}"


@pytest.mark.parametrize("service", [s for s in SERVICES if (ROOT / "services" / s).exists()])
def test_no_service_imports_another(service: str) -> None:
    others = tuple(f"services.{other}" for other in SERVICES if other != service)
    for path in _modules(f"services/{service}"):
        for name in _imports(path):
            assert not name.startswith(others), f"{path.relative_to(ROOT)} imports {name}"


def test_only_the_runtime_runs_the_http_server() -> None:
    """Every service is served by services.runtime.http.serve, so each gets the same server
    options (keep-alive longer than its clients', forwarded headers left to the app)."""
    server = ROOT / "services" / "runtime" / "http.py"
    for path in _modules("services"):
        if path != server:
            found = [name for name in _imports(path) if _top(name) == "uvicorn"]
            assert found == [], f"{path.relative_to(ROOT)} imports {found}: use http.serve"
