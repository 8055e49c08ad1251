"""The optional sentence reranker: the bundled SmolLM2-135M's likelihood of a question after each candidate."""

from __future__ import annotations

import pytest

from index.builder import CorpusIndex
from qa.answering import Answerer, RefusalPolicy
from qa.extractive import ScoredSentence, Sentence
from qa.reranker import PROMPT, QuestionLikelihood, blend


@pytest.fixture(scope="module")
def likelihood() -> QuestionLikelihood:
    model = QuestionLikelihood()  # the converted weights are cached per machine (~/.cache/balkan-qa)
    model.load()
    return model


def test_the_forward_pass_is_the_models(likelihood: QuestionLikelihood) -> None:
    """Our small forward pass (no transformers at run time) gives the logits transformers gives for the same GGUF."""
    import torch
    from transformers import AutoModelForCausalLM

    from qa.reranker import gguf_path

    path = gguf_path()
    reference = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32).eval()
    ids = likelihood._ids(PROMPT.format(sentence="KAYO will produce weapons and ammunition."))
    ids += likelihood._ids("What will KAYO produce?")
    ours = QuestionLikelihood(likelihood.cache_dir, precision="float32").logits(ids)
    with torch.inference_mode():
        theirs = reference(input_ids=torch.tensor([ids])).logits[0]
    assert ours.shape == theirs.shape
    assert float((ours - theirs).abs().max()) < 0.2  # the cache holds float16 weights
    assert torch.equal(ours.argmax(-1), theirs.argmax(-1))


def test_a_question_is_likelier_after_the_sentence_that_answers_it(likelihood: QuestionLikelihood) -> None:
    sentences = [
        "The defense production sector is expected to create jobs and stimulate local economies.",
        "The summit, which took place in Kyiv, brought together leaders from Bulgaria, Greece and Romania.",
    ]
    jobs, summit = likelihood.score("Will the new arms maker bring employment?", sentences)
    assert jobs > summit
    where_jobs, where_summit = likelihood.score("Where did the leaders meet?", sentences)
    assert where_summit > where_jobs
    assert likelihood.score("anything", []) == []


def test_blend_standardises_both_scores() -> None:
    assert blend([1.0, 0.0], [0.0, 10.0], 0.5) == pytest.approx([0.0, 0.0])
    assert blend([1.0, 0.0], [0.0, 10.0], 0.7)[1] > blend([1.0, 0.0], [0.0, 10.0], 0.7)[0]
    assert blend([2.0, 2.0], [1.0, 3.0], 1.0) == pytest.approx([-1.0, 1.0])  # equal values: no division by zero


class Backwards:
    """A stand-in model that prefers the hand-set score's last candidate, and records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def score(self, question: str, sentences: list[str]) -> list[float]:
        self.asked.append(question)
        return [float(i) for i in range(len(sentences))]


def _scored(texts: list[str]) -> list[ScoredSentence]:
    return [
        ScoredSentence(Sentence("a.txt", 10 * i, 10 * i + len(t), t, 0), 1.0 - 0.1 * i, 0.5, 0.5)
        for i, t in enumerate(texts)
    ]


def test_the_reranker_reorders_the_best_candidates_but_not_their_scores(seed_index: CorpusIndex) -> None:
    model = Backwards()
    answerer = Answerer(seed_index.settings, seed_index, reranker=model)  # type: ignore[arg-type]
    assert answerer.refusal == RefusalPolicy()  # one policy, with the model or without
    from qa.condense import condense

    scored = _scored(["first sentence", "second sentence", "third sentence", "fourth sentence", "fifth sentence"])
    asked = condense("Will the arms maker bring employment?", ())
    out = answerer._rerank(asked, scored, asked.text)
    assert [s.sentence.text for s in out[:4]] == [
        "fourth sentence",
        "third sentence",
        "second sentence",
        "first sentence",
    ]
    assert [s.score for s in out] == [s.score for s in scored]  # the scores stay where they were
    assert out[4] == scored[4] and model.asked == [asked.text]
    # A question asking for a figure, a time or a place is left to the hand-set answer-type features.
    for question in ("How many jobs will it create?", "When was the pact signed?", "Where was the summit held?"):
        standalone = condense(question, ())
        assert answerer._rerank(standalone, scored, question) == scored
    assert len(model.asked) == 1
    # Who spoke outranks what the model reads: Croatia's own statement stays above another party's.
    croatia = "The Croatian Ministry of Defense has stated that it does not constitute a military alliance."
    serbia = "The Serbian government has expressed opposition, viewing it as a new military bloc."
    standalone = condense("what did croatia say about military blocs", ())
    out = answerer._rerank(standalone, _scored([croatia, serbia]), standalone.text)
    assert out[0].sentence.text == croatia


def test_answers_with_the_real_reranker(seed_index: CorpusIndex, likelihood: QuestionLikelihood) -> None:
    answerer = Answerer(seed_index.settings, seed_index, reranker=likelihood)
    flagship = answerer.answer("what did croatia say about military blocs")
    assert not flagship.refused and "does not constitute a military alliance" in flagship.citations[0].quote
    # Off the articles' topic: still refused.
    assert answerer.answer("What is the population of Croatia?").refused
    assert answerer.answer("What is the recipe for Peruvian ceviche with passion fruit?").refused
    plain = Answerer(seed_index.settings, seed_index)
    assert plain.reranker is None and plain.refusal == answerer.refusal
