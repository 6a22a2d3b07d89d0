"""retrieve(): Korean particles, the owner and the scope, the budget, the fallback."""

import pytest

from collector.models import ItemKind
from files.models import FileStatus, StoredFile
from knowledge.retrieval import retrieve
from knowledge.terms import estimate_tokens, query_terms
from tests.accounts.factories import UserFactory
from tests.collector.factories import ItemFactory

from .factories import ready_file

pytestmark = pytest.mark.django_db

SEOUL = "지난 회의는 서울에서 열렸고 참석자는 모두 스물두 명이었다."
BUSAN = "다음 회의는 부산의 해운대 근처 호텔로 정해졌다."
FILLER = [f"{i}번째 쪽에는 예산 집행 내역과 일정 변경 사항이 정리되어 있다." for i in range(3, 12)]


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@example.com")


def test_a_korean_word_is_found_whatever_its_particle(user):
    doc = ready_file(user, "회의록.pdf", [BUSAN, SEOUL, *FILLER])

    hits = retrieve(owner_id=user.pk, question="서울은 회의 장소였나요?", file_ids=[doc.pk], budget_tokens=2000)

    assert hits[0].text == SEOUL
    assert (hits[0].kind, hits[0].source_id, hits[0].title, hits[0].page) == ("file", str(doc.pk), "회의록.pdf", 2)
    assert hits[0].score > 0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_an_english_question_in_other_inflections(user):
    doc = ready_file(
        user,
        "notes.txt",
        ["The team migrated the billing database to PostgreSQL in March.", "Lunch is served at noon on Fridays."],
    )
    hits = retrieve(
        owner_id=user.pk, question="When was the migration of billing?", file_ids=[str(doc.pk)], budget_tokens=500
    )
    assert [h.page for h in hits] == [1]


def test_another_users_passages_never_come_back_even_with_their_ids(user, bob):
    mine = ready_file(user, "mine.pdf", ["우리 팀의 예산은 삼천만 원이다."])
    theirs = ready_file(bob, "theirs.pdf", ["서울에서 열린 비밀 회의의 예산은 오억 원이다."])
    their_note = ItemFactory(owner=bob, title="서울 메모", content="서울에서 비밀 회의")

    assert retrieve(owner_id=user.pk, question="서울 회의 예산", file_ids=[theirs.pk], budget_tokens=1000) == []
    assert retrieve(owner_id=user.pk, question="서울 회의", item_ids=[their_note.pk], budget_tokens=1000) == []
    hits = retrieve(
        owner_id=user.pk,
        question="서울 회의 예산",
        file_ids=[mine.pk, theirs.pk],
        item_ids=[their_note.pk],
        budget_tokens=1000,
    )
    assert {h.source_id for h in hits} == {str(mine.pk)}
    # Bob, with his own ids, finds his.
    assert retrieve(owner_id=bob.pk, question="서울 회의", file_ids=[theirs.pk], budget_tokens=1000)[
        0
    ].source_id == str(theirs.pk)


def test_only_the_scope_is_searched(user):
    inside = ready_file(user, "inside.pdf", ["Quarterly revenue grew by twelve percent."])
    outside = ready_file(user, "outside.pdf", ["Quarterly revenue fell sharply in the outside report."])
    note = ItemFactory(owner=user, title="Revenue note", content="Revenue targets for the next quarter.")

    hits = retrieve(owner_id=user.pk, question="quarterly revenue", file_ids=[inside.pk], budget_tokens=1000)
    assert {h.source_id for h in hits} == {str(inside.pk)}
    hits = retrieve(owner_id=user.pk, question="quarterly revenue", item_ids=[note.pk], budget_tokens=1000)
    assert [(h.kind, h.source_id, h.title) for h in hits] == [("item", str(note.pk), "Revenue note")]
    assert retrieve(owner_id=user.pk, question="quarterly revenue", budget_tokens=1000) == []
    assert outside  # never named, never found
    assert (
        retrieve(owner_id=user.pk, question="revenue", file_ids=["not-a-uuid"], item_ids=["x"], budget_tokens=100) == []
    )


def test_a_file_item_is_searched_through_its_stored_file_and_reported_as_the_item(user):
    stored = ready_file(user, "contract.pdf", ["The contract ends on 30 June 2027.", "Payment is due monthly."])
    item = ItemFactory(owner=user, kind=ItemKind.FILE, title="Supplier contract", content="", stored_file=stored)

    hits = retrieve(owner_id=user.pk, question="When does the contract end?", item_ids=[item.pk], budget_tokens=500)

    assert [(h.kind, h.source_id, h.title, h.page) for h in hits] == [("item", str(item.pk), "Supplier contract", 1)]
    # Named as a file too, it is reported once, as the file.
    hits = retrieve(
        owner_id=user.pk, question="contract end", file_ids=[stored.pk], item_ids=[item.pk], budget_tokens=500
    )
    assert [(h.kind, h.source_id) for h in hits] == [("file", str(stored.pk))]


