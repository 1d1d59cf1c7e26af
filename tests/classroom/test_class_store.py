"""Class mode's store with an instructor and 30 participants, on SQLite and on PostgreSQL.

Every test runs twice (the ``url`` fixture): on a fresh SQLite file and on a fresh database
of a throwaway PostgreSQL cluster (skipped with a message without PostgreSQL)."""
from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import threading
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from classroom import (ClassClosed, ClassNotFound, ClassQuestion, ClassStore, InvalidSubmission, NotAllowed,
                       RateLimited, db, experiment, schema, store, summaries)

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = ["Fewer observations per group.", "More observations per group.", "A larger variance between groups."]


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def question() -> ClassQuestion:
    return ClassQuestion.build("Which change makes the arrows longer?", OPTIONS, OPTIONS[0], "Right: λ falls.",
                               {OPTIONS[1]: "Try it: more data, shorter arrows.", OPTIONS[2]: "Groups differ more."},
                               source="Walkthrough · step 8")


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def class_store(url, clock):
    return ClassStore(db.engine(url), clock=clock)


def lecture(s: ClassStore, n: int = 30):
    new = s.create_class()
    people = [s.join(new.code) for _ in range(n)]
    return new, people


def test_thirty_students_answer_and_each_counts_once(class_store):
    s = class_store
    new, people = lecture(s)
    assert len(set(people)) == 30 and s.class_info(new.code).participants == 30
    activity = s.push_question(new.code, new.key, question())
    for i, pid in enumerate(people):
        s.submit_answer(new.code, pid, activity, OPTIONS[i % 3])  # 10 / 10 / 10
    for pid in people[:5]:  # five change their mind: their old answers are replaced
        s.submit_answer(new.code, pid, activity, OPTIONS[0])
    for pid in people[:5]:  # and submitting the same again changes nothing
        s.submit_answer(new.code, pid, activity, OPTIONS[0])
    results = s.question_results(new.code, new.key, activity)
    assert results.counts == (13, 8, 9) and results.total == 30
    assert s.student_view(new.code, people[1]).my_choice == 0
    with s.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.answers)).scalar_one() == 30


