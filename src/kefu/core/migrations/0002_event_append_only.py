"""Let the database itself refuse to rewrite history: no UPDATE of events anywhere, and no
DELETE on PostgreSQL. (SQLite's test-database flush deletes rows, so there only UPDATE is
blocked; the model and queryset refuse deletes on every database.)"""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION kefu_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'core_event is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_event_no_update BEFORE UPDATE OR DELETE ON core_event
    FOR EACH ROW EXECUTE FUNCTION kefu_event_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS core_event_no_update ON core_event;
DROP FUNCTION IF EXISTS kefu_event_append_only();
"""
SQLITE_UP = """
CREATE TRIGGER core_event_no_update BEFORE UPDATE ON core_event
BEGIN SELECT RAISE(ABORT, 'core_event is append-only (UPDATE refused)'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS core_event_no_update;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
