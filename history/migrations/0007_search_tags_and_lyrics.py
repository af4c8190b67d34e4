"""The history search also finds a job's style tags, lyrics and track ids (Job.search_text).

SQLite: migration 0006 added columns, which makes history_job anew and drops the triggers
that kept the full-text table in step; the table is made again here over four columns (a
copy of 0005's install: migrations are frozen) and rebuilt from the stored jobs. PostgreSQL:
one more GIN trigram index, on UPPER(search_text), built CONCURRENTLY (hence atomic = False).
Where neither can be made, search scans, as 0005 explains.
"""

import logging

from django.db import DatabaseError, migrations

logger = logging.getLogger(__name__)

FTS = "history_job_search"
COLUMNS = "title, prompt, external_id, search_text"
OLD = "old.title, old.prompt, old.external_id, old.search_text"
NEW = "new.id, new.title, new.prompt, new.external_id, new.search_text"
CHANGED = " OR ".join(f"old.{c} IS NOT new.{c}" for c in COLUMNS.split(", "))
SQLITE_INSTALL = [
    f"DROP TRIGGER IF EXISTS {FTS}_insert",
    f"DROP TRIGGER IF EXISTS {FTS}_delete",
    f"DROP TRIGGER IF EXISTS {FTS}_update",
    f"DROP TABLE IF EXISTS {FTS}",
    f"CREATE VIRTUAL TABLE {FTS} USING fts5({COLUMNS}, content='history_job', content_rowid='id', "
    "tokenize='trigram')",
    f"""CREATE TRIGGER {FTS}_insert AFTER INSERT ON history_job BEGIN
        INSERT INTO {FTS}(rowid, {COLUMNS}) VALUES ({NEW});
    END""",
    # An external-content FTS5 table forgets a row by being told the values it indexed.
    f"""CREATE TRIGGER {FTS}_delete AFTER DELETE ON history_job BEGIN
        INSERT INTO {FTS}({FTS}, rowid, {COLUMNS}) VALUES ('delete', old.id, {OLD});
    END""",
    # Sync rewrites every record field of a job it refreshes: only a real change reindexes it.
    f"""CREATE TRIGGER {FTS}_update AFTER UPDATE OF {COLUMNS} ON history_job WHEN {CHANGED}
    BEGIN
        INSERT INTO {FTS}({FTS}, rowid, {COLUMNS}) VALUES ('delete', old.id, {OLD});
        INSERT INTO {FTS}(rowid, {COLUMNS}) VALUES ({NEW});
    END""",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
PG_INDEX = "job_search_text"


def install_sqlite(schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        try:
            cursor.execute("CREATE VIRTUAL TABLE temp.genboard_probe USING fts5(x, tokenize='trigram')")
            cursor.execute("DROP TABLE temp.genboard_probe")
        except DatabaseError as e:  # no FTS5, or SQLite before 3.34
            logger.warning("No trigram full-text index for the history search (%s): search scans.", e)
            return
        for sql in SQLITE_INSTALL:
            cursor.execute(sql)
        cursor.execute("SELECT EXISTS (SELECT 1 FROM history_job)")
        if cursor.fetchone()[0]:
            cursor.execute("ANALYZE history_job")


def install_postgresql(schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            logger.warning("No pg_trgm for the history search: search scans.")
            return
        # A CONCURRENTLY build that failed leaves an invalid index behind: build it again.
        cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {PG_INDEX}")
        cursor.execute(f"CREATE INDEX CONCURRENTLY {PG_INDEX} ON history_job USING gin (UPPER(search_text) gin_trgm_ops)")


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        install_sqlite(schema_editor)
    elif vendor == "postgresql":
        install_postgresql(schema_editor)


def backwards(apps, schema_editor):
    # Migrating back past 0006 drops the column; 0005's own install makes the three-column
    # index again when it is applied anew. Here only the PostgreSQL index needs dropping.
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {PG_INDEX}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("history", "0006_job_canceled_details_lineage"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
