/** Time and identity sources, injected so tests control them. */
import { randomBytes } from 'node:crypto';

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** 12 hex characters: 48 random bits, plenty for ids within one session. */
export const randomSuffix = (): string => randomBytes(6).toString('hex');

export const randomSessionId = (): string => `sess_${randomBytes(8).toString('hex')}`;
