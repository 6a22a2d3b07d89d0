from knowledge.terms import estimate_tokens, index_terms, query_terms


def test_korean_runs_become_bigrams_so_particles_do_not_matter():
    assert "서울" in index_terms("회의는 서울에서 열렸다").split()
    assert "서울" in query_terms("서울은 어땠나요?")
    # A one-character word is kept whole.
    assert "물" in index_terms("물 한 잔").split()


def test_english_words_are_lowercased_stemmed_and_stop_words_dropped():
    assert query_terms("What did the Migrations change?") == ["migrat", "chang"]
    assert index_terms("The service migrated quickly") == "servic migrat quick"
    assert query_terms("running cities") == index_terms("run city").split()


def test_token_estimate_counts_other_scripts_by_their_bytes():
    # SmolLM2, the model shipped, spends three tokens on a Hangul syllable: a budget counted as
    # one per syllable sent it prompts three times too long.
    assert estimate_tokens("가나다라") == 4 * 3 + 1
    assert estimate_tokens("abcdefgh") == 2 + 1
    assert estimate_tokens("") == 1
    # A space joins the next word; a run of letters is a token per four, started (core.tokens).
    assert estimate_tokens("안녕 hello") == 2 * 3 + 2 + 1
    assert estimate_tokens("é") == 2 + 1
