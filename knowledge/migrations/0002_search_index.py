"""The full-text index of passages' ``terms``, made by the database in use (knowledge/search.py
reads it): on SQLite an FTS5 table kept in step with the passages by triggers; on PostgreSQL a
stored tsvector column ('simple': the terms are already normalized) with a GIN index. Neither is
in the model: Django never writes them."""

from django.db import migrations

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
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, terms)) STORED",
    "CREATE INDEX knowledge_passage_search ON knowledge_passage USING gin (search)",
]
POSTGRESQL_REVERSE = [
    "DROP INDEX IF EXISTS knowledge_passage_search",
    "ALTER TABLE knowledge_passage DROP COLUMN IF EXISTS search",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        )
    ]
