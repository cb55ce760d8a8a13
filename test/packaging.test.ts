/** What `npm pack` would publish, and what building and benchmarking leave alone. */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { writeResults } from '../bench/report.js';
import { PACKAGE_ROOT } from '../src/package-root.js';

const run = promisify(execFile);

interface PackEntry {
  readonly path: string;
}

/** The tarball's file list, as `npm pack` computes it (no scripts: dist/ is already built by `npm test`). */
async function packedFiles(): Promise<string[]> {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: PACKAGE_ROOT });
  const [pack] = JSON.parse(stdout) as Array<{ files: PackEntry[] }>;
  return (pack?.files ?? []).map((f) => f.path);
}

test('the package ships the Apache-2.0 LICENSE, the compiled code with its sources inside the maps, protos and migrations', async (t) => {
  const license = readFileSync(join(PACKAGE_ROOT, 'LICENSE'), 'utf8');
  t.regex(license, /Apache License\s+Version 2\.0, January 2004/);
  t.regex(license, /END OF TERMS AND CONDITIONS/);
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { license: string };
  t.is(pkg.license, 'Apache-2.0');

  const files = await packedFiles();
  for (const path of ['LICENSE', 'README.md', 'package.json', 'dist/src/cli/main.js', 'dist/src/index.js', 'dist/src/gen/descriptors.js', 'proto/varledger/v1/ledger.proto', 'migrations/0001_event_log.sql']) {
    t.true(files.includes(path), path);
  }
  t.false(files.some((f) => f.startsWith('dist/test/') || f.startsWith('dist/bench/') || f.startsWith('src/')), 'no tests, benchmarks or TypeScript sources');
  // A stack trace through the installed package must resolve: each map carries the text of its sources.
  const maps = files.filter((f) => f.endsWith('.js.map'));
  t.true(maps.length > 50);
  for (const path of maps) {
    const map = JSON.parse(readFileSync(join(PACKAGE_ROOT, path), 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
    const complete = map.sourcesContent?.length === map.sources.length && map.sourcesContent.every((s) => typeof s === 'string' && s.length > 0);
    if (!complete) t.fail(`${path} points at ${map.sources.join(', ')} without their text`);
  }
});

test("installing the package runs none of its scripts (no build in consumers' installs)", (t) => {
  const { scripts } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) t.is(scripts[hook], undefined, hook);
  // A clone still builds on its own: start and test build first, pack builds what it publishes.
  t.regex(scripts.start ?? '', /^npm run build/);
  t.regex(scripts.test ?? '', /^npm run build/);
  t.regex(scripts.prepack ?? '', /npm run build/);
});

test('bench results go to an untracked folder; the committed baseline changes only when asked', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'varledger-bench-results-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(dir, { recursive: true });
  const baseline = join(dir, 'core-baseline.json');
  writeFileSync(baseline, '{"kept":true}\n');
  const at = new Date(Date.UTC(2026, 0, 31, 9, 0, 0));
  const written = writeResults({ run: 1 }, at, false, dir);
  t.deepEqual(written, [join(dir, 'local', 'core-2026-01-31T09-00-00Z.json'), join(dir, 'local', 'core-latest.json')]);
  t.is(readFileSync(baseline, 'utf8'), '{"kept":true}\n');
  writeResults({ run: 2 }, at, true, dir);
  t.deepEqual(JSON.parse(readFileSync(baseline, 'utf8')), { run: 2 });
  // The tracked baseline is in git; the local folder is ignored.
  const ignore = readFileSync(join(PACKAGE_ROOT, '.gitignore'), 'utf8');
  t.regex(ignore, /^bench\/results\/local\/$/m);
});
