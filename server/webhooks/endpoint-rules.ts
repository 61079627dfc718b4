import { matchesPattern, patternProblem } from '../auth/patterns.js';
import { literalAddressProblem } from './address-guard.js';
import type { WebhookEventType } from './event-types.js';

const MAX_URL_CHARS = 2_048;
export const MAX_DOCUMENT_PATTERNS = 100;

/**
 * Why `url` cannot be a webhook endpoint, or null: http(s) only, no credentials (they would sit in
 * the database and in logs; sign with the secret instead), no fragment. A host that is a private
 * IP literal is refused here unless `allowPrivate`; host names are checked at delivery time, when
 * they are resolved (address-guard.ts).
 */
export function endpointUrlProblem(url: unknown, allowPrivate: boolean): string | null {
  if (typeof url !== 'string' || url === '') return 'url must be a non-empty string';
  if (url.length > MAX_URL_CHARS) return `url is longer than ${MAX_URL_CHARS} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'url must be an absolute http:// or https:// URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `url must start with http:// or https://, got "${parsed.protocol}//..."`;
  if (parsed.username || parsed.password) return 'url must not contain credentials (the signature authenticates the server)';
  if (parsed.hash) return 'url must not contain a #fragment';
  if (!parsed.hostname) return 'url has no host';
  return allowPrivate ? null : literalAddressProblem(parsed.hostname);
}

/** Why `patterns` are not document patterns for an endpoint, or null (same syntax as tokens: `team/*`). */
export function documentPatternsProblem(patterns: unknown): string | null {
  if (!Array.isArray(patterns) || patterns.length === 0) return 'documents must be a non-empty array of document names or patterns like "team/*"';
  if (patterns.length > MAX_DOCUMENT_PATTERNS) return `at most ${MAX_DOCUMENT_PATTERNS} document patterns`;
  for (const pattern of patterns) {
    const problem = patternProblem(pattern);
    if (problem) return problem;
  }
  return null;
}

/** What an endpoint subscribes to. */
export interface EndpointFilter {
  events: readonly WebhookEventType[];
  documents: readonly string[];
}

export function endpointWants(endpoint: EndpointFilter, type: WebhookEventType, document: string): boolean {
  return endpoint.events.includes(type) && endpoint.documents.some((pattern) => matchesPattern(pattern, document));
}
