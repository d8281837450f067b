"""Searching every table of every schema of a database for a piece of text, as a data
protection officer would: each text, json and array column read as text."""

import asyncpg

# Types whose text holds what was stored as text (arrays of them too: udt names start with _).
SEARCHED_TYPES = (
    "text",
    "character varying",
    "character",
    "json",
    "jsonb",
    "ARRAY",
    "USER-DEFINED",
)
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


def _identifier(name: str) -> str:
    """A name from the catalogue as a quoted SQL identifier (names cannot be bind parameters)."""
    return '"' + name.replace('"', '""') + '"'


async def searched_columns(conn: asyncpg.Connection) -> dict[tuple[str, str], list[str]]:
    """(schema, table) → its columns the sweep reads, for every base table outside the system."""
    rows = await conn.fetch(
        "SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c"
        " JOIN information_schema.tables t USING (table_schema, table_name)"
        " WHERE t.table_type = 'BASE TABLE' AND c.table_schema <> ALL($1::text[])"
        " AND c.data_type = ANY($2::text[])"
        " ORDER BY 1, 2, 3",
        list(SYSTEM_SCHEMAS),
        list(SEARCHED_TYPES),
    )
    found: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        found.setdefault((row["table_schema"], row["table_name"]), []).append(row["column_name"])
    return found


async def places_holding(database_url: str, needle: str) -> dict[str, int]:
    """'schema.table.column' → how many rows hold `needle` there (case-insensitively)."""
    conn = await asyncpg.connect(database_url)
    try:
        found = {}
        for (schema, table), columns in (await searched_columns(conn)).items():
            for column in columns:
                count = await conn.fetchval(
                    f"SELECT count(*) FROM {_identifier(schema)}.{_identifier(table)}"
                    f" WHERE {_identifier(column)}::text ILIKE '%' || $1 || '%'",
                    needle,
                )
                if count:
                    found[f"{schema}.{table}.{column}"] = count
        return found
    finally:
        await conn.close()


async def schemas_swept(database_url: str) -> set[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return {schema for schema, _ in await searched_columns(conn)}
    finally:
        await conn.close()
