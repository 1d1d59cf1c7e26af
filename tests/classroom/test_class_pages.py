"""The class-mode pages headless (AppTest): an instructor and three students in one process,
on a SQLite file of their own."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_shell import live_chart

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SHRINKAGE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SHRINKAGE_DATABASE_URL", raising=False)
    monkeypatch.delenv("SHRINKAGE_CLASS_DB", raising=False)
    return tmp_path


def page(name: str, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"app_pages/{name}.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption]
                     + [str(e.body) for e in at.warning] + [str(e.body) for e in at.info]
                     + [str(e.body) for e in at.success])


def test_a_question_from_start_to_reveal(data_dir):
    teacher = page("teach")
    teacher.button[0].click().run()
    code, key = teacher.session_state["teach_code"], teacher.session_state["teach_key"]
    assert key not in str(teacher.query_params) and code not in str(teacher.query_params)
    assert (data_dir / "classroom.sqlite3").exists()
    assert len(teacher.get("image")) == 1  # the QR code
    teacher.button(key="teach_push_q").click().run()
    students = [page("join", **{"class": code}) for _ in range(3)]
    pids = {s.query_params["me"][0] if isinstance(s.query_params["me"], list) else s.query_params["me"]
            for s in students}
    assert len(pids) == 3
    for i, student in enumerate(students):
        assert student.radio[0].options[0].startswith("A.")
        student.radio[0].set_value(i % 2).run()
        assert not student.exception
        assert "is in" in texts(student)
    teacher.run()
    assert "3 answers so far" in texts(teacher)
    assert "Right:" not in texts(students[0])
    teacher.button(key="teach_reveal").click().run()
    assert "Right:" in texts(teacher)
    students[0].run()
    assert "right answer" in texts(students[0]).lower() or "Right:" in texts(students[0])
    assert students[0].radio[0].disabled


def test_a_reload_keeps_the_participant_and_a_bad_code_asks_again(data_dir):
    teacher = page("teach")
    teacher.button[0].click().run()
    code = teacher.session_state["teach_code"]
    first = page("join", **{"class": code})
    me = first.query_params["me"]
    me = me[0] if isinstance(me, list) else me
    again = page("join", **{"class": code, "me": me})
    got = again.query_params["me"]
    assert (got[0] if isinstance(got, list) else got) == me
    lost = page("join", **{"class": "AAAA-AAAA"})
    assert "No open class" in texts(lost) and lost.text_input
    teacher.run()
    assert teacher.metric[0].value == "1"  # the reload did not make a second participant


def test_a_class_experiment_reaches_the_projector(data_dir):
    teacher = page("teach")
    teacher.button[0].click().run()
    code = teacher.session_state["teach_code"]
    teacher.button(key="teach_push_e").click().run()
    for _ in range(3):
        student = page("join", **{"class": code})
        charts = [c for c in student.get("bidi_component") if live_chart.figure_bytes(c.proto) is not None]
        assert len(student.get("plotly_chart")) + len(charts) == 1  # their own shrinkage map
    teacher.run()
    assert "3 samples so far" in texts(teacher)
    assert len(teacher.dataframe) == 1 and len(teacher.dataframe[0].value) == 4
    teacher.checkbox(key="teach_sure").check().run()
    teacher.button(key="teach_delete").click().run()
    assert "teach_code" not in teacher.session_state
    assert "No open class" in texts(page("join", **{"class": code}))


def test_every_walkthrough_question_can_be_pushed_to_a_class():
    import datasets
    from app_shell import walkthrough_content as lessons
    from classroom import ClassQuestion
    from teaching import walkthrough_numbers as numbers

    pushed = 0
    for path in lessons.PATHS.values():
        facts = numbers.walkthrough_facts(path.key, datasets.load(path.data))
        for step in path.steps:
            if step.question is None:
                continue
            q = lessons.filled_question(step.question, facts)
            made = ClassQuestion.build(q.prompt, q.options, q.answer, q.right, q.wrong)
            assert made.options[made.answer] == q.answer and "{" not in made.prompt
            assert all(made.explanations[i] for i in range(len(made.options)) if i != made.answer)
            pushed += 1
    assert pushed >= 10
