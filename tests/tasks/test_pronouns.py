"""The pronoun corpus, checked by a parser that knows English genders on its own."""

import pytest
import torch

from lstmlab.tasks._pronouns import VOCAB, PronounConfig, generate

# The test's own lexicon: every gendered word a sentence may contain.
GENDER = {
    "he": "m", "his": "m", "boy": "m", "man": "m", "king": "m", "father": "m", "brother": "m",
    "uncle": "m", "prince": "m", "son": "m",
    "she": "f", "her": "f", "girl": "f", "woman": "f", "queen": "f", "mother": "f",
    "sister": "f", "aunt": "f", "princess": "f", "daughter": "f",
}


def _parse(words):
    """Split at '.', take each sentence's subject (first word, or the word after 'the'), its
    possessive and every gendered noun in between; return (subject, pronoun, distance, between)."""
    out, start = [], 0
    for end, word in enumerate(words):
        if word != ".":
            continue
        sentence = words[start:end]
        s = 0 if sentence[0] in ("he", "she") else 1
        assert s == 0 or sentence[0] == "the"
        # the sentence's own possessive is its last one; an earlier one belongs to an
        # attractor's relative clause ("the queen who lost her hat") and agrees with it
        p = max(k for k, w in enumerate(sentence) if w in ("his", "her"))
        for k, w in enumerate(sentence[:p]):
            if w in ("his", "her"):
                who = max(j for j in range(k) if sentence[j] == "who")
                assert GENDER[sentence[who - 1]] == GENDER[w]
        between = [GENDER[w] for w in sentence[s + 1 : p] if w in GENDER]
        out.append((GENDER[sentence[s]], GENDER[sentence[p]], p - s, between, start + s, start + p))
        start = end + 1
    assert start == len(words), "every example ends with a full stop"
    return out


@pytest.fixture(scope="module")
def data():
    return generate(300, PronounConfig(), generator=torch.Generator().manual_seed(5))


def test_the_pronoun_agrees_with_the_current_subject(data):
    sentences = [s for n in range(len(data.lengths)) for s in _parse(data.words(n))]
    assert len(sentences) == 900
    assert all(subject == pronoun for subject, pronoun, *_ in sentences)
    # The generator's own bookkeeping agrees with the parser's.
    parsed = [(a, b) for n in range(len(data.lengths)) for *_, a, b in _parse(data.words(n))]
    expected = zip(data.query_subject.tolist(), data.query_pronoun.tolist(), strict=True)
    assert parsed == list(expected)
    assert data.query_gender.tolist() == [int(g == "f") for g, *_ in sentences]


def test_distances_vary_and_distractors_of_the_other_gender_occur(data):
    sentences = [s for n in range(len(data.lengths)) for s in _parse(data.words(n))]
    distances = torch.tensor([d for _, _, d, _, _, _ in sentences])
    assert distances.min() <= 6 and distances.max() >= 20
    assert len(set(distances.tolist())) >= 15
    with_distractor = [any(g != s for g in between) for s, _, _, between, _, _ in sentences]
    assert 0.2 < sum(with_distractor) / len(sentences) < 0.9
    assert torch.equal(data.distance, distances)


def test_subjects_change_across_sentence_boundaries(data):
    genders = data.query_gender.view(300, 3)
    changes = (genders[:, 1:] != genders[:, :-1]).float().mean()
    assert 0.4 < changes < 0.6
    # The per-step label switches exactly at each subject word.
    n, s = int(data.query_example[4]), int(data.query_subject[4])
    assert data.subject_gender[n, s] == data.query_gender[4]
    if s > 0 and data.query_gender[3] != data.query_gender[4] and data.query_example[3] == n:
        assert data.subject_gender[n, s - 1] == data.query_gender[3]


def test_same_seed_same_corpus_and_padding():
    a = generate(20, generator=torch.Generator().manual_seed(1))
    b = generate(20, generator=torch.Generator().manual_seed(1))
    c = generate(20, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a.tokens, b.tokens) and not torch.equal(a.tokens, c.tokens)
    for n in range(20):
        assert (a.tokens[n, a.lengths[n]:] == 0).all() and VOCAB[0] == "<pad>"
        assert (a.subject_gender[n, a.lengths[n]:] == -1).all()


def test_attractors_carry_their_own_possessive():
    """relative_prob: an attractor noun of the other gender with "who ... his/her OBJECT"; the
    possessive there agrees with the attractor, the sentence's last one with the subject."""
    data = generate(200, PronounConfig(distractor_prob=1.0, relative_prob=1.0, min_clauses=2),
                    generator=torch.Generator().manual_seed(3))
    relatives = 0
    for n in range(len(data.lengths)):
        words = data.words(n)
        for subject, pronoun, *_ in _parse(words):
            assert subject == pronoun
        for k, word in enumerate(words):
            if word == "who":
                noun = words[k - 1]
                (own,) = [w for w in words[k + 1 : k + 4] if w in ("his", "her")]
                assert GENDER[own] == GENDER[noun]
                relatives += 1
    assert relatives > 200
    counts = data.query_pronoun - data.query_subject
    assert int(counts.min()) >= 1 + 2 * 2  # at least min_clauses + 1 clauses in between


def test_min_clauses_bounds_the_distance():
    short = generate(100, PronounConfig(max_clauses=3), generator=torch.Generator().manual_seed(0))
    long = generate(100, PronounConfig(min_clauses=3, max_clauses=3),
                    generator=torch.Generator().manual_seed(0))
    assert int(long.distance.min()) > int(short.distance.min())
    with pytest.raises(ValueError, match="min_clauses"):
        PronounConfig(min_clauses=5, max_clauses=2)


def test_bad_config_names_the_argument():
    with pytest.raises(ValueError, match="distractor_prob"):
        PronounConfig(distractor_prob=1.5)
    with pytest.raises(ValueError, match="num_examples"):
        generate(0, generator=torch.Generator())


def test_attracted_flags_pronouns_with_a_noun_of_the_other_gender_in_between(data):
    sentences = [s for n in range(len(data.lengths)) for s in _parse(data.words(n))]
    expected = [any(g != subject for g in between) for subject, _, _, between, _, _ in sentences]
    assert data.attracted.tolist() == expected
