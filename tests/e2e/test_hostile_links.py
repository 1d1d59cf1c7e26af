"""Hostile shared links in a real browser: each is answered with a plain message within the limits,
nothing in a link becomes a link, an image or HTML on the page, and no traceback is shown.

The time to the answer and the server's memory are printed (run with -s), never asserted.
"""
import time
import urllib.parse

import pytest

from benchmarks import browser_kit as kit

EVIL = "evil.example"
ALERT = '[data-testid="stAlert"]'


def answered(page, server, page_path: str, **params) -> list[str]:
    before = server.rss_mb()
    start = time.perf_counter()
    kit.open_app(page, f"{server.base_url}/{page_path}?{urllib.parse.urlencode(params)}")
    print(f"\n{page_path} {list(params)}: answered in {time.perf_counter() - start:.2f} s, "
          f"server {before:.0f} -> {server.rss_mb():.0f} MB")
    return page.locator(ALERT).all_inner_texts()


def no_injected_markup(page) -> None:
    assert page.locator(f'a[href*="{EVIL}"]').count() == 0, "a link from the URL became a link"
    assert page.locator(f'img[src*="{EVIL}"]').count() == 0, "an image from the URL was loaded"
    assert page.locator('[data-testid="stException"]').count() == 0, "a traceback box is shown"


@pytest.mark.parametrize("formula,words", [
    ("Reaction ~ (Days)^30000000 + (1|Subject)", ["power", "^2"]),
    ("Reaction ~ " + "(" * 900 + "Days" + ")" * 900 + " + (1|Subject)", ["nested"]),
])
def test_a_formula_link_that_asks_too_much_is_refused(app, server, formula, words):
    alerts = answered(app, server, "your-model", ym_formula=formula)
    text = " ".join(alerts)
    for word in words:
        assert word in text, text
    assert "Traceback" not in text and "RecursionError" not in text
    no_injected_markup(app)


def test_markdown_in_a_formula_link_stays_text(app, server):
    hostile = f"[Your session expired: click here](https://{EVIL}/login) ![t](https://{EVIL}/t.png)"
    alerts = answered(app, server, "your-model", ym_formula=hostile)
    assert any("cannot be read" in a for a in alerts), alerts
    no_injected_markup(app)


@pytest.mark.parametrize("params", [
    {"path": f"[Your session expired: click here](https://{EVIL})", "step": "1"},
    {"path": "sleepstudy", "step": f"![t](https://{EVIL}/t.png)"},
])
def test_walkthrough_links_stay_text(app, server, params):
    alerts = answered(app, server, "walkthrough", **params)
    assert alerts, "the page should say the link asked for something that does not exist"
    no_injected_markup(app)


def test_a_link_to_lost_uploaded_data_is_announced(app, server):
    alerts = answered(app, server, "three-ways", data=f"Your data: [x](https://{EVIL}).csv")
    assert any("not on the server any more" in a for a in alerts), alerts
    no_injected_markup(app)


# -- names from an upload inside the figures ----------------------------------------------------------
HOSTILE_COLUMNS = ['<a href="https://evil.example/x">y</a>', "<b>z</b>", "x & <i>1</i>"]




def test_uploaded_names_in_figures_are_text_not_links(app, server, tmp_path):
    """Column and group names with HTML reach titles, axes, legends and hover text of the figures;
    Plotly would draw <a href> as a link and <b> as bold. Each shows as typed instead."""
    import csv

    path = tmp_path / "<b>f<i>.csv"  # (a file name cannot hold a /)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HOSTILE_COLUMNS)
        for g in range(8):
            name = f'<a href="https://{EVIL}/g">g{g}</a>' if g % 2 else f"<b>g{g}</b>"
            for x in range(6):
                writer.writerow([f"{10 + g + 0.7 * x + ((g * x) % 5) * 0.3:.2f}", name, x])
    kit.open_app(app, server.url("your-model"))
    kit.upload_csv(app, path)
    for page_path in ("Three ways to pool", "The shrinkage map", "Less data, more shrinkage",
                      "How the model is fitted", "Predictions"):
        since = kit.runs(app)  # the sidebar's links keep the session (and its upload)
        app.locator("[data-testid=stSidebarNavLink]", has_text=page_path).click()
        kit.wait_for_run(app, since)
        app.get_by_role("heading", name=page_path).first.wait_for()  # the new page, not the old one's end
        kit.wait_for_figures(app)
        figures = app.locator(".js-plotly-plot")
        assert figures.count() >= 1, page_path
        assert app.locator(".js-plotly-plot a").count() == 0, f"{page_path}: a link inside a figure"
        texts = " ".join(figures.all_text_contents())
        assert "<b>z</b>" in texts or "<b>g" in texts or "x & <i>1</i>" in texts, (page_path, texts[:300])
        no_injected_markup(app)
