/**
 * How the PostgreSQL store reads column types: bigint columns as numbers.
 * Revisions, versions and times stay far below 2^53, and the rest of the
 * code (and the hash chain, which hashes JSON numbers) expects numbers.
 */
import pg from 'pg';

const INT8_OID = 20;

export const PG_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};
