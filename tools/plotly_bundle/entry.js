// The trace types Shrinkage Lab draws (charts/): scatter is in plotly.js's core; scattergl for the
// lab's map; bar, contour, heatmap and violin for the fitting, prediction and lab pages.
// tests/app/test_plotly_bundle.py checks that every figure of every page uses only these.
var Plotly = require('plotly.js/lib/core');

Plotly.register([
  require('plotly.js/lib/bar'),
  require('plotly.js/lib/contour'),
  require('plotly.js/lib/heatmap'),
  require('plotly.js/lib/violin'),
  require('plotly.js/lib/scattergl'),
]);

module.exports = Plotly;
