// Bundles the web view's browser code (src/web/client, with uPlot) and its
// styles into dist/src/web/assets — app.js, app.css — which the server
// serves: no CDN, works offline. Type-checking happens before this, with
// src/web/client/tsconfig.json.
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

const outdir = 'dist/src/web/assets';
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: { app: 'src/web/client/main.ts' },
  outdir,
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync('src/web/client/favicon.svg', `${outdir}/favicon.svg`);
