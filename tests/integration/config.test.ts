import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/server.js';

describe('configuration', () => {
  it.each([
    ['PORT', 'eighty', /PORT must be a whole number/],
    ['PORT', '70000', /PORT must be between 0 and 65535/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of/],
    ['SQLITE_SYNCHRONOUS', 'sometimes', /SQLITE_SYNCHRONOUS must be one of full, normal/],
  ])('refuses %s=%s at start with a message naming the variable', async (key, value, message) => {
    const error = await startServer({ env: { [key]: value } }).then(
      () => null,
      (failure: Error) => failure,
    );
    expect(error?.message).toMatch(/exited with 78/);
    expect(error?.message).toMatch(message);
  });
});
