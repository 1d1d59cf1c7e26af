"""Plotly figure builders shared by every page: the one place that decides how figures look.

One look for the whole app: the three pooling methods always have the same colour
and line style (Okabe-Ito colours, safe for colour-blind viewers, plus dashes so
they differ in greyscale too), large fonts and thick lines for projectors, and a
light and a dark variant. Builders take plain data frames, so they do not depend
on how a page computed them, and return a figure; pages add the caption.

One small file per concept: ``base`` (colours, themes, ``style``), ``pooling``
(the three methods, the shrinkage map), and one file per page family for the rest
(``lab``, ``fitting``, ``predictions``, ``model``), imported as ``charts.lab`` etc.
"""
from .base import (FONT_SIZE, LINE_WIDTH, METHOD_STYLE, METHODS, THEMES, TRUTH_COLOR,  # noqa: F401
                   colour_word, nan_join, palette, style)
from .pooling import (DIST_ORDER, bar_compare, coefficient_distributions, pooling_facets,  # noqa: F401
                      shrinkage_map, shrinkage_strip)
