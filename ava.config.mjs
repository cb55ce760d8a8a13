// ava's configuration (a file rather than package.json: the sort order below is a function).
//
// Slowest files first: ava starts files in this order, `concurrency` at a time,
// so a long file started last would leave the other workers idle while it runs
// alone. These are the files that take longest on their own (seconds of wall time,
// 2-core machine; re-measure with `node scripts/test.mjs <file>` when a file grows).
// Every other file keeps the usual path order.
const SLOW_FIRST = [
  'readme/readme', // every README block, twice
  'web/web-browser', // chromium
  'cli/audit',
  'tools/cli-tools',
  'watch/watch-slow-consumer',
  'process/config',
  'postgres/cli-postgres',
  'postgres/two-nodes',
  'process/two-servers-liveness',
  'history/snapshot-property',
  'auth/serve-security',
  'history/snapshots',
  'cli/verify',
  'cli/export-import',
].map((name) => `dist/test/${name}.test.js`);

const rank = (file) => {
  const i = SLOW_FIRST.findIndex((suffix) => file.endsWith(suffix));
  return i === -1 ? SLOW_FIRST.length : i;
};

export default {
  files: ['dist/test/**/*.test.js'],
  timeout: '60s',
  nodeArguments: ['--enable-source-maps'],
  sortTestFiles: (a, b) => rank(a) - rank(b) || a.localeCompare(b, [], { numeric: true }),
};
