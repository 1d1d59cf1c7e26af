"""Class mode in real browsers: an instructor tab and four student tabs (separate browser
contexts, as separate phones) against one `streamlit run` with its own SQLite data directory.

Start a class, read the join link off the instructor's page, join, answer, watch the
projector's count update by itself (the 2 s fragment), change an answer (still counted
once), reveal (the students' screens follow by themselves), reload a student (same
participant)."""
from __future__ import annotations

import os
import re
import sqlite3
import time

import pytest

from benchmarks import browser_kit as kit

STUDENTS = 4
WAIT_MS = 30_000  # a live update comes every 2 s; a loaded machine may need longer


@pytest.fixture(scope="module")
def class_server(tmp_path_factory, browser_type_launch_args):
    data = tmp_path_factory.mktemp("class-data")
    with pytest.MonkeyPatch.context() as env:  # the server process inherits these at start
        env.setenv("SHRINKAGE_DATA_DIR", str(data))
        env.delenv("SHRINKAGE_DATABASE_URL", raising=False)
        env.delenv("SHRINKAGE_CLASS_DB", raising=False)
        server = kit.StreamlitServer(log_path=kit.ROOT / "tests" / "e2e" / "artifacts" / "streamlit-class.log")
        server.start()
    try:
        yield server, data
    finally:
        server.stop()


def stored(data, query: str) -> list[tuple]:
    """Read the server's database directly (what a restarted server would find)."""
    with sqlite3.connect(data / "classroom.sqlite3") as conn:
        return [tuple(r) for r in conn.execute(query).fetchall()]


def tab(browser):
    context = browser.new_context(viewport=kit.VIEWPORT)
    kit.prepare_context(context)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return context, page


def settle(page, since: int | None = None) -> None:
    kit.wait_for_run(page, since if since is not None else 0)


OPTION = '[data-testid="stRadio"] [role="radiogroup"] label'


def click(page, locator) -> None:
    before = kit.runs(page)
    locator.click()
    settle(page, before)


def test_a_live_question_with_four_students(browser, class_server, screenshot):
    server, data = class_server
    contexts = []
    started, marks = time.monotonic(), []

    def mark(what: str) -> None:
        marks.append(f"{what} {time.monotonic() - started:.1f}s")

    try:
        context, teacher = tab(browser)
        contexts.append(context)
        teacher.goto(server.url("teach"))
        settle(teacher)
        click(teacher, teacher.get_by_role("button", name="Start a class"))
        link = teacher.locator('[data-testid="stCode"]').first.inner_text().strip()
        code = re.search(r"class=([A-Z0-9]{8})", link).group(1)
        assert "teach_key" not in teacher.url and code not in teacher.url
        assert (data / "classroom.sqlite3").exists()
        click(teacher, teacher.get_by_role("button", name="Ask the class"))
        teacher.get_by_text("0 answers so far").wait_for()

        students = []
        for i in range(STUDENTS):
            context, page = tab(browser)
            contexts.append(context)
            page.goto(server.url("join", **{"class": code}))
            settle(page)
            page.locator(OPTION).first.wait_for()
            students.append(page)
        mark("joined")
        me = [re.search(r"me=([\w-]+)", p.url).group(1) for p in students]
        assert len(set(me)) == STUDENTS
        teacher.get_by_text(f"{STUDENTS}", exact=True).first.wait_for()  # participants, live

        choices = [1, 1, 0, 2]
        for page, choice in zip(students, choices):
            click(page, page.locator(OPTION).nth(choice))
            page.get_by_text("is in").wait_for()
        # Nobody touches the instructor's tab: the projector's fragment picks the answers up.
        teacher.get_by_text(f"{STUDENTS} answers so far").wait_for()
        assert "Right:" not in students[0].inner_text("body")

        click(students[2], students[2].locator(OPTION).nth(1))  # a change of mind
        students[2].get_by_text("Your answer B is in").wait_for()
        assert stored(data, "SELECT choice, count(*) FROM classroom_answers GROUP BY choice") == [(1, 3), (2, 1)]
        teacher.get_by_text(f"{STUDENTS} answers so far").wait_for()
        mark("answered")
        screenshot(teacher, "class__projector-answers")

        click(teacher, teacher.get_by_role("button", name="Reveal the answer"))
        teacher.get_by_text("Right: B.").wait_for()
        revealed = re.compile(r"Right: B\.|The right answer is B")
        for page in students:  # their screens follow by themselves
            page.get_by_text(revealed).first.wait_for()
        students[3].get_by_text("You answered C.").wait_for()  # with why C is wrong
        assert students[3].locator('[data-testid="stRadio"] input').first.is_disabled()
        screenshot(students[3], "class__student-revealed")

        mark("revealed")
        students[0].reload()  # a reload keeps the participant (the id is in the URL)
        settle(students[0])
        students[0].get_by_text("Right: B.").wait_for()
        assert students[0].locator('[data-testid="stAlertContentWarning"]').count() == 0
        assert students[0].locator(f"{OPTION} input").nth(1).is_checked()  # the stored answer, shown again
        assert re.search(r"me=([\w-]+)", students[0].url).group(1) == me[0]
        assert stored(data, "SELECT count(*) FROM classroom_participants") == [(STUDENTS,)]

        # A class experiment: every student's screen switches to it and sends its own fit.
        click(teacher, teacher.get_by_role("tab", name="Class experiment in the lab"))
        click(teacher, teacher.get_by_role("button", name="Start the class experiment"))
        for page in students:
            page.get_by_text("Your sample (seed").wait_for()
        teacher.get_by_text(f"{STUDENTS} samples so far").wait_for()
        teacher.get_by_text(f"as estimated by each of {STUDENTS} students").wait_for()
        kit.wait_for_figures(teacher)
        mark("experiment")
        screenshot(teacher, "class__projector-experiment")
        for page in [teacher, *students]:
            assert kit.page_problems(page) == []
        print(f"\nclass mode e2e: {', '.join(marks)}; load average {os.getloadavg()[0]:.1f}")
    finally:
        for context in contexts:
            context.close()
