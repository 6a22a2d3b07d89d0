"""Knowledge bench: indexing throughput and retrieval latency with many passages in the database.

    .venv/bin/python bench/knowledge.py                       # PostgreSQL, database knowledge_bench
    .venv/bin/python bench/knowledge.py --reuse               # keep the other users' passages of a last run
    .venv/bin/python bench/knowledge.py --sqlite /tmp/kb.sqlite3 --reuse
    .venv/bin/python bench/knowledge.py --total 100000 --mine 10000 --queries 100   # a quicker look

One user ("me") owns ``--mine`` passages (100 files of 10 pages, indexed through the real path:
``passages_index_file`` on FilePage rows, as ``file_ready`` does); the database holds ``--total``
passages in all, the rest owned by 1,000 other users (synthetic mixed Korean/English text, bulk
loaded: COPY on PostgreSQL with the GIN index built afterwards, as a restore would). Then
``retrieve()`` is timed end to end (the scope's rows, the index query, BM25, the passages' texts),
for questions in Korean (other particles than the text's) and English (other inflections), with
the user's whole 10,000 passages in scope, and with one file in scope.

The database is made if missing and migrated; ``--reuse`` keeps the other users' rows when their
count is right (loading 1,000,000 takes minutes). The user's own files are rebuilt every run.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on the path, and this file is "knowledge" there:
# the project's root goes first instead, so ``import knowledge`` is the app.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]
OTHER_USERS = 1000
UNUSABLE = "!"  # an unusable password hash: nobody signs in as a bench user
FILES_PER_OTHER = 10
MY_FILES = 100
PAGES_PER_FILE = 10

# --- Synthetic text ---------------------------------------------------------------------------
# Common Hangul syllables: nouns are 2-3 of them, followed by a particle most of the time.
SYLLABLES = (
    "가나다라마바사아자차카타파하거너더러머버서어저처커터퍼허고노도로모보소오조초코토포호구누두루무부수우주추"
    "쿠투푸후기니디리미비시이지치키티피히개내대래매배새애재채민정성영수진현준서연지호경상원동석철광국한중일"
    "전산업학교회사장부관리계획개발연구기술정보통신문화예술역사경제사회환경교육의료건강"
)
PARTICLES = (
    "은",
    "는",
    "이",
    "가",
    "을",
    "를",
    "에",
    "에서",
    "으로",
    "로",
    "의",
    "와",
    "과",
    "도",
    "만",
    "부터",
    "까지",
)
ENDINGS = ("했다.", "이다.", "있다.", "되었다.", "한다.", "였다.", "않았다.", "보였다.")
CONSONANTS = "bcdfghjklmnprstvwz"
VOWELS = "aeiou"
EN_SUFFIXES = ("", "", "", "s", "ed", "ing", "ation", "ly", "ment")
KO_QUESTION = ("{a}{p} {b}{q} 무엇인가요?", "{a}{p} {b}에 대해 알려줘", "{b}{q} {a}{p} 어떻게 되었나요?")
EN_QUESTION = ("What about the {a} and {b}?", "How did {a} affect {b}?", "Tell me about {a} {b}.")


class Vocabulary:
    """Zipf-distributed words (rank ** -1.07, as natural text): a few very common, many rare."""

    def __init__(self, rng: random.Random, size: int = 30000) -> None:
        self.rng = rng
        ko, en = set(), set()
        while len(ko) < size:
            ko.add("".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3)))))
        while len(en) < size:
            length = rng.randint(2, 4)
            en.add("".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(length)))
        self.ko, self.en = sorted(ko), sorted(en)
        rng.shuffle(self.ko)
        rng.shuffle(self.en)
        self.ko_rank = {w: r for r, w in enumerate(self.ko)}
        self.en_rank = {w: r for r, w in enumerate(self.en)}
        weights = [1 / (r + 1) ** 1.07 for r in range(size)]
        total = 0.0
        self.cumulative = []
        for w in weights:
            total += w
            self.cumulative.append(total)

    def words(self, lang: str, n: int) -> list[str]:
        pool = self.ko if lang == "ko" else self.en
        return [pool[i] for i in self.rng.choices(range(len(pool)), cum_weights=self.cumulative, k=n)]

    def sentence(self, lang: str) -> str:
        words = self.words(lang, self.rng.randint(5, 12))
        if lang == "ko":
            body = " ".join(w + (self.rng.choice(PARTICLES) if self.rng.random() < 0.7 else "") for w in words)
            return f"{body} {self.rng.choice(ENDINGS)}"
        body = " ".join(w + self.rng.choice(EN_SUFFIXES) for w in words)
        return body.capitalize() + "."

    def passage(self, chars: int) -> str:
        lang = self.rng.choice(("ko", "ko", "en", "en", "mixed"))
        out: list[str] = []
        while sum(len(s) + 1 for s in out) < chars:
            out.append(self.sentence(self.rng.choice(("ko", "en")) if lang == "mixed" else lang))
        return " ".join(out)

    def question(self, text: str) -> str:
        """A question about ``text``, as a person asks about a fact: its most distinctive word (the
        rarest in the vocabulary) and another of its words, in other particles or inflections."""
        import re

        ko = [self._ko_stem(w) for w in re.findall(r"[\uac00-\ud7a3]{2,}", text)]
        en = re.findall(r"[a-z]{4,}", text.lower())
        if ko and (not en or self.rng.random() < 0.5):
            a, b = self._pick(ko, self.ko_rank)
            template = self.rng.choice(KO_QUESTION)
            return template.format(a=a, b=b, p=self.rng.choice(PARTICLES), q=self.rng.choice(("는", "가", "의")))
        a, b = self._pick([self._en_stem(w) for w in en], self.en_rank)
        return self.rng.choice(EN_QUESTION).format(a=a + self.rng.choice(EN_SUFFIXES), b=b)

    def _pick(self, words: list[str], rank: dict[str, int]) -> tuple[str, str]:
        rarest = max(words, key=lambda w: rank.get(w, -1))
        return rarest, self.rng.choice(words)

    def _en_stem(self, word: str) -> str:
        for suffix in sorted(EN_SUFFIXES, key=len, reverse=True):
            if suffix and word.endswith(suffix) and word[: -len(suffix)] in self.en_rank:
                return word[: -len(suffix)]
        return word

    def _ko_stem(self, word: str) -> str:
        for particle in sorted(PARTICLES, key=len, reverse=True):
            if word.endswith(particle) and len(word) > len(particle) + 1:
                return word[: -len(particle)]
        return word


# --- Database ---------------------------------------------------------------------------------


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if database_url.startswith("postgres"):
        import psycopg

        name = database_url.rsplit("/", 1)[1]
        with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def load_others(*, total_others: int, rng: random.Random, vocab: Vocabulary, reuse: bool) -> float | None:
    """The other users' passages, bulk loaded; seconds taken (None when reused)."""
    from django.db import connection, transaction

    from accounts.models import User
    from files.models import FileStatus, StoredFile
    from knowledge.models import Passage

    others = User.objects.filter(email__startswith="bench-other-")
    present = Passage.objects.filter(owner__in=others).count() if reuse else -1
    if present == total_others:
        print(f"reusing {present:,} passages of {OTHER_USERS} other users")
        return None
    print(f"loading {total_others:,} passages of {OTHER_USERS} other users ...", flush=True)
    started = time.perf_counter()
    with transaction.atomic():
        Passage.objects.filter(owner__in=others).delete()
        StoredFile.objects.filter(owner__in=others).delete()
        others.delete()
        users = User.objects.bulk_create(
            User(email=f"bench-other-{i}@bench.example.com", password=UNUSABLE) for i in range(OTHER_USERS)
        )
        files = StoredFile.objects.bulk_create(
            StoredFile(
                owner=u, name=f"doc-{j}.pdf", content_type="application/pdf", size=1, blob="x", status=FileStatus.READY
            )
            for u in users
            for j in range(FILES_PER_OTHER)
        )
    # A pool of distinct passages, drawn from at random: their terms are computed once.
    from knowledge.terms import index_terms

    pool = []
    for _ in range(min(20000, total_others)):
        text = vocab.passage(rng.randint(300, 800))
        terms = f" {index_terms(text)} "
        pool.append((text, terms, len(set(terms.split()))))
    per_file, extra = divmod(total_others, len(files))
    rows = (
        (f.owner_id, f.pk, n, 1 + n // 10, *rng.choice(pool))
        for k, f in enumerate(files)
        for n in range(per_file + (k < extra))
    )
    columns = "owner_id, file_id, ordinal, page, text, terms, term_count"
    insert = f"INSERT INTO knowledge_passage ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)"  # noqa: S608 (constants)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS knowledge_passage_search")
            with cursor.cursor.copy(f"COPY knowledge_passage ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute("SET maintenance_work_mem = '1GB'")
            cursor.execute("CREATE INDEX knowledge_passage_search ON knowledge_passage USING gin (search)")
            cursor.execute("VACUUM ANALYZE knowledge_passage")  # as autovacuum would after a load
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            batch = []
            for row in rows:
                batch.append((row[0], row[1].hex, *row[2:]))
                if len(batch) == 5000:
                    cursor.executemany(insert, batch)
                    batch = []
            if batch:
                cursor.executemany(insert, batch)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return time.perf_counter() - started


def index_mine(*, mine: int, rng: random.Random, vocab: Vocabulary):
    """My files, indexed through the real path; (user, file ids, passages, seconds)."""
    from django.db import transaction

    from accounts.models import User
    from files.models import FilePage, FileStatus, StoredFile
    from knowledge.models import Passage
    from knowledge.services import passages_index_file

    User.objects.filter(email="bench-me@bench.example.com").delete()
    me = User.objects.create(email="bench-me@bench.example.com", password=UNUSABLE)
    per_page = max(1, round(mine / (MY_FILES * PAGES_PER_FILE)))
    files = []
    with transaction.atomic():
        for i in range(MY_FILES):
            file = StoredFile.objects.create(
                owner=me,
                name=f"mine-{i}.pdf",
                content_type="application/pdf",
                size=1,
                blob="x",
                status=FileStatus.READY,
            )
            FilePage.objects.bulk_create(
                FilePage(file=file, number=p + 1, text=_page(vocab, per_page)) for p in range(PAGES_PER_FILE)
            )
            files.append(file)
    started = time.perf_counter()
    for file in files:
        passages_index_file(file=file)
    seconds = time.perf_counter() - started
    return me, [str(f.pk) for f in files], Passage.objects.filter(owner=me).count(), seconds


def _page(vocab: Vocabulary, passages: int) -> str:
    """A page's text that the chunker cuts into ``passages`` passages."""
    from django.conf import settings

    from knowledge.chunking import chunk_text

    size, overlap = settings.KNOWLEDGE["PASSAGE_CHARS"], settings.KNOWLEDGE["PASSAGE_OVERLAP"]
    paragraphs = [vocab.passage(vocab.rng.randint(300, 600))]
    while len(chunk_text("\n\n".join(paragraphs), size=size, overlap=overlap)) < passages:
        paragraphs.append(vocab.passage(vocab.rng.randint(300, 600)))
    return "\n\n".join(paragraphs)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def time_queries(*, me, file_ids: list[str], questions: list[tuple[str, str]], scope: str) -> dict:
    from knowledge.retrieval import retrieve

    for question, file_id in questions[:20]:  # warm-up: caches, the first plan
        retrieve(owner_id=me.pk, question=question, file_ids=file_ids if scope == "all" else [file_id])
    latencies, found = [], 0
    for question, file_id in questions:
        ids = file_ids if scope == "all" else [file_id]
        started = time.perf_counter()
        hits = retrieve(owner_id=me.pk, question=question, file_ids=ids)
        latencies.append((time.perf_counter() - started) * 1000)
        found += any(h.source_id == file_id for h in hits[:5])
    return {
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 95),
        "max": max(latencies),
        "source_in_top5": found / len(questions),
    }


def compare_plain_scan(*, me, file_ids: list[str], questions: list[tuple[str, str]]) -> dict:
    """The same scope searched without the full-text index: every passage's terms read (LIKE on
    PostgreSQL, instr on SQLite), to show what the index saves."""
    from django.db import connection

    from knowledge import search
    from knowledge.retrieval import MAX_QUERY_TERMS
    from knowledge.terms import query_terms

    scope = search.Scope(owner_id=me.pk, file_ids=tuple(file_ids), item_ids=())
    where, params = scope.where()
    indexed, plain = [], []
    for question, _ in questions:
        terms = query_terms(question)[:MAX_QUERY_TERMS]
        started = time.perf_counter()
        search.matches(scope, terms, limit=400)
        indexed.append((time.perf_counter() - started) * 1000)
        holds = " OR ".join(
            "terms LIKE %s" if connection.vendor == "postgresql" else "instr(terms, %s) > 0" for _ in terms
        )
        patterns = [f"% {t} %" if connection.vendor == "postgresql" else f" {t} " for t in terms]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM knowledge_passage WHERE {where} AND ({holds})", [*params, *patterns])  # noqa: S608
            cursor.fetchall()
        plain.append((time.perf_counter() - started) * 1000)
    return {
        "indexed": (statistics.median(indexed), percentile(indexed, 95)),
        "plain": (statistics.median(plain), percentile(plain, 95)),
    }


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    except OSError:
        pass
    return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/knowledge_bench")
    parser.add_argument("--sqlite", metavar="PATH", help="a SQLite file instead of PostgreSQL")
    parser.add_argument("--total", type=int, default=1_000_000, help="passages in the database in all")
    parser.add_argument("--mine", type=int, default=10_000, help="passages of the measured user")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="keep the other users' passages of a last run")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--compare", action="store_true", help="also time the scope read without the index")
    args = parser.parse_args()

    setup_django(f"sqlite:///{args.sqlite}" if args.sqlite else args.database_url)
    from django.db import connection

    from knowledge.models import Passage

    rng = random.Random(args.seed)
    vocab = Vocabulary(rng)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        version = cursor.fetchone()[0].split(" on ")[0]
    print(f"CPU: {cpu_name()}; database: {version}")
    load_seconds = load_others(total_others=args.total - args.mine, rng=rng, vocab=vocab, reuse=args.reuse)
    if load_seconds is not None:
        print(f"  bulk load: {load_seconds:.0f} s")
    me, file_ids, mine, seconds = index_mine(mine=args.mine, rng=rng, vocab=vocab)
    total = Passage.objects.count()
    print(f"passages: {total:,} in the database, {mine:,} of the measured user in {len(file_ids)} files")
    print(f"indexing (chunk, terms, insert, index): {mine / seconds:,.0f} passages/s ({seconds:.1f} s)")
    with connection.cursor() as cursor:
        # As autovacuum does after a load (PostgreSQL: statistics and the visibility map).
        cursor.execute("VACUUM ANALYZE knowledge_passage" if connection.vendor == "postgresql" else "ANALYZE")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('knowledge_passage'))")
            print(f"  table + indexes: {cursor.fetchone()[0]}")

    vocab.rng = random.Random(args.seed + 1)
    ids = vocab.rng.sample(list(Passage.objects.filter(owner=me).values_list("id", flat=True)), args.queries)
    samples = list(Passage.objects.filter(id__in=ids).order_by("id").values_list("text", "file_id"))
    questions = [(vocab.question(text), str(file_id)) for text, file_id in samples]
    for scope in ("all", "one"):
        r = time_queries(me=me, file_ids=file_ids, questions=questions, scope=scope)
        label = f"{mine:,} passages (100 files)" if scope == "all" else "one file (~100 passages)"
        print(
            f"retrieve, scope {label}: p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, max {r['max']:.1f} ms "
            f"over {len(questions)} questions; asked-about file in the top 5: {r['source_in_top5']:.0%}"
        )
    if args.compare:
        c = compare_plain_scan(me=me, file_ids=file_ids, questions=questions)
        print(
            "the database's part alone, scope 10,000: with the index p50 {:.1f} ms, p95 {:.1f} ms; "
            "reading every passage's terms p50 {:.1f} ms, p95 {:.1f} ms".format(*c["indexed"], *c["plain"])
        )


if __name__ == "__main__":
    main()
