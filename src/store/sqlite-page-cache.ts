/**
 * SQLite's own default page cache. better-sqlite3 builds SQLite with 16 MiB
 * instead, and a connection fills it as the file grows: on a log of 20,000
 * closed sessions that was 17 of the 35 MiB the server's RSS grew by. The
 * hot pages of the write path (the right edges of the events and chain
 * trees, the indexes' touched leaves) fit in 2 MiB many times over, and the
 * rest is one pread from the OS's page cache away: the commit, 100,000-
 * variable and history benches measured the same with 2 MiB as with 16.
 */
export const DEFAULT_CACHE_MIB = 2;
