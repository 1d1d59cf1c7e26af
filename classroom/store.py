"""Class mode's storage: classes, participants, pushed questions and experiments, answers.

Every operation is one short database transaction, so any number of server threads, and
any number of server processes sharing one PostgreSQL database, see the same class. Nothing
lives only in a process: a restarted server reads everything back.

Who may do what is decided here, not in the page:

- the **instructor key** (given once, at ``create_class``; only its hash is stored) is
  needed to push, reveal, see results, close and delete;
- a **participant id** (minted at ``join``) is needed to answer; a participant sees the
  current question and their own answer, the right answer only once it is revealed, and
  never anybody else's answers;
- every submission is validated (an option of the question; finite numbers in a sane
  range, of the expected shape) and rate-limited per participant in the database.
"""
from __future__ import annotations

import json
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa

from . import codes, db
from .errors import ClassClosed, ClassNotFound, InvalidSubmission, NotAllowed, RateLimited
from .schema import activities, answers, classes, participants, samples

LIFETIME_S = 12 * 3600  # a class and all its data are deleted 12 hours after it started
MAX_PARTICIPANTS = 1000  # per class
RATE_WINDOW_S = 60.0
RATE_LIMIT = 30  # submissions per participant per window (answers and samples together)
MAX_TEXT = 2000  # characters of a pushed question's prompt, option or explanation
MAX_OPTIONS = 8
MAX_GROUPS = 100  # groups of a class experiment (every student's estimates are stored)
PURGE_EVERY_S = 60.0
QUESTION, EXPERIMENT = "question", "experiment"
METHODS = ("none", "partial")  # what a sample stores per group: no and partial pooling
RANDOM_KINDS = ("both", "intercept")


# -- what goes in ------------------------------------------------------------------------
@dataclass(frozen=True)
class ClassQuestion:
    """A multiple-choice question as pushed to a class: the options in display order, the
    index of the right one, and an explanation for the right and for each wrong option."""

    prompt: str
    options: tuple[str, ...]
    answer: int
    right: str
    explanations: tuple[str, ...]  # one per option ("" for the right one: see ``right``)
    source: str = ""  # where it comes from, e.g. "Walkthrough · Sleep study · step 3"

    @classmethod
    def build(cls, prompt: str, options, answer: str, right: str, wrong: dict[str, str],
              source: str = "") -> "ClassQuestion":
        """From the walkthrough's form: the right option's text and {wrong option: why}."""
        options = tuple(str(o) for o in options)
        if answer not in options:
            raise InvalidSubmission("The right answer must be one of the options.")
        explanations = tuple("" if o == answer else str(wrong.get(o, "")) for o in options)
        question = cls(str(prompt), options, options.index(answer), str(right), explanations, str(source))
        question.check()
        return question

    def check(self) -> None:
        texts = [self.prompt, self.right, self.source, *self.options, *self.explanations]
        if not 2 <= len(self.options) <= MAX_OPTIONS or len(set(self.options)) != len(self.options):
            raise InvalidSubmission(f"A question needs 2 to {MAX_OPTIONS} different options.")
        if len(self.explanations) != len(self.options) or not 0 <= self.answer < len(self.options):
            raise InvalidSubmission("The answer and explanations must match the options.")
        if any(len(t) > MAX_TEXT for t in texts) or not self.prompt.strip():
            raise InvalidSubmission(f"Question texts must be non-empty and at most {MAX_TEXT} characters.")

    def to_json(self) -> str:
        return json.dumps({"prompt": self.prompt, "options": list(self.options), "answer": self.answer,
                           "right": self.right, "explanations": list(self.explanations),
                           "source": self.source})

    @classmethod
    def from_json(cls, text: str) -> "ClassQuestion":
        d = json.loads(text)
        return cls(d["prompt"], tuple(d["options"]), int(d["answer"]), d["right"], tuple(d["explanations"]),
                   d.get("source", ""))


