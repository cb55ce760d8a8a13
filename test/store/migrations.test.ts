import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { checkHistory, DEFAULT_MIGRATIONS_DIR, loadMigrations, MigrationError, type Migration } from '../../src/store/migrations.js';
import { migrate } from '../../src/store/sqlite-migrations.js';
import { tempDir } from './temp-store.js';

/** Writes a migrations folder with these files and returns its path. */
function migrationsDir(t: ExecutionContext, files: Record<string, string>): string {
  const dir = join(tempDir(t, 'varledger-migrations-'), 'migrations');
  mkdirSync(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

function openDb(t: ExecutionContext, path = ':memory:'): Database.Database {
  const db = new Database(path);
  t.teardown(() => db.close());
  return db;
}

const V1 = 'CREATE TABLE a (id INTEGER PRIMARY KEY);';
const V2 = 'CREATE TABLE b (id INTEGER PRIMARY KEY);\nINSERT INTO b (id) VALUES (7);';
const V3 = 'ALTER TABLE a ADD COLUMN note TEXT;';

const tables = (db: Database.Database): string[] =>
  db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];

const applied = (db: Database.Database) => db.prepare('SELECT version, name, checksum FROM schema_migrations ORDER BY version').all();

test('loadMigrations reads NNNN_name.sql files in order with SHA-256 checksums, ignoring other files', (t) => {
  const dir = migrationsDir(t, { '0002_add_b.sql': V2, '0001_create_a.sql': V1, 'README.md': '# notes', 'notes.txt': 'x' });
  const migrations = loadMigrations(dir);
  t.deepEqual(
    migrations.map((m) => [m.version, m.name, m.sql]),
    [
      [1, 'create_a', V1],
      [2, 'add_b', V2],
    ],
  );
  t.deepEqual(
    migrations.map((m) => m.checksum),
    [V1, V2].map((sql) => createHash('sha256').update(sql).digest('hex')),
  );
});

test('an empty folder has no migrations', (t) => {
  t.deepEqual(loadMigrations(migrationsDir(t, {})), []);
});

test('the shipped migrations load', (t) => {
  const migrations = loadMigrations(DEFAULT_MIGRATIONS_DIR);
  t.is(migrations[0]?.version, 1);
  t.is(migrations[0]?.name, 'event_log');
});

for (const bad of ['1_short.sql', '0001-dash.sql', '0001_Upper.sql', '0001_.sql', '00001_five.sql', '0001_sp ace.sql']) {
  test(`loadMigrations refuses the badly named file ${bad}`, (t) => {
    const dir = migrationsDir(t, { [bad]: V1 });
    t.throws(() => loadMigrations(dir), { instanceOf: MigrationError, message: `Migration file ${bad} is not named NNNN_name.sql` });
  });
}

test('loadMigrations refuses a gap in the numbering', (t) => {
  const dir = migrationsDir(t, { '0001_a.sql': V1, '0003_c.sql': V3 });
  t.throws(() => loadMigrations(dir), { instanceOf: MigrationError, message: 'Migration 0003_c is out of sequence: expected number 2' });
});

test('loadMigrations refuses numbering that does not start at 1', (t) => {
  const dir = migrationsDir(t, { '0002_b.sql': V2 });
  t.throws(() => loadMigrations(dir), { instanceOf: MigrationError, message: 'Migration 0002_b is out of sequence: expected number 1' });
});

test('loadMigrations refuses two files with the same number', (t) => {
  const dir = migrationsDir(t, { '0001_a.sql': V1, '0001_b.sql': V2 });
  t.throws(() => loadMigrations(dir), { instanceOf: MigrationError, message: 'Migration 0001_b is out of sequence: expected number 2' });
});

test('migrate applies pending migrations in order and records their checksums', (t) => {
  const migrations = loadMigrations(migrationsDir(t, { '0001_create_a.sql': V1, '0002_add_b.sql': V2, '0003_note.sql': V3 }));
  const db = openDb(t);
  t.deepEqual(migrate(db, migrations), ['0001_create_a', '0002_add_b', '0003_note']);
  t.deepEqual(tables(db), ['a', 'b', 'schema_migrations']);
  t.is(db.prepare('SELECT id FROM b').pluck().get(), 7);
  t.deepEqual(db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('a'), ['id', 'note']);
  t.deepEqual(
    applied(db),
    migrations.map((m) => ({ version: m.version, name: m.name, checksum: m.checksum })),
  );
  const times = db.prepare('SELECT applied_at FROM schema_migrations').pluck().all() as number[];
  t.true(times.every((ms) => Number.isInteger(ms) && ms > 0));
});

test('a second run applies nothing', (t) => {
  const migrations = loadMigrations(migrationsDir(t, { '0001_create_a.sql': V1, '0002_add_b.sql': V2 }));
  const db = openDb(t);
  migrate(db, migrations);
  const before = applied(db);
  t.deepEqual(migrate(db, migrations), []);
  t.deepEqual(applied(db), before);
  t.is(db.prepare('SELECT count(*) FROM b').pluck().get(), 1);
});

test('a later run applies only the new migrations, and this survives re-opening the file', (t) => {
  const path = join(tempDir(t), 'db.sqlite');
  const dir = migrationsDir(t, { '0001_create_a.sql': V1 });
  const first = new Database(path);
  t.deepEqual(migrate(first, loadMigrations(dir)), ['0001_create_a']);
  first.close();
  writeFileSync(join(dir, '0002_add_b.sql'), V2);
  writeFileSync(join(dir, '0003_note.sql'), V3);
  const db = openDb(t, path);
  t.deepEqual(migrate(db, loadMigrations(dir)), ['0002_add_b', '0003_note']);
  t.deepEqual(applied(db).map((r) => (r as { version: number }).version), [1, 2, 3]);
});

test('a failing migration applies nothing of the run', (t) => {
  const migrations = loadMigrations(migrationsDir(t, { '0001_create_a.sql': V1, '0002_broken.sql': 'CREATE TABLE b (;' }));
  const db = openDb(t);
  t.throws(() => migrate(db, migrations), { any: true, code: 'SQLITE_ERROR', message: /syntax error/ });
  t.deepEqual(tables(db), ['schema_migrations']);
  t.deepEqual(applied(db), []);
});

/** A database that applied `files`, then checked against code that has `codeFiles`. */
function refuse(t: ExecutionContext, files: Record<string, string>, codeFiles: Record<string, string>, message: string) {
  const db = openDb(t);
  migrate(db, loadMigrations(migrationsDir(t, files)));
  const before = applied(db);
  const code = loadMigrations(migrationsDir(t, codeFiles));
  t.throws(() => migrate(db, code), { instanceOf: MigrationError, message });
  t.deepEqual(applied(db), before, 'nothing applied');
  return db;
}

test('refuses a database whose history was edited (checksum differs)', (t) => {
  refuse(
    t,
    { '0001_create_a.sql': V1, '0002_add_b.sql': V2 },
    { '0001_create_a.sql': V1, '0002_add_b.sql': `${V2}\n-- a later tweak`, '0003_note.sql': V3 },
    'Migration 0002_add_b was edited after it was applied (checksum differs)',
  );
});

test('refuses a database whose history was renamed', (t) => {
  refuse(
    t,
    { '0001_create_a.sql': V1, '0002_add_b.sql': V2 },
    { '0001_create_a.sql': V1, '0002_add_bee.sql': V2 },
    'Database applied 0002_add_b where this code has 0002_add_bee: migrations were reordered or renamed',
  );
});

test('refuses a database whose history was reordered', (t) => {
  refuse(
    t,
    { '0001_create_a.sql': V1, '0002_add_b.sql': V2 },
    { '0001_add_b.sql': V2, '0002_create_a.sql': V1 },
    'Database applied 0001_create_a where this code has 0001_add_b: migrations were reordered or renamed',
  );
});

test('refuses a database newer than the code', (t) => {
  const db = refuse(
    t,
    { '0001_create_a.sql': V1, '0002_add_b.sql': V2 },
    { '0001_create_a.sql': V1 },
    'Database has migration 0002_add_b, which this code does not know: the database is newer than this varledger',
  );
  t.deepEqual(tables(db), ['a', 'b', 'schema_migrations']);
});

test('refuses a database whose applied history is missing a migration', (t) => {
  const files = { '0001_create_a.sql': V1, '0002_add_b.sql': V2, '0003_note.sql': V3 };
  const db = openDb(t);
  const migrations = loadMigrations(migrationsDir(t, files));
  migrate(db, migrations);
  db.prepare('DELETE FROM schema_migrations WHERE version = 2').run();
  t.throws(() => migrate(db, migrations), {
    instanceOf: MigrationError,
    message: 'Database migration history is missing 0002_add_b: found 0003_note in its place',
  });
});

test('checkHistory accepts any prefix of the known migrations', (t) => {
  const migrations: Migration[] = loadMigrations(migrationsDir(t, { '0001_a.sql': V1, '0002_b.sql': V2 }));
  const rows = migrations.map((m) => ({ version: m.version, name: m.name, checksum: m.checksum }));
  t.notThrows(() => checkHistory([], migrations));
  t.notThrows(() => checkHistory(rows.slice(0, 1), migrations));
  t.notThrows(() => checkHistory(rows, migrations));
  t.throws(() => checkHistory([{ version: 2, name: 'b', checksum: rows[1]?.checksum ?? '' }], migrations), {
    instanceOf: MigrationError,
    message: 'Database migration history is missing 0001_a: found 0002_b in its place',
  });
});
