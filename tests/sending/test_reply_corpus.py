"""Every real reply of the corpus (tests/sending/reply_corpus.toml) gets the outcome its server means."""

from __future__ import annotations

import tomllib
from dataclasses import fields

import pytest

from app.sending.classify import classify
from app.sending.connection import SMTPFailure, Stage
from tests.sending.reply_corpus import (
    CORPUS_PATH,
    OUTCOMES,
    REQUIRED_PROVIDERS,
    STAGES,
    CorpusReply,
    load_corpus,
)

CORPUS = load_corpus()


@pytest.mark.parametrize(
    "reply", CORPUS, ids=[f"{n:03d}-{r.provider}-{r.code}" for n, r in enumerate(CORPUS, start=1)]
)
def test_a_real_reply_gets_the_outcome_its_server_means(reply: CorpusReply) -> None:
    verdict = classify(SMTPFailure(Stage(reply.stage), reply.code, reply.text))
    assert verdict.outcome == reply.outcome, f"{reply.why} ({verdict.why})"
    if reply.outcome == "rate_limit":
        assert verdict.daily is reply.daily
        if reply.wait:
            assert verdict.wait == reply.wait


def test_the_corpus_is_well_formed() -> None:
    with CORPUS_PATH.open("rb") as corpus:
        raw = tomllib.load(corpus)["reply"]
    known = {field.name for field in fields(CorpusReply)}
    required = {"provider", "stage", "code", "text", "outcome", "why", "source"}
    for number, entry in enumerate(raw, start=1):
        assert required <= entry.keys(), (number, sorted(required - entry.keys()))
        assert entry.keys() <= known, (number, sorted(entry.keys() - known))
    replies = load_corpus()
    assert len(replies) >= 150
    seen = set()
    for reply in replies:
        assert reply.stage in STAGES, reply
        assert reply.outcome in OUTCOMES, reply
        assert isinstance(reply.code, int), reply
        assert 200 <= reply.code <= 599, reply
        assert reply.text.strip(), reply
        assert reply.why.strip(), reply
        assert reply.source.strip(), reply
        assert reply.wait is None or (isinstance(reply.wait, int) and reply.wait > 0), reply
        assert isinstance(reply.daily, bool), reply
        assert not reply.daily or reply.outcome == "rate_limit", reply
        key = (reply.code, reply.text)
        assert key not in seen, f"duplicate reply: {reply.code} {reply.text}"
        seen.add(key)
    providers = {reply.provider for reply in replies}
    missing = REQUIRED_PROVIDERS - providers
    assert not missing, sorted(missing)
    assert {reply.outcome for reply in replies} == OUTCOMES
