/**
 * Batched reads that never split a commit: a commit's events are seen
 * together by every reader (guarantee 3), so a batch that a limit cut inside
 * a commit drops that commit's head for the next batch, or, when the batch
 * is a single commit, reads on to its end.
 */
import type { Revision, StoredEvent } from '../domain/index.js';

export type ReadAfter = (after: Revision, limit: number) => StoredEvent[];

export function readWholeCommits(read: ReadAfter, after: Revision, limit: number): StoredEvent[] {
  const events = read(after, limit);
  if (events.length < limit) return events;
  const lastCommit = (events[events.length - 1] as StoredEvent).commitId;
  const firstOfLast = events.findIndex((e) => e.commitId === lastCommit);
  if (firstOfLast > 0) return events.slice(0, firstOfLast);
  let all = events;
  for (;;) {
    const more = read((all[all.length - 1] as StoredEvent).revision, limit);
    const same = more.filter((e) => e.commitId === lastCommit);
    all = all.concat(same);
    if (same.length < more.length || more.length < limit) return all;
  }
}
