"""The full-text structures, per database: FTS5 tables on SQLite; a tsvector column with a GIN
index and a trigram index for numbers on PostgreSQL."""

from typing import Any

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "title, body, tokenize = 'unicode61 remove_diacritics 0')",
    "CREATE VIRTUAL TABLE search_num USING fts5(numbers, tokenize = 'trigram')",
]
SQLITE_DOWN = ["DROP TABLE IF EXISTS search_fts", "DROP TABLE IF EXISTS search_num"]
# Both GIN indexes also hold the row id (btree_gin), so "the newest N rows that match" is
# answered inside the index instead of by fetching every matching row.
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "ALTER TABLE search_searchdoc ADD COLUMN tsv tsvector NOT NULL DEFAULT ''::tsvector",
    "CREATE INDEX search_doc_tsv_idx ON search_searchdoc USING gin (tsv, id)",
    "CREATE INDEX search_doc_numbers_idx ON search_searchdoc "
    "USING gin (numbers gin_trgm_ops, id)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS search_doc_numbers_idx",
    "DROP INDEX IF EXISTS search_doc_tsv_idx",
    "ALTER TABLE search_searchdoc DROP COLUMN IF EXISTS tsv",
]


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        )
    ]
