"""Measure the text in every Plotly figure of a page: overlaps, text cut off, text too small.

The browser lays the text out, so the measurement is read from the page: for every visible
figure (`.js-plotly-plot`), every SVG `text` element with something in it, its box
(getBoundingClientRect) and its rendered size (computed font-size times the scale of its
screen transform). Hover labels and the mode bar are not part of the figure's resting state
and are skipped. Used by test_legibility.py; kept apart so a screenshot script can use it too.
"""
from __future__ import annotations

MIN_PRESENTER_PX = 20.0  # the presenter-mode guarantee (README, "Presenter mode")
OVERLAP_PX = 1.5  # boxes may touch; they overlap when they share more than this in both directions
OUTSIDE_PX = 1.0  # tolerance for text poking out of its figure or its legend box
TABLE_OUTSIDE_PX = 0.5  # a table's frame takes its column's width exactly; a fraction of a px is rounding
# x tick labels of neighbouring panels (side by side, same row) keep at least this much space between them.
MIN_TICK_GAP_PX = 3.0
# A legend above panel titles: the titles start at most this far under the legend (and not above it).
MAX_TITLE_GAP_PX = 24.0

MEASURE_JS = r"""
() => {
  const figures = [];
  const visible = (el) => {
    for (let e = el; e && e.nodeType === 1; e = e.parentNode) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) === 0) return false;
    }
    return true;
  };
  const box = (r) => ({l: r.left, t: r.top, r: r.right, b: r.bottom});
  document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot').forEach((gd, index) => {
    if (gd.offsetParent === null) return;  // in a closed tab or expander
    const svg = gd.querySelector('.main-svg');
    if (!svg) return;
    const frame = box(svg.getBoundingClientRect());
    const legendBg = gd.querySelector('.legend .bg');
    const legend = legendBg ? box(legendBg.getBoundingClientRect()) : null;
    const texts = [];
    gd.querySelectorAll('text').forEach((t) => {
      if (t.closest('.hoverlayer, .modebar, .legendtoggle')) return;
      const content = (t.textContent || '').trim();
      if (!content) return;
      if (!visible(t)) return;
      const r = t.getBoundingClientRect();
      if (r.width < 0.5 || r.height < 0.5) return;
      const m = t.getScreenCTM();
      const scale = m ? Math.hypot(m.a, m.b) : 1;
      const size = parseFloat(getComputedStyle(t).fontSize) * scale;
      let kind = 'text';
      const cls = (t.getAttribute('class') || '') + ' ' + ((t.parentNode && t.parentNode.getAttribute
        && t.parentNode.getAttribute('class')) || '');
      if (t.closest('.legend')) kind = 'legend';
      else if (/\b[xy]\d*tick\b/.test(cls)) kind = 'tick';
      else if (/\b[xy]\d*title\b/.test(cls)) kind = 'axis title';
      else if (t.closest('.annotation')) kind = 'annotation';
      else if (/gtitle/.test(cls)) kind = 'title';
      else if (t.closest('.textpoint')) kind = 'data label';
      const axis = kind === 'tick' ? (cls.match(/\b([xy]\d*)tick\b/) || [])[1] : undefined;
      texts.push({text: content.slice(0, 60), kind, size, axis, ...box(r)});
    });
    // Legend entries (symbol and text): one entry must not run into the next.
    const entries = Array.from(gd.querySelectorAll('.legend .traces')).map((g) => {
      const label = g.querySelector('text');
      const r = g.getBoundingClientRect();
      return {text: label ? (label.textContent || '').slice(0, 60) : '', kind: 'legend entry', ...box(r)};
    }).filter((e) => e.r - e.l > 0.5);
    // Panel titles under a legend (charts.base.legend_over_titles marks such figures in layout.meta):
    // the distance from the legend's bottom to the highest title.
    let titleGap = null;
    const notes = (gd.layout && gd.layout.annotations) || [];
    if (legend && gd.layout.meta && gd.layout.meta.shrinkageTitleRoom) {
      const tops = Array.from(gd.querySelectorAll('.annotation')).filter((g) => {
        const n = notes[Number(g.getAttribute('data-index'))];
        return n && n.yref === 'paper' && n.yanchor === 'bottom' && n.y > 0;
      }).map((g) => g.querySelector('text')).filter(Boolean).map((t) => t.getBoundingClientRect().top);
      if (tops.length) titleGap = Math.min(...tops) - legend.b;
    }
    figures.push({index, frame, legend, texts, entries, titleGap});
  });
  return figures;
}
"""


