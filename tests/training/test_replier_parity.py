"""The serving Replier's numpy greedy loop reproduces transformers' generate() token for token."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
import torch
from transformers import T5ForConditionalGeneration

from machbot_fn.models.replier import FALLBACK_REPLY, Replier, build_prompt
from machbot_train.bundle import ExportOptions, package_replier
from machbot_train.tiny_models import tiny_replier_model, tiny_unigram
from machbot_train.version_dir import read_manifest

MAX_NEW_TOKENS = 10
NO_REPEAT = 2  # small, so the tiny model's repetitive output actually hits the rule
PROMPTS = [
    build_prompt("joy", [], "i got the job!"),
    build_prompt("sadness", ["my cat is ill", "oh no, what happened?"], "the vet says it is serious"),
    build_prompt("fear", ["a" * 50] * 3, "i am scared of flying " * 20),  # truncated to max_length
    build_prompt("surprise", [], ""),
]


@pytest.fixture(scope="module")
def tiny_t5(tiny_root: Path) -> tuple[T5ForConditionalGeneration, Replier, Replier]:
    tokenizer = tiny_unigram()
    model = tiny_replier_model(tokenizer.get_vocab_size())
    # A random T5's next-token distribution is nearly flat and ends at once; sharpen the output layer
    # so greedy decoding runs for several steps with clear (not float-noise) argmax margins.
    with torch.no_grad():
        model.shared.weight.mul_(8.0)  # tied with the output layer
        model.shared.weight[model.config.eos_token_id].mul_(0.1)
    repliers = []
    for fmt, quantize in (("fp32", False), ("int8", True)):
        version_dir = package_replier(
            model,
            tokenizer,
            tiny_root / f"t5-{fmt}",
            "parity-1",
            trained=False,
            provenance={"init": "test"},
            options=ExportOptions(
                max_new_tokens=MAX_NEW_TOKENS, quantize=quantize, overwrite=True, no_repeat_ngram_size=NO_REPEAT
            ),
        )
        repliers.append(Replier(read_manifest(version_dir), version_dir))
    return model, repliers[0], repliers[1]


def _generate(model: T5ForConditionalGeneration, replier: Replier, prompt: str) -> list[int]:
    input_ids, mask = replier.encode(prompt)
    with torch.no_grad():
        out = model.generate(
            input_ids=torch.from_numpy(input_ids),
            attention_mask=torch.from_numpy(mask),
            do_sample=False,
            num_beams=1,
            max_new_tokens=MAX_NEW_TOKENS,
            min_new_tokens=0,
            no_repeat_ngram_size=replier.no_repeat_ngram_size,
            repetition_penalty=replier.repetition_penalty,
        )[0].tolist()
    assert out[0] == model.config.decoder_start_token_id
    tokens = out[1:]
    eos = model.config.eos_token_id
    return tokens[: tokens.index(eos)] if eos in tokens else tokens


@pytest.mark.parametrize("prompt", PROMPTS)
def test_greedy_loops_match_generate(tiny_t5: tuple, prompt: str) -> None:
    model, fp32, _ = tiny_t5
    expected = _generate(model, fp32, prompt)
    assert fp32.generate_ids_plain(prompt) == expected
    assert fp32.generate_ids_cached(prompt) == expected
    assert len(expected) <= MAX_NEW_TOKENS


def test_cache_graphs_are_used_when_shipped(tiny_t5: tuple) -> None:
    _, fp32, int8 = tiny_t5
    assert fp32.uses_cache and int8.uses_cache
    fresh = Replier(fp32.manifest, fp32.model_dir)
    assert fresh._decoder is None  # the plain decoder loads only if asked for
    fresh.generate_ids_plain(PROMPTS[0])
    assert fresh._decoder is not None


def _fp32_variant(model: T5ForConditionalGeneration, tokenizer, root: Path, **settings) -> Replier:
    """The same tiny model exported (fp32) with other generation settings."""
    version_dir = package_replier(
        model,
        tokenizer,
        root,
        "parity-1",
        trained=False,
        provenance={"init": "test"},
        options=ExportOptions(max_new_tokens=MAX_NEW_TOKENS, quantize=False, overwrite=True, **settings),
    )
    return Replier(read_manifest(version_dir), version_dir)


def test_a_version_without_cache_graphs_uses_the_plain_loop(tiny_t5: tuple, tiny_root: Path) -> None:
    model, fp32, _ = tiny_t5
    plain = _fp32_variant(model, fp32.tokenizer, tiny_root / "t5-nocache", kv_cache=False, no_repeat_ngram_size=0)
    assert not plain.uses_cache
    assert plain.generate_ids(PROMPTS[1]) == _generate(model, plain, PROMPTS[1])


def test_without_the_repetition_penalty_the_loops_still_match_and_choose_differently(
    tiny_t5: tuple, tiny_root: Path
) -> None:
    model, fp32, _ = tiny_t5
    assert fp32.repetition_penalty > 1.0
    unpenalised = _fp32_variant(
        model, fp32.tokenizer, tiny_root / "t5-nopenalty", no_repeat_ngram_size=NO_REPEAT, repetition_penalty=1.0
    )
    outputs = [unpenalised.generate_ids(p) for p in PROMPTS]
    assert outputs == [_generate(model, unpenalised, p) for p in PROMPTS]
    assert outputs != [fp32.generate_ids(p) for p in PROMPTS]  # the penalty changes what is chosen


def test_the_parity_check_is_not_vacuous(tiny_t5: tuple) -> None:
    _, fp32, _ = tiny_t5
    generated = [fp32.generate_ids(p) for p in PROMPTS]
    assert any(len(ids) >= 3 for ids in generated), "every generation ended at once"
    # With no_repeat_ngram_size=2 no bigram may appear twice (the tiny model would otherwise loop).
    assert all(len(set(pairwise(ids))) == max(len(ids) - 1, 0) for ids in generated)


def test_int8_replier_produces_text(tiny_t5: tuple) -> None:
    _, _, int8 = tiny_t5
    reply = int8("i got the job!", "joy", ["hello"])
    assert isinstance(reply, str) and reply
    assert reply == FALLBACK_REPLY or reply == reply.strip()
