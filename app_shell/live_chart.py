"""A Plotly chart that is updated in place when its figure changes (for the figures a slider redraws).

Why not ``st.plotly_chart``: Streamlit 1.67 gives a chart a new element id whenever its figure
changes, so React unmounts the old chart and mounts a new one, which Plotly draws twice: once
hidden (before the chart knows its column's width) and once more at that width. On the lab's
slider that was two full draws of each figure per move. This chart is a ``st.components.v2``
component with a fixed key: the same element stays on the page and its script hands each new
figure to ``Plotly.react``, which redraws the existing plot once.

Plotly comes from the app's own bundle, ``static/plotly-shrinkage.min.js`` (served by Streamlit's
static file serving, ``.streamlit/config.toml``; built by ``tools/plotly_bundle``): plotly.js with
only the trace types the app draws, 1.6 MB instead of the 4.7 MB chunk Streamlit ships for
``st.plotly_chart``, which a new tab would otherwise parse and run before its first figure. Where
that file is not served (static serving off), the chart loads Streamlit's chunk instead (loading it
sets ``window.Plotly``); where neither can be found, ``ui.show`` falls back to ``st.plotly_chart``.

A clickable chart (the shrinkage map: click a point to look closer at its group) reports the
clicked points as the trigger value ``click``: ``{"points": [{"customdata": ...}, ...]}``; the page's
callback reads them before the rerun, so it can still set the widgets the page draws above it.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import plotly.io
import streamlit as st

NAME = "shrinkage_lab_live_chart"

# The chart's box, on the page as soon as the element is (before the script has loaded and drawn
# into it), so that a page is not taken for fully drawn while a figure is still to come.
_HTML = ('<div class="stPlotlyChart stLiveChart" data-testid="stPlotlyChart" role="figure" '
         'style="min-height: 380px"><div></div></div>')

# The script runs in the page (no iframe). It is handed the figure as the bytes of its JSON
# (Streamlit forwards bytes as they are: no second JSON encoding on the server).
_JS = "const BOX_HTML = " + json.dumps(_HTML) + ";\n" + r"""
let plotlyLoading = null;

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = url;
    script.async = true;
    script.onload = () => (window.Plotly ? resolve(window.Plotly) : reject(new Error('no Plotly in ' + url)));
    script.onerror = () => reject(new Error('could not load ' + url));
    document.head.appendChild(script);
  });
}

// One Plotly for every live chart of the tab, loaded once: a plot is always redrawn by the Plotly
// that drew it (Streamlit's chunk, should st.plotly_chart load it later, sets window.Plotly again).
function plotly(message) {
  if (!plotlyLoading) {
    // Streamlit's own scripts live beside its entry module (static/js/): resolve both files against
    // it, so that they are found under a base URL path or behind a proxy too.
    const entry = document.querySelector('script[type="module"][src*="/static/js/index."]');
    const base = entry ? entry.src : new URL('static/js/', document.baseURI).href;
    const chunk = () => import(new URL(message.chunk, base).href).then(() => window.Plotly);
    if (window.Plotly) plotlyLoading = Promise.resolve(window.Plotly);
    else if (message.bundle) plotlyLoading = loadScript(new URL('../../' + message.bundle, base).href)
      .catch((error) => (message.chunk ? chunk() : Promise.reject(error)));
    else plotlyLoading = chunk();
  }
  return plotlyLoading;
}

// A clickable chart reports the points clicked (the group each carries as customdata); the
// listener is added once per plot and always reports through the newest run's component.
function reportClicks(box, plot) {
  if (box.__clicks) return;
  box.__clicks = true;
  plot.on('plotly_click', (event) => {
    const points = (event.points || []).map((p) => ({customdata: p.customdata === undefined ? null : p.customdata}));
    if (box.__report) box.__report('click', {points});
  });
}

// Full screen for the figure alone (as st.plotly_chart's own button does): the browser's
// Fullscreen API on the chart's box; the figure then takes the whole screen.
const FULLSCREEN_ICON = {width: 512, height: 512,
  path: 'M0 0h192v64H64v128H0zM320 0h192v192h-64V64H320zM0 320h64v128h128v64H0zM448 320h64v192H320v-64h128z'};