@dataclass(frozen=True)
class ExperimentSpec:
    """A class experiment: the lab's settings (a dict of ``SimulationSettings`` fields), the
    class seed that fixes the groups and their true values, and a title for the screens."""

    settings: dict
    class_seed: int
    title: str = "Class experiment"

    def check(self) -> None:
        n_groups = self.settings.get("n_groups")
        if not isinstance(n_groups, int) or not 2 <= n_groups <= MAX_GROUPS:
            raise InvalidSubmission(f"A class experiment has 2 to {MAX_GROUPS} groups.")
        if not isinstance(self.class_seed, int) or not 0 <= self.class_seed < 2**31:
            raise InvalidSubmission("The class seed must be a whole number from 0 to 2³¹ − 1.")
        for name, value in self.settings.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise InvalidSubmission(f"The setting {name} must be a finite number.")

    def bound(self) -> float:
        """The largest absolute estimate accepted: far outside anything a fit of these settings
        gives (a no-pooling line through two close points can be steep, but not this steep)."""
        s = self.settings
        scale = sum(abs(float(s.get(k, 0.0))) for k in
                    ("fixed_intercept", "fixed_slope", "sd_intercept", "sd_slope", "sd_residual"))
        return 1e4 * (scale + 1.0)

    def to_json(self) -> str:
        return json.dumps({"settings": self.settings, "class_seed": self.class_seed, "title": self.title})

    @classmethod
    def from_json(cls, text: str) -> "ExperimentSpec":
        d = json.loads(text)
        return cls(dict(d["settings"]), int(d["class_seed"]), d.get("title", "Class experiment"))


# -- what comes out ----------------------------------------------------------------------
@dataclass(frozen=True)
class NewClass:
    code: str
    key: str  # shown to the instructor once; only its hash is stored
    expires_at: float


@dataclass(frozen=True)
class Activity:
    id: int
    kind: str
    created_at: float
    revealed: bool
    question: ClassQuestion | None = None
    experiment: ExperimentSpec | None = None


@dataclass(frozen=True)
class ClassInfo:
    """What anybody with the code may know about a class."""

    code: str
    created_at: float
    expires_at: float
    closed: bool
    participants: int
    current_kind: str | None


@dataclass(frozen=True)
class StudentView:
    """What one participant's screen shows: the current activity, their own answer, and the
    right answer with the explanations only once the instructor revealed them."""

    activity_id: int
    kind: str
    revealed: bool
    closed: bool
    prompt: str = ""
    options: tuple[str, ...] = ()
    my_choice: int | None = None
    answer: int | None = None  # None until revealed
    right: str = ""
    explanations: tuple[str, ...] = ()
    experiment: ExperimentSpec | None = None
    submitted: bool = False  # experiment: this participant's sample is stored


@dataclass(frozen=True)
class QuestionResults:
    activity_id: int
    question: ClassQuestion
    counts: tuple[int, ...]  # per option, in display order
    revealed: bool

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class Sample:
    """One participant's stored fit of their own sample."""

    participant_id: str
    seed: int
    random: str
    estimates: dict[str, list] = field(repr=False)  # method -> per group [intercept, slope] or None
    submitted_at: float = 0.0


