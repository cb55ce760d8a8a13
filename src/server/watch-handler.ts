/**
 * WatchVariables: validates the request, takes the starting point (a live
 * snapshot or a past revision) and hands the stream to the watch hub. The
 * stream's cancel/close releases the watcher at once.
 */
import type { handleServerStreamingCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { DomainError, parseIdentifier, parseRevision, parseSessionId, requireActive, type Revision } from '../domain/index.js';
import type { WatchResponse, WatchVariablesRequest } from '../gen/varledger/v1/ledger.js';
import type { LedgerService } from '../service/ledger-service.js';
import { initialChanges, type Change } from '../watch/changes.js';
import type { WatchHub } from '../watch/watch-hub.js';
import { makeFilter } from '../watch/watch-filter.js';
import { checkUtf8 } from './service-definition.js';
import { serveWatch } from './watch-stream.js';

export function watchHandler(
  service: LedgerService,
  hub: WatchHub,
  logger: Logger,
): handleServerStreamingCall<WatchVariablesRequest, WatchResponse> {
  return (call) =>
    serveWatch(call, logger, async (sink) => {
      const request = call.request;
      checkUtf8(request);
      const sessionId = parseSessionId(request.sessionId);
      const identifiers = request.identifiers.map(parseIdentifier);
      const start = parseRevision(request.startRevision);
      // A revision the caller saw on another node (or process) may not have reached this one yet:
      // fold the log in before judging it, as reads at a revision do (read-your-writes across nodes).
      if (start > service.head + 1) await service.catchUp();
      if (start > service.head + 1) {
        throw new DomainError('revision_out_of_range', `start_revision ${start} is beyond the head of the log (${service.head})`);
      }
      const matches = makeFilter({ identifiers, pattern: request.pattern });
      let position: Revision;
      let initial: readonly Change[] | undefined;
      if (start === 0) {
        await service.liveSession(sessionId);
        // Read together, in one turn: the session as of `position`, nothing applied in between.
        const session = requireActive(service.peekSession(sessionId), sessionId);
        position = service.head;
        if (request.includeInitial) initial = initialChanges(session, matches);
      } else {
        // etcd's "required revision has been compacted": the events from `start` on are not all in the log any more.
        service.requireRetained(start, 'start_revision');
        const session = (await service.findSession(sessionId)) ?? (await service.missingSession(sessionId));
        // An ended session's last event is its close or expiry: a watcher
        // starting after it would wait forever, so refuse it as a live watch is.
        if (session.status !== 'active' && start > session.modifiedRevision) requireActive(session, sessionId);
        position = (start - 1) as Revision;
        if (request.includeInitial) {
          const past = position > 0 ? await pastSession(service, sessionId, position) : undefined;
          initial = past ? initialChanges(past, matches) : [];
        }
      }
      return hub.subscribe({ sessionId, matches, sink, position, ...(initial && { initial }) });
    });
}

/** The session as it was at a revision, or undefined if it did not exist yet. */
async function pastSession(service: LedgerService, sessionId: Parameters<LedgerService['sessionAt']>[0], at: Revision) {
  try {
    return await service.sessionAt(sessionId, at);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'not_found') return undefined;
    throw error;
  }
}
