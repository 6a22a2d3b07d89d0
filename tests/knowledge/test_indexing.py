"""Passages follow their sources: a file's text once extracted, a note's or link's text as saved."""

import pytest
from django.core.management import CommandError, call_command

from collector.models import ItemKind
from files.models import FilePage, FileStatus
from files.signals import file_ready
from knowledge.models import Passage
from knowledge.retrieval import retrieve
from tests.collector.factories import ItemFactory

from .factories import ready_file

pytestmark = pytest.mark.django_db


def _texts(**source) -> list[tuple[int | None, str]]:
    return list(Passage.objects.filter(**source).order_by("ordinal").values_list("page", "text"))


def test_file_ready_indexes_the_pages_and_again_replaces_them(user):
    doc = ready_file(user, "report.pdf", ["첫 쪽의 내용입니다.", "둘째 쪽에는 결론이 있다."], announce=False)
    assert _texts(file=doc) == []

    file_ready.send(sender=type(doc), file=doc)
    assert _texts(file=doc) == [(1, "첫 쪽의 내용입니다."), (2, "둘째 쪽에는 결론이 있다.")]
    passage = Passage.objects.filter(file=doc).first()
    assert passage.owner_id == user.pk and "결론" not in passage.terms and "내용" in passage.terms

    # Extracted again (re-run from the admin): the old passages go, the new ones come, no duplicates.
    FilePage.objects.filter(file=doc, number=2).update(text="둘째 쪽이 고쳐졌다.")
    file_ready.send(sender=type(doc), file=doc)
    file_ready.send(sender=type(doc), file=doc)
    assert _texts(file=doc) == [(1, "첫 쪽의 내용입니다."), (2, "둘째 쪽이 고쳐졌다.")]
    hits = retrieve(owner_id=user.pk, question="고쳐진 둘째 쪽", file_ids=[doc.pk], budget_tokens=100)
    assert hits[0].text == "둘째 쪽이 고쳐졌다."
    # The index forgot the old text: its word finds nothing (the fallback's unscored starts).
    assert all(h.score == 0 for h in retrieve(owner_id=user.pk, question="결론", file_ids=[doc.pk], budget_tokens=100))


def test_a_deleted_file_takes_its_passages(user):
    doc = ready_file(user, "gone.pdf", ["Temporary text about otters."])
    assert Passage.objects.filter(file=doc).count() == 1
    doc.delete()
    assert Passage.objects.count() == 0


def test_a_note_is_indexed_when_saved_and_its_passages_go_with_it(user):
    note = ItemFactory(owner=user, title="부산 출장", content="숙소는 해운대에 있다.")
    assert _texts(item=note) == [(None, "부산 출장\n\n숙소는 해운대에 있다.")]
    hits = retrieve(owner_id=user.pk, question="해운대의 숙소", item_ids=[note.pk], budget_tokens=100)
    assert [(h.kind, h.source_id) for h in hits] == [("item", str(note.pk))]

    note.content = "숙소는 광안리로 바뀌었다."
    note.save()
    assert _texts(item=note) == [(None, "부산 출장\n\n숙소는 광안리로 바뀌었다.")]

    link = ItemFactory(owner=user, kind=ItemKind.LINK, title="Docs", url="https://example.com/guide", content="")
    assert _texts(item=link) == [(None, "Docs\n\nhttps://example.com/guide")]

    note.delete()
    link.delete()
    assert Passage.objects.count() == 0


def test_a_file_item_has_no_passages_of_its_own(user):
    stored = ready_file(user, "scan.pdf", ["Scanned page text."])
    item = ItemFactory(owner=user, kind=ItemKind.FILE, title="Scan", content="", stored_file=stored)
    assert _texts(item=item) == []
    assert Passage.objects.filter(file=stored).count() == 1


def test_reindex_rebuilds_everything_or_one_users(user, outsider, capsys):
    doc = ready_file(user, "a.pdf", ["Page about lighthouses."])
    note = ItemFactory(owner=user, title="Note", content="About harbours.")
    theirs = ready_file(outsider, "b.pdf", ["Page about canals."])
    failed = ready_file(user, "failed.pdf", ["Old text."])
    failed.status = FileStatus.FAILED
    failed.save()
    Passage.objects.all().delete()

    call_command("knowledge_reindex", "--user", user.email)
    assert "Indexed 1 file(s) and 1 item(s): 2 passage(s)." in capsys.readouterr().out
    assert Passage.objects.filter(file=doc).count() == 1 and Passage.objects.filter(item=note).count() == 1
    assert not Passage.objects.filter(file=theirs).exists()

    call_command("knowledge_reindex")
    call_command("knowledge_reindex")  # idempotent
    assert Passage.objects.filter(file=theirs).count() == 1
    assert Passage.objects.count() == 3
    assert not Passage.objects.filter(file=failed).exists()

    with pytest.raises(CommandError, match="No user"):
        call_command("knowledge_reindex", "--user", "nobody@example.com")


def test_the_index_is_the_databases_own(db):
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The tsvector stays in the row (read for every passage of a scope) and has its GIN index.
            cursor.execute(
                "SELECT attstorage FROM pg_attribute WHERE attrelid = 'knowledge_passage'::regclass "
                "AND attname = 'search'"
            )
            assert cursor.fetchone()[0] == "m"
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'knowledge_passage_search'")
            assert "gin (search)" in cursor.fetchone()[0]
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'knowledge_passage_fts'")
            assert "fts5" in cursor.fetchone()[0]
            # Its triggers survive every migration (a migration that rebuilds knowledge_passage on
            # SQLite drops them: such a migration must create them again, as 0002 does).
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'knowledge_passage'")
            assert {row[0] for row in cursor.fetchall()} == {
                "knowledge_passage_fts_ai",
                "knowledge_passage_fts_ad",
                "knowledge_passage_fts_au",
            }
