"""The history at a million jobs: an index for the status filter and the counts, and trigram
indexes for substring search, made by whichever database we are on.

SQLite (3.34+ has FTS5's trigram tokenizer): `history_job_search`, an FTS5 table over title,
prompt and external id whose content is history_job itself (it stores only the index), kept in
step by triggers, filled here from the jobs already stored. PostgreSQL: the pg_trgm extension
(trusted since PostgreSQL 13: a database owner may create it) and GIN trigram indexes on
UPPER(title), UPPER(prompt) and UPPER(external_id), the very expressions Django's `icontains`
compares, built CONCURRENTLY so a big table stays writable meanwhile (hence atomic = False).

Where neither can be made (an SQLite without FTS5 or the trigram tokenizer, a role that may not
create the extension), the migration says so and carries on: history/search.py notices that the
index is missing and searches by scanning, as before.

On SQLite, a later migration that alters history_job makes a new table and drops the old one,
and the triggers with it: history/search.py then stops trusting the full-text table (and logs
why); such a migration must run `install_sqlite` below again (copy it, migrations are frozen).
"""

import logging

from django.db import DatabaseError, migrations, models

logger = logging.getLogger(__name__)

FTS = "history_job_search"
COLUMNS = "title, prompt, external_id"
SQLITE_INSTALL = [
    f"DROP TRIGGER IF EXISTS {FTS}_insert",
    f"DROP TRIGGER IF EXISTS {FTS}_delete",
    f"DROP TRIGGER IF EXISTS {FTS}_update",
    f"DROP TABLE IF EXISTS {FTS}",
    f"CREATE VIRTUAL TABLE {FTS} USING fts5({COLUMNS}, content='history_job', content_rowid='id', "
    "tokenize='trigram')",
    f"""CREATE TRIGGER {FTS}_insert AFTER INSERT ON history_job BEGIN
        INSERT INTO {FTS}(rowid, {COLUMNS}) VALUES (new.id, new.title, new.prompt, new.external_id);
    END""",
    # An external-content FTS5 table forgets a row by being told the values it indexed.
    f"""CREATE TRIGGER {FTS}_delete AFTER DELETE ON history_job BEGIN
        INSERT INTO {FTS}({FTS}, rowid, {COLUMNS}) VALUES ('delete', old.id, old.title, old.prompt, old.external_id);
    END""",
    # Sync rewrites every record field of a job it refreshes: only a real change reindexes it.
    f"""CREATE TRIGGER {FTS}_update AFTER UPDATE OF {COLUMNS} ON history_job
    WHEN old.title IS NOT new.title OR old.prompt IS NOT new.prompt OR old.external_id IS NOT new.external_id
    BEGIN
        INSERT INTO {FTS}({FTS}, rowid, {COLUMNS}) VALUES ('delete', old.id, old.title, old.prompt, old.external_id);
        INSERT INTO {FTS}(rowid, {COLUMNS}) VALUES (new.id, new.title, new.prompt, new.external_id);
    END""",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {FTS}_insert",
    f"DROP TRIGGER IF EXISTS {FTS}_delete",
    f"DROP TRIGGER IF EXISTS {FTS}_update",
    f"DROP TABLE IF EXISTS {FTS}",
]
PG_INDEXES = {"job_search_title": "title", "job_search_prompt": "prompt", "job_search_external_id": "external_id"}


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
        # Statistics for the planner where there are jobs already (a fresh database has none
        # yet: see history/search.py on when to gather them).
        cursor.execute("SELECT EXISTS (SELECT 1 FROM history_job)")
        if cursor.fetchone()[0]:
            cursor.execute("ANALYZE history_job")


def install_postgresql(schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as e:
            logger.warning("No pg_trgm for the history search (%s): search scans.", e)
            return
        for name, column in PG_INDEXES.items():
            # A CONCURRENTLY build that failed leaves an invalid index behind: build it again.
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            cursor.execute(f"CREATE INDEX CONCURRENTLY {name} ON history_job USING gin (UPPER({column}) gin_trgm_ops)")


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        install_sqlite(schema_editor)
    elif vendor == "postgresql":
        install_postgresql(schema_editor)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        if vendor == "sqlite":
            for sql in SQLITE_REMOVE:
                cursor.execute(sql)
        elif vendor == "postgresql":
            for name in PG_INDEXES:
                cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("history", "0004_job_polling_since"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["credential", "status", "-created", "-id"], name="job_history_by_key_status"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
