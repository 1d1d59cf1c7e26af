// Build the app's Plotly bundle with the settings of plotly.js's own build (its esbuild-config.js),
// for the trace types in entry.js only: about a third of the full bundle, so a new tab parses and
// runs a third of the script before its first figure. Run: npm ci && npm run build (see README).
import { build } from 'esbuild';
import { environmentPlugin } from 'esbuild-plugin-environment';
import { glsl } from 'esbuild-plugin-glsl';
import InlineCSSPlugin from 'esbuild-plugin-inline-css';
import { readFileSync } from 'node:fs';

const plotlyVersion = JSON.parse(readFileSync('node_modules/plotly.js/package.json', 'utf8')).version;

await build({
  entryPoints: ['entry.js'],
  outfile: '../../static/plotly-shrinkage.min.js',
  format: 'iife',
  globalName: 'Plotly',
  bundle: true,
  minify: true,
  legalComments: 'eof',  // the licence notices of plotly.js's own dependencies, at the end
  banner: {
    js: `/*! plotly.js v${plotlyVersion} (traces: scatter, scattergl, bar, contour, heatmap, violin), built for ` +
        'Shrinkage Lab by tools/plotly_bundle. Copyright 2012-2026, Plotly, Inc. MIT license: ' +
        'https://github.com/plotly/plotly.js/blob/master/LICENSE */',
  },
  plugins: [InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
  alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
  define: { global: 'window', 'define.amd': 'false' },
  target: 'es2016',
  logLevel: 'info',
});