def test_the_budget_is_respected(user):
    pages = [f"Section {i}: the reactor coolant pump {i} needs inspection every {i + 2} weeks." * 3 for i in range(20)]
    doc = ready_file(user, "manual.pdf", pages)

    for budget in (0, 30, 80, 200, 1000):
        hits = retrieve(owner_id=user.pk, question="coolant pump inspection", file_ids=[doc.pk], budget_tokens=budget)
        assert sum(estimate_tokens(h.text) for h in hits) <= budget
    assert retrieve(owner_id=user.pk, question="coolant pump inspection", file_ids=[doc.pk], budget_tokens=0) == []
    many = retrieve(owner_id=user.pk, question="coolant pump inspection", file_ids=[doc.pk], budget_tokens=100000)
    assert 1 <= len(many) <= 8  # TOP_K


def test_weak_matches_under_the_relative_threshold_are_dropped(user, settings):
    strong = "The lighthouse keeper Morgan logged the storm at dawn; Morgan's lighthouse log is kept."
    weak = "A storm is mentioned here once."
    doc = ready_file(user, "log.pdf", [strong, weak, "Nothing related."])
    settings.KNOWLEDGE = {**settings.KNOWLEDGE, "MIN_RELATIVE_SCORE": 0.6}
    hits = retrieve(owner_id=user.pk, question="Morgan lighthouse storm", file_ids=[doc.pk], budget_tokens=1000)
    assert [h.page for h in hits] == [1]
    settings.KNOWLEDGE = {**settings.KNOWLEDGE, "MIN_RELATIVE_SCORE": 0.0}
    hits = retrieve(owner_id=user.pk, question="Morgan lighthouse storm", file_ids=[doc.pk], budget_tokens=1000)
    assert [h.page for h in hits] == [1, 2]


def test_adjacent_passages_send_their_overlap_once(user, settings):
    settings.KNOWLEDGE = {**settings.KNOWLEDGE, "PASSAGE_CHARS": 300, "PASSAGE_OVERLAP": 100, "MIN_RELATIVE_SCORE": 0.0}
    text = " ".join(f"Falcon fact {i} concerns the falcon nest." for i in range(20))
    doc = ready_file(user, "falcons.txt", [text])
    hits = retrieve(owner_id=user.pk, question="falcon nest", file_ids=[doc.pk], budget_tokens=5000)
    sent = "".join(h.text for h in hits)
    assert len(hits) > 1
    for i in range(20):
        assert sent.count(f"Falcon fact {i} ") == 1


def test_a_question_matching_nothing_gets_the_start_of_each_source(user):
    one = ready_file(user, "one.pdf", ["Alpha opening page.", "Alpha second page.", "Alpha third page."])
    two = ready_file(user, "two.pdf", ["Beta opening page.", "Beta second page."])

    hits = retrieve(owner_id=user.pk, question="요약해 주세요", file_ids=[one.pk, two.pk], budget_tokens=1000)
    assert [h.text for h in hits][:2] == ["Alpha opening page.", "Beta opening page."]
    assert {h.text for h in hits} == {
        "Alpha opening page.",
        "Alpha second page.",
        "Alpha third page.",
        "Beta opening page.",
        "Beta second page.",
    }
    small = retrieve(owner_id=user.pk, question="zzz", file_ids=[one.pk, two.pk], budget_tokens=14)
    assert [h.text for h in small] == ["Alpha opening page.", "Beta opening page."]


def test_a_question_matching_nothing_gets_at_most_top_k_passages_whatever_the_budget(user, settings):
    settings.KNOWLEDGE = {**settings.KNOWLEDGE, "TOP_K": 3}
    docs = [ready_file(user, f"doc{d}.pdf", [f"Doc {d} page {p} text." for p in range(1, 6)]) for d in range(4)]

    hits = retrieve(owner_id=user.pk, question="zzz", file_ids=[d.pk for d in docs], budget_tokens=100_000)
    assert len(hits) == 3
    assert [h.text for h in hits] == ["Doc 0 page 1 text.", "Doc 1 page 1 text.", "Doc 2 page 1 text."]


