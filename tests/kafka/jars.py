"""Apache Kafka's jars for the tests, resolved with Maven into a cache folder once: later calls
(and other sessions) find them there in milliseconds."""

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

POM = Path(__file__).with_name("pom.xml")
# Where the jars are kept; a CI cache can point it elsewhere.
CACHE_VARIABLE = "DIALOGNET_APACHE_KAFKA_CACHE"
MISSING_TOOLS_HINT = "apt-get install -y openjdk-17-jdk-headless maven"


class ToolsMissing(RuntimeError):
    """java, javac or mvn is not on PATH."""


def missing_tools() -> list[str]:
    # javac: the ACLs are made by a Java source file run in source-file mode (a JDK, not a JRE).
    return [tool for tool in ("java", "javac", "mvn") if shutil.which(tool) is None]


def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()[:16]


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_VARIABLE)
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "dialognet" / f"apache-kafka-{_pom_digest()}"


def kafka_jars() -> Path:
    """The folder holding every jar the broker, the storage tool and the admin client need."""
    missing = missing_tools()
    if missing:
        raise ToolsMissing(f"no {', '.join(missing)} on PATH: {MISSING_TOOLS_HINT}")
    folder = cache_dir()
    complete = folder / "complete"
    lib = folder / "lib"
    if complete.exists():
        return lib
    folder.mkdir(parents=True, exist_ok=True)
    # Two sessions starting at once: one resolves, the other waits and finds it complete.
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not complete.exists():
            _resolve(lib)
            complete.write_text(_pom_digest())
    return lib


def _resolve(lib: Path) -> None:
    shutil.rmtree(lib, ignore_errors=True)
    command = [
        "mvn", "-q", "-B", "-f", str(POM),
        "dependency:copy-dependencies", f"-DoutputDirectory={lib}", "-DincludeScope=runtime",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"mvn could not resolve Apache Kafka: {done.stdout[-2000:]}{done.stderr}"
        )