function size(box, layout) {
  if (document.fullscreenElement === box) return {width: window.innerWidth, height: window.innerHeight};
  return {width: box.clientWidth || undefined, height: layout.height || 450};
}

function boxFor(parentElement) {
  // Streamlit puts the component's HTML (the box, _HTML) on the page before this script runs;
  // should it not have, the same markup is added here.
  if (!parentElement.querySelector('.stLiveChart')) {
    parentElement.appendChild(document.createRange().createContextualFragment(BOX_HTML));
  }
  return parentElement.querySelector('.stLiveChart');
}

let webglWorks = null;

function hasWebGL() {
  if (webglWorks === null) {
    try {
      const gl = document.createElement('canvas').getContext('webgl');
      webglWorks = !!gl;
      const lose = gl && gl.getExtension('WEBGL_lose_context');
      if (lose) lose.loseContext();  // only a probe: give the context back
    } catch (error) {
      webglWorks = false;
    }
  }
  return webglWorks;
}

const asSvg = (traces) => traces.map((t) => (t.type === 'scattergl' ? Object.assign({}, t, {type: 'scatter'}) : t));
const hasGl = (traces) => traces.some((t) => t.type === 'scattergl');

// Where the browser has no WebGL (switched off, or no GPU driver), WebGL traces are drawn as SVG.
// A plot's first draw is SVG too: setting up WebGL (a context, its shaders) made the lab map's first
// draw take 546 ms instead of 300 ms in Chromium without a GPU, while a new tab waits for it.
// Once the page has been drawn and the browser is idle, the plot is redrawn with WebGL (the same
// picture), so that the slider moves that follow redraw the dense points faster (upgrade, below).
function drawable(box, traces) {
  if (!box.__drawn || !hasGl(traces) || !hasWebGL()) return asSvg(traces);
  return traces;
}

function upgrade(box, message, Plotly) {
  const later = () => {
    box.__queue = box.__queue.then(() => (box.__latest === message && box.isConnected ? draw(box, message, Plotly) : null))
      .catch((error) => console.error('Shrinkage Lab: a figure could not be redrawn with WebGL', error));
  };
  setTimeout(() => (window.requestIdleCallback ? requestIdleCallback(later, {timeout: 2000}) : later()), 1000);
}

function draw(box, message, Plotly) {
  const plot = box.firstChild;
  const layout = Object.assign({}, message.figure.layout, size(box, message.figure.layout));
  // The same config object while it does not change: Plotly.react compares the config too (its
  // button's click function included), and a changed config makes it plot from scratch.
  const configText = JSON.stringify(message.config);
  if (box.__configText !== configText) {
    box.__configText = configText;
    box.__config = Object.assign({}, message.config, {modeBarButtonsToAdd: [{
      name: 'Fullscreen', title: 'Fullscreen', icon: FULLSCREEN_ICON,
      click: () => (document.fullscreenElement ? document.exitFullscreen() : box.requestFullscreen()),
    }]});
  }
  const config = box.__config;
  box.__layout = message.figure.layout;
  const traces = message.figure.data || [];
  const first = !box.__drawn;
  return Plotly.react(plot, drawable(box, traces), layout, config).then(() => {
    box.__drawn = true;
    if (first && hasGl(traces) && hasWebGL()) upgrade(box, message, Plotly);
    if (message.clickable) reportClicks(box, plot);
    if (box.__resizes) return;
    // The column's width changes with the window and the sidebar, and full screen changes both.
    let last = box.clientWidth;
    const follow = () => {
      const wanted = size(box, box.__layout);
      if (wanted.width && (Math.abs(wanted.width - last) > 1 || plot._fullLayout.height !== wanted.height)) {
        last = wanted.width;
        Plotly.relayout(plot, wanted);
      }
    };
    box.__resizes = new ResizeObserver(follow);
    box.__resizes.observe(box);
    box.__follow = follow;
    document.addEventListener('fullscreenchange', follow);
  });
}