def test_common_terms_score_but_do_not_select_in_a_large_database(user, monkeypatch):
    # Made "large" at once: every term with a counted share is common, as in a big database.
    from django.db import connection

    from knowledge import search

    monkeypatch.setattr(search, "COMMON_AFTER", 0)
    monkeypatch.setattr(search, "SQLITE_PROBE", 3)
    monkeypatch.setattr(search, "COMMON_FRACTION", 0.1)
    monkeypatch.setattr(search, "MIN_SELECTIVE", 1)
    search._stats_cache.clear()
    pages = [f"The company policy section {i} covers ordinary company matters." for i in range(30)]
    pages[17] = "The company policy on zeppelins: every zeppelin flight needs two pilots."
    doc = ready_file(user, "policy.pdf", pages)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE knowledge_passage")
    search._stats_cache.clear()

    terms = query_terms("company policy about zeppelins")
    selecting, common = search._selective(terms)
    assert selecting == [terms[2]] and set(common) == {0, 1}
    hits = retrieve(owner_id=user.pk, question="company policy about zeppelins", file_ids=[doc.pk], budget_tokens=400)
    assert hits[0].page == 18
    # All terms common: the scope is read, and the best passage still comes first.
    hits = retrieve(owner_id=user.pk, question="company policy matters section 3", file_ids=[doc.pk], budget_tokens=400)
    assert hits and all("company" in h.text for h in hits)
    search._stats_cache.clear()


TOPICS = (
    "예산 편성",
    "인사 평가",
    "보안 점검",
    "출장 규정",
    "교육 일정",
    "장비 구매",
    "고객 응대",
    "홍보 전략",
    "품질 관리",
    "재고 현황",
    "법무 검토",
    "채용 계획",
    "복리 후생",
    "시설 관리",
    "정보 시스템",
    "환경 안전",
    "회의실 예약",
    "문서 보존",
    "협력 업체",
    "연구 개발",
    "해외 사업",
    "물류 배송",
    "회계 감사",
    "위기 대응",
    "사내 동호회",
    "주차 관리",
    "식당 운영",
    "건강 검진",
    "휴가 제도",
    "퇴직 연금",
)


def test_a_fact_on_page_17_of_a_30_page_document_is_what_comes_back(user):
    pages = [
        f"{n + 1}쪽. 이 쪽은 {topic}에 관한 내용이다. 담당 부서는 매 분기 {topic} 현황을 보고서로 정리한다. "
        "보고서의 내용은 경영진 회의에서 검토되며, 검토 결과는 다음 분기 계획에 반영된다. " * 3
        for n, topic in enumerate(TOPICS)
    ]
    pages[16] += " 회의실 예약은 매주 목요일 오후 세 시에 마감되며, 마감 뒤에는 총무팀에 직접 요청해야 한다."
    doc = ready_file(user, "사내 규정집.pdf", pages)

    hits = retrieve(owner_id=user.pk, question="회의실 예약 마감이 언제인가요?", file_ids=[doc.pk], budget_tokens=1500)

    assert hits[0].page == 17 and "목요일 오후 세 시" in hits[0].text
    assert sum(estimate_tokens(h.text) for h in hits) <= 1500
    assert len({h.page for h in hits}) <= 3, [h.page for h in hits]  # the rest of the document is not sent


def test_a_file_read_again_that_failed_answers_nothing_with_its_old_passages(user):
    doc = ready_file(user, "회의록.pdf", [SEOUL, BUSAN])
    note = ItemFactory(owner=user, kind=ItemKind.FILE, title="회의록 항목", stored_file=doc)
    assert retrieve(owner_id=user.pk, question="서울 회의", file_ids=[doc.pk], budget_tokens=1000)
    assert retrieve(owner_id=user.pk, question="서울 회의", item_ids=[note.pk], budget_tokens=1000)

    # "Extract again" failed: the file's pages are gone, its passages wait for a re-index.
    StoredFile.objects.filter(pk=doc.pk).update(status=FileStatus.FAILED, error="unreadable")

    assert retrieve(owner_id=user.pk, question="서울 회의", file_ids=[doc.pk], budget_tokens=1000) == []
    assert retrieve(owner_id=user.pk, question="서울 회의", item_ids=[note.pk], budget_tokens=1000) == []


def test_the_best_passage_is_cut_to_a_small_window_around_what_matched(user):
    # A Korean passage of the default size costs more than a small model's whole budget.
    filler = "이 문단은 회사의 일반 현황을 길게 설명하는 문장이다. " * 12
    page = filler + "냉각수 온도 한계는 섭씨 287도로 정해졌다. " + filler
    doc = ready_file(user, "보고서.pdf", [page])

    hits = retrieve(owner_id=user.pk, question="냉각수 온도 한계는?", file_ids=[doc.pk], budget_tokens=120)

    assert len(hits) == 1
    assert hits[0].text.startswith("냉각수 온도 한계는 섭씨 287도")
    assert estimate_tokens(hits[0].text) <= 120
    # Too small a room for anything useful: nothing rather than a few syllables.
    assert retrieve(owner_id=user.pk, question="냉각수 온도 한계는?", file_ids=[doc.pk], budget_tokens=20) == []