def test_thirty_students_answering_at_once_from_threads(class_store):
    s = class_store
    new, people = lecture(s)
    activity = s.push_question(new.code, new.key, question())
    errors = []

    def student(i: int, pid: str) -> None:
        try:
            for k in range(3):  # each changes their answer twice; the last one counts
                s.submit_answer(new.code, pid, activity, OPTIONS[(i + k) % 3])
        except Exception as error:  # noqa: BLE001 (collected and reported below)
            errors.append(repr(error))

    threads = [threading.Thread(target=student, args=(i, pid)) for i, pid in enumerate(people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    last = [OPTIONS.index(OPTIONS[(i + 2) % 3]) for i in range(30)]
    assert s.question_results(new.code, new.key, activity).counts == tuple(last.count(k) for k in range(3))


def test_the_answer_is_hidden_until_the_instructor_reveals_it(class_store):
    s = class_store
    new, people = lecture(s, 3)
    activity = s.push_question(new.code, new.key, question())
    s.submit_answer(new.code, people[0], activity, OPTIONS[1])
    view = s.student_view(new.code, people[0])
    assert view.answer is None and view.right == "" and view.explanations == () and not view.revealed
    assert view.options == tuple(OPTIONS) and view.my_choice == 1
    for wrong_key in (None, "", "x" * 43, new.key[:-1] + ("A" if new.key[-1] != "A" else "B")):
        with pytest.raises(NotAllowed):
            s.reveal(new.code, wrong_key, activity)
        with pytest.raises(NotAllowed):
            s.question_results(new.code, wrong_key, activity)
    with pytest.raises(NotAllowed):  # a participant id is no instructor key
        s.question_results(new.code, people[0], activity)
    assert not s.student_view(new.code, people[0]).revealed
    s.reveal(new.code, new.key, activity)
    view = s.student_view(new.code, people[2])
    assert view.revealed and view.answer == 0 and view.right == "Right: λ falls."
    assert view.explanations[1] == "Try it: more data, shorter arrows." and view.my_choice is None
    with pytest.raises(ClassClosed):  # revealed: answers are closed
        s.submit_answer(new.code, people[1], activity, OPTIONS[0])


def test_only_the_instructor_pushes_closes_and_deletes(class_store):
    s = class_store
    new, people = lecture(s, 2)
    other = s.create_class()
    for call in (lambda k: s.push_question(new.code, k, question()), lambda k: s.stop_activity(new.code, k),
                 lambda k: s.close_class(new.code, k), lambda k: s.delete_class(new.code, k),
                 lambda k: s.activities(new.code, k)):
        with pytest.raises(NotAllowed):
            call(other.key)  # another class's key opens nothing here
    assert s.is_instructor(new.code, new.key) and not s.is_instructor(new.code, other.key)
    activity = s.push_question(new.code, new.key, question())
    with pytest.raises(ClassNotFound):  # one class's key cannot reveal another class's question
        s.reveal(other.code, other.key, activity)
    s.close_class(new.code, new.key)
    with pytest.raises(ClassClosed):
        s.submit_answer(new.code, people[0], activity, OPTIONS[0])
    assert s.question_results(new.code, new.key, activity).total == 0  # still readable


def test_keys_are_stored_hashed_and_codes_are_not_sequential(class_store):
    s = class_store
    made = [s.create_class() for _ in range(20)]
    with s.engine.connect() as conn:
        stored = conn.execute(sa.select(schema.classes.c.code, schema.classes.c.key_hash)).all()
    dump = json.dumps([list(r) for r in stored])
    assert all(m.key not in dump for m in made)
    assert len({m.code for m in made}) == 20
    assert all(len(m.code) == 8 for m in made)


def test_answers_must_be_options_and_participants_must_have_joined(class_store):
    s = class_store
    new, people = lecture(s, 2)
    activity = s.push_question(new.code, new.key, question())
    for bad in ("", "fewer observations per group.", OPTIONS[0] + " ", "<b>x</b>", None, 0, ["x"]):
        with pytest.raises(InvalidSubmission):
            s.submit_answer(new.code, people[0], activity, bad)
    for stranger in ("x" * 22, None, "", "../../etc"):
        with pytest.raises(NotAllowed):
            s.submit_answer(new.code, stranger, activity, OPTIONS[0])
        with pytest.raises(NotAllowed):
            s.student_view(new.code, stranger)
    with pytest.raises(ClassClosed):  # an old question no longer takes answers
        s.push_question(new.code, new.key, question())
        s.submit_answer(new.code, people[0], activity, OPTIONS[0])
    assert s.join(new.code, people[0]) == people[0]  # a reload keeps the participant
    assert s.join(new.code, "A" * 22) not in ("A" * 22, people[0])  # ids are never taken from the caller
    for code in ("", "nope", None, new.code.lower()[:-1]):
        with pytest.raises(ClassNotFound):
            s.join(code)
    assert s.join(new.code.lower()) not in people  # case and dashes do not matter
    assert s.join(f"{new.code[:4]}-{new.code[4:]}")


def test_rate_limit_per_participant_is_kept_in_the_database(class_store, clock, url):
    s = class_store
    new, people = lecture(s, 2)
    activity = s.push_question(new.code, new.key, question())
    for i in range(store.RATE_LIMIT):
        s.submit_answer(new.code, people[0], activity, OPTIONS[i % 3])
    with pytest.raises(RateLimited):
        s.submit_answer(new.code, people[0], activity, OPTIONS[0])
    # Another server process (a new store on a new engine) sees the same spent budget.
    db.forget(url)
    again = ClassStore(db.engine(url), clock=clock)
    with pytest.raises(RateLimited):
        again.submit_answer(new.code, people[0], activity, OPTIONS[0])
    again.submit_answer(new.code, people[1], activity, OPTIONS[2])  # others are not affected
    clock.now += store.RATE_WINDOW_S + 1
    again.submit_answer(new.code, people[0], activity, OPTIONS[1])
    assert again.question_results(new.code, new.key, activity).counts == (0, 1, 1)


def test_a_class_expires_after_12_hours_with_all_its_data(class_store, clock):
    s = class_store
    new, people = lecture(s, 3)
    activity = s.push_question(new.code, new.key, question())
    s.submit_answer(new.code, people[0], activity, OPTIONS[0])
    clock.now += 12 * 3600 - 1
    assert s.class_info(new.code) is not None
    clock.now += 2
    assert s.class_info(new.code) is None
    with pytest.raises(ClassNotFound):
        s.submit_answer(new.code, people[0], activity, OPTIONS[1])
    with pytest.raises(ClassNotFound):
        s.question_results(new.code, new.key, activity)
    assert s.purge_expired(force=True) == 1
    assert _rows(s.engine) == {t: 0 for t in _TABLES}


def test_deleting_a_class_deletes_everything_in_it(class_store):
    s = class_store
    new, people = lecture(s, 4)
    keep, kept_people = lecture(s, 2)
    for code, key, who in ((new.code, new.key, people), (keep.code, keep.key, kept_people)):
        activity = s.push_question(code, key, question())
        for pid in who:
            s.submit_answer(code, pid, activity, OPTIONS[1])
        spec = _spec()
        experiment_id = s.push_experiment(code, key, spec)
        design = experiment.class_design(spec)
        fit = experiment.fit_own_sample(design, 5)
        s.submit_sample(code, who[0], experiment_id, fit.seed, fit.random, fit.estimates)
    s.delete_class(new.code, new.key)
    assert s.class_info(new.code) is None
    assert _rows(s.engine) == {"classroom_classes": 1, "classroom_participants": 2, "classroom_activities": 2,
                               "classroom_answers": 2, "classroom_samples": 1}
    with pytest.raises(ClassNotFound):
        s.delete_class(new.code, new.key)


def _spec(**changes):
    from teaching.simulate import GPA

    return experiment.spec_for(replace(GPA, n_groups=12, n_per_group=4, **changes), class_seed=11)


def test_a_class_experiment_with_thirty_students(class_store):
    s = class_store
    new, people = lecture(s)
    spec = _spec()
    activity = s.push_experiment(new.code, new.key, spec)
    view = s.student_view(new.code, people[0])
    assert view.kind == "experiment" and view.experiment == spec and not view.submitted
    design = experiment.class_design(spec)
    for i, pid in enumerate(people):
        fit = experiment.fit_own_sample(design, seed=1000 + i)
        s.submit_sample(new.code, pid, activity, fit.seed, fit.random, fit.estimates)
    again = experiment.fit_own_sample(design, seed=5)  # a new sample replaces the old one
    s.submit_sample(new.code, people[0], activity, again.seed, again.random, again.estimates)
    assert s.student_view(new.code, people[0]).submitted
    assert s.my_sample(new.code, people[0], activity).seed == 5
    got = s.experiment_samples(new.code, new.key, activity)
    assert len(got) == 30 and s.samples_version(new.code, new.key, activity)[0] == 30
    group = summaries.default_group(design.truth, experiment.group_sizes(design), (2.599, 0.106), (0.213, 0.067))
    summary = summaries.sampling_summary(got, design.truth, group)
    table = summary.table.set_index(["method", "coefficient"])
    assert summary.n_students == 30 and (table["n"] == 30).all()
    # Partial pooling's estimates of one group spread less than no pooling's.
    assert table.loc[("partial", "intercept"), "spread"] < table.loc[("none", "intercept"), "spread"]
    with pytest.raises(NotAllowed):
        s.experiment_samples(new.code, people[0], activity)


def test_samples_are_validated(class_store):
    s = class_store
    new, people = lecture(s, 1)
    spec = _spec()
    activity = s.push_experiment(new.code, new.key, spec)
    good = experiment.fit_own_sample(experiment.class_design(spec), 3).estimates

    def broken(method, index, value):
        copy = json.loads(json.dumps(good))
        copy[method][index] = value
        return copy

    bad_estimates = [
        {}, {"none": good["none"]}, {**good, "extra": []}, "x",
        {"none": good["none"][:-1], "partial": good["partial"]},
        broken("partial", 0, [math.nan, 0.1]), broken("partial", 0, [math.inf, 0.1]),
        broken("none", 1, [1e12, 0.0]), broken("partial", 2, None), broken("none", 0, ["1", 2]),
        broken("none", 0, [1, 2, 3]), broken("none", 0, [True, 0.1]),
    ]
    for bad in bad_estimates:
        with pytest.raises(InvalidSubmission):
            s.submit_sample(new.code, people[0], activity, 3, "both", bad)
    for seed, random in ((-1, "both"), (2**31, "both"), (1.5, "both"), (3, "slope"), (3, "<script>")):
        with pytest.raises(InvalidSubmission):
            s.submit_sample(new.code, people[0], activity, seed, random, good)
    with pytest.raises(InvalidSubmission):  # a question's id does not take samples
        q = s.push_question(new.code, new.key, question())
        s.submit_sample(new.code, people[0], q, 3, "both", good)
    with pytest.raises(InvalidSubmission):  # nor an experiment's id answers
        e = s.push_experiment(new.code, new.key, spec)
        s.submit_answer(new.code, people[0], e, OPTIONS[0])
    with pytest.raises(InvalidSubmission):
        s.push_experiment(new.code, new.key, replace(spec, settings={**spec.settings, "n_groups": 10_000}))


def test_a_restarted_server_loses_nothing(url, clock):
    s = ClassStore(db.engine(url), clock=clock)
    new, people = lecture(s, 30)
    activity = s.push_question(new.code, new.key, question())
    for i, pid in enumerate(people[:20]):
        s.submit_answer(new.code, pid, activity, OPTIONS[i % 2])
    db.forget(url)  # the server goes away mid-class: its engine and pool are gone
    s = ClassStore(db.engine(url), clock=clock)
    assert s.class_info(new.code).participants == 30
    for pid in people[20:]:  # the rest answer after the restart
        s.submit_answer(new.code, pid, activity, OPTIONS[2])
    assert s.question_results(new.code, new.key, activity).counts == (10, 10, 10)
    assert s.join(new.code, people[3]) == people[3]


_TABLES = ("classroom_classes", "classroom_participants", "classroom_activities", "classroom_answers",
           "classroom_samples")


def _rows(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in _TABLES}


CHILD = textwrap.dedent("""
    import json, sys
    from classroom import ClassStore, db
    url, code, activity, option, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    s = ClassStore(db.engine(url))
    people = [s.join(code) for _ in range(n)]
    for pid in people:
        s.submit_answer(code, pid, activity, option)
    print(json.dumps({"participants": s.class_info(code).participants, "people": people}))
""")


def _child(url: str, code: str, activity: int, option: str, n: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, url, code, str(activity), option, str(n)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_server_processes_share_one_class(url):
    """Two more Python processes (two "replicas") join 15 students each and answer, at the
    same time, while this one (the instructor's replica) reads the counts."""
    s = ClassStore(db.engine(url))
    new = s.create_class()
    activity = s.push_question(new.code, new.key, question())
    children = [_child(url, new.code, activity, OPTIONS[k], 15) for k in (0, 2)]
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err[-3000:]
        outputs.append(json.loads(out))
    assert s.class_info(new.code).participants == 30
    assert s.question_results(new.code, new.key, activity).counts == (15, 0, 15)
    assert len({p for o in outputs for p in o["people"]}) == 30


def test_two_processes_migrating_a_new_database_at_once(url):
    """Both replicas start on an empty database: the schema is created exactly once."""
    db.forget(url)
    script = "import sys; from classroom import ClassStore, db; print(ClassStore(db.engine(sys.argv[1])).create_class().code)"
    procs = [subprocess.Popen([sys.executable, "-c", script, url], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    codes = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-3000:]
        codes.append(out.strip())
    s = ClassStore(db.engine(url))
    assert all(s.class_info(code) is not None for code in codes)


def test_the_migrations_create_exactly_the_schema(url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = db.engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": "classroom_alembic_version"})
        diff = [d for d in compare_metadata(context, schema.metadata)
                if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "classroom_alembic_version")]
    assert diff == []
    db.migrate(engine)  # running again is a no-op