// Handed to Streamlit, which runs it when the element leaves the page, and also at once when a
// newer figure arrived while this call was still being set up: then the chart stays, so only a
// box no longer on the page lets go of its observers.
function cleanUp(box) {
  if (box.isConnected) return;
  if (box.__resizes) box.__resizes.disconnect();
  if (box.__follow) document.removeEventListener('fullscreenchange', box.__follow);
  box.__resizes = box.__follow = box.__report = null;
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const message = JSON.parse(new TextDecoder().decode(data));
  const box = boxFor(parentElement);
  box.__report = setTriggerValue;
  box.setAttribute('aria-label', message.alt);
  box.style.minHeight = (message.figure.layout.height || 450) + 'px';  // no jump while it loads
  box.__latest = message;
  // Figures are drawn in the order they came; one overtaken by a newer figure is skipped.
  box.__queue = (box.__queue || Promise.resolve())
    .then(() => (box.__latest === message ? plotly(message) : null))
    .then((Plotly) => (Plotly && box.__latest === message ? draw(box, message, Plotly) : null))
    .catch((error) => {
      console.error('Shrinkage Lab: a figure could not be drawn', error);
      box.textContent = 'This figure could not be drawn in this browser.';
    });
  return () => cleanUp(box);
}
"""


# As st.plotly_chart configures its charts (the script adds the full-screen button).
_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d", "sendDataToCloud"]}


# Streamlit serves the folder static/ beside app.py at app/static/ when static serving is on.
BUNDLE = Path(__file__).resolve().parents[1] / "static" / "plotly-shrinkage.min.js"
BUNDLE_URL = "app/static/" + BUNDLE.name  # relative to the app's root (and so to any base path)


def plotly_bundle() -> str | None:
    """The app's Plotly bundle's path under the app's root, or None if it is not served."""
    if not st.get_option("server.enableStaticServing") or not BUNDLE.is_file():
        return None
    return BUNDLE_URL


@lru_cache(maxsize=1)
def plotly_chunk() -> str | None:
    """The file name of the Plotly chunk of the installed Streamlit build (None if not found)."""
    js = Path(st.__file__).parent / "static" / "static" / "js"
    found = sorted(p.name for p in js.glob("PlotlyChart.*.js"))
    return found[0] if len(found) == 1 else None


def available() -> bool:
    return plotly_bundle() is not None or plotly_chunk() is not None


@lru_cache(maxsize=1)
def _mount():
    # One registration; Streamlit re-registers it on each new runtime (a test harness starts several).
    return st.components.v2.component(NAME, html=_HTML, js=_JS, isolate_styles=False)


def figure_bytes(component) -> bytes | None:
    """The message a live chart's element carries (``BidiComponent`` proto, as in a ForwardMsg or
    AppTest's ``el.proto``), or None for any other component: for benchmarks and tests."""
    return component.bytes if component.component_name == NAME else None


def figure_of(component) -> dict | None:
    """The Plotly figure (data and layout) of a live chart's element, or None for another component."""
    message = figure_bytes(component)
    return None if message is None else json.loads(message)["figure"]


def show(fig, alt: str, key: str | None, *, on_click=None):
    """Draw ``fig`` in the live chart ``key`` (same key, same element: later figures update it;
    without a key the element is named by its content, so a changed figure gets a new one).
    ``on_click``: the points can be clicked; a click calls it before the page reruns, and
    ``clicked_points(st.session_state[key])`` then holds the points clicked."""
    figure = plotly.io.to_json(fig, validate=False)
    payload = ('{"bundle":' + json.dumps(plotly_bundle()) + ',"chunk":' + json.dumps(plotly_chunk())
               + ',"clickable":' + json.dumps(on_click is not None) + ',"alt":' + json.dumps(alt)
               + ',"config":' + json.dumps(_CONFIG) + ',"figure":' + figure + "}")
    if on_click is not None:
        return _mount()(key=key, data=payload.encode(), on_click_change=on_click)
    return _mount()(key=key, data=payload.encode())


def clicked_points(state) -> list[dict]:
    """The points of the click that reruns the page (a clickable chart's session state or
    result: the trigger value ``click``), else []."""
    try:
        click = state["click"]
    except (KeyError, TypeError):
        return []
    points = click.get("points") if isinstance(click, dict) else None
    return [p for p in points if isinstance(p, dict)] if isinstance(points, list) else []
