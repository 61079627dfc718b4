import { describe, expect, it } from 'vitest';
import { startRefused } from '../helpers/server.js';

describe('configuration', () => {
  it.each([
    ['PORT', 'eighty', /PORT must be a whole number/],
    ['PORT', '70000', /PORT must be between 0 and 65535/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of/],
    ['SQLITE_SYNCHRONOUS', 'sometimes', /SQLITE_SYNCHRONOUS must be one of full, normal/],
    ['MAX_FILE_BYTES', '10MB', /MAX_FILE_BYTES must be a whole number/],
    ['UNREFERENCED_FILE_GRACE_MS', '1000', /UNREFERENCED_FILE_GRACE_MS must be between 60000 and/],
    ['WS_COMPRESSION', 'maybe', /WS_COMPRESSION must be one of on, off/],
    ['LOG_PROTOCOL', 'team/*,bell\u0007', /LOG_PROTOCOL must be a comma-separated list of document patterns like team\/\* \(document pattern contains control characters/],
  ])('refuses %s=%s at start with a message naming the variable', async (key, value, message) => {
    // startRefused kills a server that starts anyway (and fails the test) instead of leaving it running.
    const output = await startRefused({ env: { [key]: value } });
    expect(output).toMatch(/exited with 78/);
    expect(output).toMatch(message);
  });
});
