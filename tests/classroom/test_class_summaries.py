"""Join codes and the projector's summaries (pure: no database)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from classroom import codes, summaries
from classroom.store import ClassQuestion, InvalidSubmission, Sample


def test_join_codes_are_random_unambiguous_and_normalised():
    made = {codes.new_code() for _ in range(5000)}
    assert len(made) == 5000  # 23⁸ codes: a collision here would be a broken generator
    assert all(len(c) == codes.CODE_LENGTH == 8 and set(c) <= set(codes.ALPHABET) for c in made)
    assert not set("0O1IL2Z5S8BUV") & set(codes.ALPHABET)
    assert len(codes.ALPHABET) ** codes.CODE_LENGTH > 7e10
    code = next(iter(made))
    assert codes.normalise_code(f" {code[:4].lower()}-{code[4:]} ") == code
    assert codes.pretty_code(code) == f"{code[:4]}-{code[4:]}"
    for bad in (None, "", "ABC", code + "A", code[:-1] + "0", "<script>x"):
        assert codes.normalise_code(bad) is None


def test_keys_and_participant_ids():
    key = codes.new_key()
    assert len(key) >= 43 and codes.is_token(key) and codes.is_token(codes.new_participant_id())
    digest = codes.hash_key(key)
    assert key not in digest and codes.key_matches(key, digest)
    assert not codes.key_matches(key + "x", digest) and not codes.key_matches(None, digest)
    assert not codes.is_token("short") and not codes.is_token("a b" * 10)


def test_a_question_keeps_its_options_and_explanations():
    q = ClassQuestion.build("Why?", ["b", "a", "c"], "a", "yes", {"b": "not b", "c": "not c"})
    assert q.options == ("b", "a", "c") and q.answer == 1 and q.explanations == ("not b", "", "not c")
    assert ClassQuestion.from_json(q.to_json()) == q
    with pytest.raises(InvalidSubmission):
        ClassQuestion.build("Why?", ["a", "b"], "z", "", {})
    with pytest.raises(InvalidSubmission):
        ClassQuestion.build("Why?", ["a"], "a", "", {})
    with pytest.raises(InvalidSubmission):
        ClassQuestion.build("Why?", ["a", "a"], "a", "", {})


def test_answer_shares():
    table = summaries.answer_shares([3, 0, 1])
    assert table["letter"].tolist() == ["A", "B", "C"] and table["count"].tolist() == [3, 0, 1]
    assert table["share"].tolist() == [0.75, 0.0, 0.25]
    assert summaries.answer_shares([0, 0])["share"].tolist() == [0.0, 0.0]


TRUTH = pd.DataFrame({"intercept": [1.0, 3.0], "slope": [0.0, 1.0]}, index=pd.Index(["1", "2"], name="group"))


def sample(pid, none, partial):
    return Sample(pid, 1, "both", {"none": none, "partial": partial})


def test_sampling_summary_by_hand():
    samples = [
        sample("a", [[2.0, 0.5], [3.0, 1.0]], [[1.5, 0.2], [3.0, 1.0]]),
        sample("b", [[0.0, -0.5], [3.0, 1.0]], [[1.3, 0.0], [3.0, 1.0]]),
        sample("c", [None, [3.0, 1.0]], [[1.2, 0.1], [3.0, 1.0]]),  # no own line for group 1
    ]
    got = summaries.sampling_summary(samples, TRUTH, "1")
    table = got.table.set_index(["method", "coefficient"])
    none = table.loc[("none", "intercept")]
    assert none["n"] == 2 and none["mean"] == 1.0 and none["bias"] == 0.0
    assert math.isclose(none["spread"], math.sqrt(2)) and math.isclose(none["rmse"], 1.0)
    partial = table.loc[("partial", "intercept")]
    assert partial["n"] == 3 and math.isclose(partial["bias"], 1.3333333 - 1.0, rel_tol=1e-6)
    assert math.isclose(partial["rmse"], math.sqrt((0.25 + 0.09 + 0.04) / 3))
    assert got.truth == (1.0, 0.0) and got.n_students == 3 and len(got.points) == 5


def test_by_group_size_pull_is_zero_for_the_truth_and_one_for_the_average():
    population = (2.0, 0.5)
    truth_pairs = TRUTH.to_numpy().tolist()
    samples = [sample("a", truth_pairs, [list(population), list(population)])]
    sizes = pd.Series([4, 4], index=["1", "2"])
    table = summaries.by_group_size(samples, TRUTH, sizes, population).set_index(["method", "coefficient"])
    assert table.loc[("none", "intercept"), "rmse"] == 0.0 and table.loc[("none", "intercept"), "pull"] == 0.0
    assert table.loc[("partial", "intercept"), "pull"] == 1.0
    assert math.isclose(table.loc[("partial", "intercept"), "rmse"], 1.0)


def test_default_group_is_a_small_extreme_group_with_a_line_of_its_own():
    truth = pd.DataFrame({"intercept": [0.0, 5.0, 9.0, 1.0], "slope": [0.0] * 4}, index=list("abcd"))
    sizes = pd.Series([1, 2, 6, 2], index=list("abcd"))  # 'a' has no line; 'c' is big
    assert summaries.default_group(truth, sizes, (1.0, 0.0), (1.0, 1.0)) == "b"
    assert summaries.estimates_array([], "none").shape == (0, 0, 2)
    assert np.isnan(summaries.estimates_array([sample("x", [None], [[1, 2]])], "none")).all()
