"""`dialognet migrate` against the real PostgreSQL of the test session: every schema gets every
migration file of its service (and the runtime's), a second run changes nothing, and a database
it cannot reach is one line and a non-zero exit."""

from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr

from services.runtime.settings import Settings
from tests.cli import run_dialognet

SERVICES = Path(__file__).resolve().parents[3] / "services"
RUNTIME_MIGRATIONS = SERVICES / "runtime" / "migrations"
# Each schema and the migration folders applied into it, as the files lie on disk.
SCHEMA_FOLDERS = {
    "access": [SERVICES / "runtime" / "access" / "migrations"],
    "registration": [RUNTIME_MIGRATIONS, SERVICES / "registration" / "migrations"],
    "notification": [RUNTIME_MIGRATIONS, SERVICES / "notification" / "migrations"],
    "reporting": [RUNTIME_MIGRATIONS, SERVICES / "reporting" / "migrations"],
}


def files_of(folders: list[Path]) -> set[str]:
    """`<owner>/<file>` of every SQL file, e.g. `runtime/001_outbox_inbox.sql`."""
    return {
        f"{folder.parent.name}/{file.name}" for folder in folders for file in folder.glob("*.sql")
    }


async def applied(database_url: str) -> dict[str, set[tuple[str, object]]]:
    """Schema → (migration id, applied_at) of its schema_migrations table."""
    conn = await asyncpg.connect(database_url)
    try:
        return {
            schema: {
                (row["id"], row["applied_at"])
                for row in await conn.fetch(
                    f'SELECT id, applied_at FROM "{schema}".schema_migrations'
                )
            }
            for schema in SCHEMA_FOLDERS
        }
    finally:
        await conn.close()


async def test_migrate_applies_every_schema_once(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    first = await run_dialognet(settings, tmp_path, "migrate")
    assert first.returncode == 0, first.stderr
    after_first = await applied(database_url)
    for schema, folders in SCHEMA_FOLDERS.items():
        expected = files_of(folders)
        assert len(expected) >= 2 or schema == "access"
        assert {migration for migration, _ in after_first[schema]} == expected, schema
        assert f"{schema}: " in first.stdout

    second = await run_dialognet(settings, tmp_path, "migrate")
    assert second.returncode == 0, second.stderr
    assert await applied(database_url) == after_first
    assert second.stdout.count("up to date") == len(SCHEMA_FOLDERS)


@pytest.mark.parametrize(
    "unusable_url",
    [
        "postgresql://dialognet:hunter2-secret@127.0.0.1:1/nowhere",  # nothing listens there
        "mysql://dialognet:hunter2-secret@127.0.0.1/nowhere",  # a URL asyncpg cannot use
    ],
)
async def test_an_unusable_database_is_one_line_and_a_failure(
    settings: Settings, tmp_path: Path, unusable_url: str
) -> None:
    unreachable = settings.model_copy(update={"database_url": SecretStr(unusable_url)})
    result = await run_dialognet(unreachable, tmp_path, "migrate")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("cannot reach the access database: ")
    assert "hunter2-secret" not in line