# -- the store ---------------------------------------------------------------------------
class ClassStore:
    """All class operations on one database engine (see ``classroom.db.engine``)."""

    def __init__(self, engine: sa.Engine | None = None, clock=time.time):
        self.engine = engine if engine is not None else db.engine()
        self.clock = clock
        self._last_purge = -math.inf

    @contextmanager
    def _write(self):
        with self.engine.connect() as conn:
            conn.execution_options(**{db.WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self):
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    # -- classes ---------------------------------------------------------------------
    def create_class(self) -> NewClass:
        now = self.clock()
        self.purge_expired()
        key = codes.new_key()
        for _attempt in range(20):
            code = codes.new_code()
            try:
                with self._write() as conn:
                    conn.execute(classes.insert().values(
                        code=code, key_hash=codes.hash_key(key), created_at=now,
                        expires_at=now + LIFETIME_S, closed=False, current_activity=None))
                return NewClass(code, key, now + LIFETIME_S)
            except sa.exc.IntegrityError:
                continue  # the code exists already: draw another
        raise RuntimeError("Could not find a free join code.")  # pragma: no cover (23⁸ codes)

    def _class(self, conn, code: str | None):
        code = codes.normalise_code(code)
        if code is None:
            raise ClassNotFound()
        row = conn.execute(sa.select(classes).where(classes.c.code == code)).first()
        if row is None or row.expires_at <= self.clock():
            raise ClassNotFound()
        return row

    def _instructor(self, conn, code: str, key: str | None):
        row = self._class(conn, code)
        if not codes.key_matches(key, row.key_hash):
            raise NotAllowed()
        return row

    def class_info(self, code: str | None) -> ClassInfo | None:
        """Public facts about a class, or None when no live class has this code."""
        with self._read() as conn:
            try:
                row = self._class(conn, code)
            except ClassNotFound:
                return None
            count = conn.execute(sa.select(sa.func.count()).select_from(participants)
                                 .where(participants.c.class_code == row.code)).scalar_one()
            kind = None
            if row.current_activity is not None:
                kind = conn.execute(sa.select(activities.c.kind)
                                    .where(activities.c.id == row.current_activity)).scalar()
        return ClassInfo(row.code, row.created_at, row.expires_at, bool(row.closed), int(count), kind)

    def is_instructor(self, code: str, key: str | None) -> bool:
        with self._read() as conn:
            try:
                self._instructor(conn, code, key)
            except (ClassNotFound, NotAllowed):
                return False
        return True

    def close_class(self, code: str, key: str) -> None:
        """No more answers or samples; the instructor can still see everything."""
        with self._write() as conn:
            row = self._instructor(conn, code, key)
            conn.execute(classes.update().where(classes.c.code == row.code).values(closed=True))

    def delete_class(self, code: str, key: str) -> None:
        """The class and everything in it, gone."""
        with self._write() as conn:
            row = self._instructor(conn, code, key)
            self._delete(conn, [row.code])

    @staticmethod
    def _delete(conn, class_codes: list[str]) -> None:
        ids = sa.select(activities.c.id).where(activities.c.class_code.in_(class_codes))
        conn.execute(answers.delete().where(answers.c.activity_id.in_(ids)))
        conn.execute(samples.delete().where(samples.c.activity_id.in_(ids)))
        conn.execute(activities.delete().where(activities.c.class_code.in_(class_codes)))
        conn.execute(participants.delete().where(participants.c.class_code.in_(class_codes)))
        conn.execute(classes.delete().where(classes.c.code.in_(class_codes)))

    def purge_expired(self, force: bool = False) -> int:
        """Delete every class past its lifetime with all its data; returns how many.
        Runs at most once a minute per store unless forced."""
        now = self.clock()
        if not force and now - self._last_purge < PURGE_EVERY_S:
            return 0
        self._last_purge = now
        with self._write() as conn:
            old = list(conn.execute(sa.select(classes.c.code).where(classes.c.expires_at <= now)).scalars())
            if old:
                self._delete(conn, old)
        return len(old)

    # -- participants ---------------------------------------------------------------
    def join(self, code: str, participant_id: str | None = None) -> str:
        """The participant id for this browser: ``participant_id`` again if it already belongs
        to this class (a reload), else a new one. Ids are never taken from the caller."""
        now = self.clock()
        if codes.is_token(participant_id):  # a reload: a read, no write lock
            with self._read() as conn:
                row = self._class(conn, code)
                known = conn.execute(sa.select(participants.c.participant_id).where(
                    participants.c.class_code == row.code,
                    participants.c.participant_id == participant_id)).first()
            if known is not None:
                return participant_id
        self.purge_expired()  # at most once a minute: a server that only ever sees joins cleans up too
        with self._write() as conn:
            row = self._class(conn, code)
            count = conn.execute(sa.select(sa.func.count()).select_from(participants)
                                 .where(participants.c.class_code == row.code)).scalar_one()
            if count >= MAX_PARTICIPANTS:
                raise ClassClosed(f"This class is full ({MAX_PARTICIPANTS} participants).")
            pid = codes.new_participant_id()
            conn.execute(participants.insert().values(class_code=row.code, participant_id=pid, joined_at=now,
                                                      window_start=now, window_count=0))
            return pid

    def _participant(self, conn, class_code: str, participant_id: str | None) -> None:
        if not codes.is_token(participant_id) or conn.execute(sa.select(participants.c.participant_id).where(
                participants.c.class_code == class_code,
                participants.c.participant_id == participant_id)).first() is None:
            raise NotAllowed("This browser has not joined the class: open the class link again.")

    def _spend(self, conn, class_code: str, participant_id: str) -> None:
        """Count one submission against the participant's rate limit (atomic on every backend)."""
        now = self.clock()
        where = (participants.c.class_code == class_code) & (participants.c.participant_id == participant_id)
        conn.execute(participants.update().where(where, participants.c.window_start <= now - RATE_WINDOW_S)
                     .values(window_start=now, window_count=0))
        spent = conn.execute(participants.update().where(where, participants.c.window_count < RATE_LIMIT)
                             .values(window_count=participants.c.window_count + 1))
        if spent.rowcount != 1:
            raise RateLimited()

    # -- activities -----------------------------------------------------------------
    def _push(self, code: str, key: str, kind: str, payload: str) -> int:
        with self._write() as conn:
            row = self._instructor(conn, code, key)
            if row.closed:
                raise ClassClosed("This class is closed.")
            activity_id = conn.execute(activities.insert().values(
                class_code=row.code, kind=kind, payload=payload, created_at=self.clock(), revealed=False)
            ).inserted_primary_key[0]
            conn.execute(classes.update().where(classes.c.code == row.code).values(current_activity=activity_id))
            return int(activity_id)

    def push_question(self, code: str, key: str, question: ClassQuestion) -> int:
        question.check()
        return self._push(code, key, QUESTION, question.to_json())

    def push_experiment(self, code: str, key: str, spec: ExperimentSpec) -> int:
        spec.check()
        return self._push(code, key, EXPERIMENT, spec.to_json())

    def stop_activity(self, code: str, key: str) -> None:
        """Students' screens go back to "waiting"; results stay available to the instructor."""
        with self._write() as conn:
            row = self._instructor(conn, code, key)
            conn.execute(classes.update().where(classes.c.code == row.code).values(current_activity=None))

    def reveal(self, code: str, key: str, activity_id: int) -> None:
        """Show the right answer and the explanations; answers to it are closed from now on."""
        with self._write() as conn:
            row = self._instructor(conn, code, key)
            done = conn.execute(activities.update().where(activities.c.id == int(activity_id),
                                                          activities.c.class_code == row.code)
                                .values(revealed=True))
            if done.rowcount != 1:
                raise ClassNotFound("This class has no such question.")

    @staticmethod
    def _activity(row) -> Activity:
        question = ClassQuestion.from_json(row.payload) if row.kind == QUESTION else None
        experiment = ExperimentSpec.from_json(row.payload) if row.kind == EXPERIMENT else None
        return Activity(int(row.id), row.kind, row.created_at, bool(row.revealed), question, experiment)

    def _own_activity(self, conn, class_code: str, activity_id: int):
        row = conn.execute(sa.select(activities).where(activities.c.id == int(activity_id),
                                                       activities.c.class_code == class_code)).first()
        if row is None:
            raise ClassNotFound("This class has no such activity.")
        return row

    def activities(self, code: str, key: str) -> list[Activity]:
        """Everything pushed to the class so far, oldest first (instructor only)."""
        with self._read() as conn:
            row = self._instructor(conn, code, key)
            rows = conn.execute(sa.select(activities).where(activities.c.class_code == row.code)
                                .order_by(activities.c.id)).all()
        return [self._activity(r) for r in rows]

    def current_activity(self, code: str, key: str) -> Activity | None:
        with self._read() as conn:
            row = self._instructor(conn, code, key)
            if row.current_activity is None:
                return None
            return self._activity(self._own_activity(conn, row.code, row.current_activity))

    # -- a participant's screen and submissions -----------------------------------
    def student_view(self, code: str, participant_id: str) -> StudentView | None:
        """The current activity as this participant may see it; None while nothing is pushed."""
        with self._read() as conn:
            row = self._class(conn, code)
            self._participant(conn, row.code, participant_id)
            if row.current_activity is None:
                return None
            act = self._own_activity(conn, row.code, row.current_activity)
            closed = bool(row.closed) or bool(act.revealed)
            if act.kind == EXPERIMENT:
                mine = conn.execute(sa.select(samples.c.seed).where(
                    samples.c.activity_id == act.id, samples.c.participant_id == participant_id)).first()
                return StudentView(int(act.id), EXPERIMENT, bool(act.revealed), closed,
                                   experiment=ExperimentSpec.from_json(act.payload), submitted=mine is not None)
            question = ClassQuestion.from_json(act.payload)
            choice = conn.execute(sa.select(answers.c.choice).where(
                answers.c.activity_id == act.id, answers.c.participant_id == participant_id)).scalar()
        revealed = bool(act.revealed)
        return StudentView(
            int(act.id), QUESTION, revealed, closed, question.prompt, question.options,
            None if choice is None else int(choice),
            question.answer if revealed else None, question.right if revealed else "",
            question.explanations if revealed else ())

    def _open_activity(self, conn, code: str, participant_id: str, activity_id: int, kind: str):
        row = self._class(conn, code)
        self._participant(conn, row.code, participant_id)
        if row.closed:
            raise ClassClosed("This class is closed.")
        if row.current_activity != int(activity_id):
            raise ClassClosed("The instructor has moved on: this one no longer takes answers.")
        act = self._own_activity(conn, row.code, activity_id)
        if act.kind != kind:
            raise InvalidSubmission("That is not what the class is doing now.")
        if act.revealed:
            raise ClassClosed("The answer has been revealed: answers are closed.")
        return row, act

    def submit_answer(self, code: str, participant_id: str, activity_id: int, choice: str) -> int:
        """Store this participant's answer (replacing an earlier one); returns the option's index.
        ``choice`` must be exactly one of the question's options."""
        with self._write() as conn:
            row, act = self._open_activity(conn, code, participant_id, activity_id, QUESTION)
            question = ClassQuestion.from_json(act.payload)
            if not isinstance(choice, str) or choice not in question.options:
                raise InvalidSubmission("That is not one of the question's options.")
            index = question.options.index(choice)
            self._spend(conn, row.code, participant_id)
            _upsert(conn, answers, {"activity_id": act.id, "participant_id": participant_id, "choice": index,
                                    "answered_at": self.clock()}, ("activity_id", "participant_id"))
            return index

    def submit_sample(self, code: str, participant_id: str, activity_id: int, seed: int, random: str,
                      estimates: dict) -> None:
        """Store this participant's fit of their own sample (replacing an earlier one)."""
        with self._write() as conn:
            row, act = self._open_activity(conn, code, participant_id, activity_id, EXPERIMENT)
            spec = ExperimentSpec.from_json(act.payload)
            clean = _check_estimates(estimates, spec)
            if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**31:
                raise InvalidSubmission("The seed must be a whole number from 0 to 2³¹ − 1.")
            if random not in RANDOM_KINDS:
                raise InvalidSubmission("Unknown kind of random effects.")
            self._spend(conn, row.code, participant_id)
            _upsert(conn, samples, {"activity_id": act.id, "participant_id": participant_id, "seed": seed,
                                    "random": random, "estimates": json.dumps(clean),
                                    "submitted_at": self.clock()}, ("activity_id", "participant_id"))

    def my_sample(self, code: str, participant_id: str, activity_id: int) -> Sample | None:
        with self._read() as conn:
            row = self._class(conn, code)
            self._participant(conn, row.code, participant_id)
            self._own_activity(conn, row.code, activity_id)
            found = conn.execute(sa.select(samples).where(samples.c.activity_id == int(activity_id),
                                                          samples.c.participant_id == participant_id)).first()
        return None if found is None else _sample(found)

    # -- the instructor's results ---------------------------------------------------
    def question_results(self, code: str, key: str, activity_id: int) -> QuestionResults:
        with self._read() as conn:
            row = self._instructor(conn, code, key)
            act = self._own_activity(conn, row.code, activity_id)
            if act.kind != QUESTION:
                raise InvalidSubmission("That activity is not a question.")
            question = ClassQuestion.from_json(act.payload)
            counted = dict(conn.execute(
                sa.select(answers.c.choice, sa.func.count()).where(answers.c.activity_id == act.id)
                .group_by(answers.c.choice)).all())
        counts = tuple(int(counted.get(i, 0)) for i in range(len(question.options)))
        return QuestionResults(int(act.id), question, counts, bool(act.revealed))

    def samples_version(self, code: str, key: str, activity_id: int) -> tuple[int, float]:
        """(number of samples, time of the newest): cheap to poll; refetch samples when it changes."""
        with self._read() as conn:
            row = self._instructor(conn, code, key)
            self._own_activity(conn, row.code, activity_id)
            n, newest = conn.execute(sa.select(sa.func.count(), sa.func.max(samples.c.submitted_at))
                                     .where(samples.c.activity_id == int(activity_id))).one()
        return int(n), float(newest or 0.0)

    def experiment_samples(self, code: str, key: str, activity_id: int) -> list[Sample]:
        with self._read() as conn:
            row = self._instructor(conn, code, key)
            self._own_activity(conn, row.code, activity_id)
            rows = conn.execute(sa.select(samples).where(samples.c.activity_id == int(activity_id))
                                .order_by(samples.c.submitted_at)).all()
        return [_sample(r) for r in rows]


def _sample(row) -> Sample:
    return Sample(row.participant_id, int(row.seed), row.random, json.loads(row.estimates), float(row.submitted_at))


def _check_estimates(estimates, spec: ExperimentSpec) -> dict[str, list]:
    """The estimates as plain lists, or InvalidSubmission: for each method, one entry per group,
    each [intercept, slope] of finite numbers within the spec's bound (no pooling may be None
    for a group without an estimable line of its own)."""
    n_groups = int(spec.settings["n_groups"])
    bound = spec.bound()
    if not isinstance(estimates, dict) or set(estimates) != set(METHODS):
        raise InvalidSubmission("Estimates must be given for no pooling and partial pooling.")
    clean = {}
    for method in METHODS:
        rows = estimates[method]
        if not isinstance(rows, (list, tuple)) or len(rows) != n_groups:
            raise InvalidSubmission(f"Expected {n_groups} groups of estimates.")
        out = []
        for pair in rows:
            if pair is None and method == "none":
                out.append(None)
                continue
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise InvalidSubmission("Each estimate is an intercept and a slope.")
            values = []
            for v in pair:
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise InvalidSubmission("Estimates must be numbers.")
                v = float(v)
                if not math.isfinite(v) or abs(v) > bound:
                    raise InvalidSubmission("An estimate is not a finite number in a sensible range.")
                values.append(float(f"{v:.7g}"))
            out.append(values)
        clean[method] = out
    return clean


def _upsert(conn, table: sa.Table, values: dict, keys: tuple[str, ...]) -> None:
    """Insert, or replace the row with the same keys (one statement: safe under concurrency)."""
    name = conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover (other backends: update, else insert)
        where = sa.and_(*(table.c[k] == values[k] for k in keys))
        if conn.execute(table.update().where(where).values(**values)).rowcount == 0:
            conn.execute(table.insert().values(**values))
        return
    statement = insert(table).values(**values)
    conn.execute(statement.on_conflict_do_update(
        index_elements=list(keys), set_={c: statement.excluded[c] for c in values if c not in keys}))
