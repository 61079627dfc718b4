import { describe, expect, it } from 'vitest';
import { normalizeOrigin, originPolicy, originProblem } from '../../server/auth/origin.js';
import { creationPrefix, grants, matchesPattern, patternProblem } from '../../server/auth/patterns.js';

describe('document patterns', () => {
  it.each([
    ['readme', 'readme', true],
    ['readme', 'readme2', false],
    ['team/*', 'team/a', true],
    ['team/*', 'team/a/b', true],
    ['team/*', 'team/', true],
    ['team/*', 'team', false],
    ['team/*', 'teams/a', false],
    ['*', 'anything at all', true],
    ['*/notes', 'x/notes', true],
    ['*/notes', 'x/notes/y', false],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXcYYb', false],
    ['a.b', 'aXb', false],
    ['(x)+', '(x)+', true],
  ])('%s against %s: %s', (pattern, name, expected) => {
    expect(matchesPattern(pattern, name)).toBe(expected);
  });

  // No stopwatch (the machine is shared): an input on which backtracking over the stars would need
  // about C(20000, 25) steps, i.e. never finish, must be answered at all within the test's deadline.
  it('matches without backtracking however many stars there are', { timeout: 10_000 }, () => {
    expect(matchesPattern(`${'*a'.repeat(25)}*b`, 'a'.repeat(20_000))).toBe(false);
    expect(matchesPattern(`${'*a'.repeat(25)}*b`, `${'a'.repeat(20_000)}b`)).toBe(true);
  });

  it('grants by any pattern and finds a prefix for unnamed new documents', () => {
    expect(grants(['x', 'team/*'], 'team/q')).toBe(true);
    expect(grants(['x', 'team/*'], 'y')).toBe(false);
    expect(creationPrefix(['readme', 'team/*'])).toBe('team/');
    expect(creationPrefix(['*'])).toBe('');
    expect(creationPrefix(['readme', 'a*b'])).toBeNull();
  });

  it('validates patterns', () => {
    expect(patternProblem('ok/*')).toBeNull();
    expect(patternProblem('')).toMatch(/empty/);
    expect(patternProblem(5)).toMatch(/strings/);
    expect(patternProblem('x'.repeat(300))).toMatch(/longer/);
  });
});

describe('origins', () => {
  it('normalizes origins and refuses what is not one', () => {
    expect(normalizeOrigin('HTTPS://App.Example.com:443')).toBe('https://app.example.com');
    expect(normalizeOrigin('http://localhost:3000/')).toBe('http://localhost:3000');
    expect(normalizeOrigin('https://app.example.com/path')).toBeNull();
    expect(normalizeOrigin('file:///etc')).toBeNull();
    expect(normalizeOrigin('null')).toBeNull();
  });

  it('allows no Origin, the own origin and listed ones; refuses others', () => {
    const policy = originPolicy(['https://app.example.com']);
    expect(originProblem(undefined, 'docs.example.com', policy)).toBeNull();
    expect(originProblem('https://docs.example.com', 'docs.example.com', policy)).toBeNull();
    expect(originProblem('https://app.example.com', 'docs.example.com', policy)).toBeNull();
    expect(originProblem('https://evil.example', 'docs.example.com', policy)).toMatch(/not allowed/);
    expect(originProblem('null', 'docs.example.com', policy)).toMatch(/not allowed/);
    expect(originProblem('http://docs.example.com', 'docs.example.com:80', policy)).toBeNull();
  });

  it('defaults to the own origin (open or with tokens: the policy does not depend on the mode); * allows any', () => {
    // An open server that admitted any origin could be read and written by every page its user visits.
    expect(originProblem('https://evil.example', 'h', originPolicy(null))).toMatch(/not allowed/);
    expect(originProblem('https://evil.example', 'h', originPolicy(['*']))).toBeNull();
  });
});
