import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/** JSON logs on stdout. Callers log names and sizes, never document content or tokens. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'collab-docs' } });
}
