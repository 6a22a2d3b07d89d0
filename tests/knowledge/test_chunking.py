from knowledge.chunking import chunk_pages, chunk_text


def _paragraph(label: str, sentences: int) -> str:
    return " ".join(f"{label} sentence {i} says something about the topic." for i in range(sentences))


def test_passages_are_bounded_and_keep_their_page():
    pages = [
        (1, _paragraph("alpha", 40)),
        (2, "짧은 쪽입니다."),
        (3, _paragraph("gamma", 5) + "\n\n" + _paragraph("delta", 30)),
    ]
    chunks = chunk_pages(pages, size=500, overlap=80)

    assert {c.page for c in chunks} == {1, 2, 3}
    assert all(len(c.text) <= 500 for c in chunks)
    # A passage never mixes two pages.
    assert all("alpha" in c.text for c in chunks if c.page == 1)
    assert [c.text for c in chunks if c.page == 2] == ["짧은 쪽입니다."]
    assert not any("alpha" in c.text for c in chunks if c.page == 3)
    # Every sentence of the page is in some passage.
    for i in range(40):
        assert any(f"alpha sentence {i} says" in c.text for c in chunks)


def test_consecutive_passages_overlap_by_whole_sentences():
    chunks = chunk_text(_paragraph("beta", 30), page=7, size=400, overlap=120)
    assert len(chunks) > 2
    for before, after in zip(chunks, chunks[1:], strict=False):
        first_sentence = after.text.split(". ")[0] + "."
        assert first_sentence in before.text  # the start of a passage repeats the end of the last
        assert not after.text.startswith(before.text[:60])  # but it moves on


def test_paragraphs_and_a_sentence_longer_than_a_passage():
    text = "Heading\n\n" + "word " * 400 + "\n\nLast paragraph."
    chunks = chunk_text(text, size=300, overlap=50)
    assert all(len(c.text) <= 300 for c in chunks)
    assert chunks[0].text.startswith("Heading")
    assert chunks[-1].text.endswith("Last paragraph.")
    assert chunk_text("   \n\n  ") == []