# Tables (st.dataframe's grids and st.table's HTML tables) whose frame runs past the column they sit
# in: the columns on the right are then cut off or out of the window (presenter mode zooms tables).
TABLES_JS = r"""
() => Array.from(document.querySelectorAll('[data-testid="stDataFrame"], [data-testid="stTable"]'))
  .filter((e) => e.offsetParent !== null)
  .map((e) => {
    const frame = e.querySelector('[data-testid="stDataFrameResizable"]') || e.querySelector('table') || e;
    const r = frame.getBoundingClientRect();
    const column = e.closest('[data-testid="stElementContainer"]').getBoundingClientRect();
    const first = e.querySelector('[role="columnheader"], th');
    const head = first ? (first.textContent || '').trim() : '';
    return {past: Math.max(r.right - column.right, r.right - window.innerWidth), head: head.slice(0, 40)};
  })
"""


def table_problems(page) -> list[str]:
    return [f"table ('{t['head']}' …) runs {t['past']:.0f} px past its column or the window"
            for t in page.evaluate(TABLES_JS) if t["past"] > TABLE_OUTSIDE_PX]


def _overlap(a: dict, b: dict) -> float:
    """How far two boxes overlap, in px: the smaller of the two overlap extents (0 if apart)."""
    dx = min(a["r"], b["r"]) - max(a["l"], b["l"])
    dy = min(a["b"], b["b"]) - max(a["t"], b["t"])
    return max(0.0, min(dx, dy))


def _outside(inner: dict, outer: dict) -> float:
    return max(outer["l"] - inner["l"], inner["r"] - outer["r"], outer["t"] - inner["t"], inner["b"] - outer["b"])


def figure_problems(figures: list[dict], presenter: bool) -> list[str]:
    """Plain sentences, one per problem: overlapping texts, texts outside the figure or the legend box,
    and in presenter mode texts under MIN_PRESENTER_PX."""
    found = []
    for fig in figures:
        where = f"figure {fig['index']}"
        texts = fig["texts"]
        for i, a in enumerate(texts):
            out = _outside(a, fig["frame"])
            if out > OUTSIDE_PX:
                found.append(f"{where}: {a['kind']} '{a['text']}' is cut off ({out:.0f} px outside the figure)")
            elif a["kind"] == "legend" and fig["legend"] is not None and _outside(a, fig["legend"]) > OUTSIDE_PX:
                found.append(f"{where}: legend entry '{a['text']}' is cut off by the legend box")
            if presenter and a["size"] < MIN_PRESENTER_PX - 0.05:
                found.append(f"{where}: {a['kind']} '{a['text']}' is {a['size']:.1f} px (< {MIN_PRESENTER_PX:.0f})")
            for b in texts[i + 1:]:
                if _overlap(a, b) > OVERLAP_PX:
                    found.append(f"{where}: {a['kind']} '{a['text']}' overlaps {b['kind']} '{b['text']}'")
        found += [f"{where}: {p}" for p in _tick_crowding(texts)]
        gap = fig.get("titleGap")
        if gap is not None and not -OVERLAP_PX <= gap <= MAX_TITLE_GAP_PX:
            found.append(f"{where}: the panel titles start {gap:.0f} px under the legend "
                         f"(should be 0–{MAX_TITLE_GAP_PX:.0f})")
        entries = fig.get("entries", [])
        for i, a in enumerate(entries):
            for b in entries[i + 1:]:
                if _overlap(a, b) > OVERLAP_PX:
                    found.append(f"{where}: legend entry '{a['text']}' runs into legend entry '{b['text']}'")
    return found


def _tick_crowding(texts: list[dict]) -> list[str]:
    """x tick labels of different panels on one row that (nearly) touch: closer than MIN_TICK_GAP_PX."""
    ticks = sorted((t for t in texts if t["kind"] == "tick" and str(t.get("axis", "")).startswith("x")),
                   key=lambda t: (round(t["t"]), t["l"]))
    found = []
    for a, b in zip(ticks, ticks[1:]):
        same_row = abs(a["t"] - b["t"]) < 2 and abs(a["b"] - b["b"]) < 2
        if same_row and a["axis"] != b["axis"] and b["l"] - a["r"] < MIN_TICK_GAP_PX:
            found.append(f"x tick labels '{a['text']}' ({a['axis']}) and '{b['text']}' ({b['axis']}) of neighbouring "
                         f"panels are {b['l'] - a['r']:.1f} px apart (< {MIN_TICK_GAP_PX:.0f})")
    return found


def measure(page) -> list[dict]:
    return page.evaluate(MEASURE_JS)


def problems(page, presenter: bool) -> list[str]:
    return figure_problems(measure(page), presenter)
