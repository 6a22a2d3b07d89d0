"""The full-text index of passages' ``terms``, made by the database in use (knowledge/search.py
reads it): on SQLite an FTS5 table kept in step with the passages by triggers; on PostgreSQL a
stored tsvector column ('simple': the terms are already normalized; stripped of positions, which
nothing reads; kept in the row, lz4-compressed where the server has it: checking a scope's rows
reads it) with a GIN index. None of it is in the model: Django never writes them. The passage's
``term_count`` (BM25's length) is."""

from django.db import migrations, models

SQLITE = [
    # External content: the text stays in knowledge_passage, the FTS table holds only the index.
    # unicode61 splits the terms on the spaces between them; they are already lowercased.
    "CREATE VIRTUAL TABLE knowledge_passage_fts USING fts5(terms, content='knowledge_passage', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER knowledge_passage_fts_ai AFTER INSERT ON knowledge_passage BEGIN "
    "INSERT INTO knowledge_passage_fts(rowid, terms) VALUES (new.id, new.terms); END",
    "CREATE TRIGGER knowledge_passage_fts_ad AFTER DELETE ON knowledge_passage BEGIN "
    "INSERT INTO knowledge_passage_fts(knowledge_passage_fts, rowid, terms) VALUES ('delete', old.id, old.terms); END",
    "CREATE TRIGGER knowledge_passage_fts_au AFTER UPDATE OF terms ON knowledge_passage BEGIN "
    "INSERT INTO knowledge_passage_fts(knowledge_passage_fts, rowid, terms) VALUES ('delete', old.id, old.terms); "
    "INSERT INTO knowledge_passage_fts(rowid, terms) VALUES (new.id, new.terms); END",
    "INSERT INTO knowledge_passage_fts(knowledge_passage_fts) VALUES ('rebuild')",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS knowledge_passage_fts_au",
    "DROP TRIGGER IF EXISTS knowledge_passage_fts_ad",
    "DROP TRIGGER IF EXISTS knowledge_passage_fts_ai",
    "DROP TABLE IF EXISTS knowledge_passage_fts",
]
POSTGRESQL = [
    "ALTER TABLE knowledge_passage ADD COLUMN search tsvector "
    "GENERATED ALWAYS AS (strip(to_tsvector('simple'::regconfig, terms))) STORED",
    # Kept in the row (compressed), not in the TOAST table: checking a scope's rows then costs no
    # extra lookups per row (measured: 130 ms -> 18 ms for 8,000 rows; docs/benchmarks.md).
    "ALTER TABLE knowledge_passage ALTER COLUMN search SET STORAGE MAIN",
    "CREATE INDEX knowledge_passage_search ON knowledge_passage USING gin (search)",
]
POSTGRESQL_REVERSE = [
    "DROP INDEX IF EXISTS knowledge_passage_search",
    "ALTER TABLE knowledge_passage DROP COLUMN IF EXISTS search",
]


LZ4 = "ALTER TABLE knowledge_passage ALTER COLUMN search SET COMPRESSION lz4"


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        connection = schema_editor.connection
        for statement in statements_by_vendor.get(connection.vendor, ()):
            schema_editor.execute(statement)
        if connection.vendor == "postgresql" and statements_by_vendor.get("postgresql") is POSTGRESQL:
            with connection.cursor() as cursor:
                # Servers built without lz4 (it is optional) keep the default compression.
                cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
                if cursor.fetchone()[0]:
                    schema_editor.execute(LZ4)

    return run


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="passage",
            name="terms",
            field=models.TextField(blank=True, help_text="The text as index terms (words and Korean bigrams), between spaces."),
        ),
        migrations.AddField(
            model_name="passage",
            name="term_count",
            field=models.PositiveIntegerField(default=0, help_text="Distinct terms: the passage's length in BM25."),
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        )
    ]
