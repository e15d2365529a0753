"""Character grams beside the words: an FTS5 table (and its vocabulary view, for document
counts) on SQLite, a tsvector column with a GIN index on PostgreSQL; then the grams of every
record already indexed, from the text the index keeps."""

from typing import Any

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE search_gram USING fts5("
    "title, body, tokenize = 'unicode61 remove_diacritics 0')",
    "CREATE VIRTUAL TABLE search_gram_vocab USING fts5vocab('search_gram', 'row')",
]
SQLITE_DOWN = ["DROP TABLE IF EXISTS search_gram_vocab", "DROP TABLE IF EXISTS search_gram"]
POSTGRES = [
    "ALTER TABLE search_searchdoc ADD COLUMN gram tsvector NOT NULL DEFAULT ''::tsvector",
    # A short pending list: GIN queues new entries there and every search reads all of it, so
    # a long one (4 MB by default) makes searches right after a bulk load several times slower.
    "CREATE INDEX search_doc_gram_idx ON search_searchdoc USING gin (gram, id) "
    "WITH (gin_pending_list_limit = 256)",
    "ALTER INDEX search_doc_tsv_idx SET (gin_pending_list_limit = 256)",
]
POSTGRES_DOWN = [
    "ALTER INDEX search_doc_tsv_idx RESET (gin_pending_list_limit)",
    "DROP INDEX IF EXISTS search_doc_gram_idx",
    "ALTER TABLE search_searchdoc DROP COLUMN IF EXISTS gram",
]
BATCH = 2000


def _fill(apps: Any, schema_editor: Any) -> None:
    from kefu.search.text import grams

    vendor = schema_editor.connection.vendor
    doc = apps.get_model("search", "SearchDoc")
    last = 0
    while True:
        rows = list(
            doc.objects.filter(id__gt=last).order_by("id").values_list("id", "title", "body")[
                :BATCH
            ]
        )
        if not rows:
            return
        last = rows[-1][0]
        values = [(" ".join(grams(t)), " ".join(grams(b)), i) for i, t, b in rows]
        with schema_editor.connection.cursor() as cur:
            if vendor == "sqlite":
                cur.executemany(
                    "INSERT INTO search_gram (title, body, rowid) VALUES (%s, %s, %s)", values
                )
            elif vendor == "postgresql":
                cur.executemany(
                    "UPDATE search_searchdoc SET gram = setweight(to_tsvector('simple', %s), 'A')"
                    " || to_tsvector('simple', %s) WHERE id = %s",
                    values,
                )


def _run(statements: dict[str, list[str]], fill: bool) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)
        if fill:
            _fill(apps, schema_editor)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0002_fulltext")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}, fill=True),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}, fill=False),
        )
    ]
