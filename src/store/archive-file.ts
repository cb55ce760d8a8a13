/**
 * A retention archive on disk, in the export format (export-format.ts): one
 * JSON line per removed event with its chain hash, so `varledger import`
 * reads it and `verify --archive` proves it against the live chain.
 *
 * Written to `<path>.partial`, fsynced, then renamed to `path` before the
 * compaction's deletion commits: whenever the removal is durable, so is the
 * archive under its final name. An existing archive is never overwritten.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ArchivedRow, ArchiveWriter } from './compaction.js';
import { toExported } from './export-format.js';

export class ArchiveExistsError extends Error {
  override name = 'ArchiveExistsError';
}

export class ArchiveFile implements ArchiveWriter {
  private fd: number | undefined;
  private readonly hash: Hash = createHash('sha256');
  private readonly partial: string;
  private renamed = false;

  constructor(private readonly path: string) {
    if (existsSync(path)) throw new ArchiveExistsError(`the archive ${path} exists already; give a new file name`);
    this.partial = `${path}.partial`;
  }

  write(rows: readonly ArchivedRow[]): void {
    // 'w': a .partial left by a compaction that failed earlier is stale.
    this.fd ??= openSync(this.partial, 'w');
    let text = '';
    for (const row of rows) text += `${JSON.stringify(toExported(row))}\n`;
    this.hash.update(text);
    writeSync(this.fd, text);
  }

  finish(): string {
    this.fd ??= openSync(this.partial, 'w');
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
    renameSync(this.partial, this.path);
    this.renamed = true;
    // The rename itself must survive a crash too.
    const dir = openSync(dirname(this.path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    return this.hash.digest('hex');
  }

  discard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.renamed ? this.path : this.partial, { force: true });
  }
}
