"""Two `streamlit run` replicas sharing one PostgreSQL database: the instructor on one, a
student on the other, and the student's answer on the instructor's projector."""
from __future__ import annotations

import re

import pytest

from benchmarks import browser_kit as kit
from benchmarks.pg_cluster import Cluster, pg_bin

WAIT_MS = 30_000


@pytest.fixture(scope="module")
def replicas(browser_type_launch_args):
    bin_dir = pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's `postgresql`.")
    with Cluster(bin_dir) as cluster:
        url = cluster.new_database()
        servers = []
        try:
            with pytest.MonkeyPatch.context() as env:
                env.setenv("SHRINKAGE_DATABASE_URL", url)
                for name in ("a", "b"):
                    log = kit.ROOT / "tests" / "e2e" / "artifacts" / f"streamlit-replica-{name}.log"
                    servers.append(kit.StreamlitServer(log_path=log).start())
            yield servers
        finally:
            for server in servers:
                server.stop()


def test_two_replicas_share_one_class(browser, replicas):
    first, second = replicas
    context = browser.new_context(viewport=kit.VIEWPORT)
    kit.prepare_context(context)
    try:
        teacher = context.new_page()
        teacher.set_default_timeout(WAIT_MS)
        teacher.goto(first.url("teach"))
        kit.wait_for_run(teacher, 0)
        before = kit.runs(teacher)
        teacher.get_by_role("button", name="Start a class").click()
        kit.wait_for_run(teacher, before)
        link = teacher.locator('[data-testid="stCode"]').first.inner_text()
        code = re.search(r"class=([A-Z0-9]{8})", link).group(1)
        before = kit.runs(teacher)
        teacher.get_by_role("button", name="Ask the class").click()
        kit.wait_for_run(teacher, before)

        student = context.new_page()  # same browser, other replica: another session
        student.set_default_timeout(WAIT_MS)
        student.goto(second.url("join", **{"class": code}))
        kit.wait_for_run(student, 0)
        option = student.locator('[data-testid="stRadio"] [role="radiogroup"] label').nth(1)
        before = kit.runs(student)
        option.click()
        kit.wait_for_run(student, before)
        student.get_by_text("Your answer B is in").wait_for()
        teacher.get_by_text("1 answer so far").wait_for()  # on the other replica, by its own poll
        before = kit.runs(teacher)
        teacher.get_by_role("button", name="Reveal the answer").click()
        kit.wait_for_run(teacher, before)
        student.get_by_text("Right: B.").wait_for()  # and back: the reveal reaches replica b
        assert kit.page_problems(teacher) == [] and kit.page_problems(student) == []
    finally:
        context.close()
