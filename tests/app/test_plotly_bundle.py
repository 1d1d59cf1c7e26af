"""The app's own Plotly bundle (static/plotly-shrinkage.min.js, built by tools/plotly_bundle): it
holds every trace type the app draws, and it is the plotly.js that the installed plotly.py writes
figures for."""
import re
from pathlib import Path

import plotly
import plotly.graph_objects as go
import pytest
from plotly.basedatatypes import BaseTraceType
from test_pages import figures, no_exception, open_page
from test_plain_figures import PAGES

from app_shell import live_chart

ROOT = Path(__file__).resolve().parents[2]


def bundle_trace_types() -> set[str]:
    """The trace types registered in the built bundle (each trace module names itself)."""
    return set(re.findall(r'moduleType:"trace",name:"(\w+)"', live_chart.BUNDLE.read_text()))


def test_the_bundle_holds_the_trace_types_its_recipe_and_banner_name():
    types = bundle_trace_types()
    recipe = set(re.findall(r"require\('plotly\.js/lib/(\w+)'\)", (ROOT / "tools/plotly_bundle/entry.js").read_text()))
    banner = re.search(r"\(traces: ([\w, ]+)\)", live_chart.BUNDLE.read_text()[:400]).group(1).split(", ")
    assert types == (recipe - {"core"}) | {"scatter"} == set(banner)


def test_the_bundle_is_the_plotly_js_that_plotly_py_writes_figures_for():
    # plotly.py validates figures against the plotly.js it ships: after an upgrade of plotly, rebuild
    # the bundle with that version (tools/plotly_bundle/package.json).
    shipped = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    version = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", shipped.read_text()[:200]).group(1)
    assert re.search(r"plotly\.js v(\d+\.\d+\.\d+)", live_chart.BUNDLE.read_text()[:200]).group(1) == version
    assert f'"plotly.js": "{version}"' in (ROOT / "tools/plotly_bundle/package.json").read_text()


def plotly_trace_types() -> set[str]:
    """Every trace type plotly.py knows (a graph object class per type: go.Scatter is "scatter")."""
    classes = (getattr(go, name) for name in dir(go))  # lazily loaded: dir(), not vars()
    return {cls.__name__.lower() for cls in classes
            if isinstance(cls, type) and issubclass(cls, BaseTraceType) and cls is not BaseTraceType}


def test_every_trace_type_in_the_chart_code_is_in_the_bundle():
    # Every way the figure code names a trace type: plain dicts (type="violin", "type": "bar",
    # trace["type"] = "scattergl") and graph objects (go.Bar(...)); a type missing from the bundle would leave its figure empty.
    # (Quoted words that are not trace types, such as an axis's type="category", are left out.)
    words = set()
    for path in (ROOT / "charts").glob("*.py"):
        code = path.read_text()
        words |= set(re.findall(r"""\btype["']?\]?\s*[:=]\s*["'](\w+)["']""", code))
        words |= {name.lower() for name in re.findall(r"\bgo\.(\w+)\(", code)}
    traces = words & plotly_trace_types()
    assert {"scatter", "scattergl", "violin"} <= traces  # the scan finds them
    assert traces <= bundle_trace_types(), traces - bundle_trace_types()


@pytest.mark.parametrize("page,params", PAGES + [("app_pages/exercises.py", {}), ("app_pages/your_model.py", {}),
                                                 ("app_pages/home.py", {})])
def test_every_figure_a_page_sends_uses_only_trace_types_in_the_bundle(page, params):
    types = {trace.get("type", "scatter") for fig in figures(no_exception(open_page(page, **params)))
             for trace in fig["data"]}
    assert types <= bundle_trace_types(), types - bundle_trace_types()
