/**
 * `npm run token -- ...`: mints, inspects and revokes access tokens with AUTH_SECRET from the
 * environment (the same variable the server reads). See docs/security.md.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import path from 'node:path';
import { addRevocation } from '../auth/revocation.js';
import { AuthError, MIN_SECRET_LENGTH, importSecret, mintToken, parseDuration, verifyToken } from '../auth/tokens.js';

const USAGE = `Usage:
  npm run token -- --subject <name> --documents <pattern> [--documents <pattern> ...]
                   [--read-only] [--admin] [--expires-in <8h|30m|7d|seconds>] [--json] [--link <base url>]
      Prints a new token. Patterns are exact document names or contain * (team/* , *).
      Default: read and write, expires in 8h.
  npm run token -- verify <token>
      Checks a token against AUTH_SECRET and prints its claims.
  npm run token -- revoke (--token <token> | --token-id <jti> | --subject <name>)
      Revokes one token, or every token of a subject issued until now (and up to 60 s after, since
      clocks that mint tokens may run ahead: mint a replacement a minute later). Writes REVOCATION_FILE
      (default DATA_DIR/revoked-tokens.json, i.e. ./data/revoked-tokens.json); running servers
      that read that file end the affected connections within a second.

Environment: AUTH_SECRET (required, ${MIN_SECRET_LENGTH}+ characters), DATA_DIR, REVOCATION_FILE.`;

class UsageError extends Error {}

function secretFromEnv(): string {
  const secret = process.env.AUTH_SECRET;
  if (!secret) throw new UsageError('AUTH_SECRET is not set: export the same secret the server uses');
  if (secret.length < MIN_SECRET_LENGTH) throw new UsageError(`AUTH_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
  return secret;
}

type Values = Record<string, string | boolean | Array<string | boolean> | undefined>;

function parse(args: string[], options: ParseArgsConfig['options']): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function mint(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    subject: { type: 'string', short: 's' },
    documents: { type: 'string', short: 'd', multiple: true },
    'read-only': { type: 'boolean' },
    admin: { type: 'boolean' },
    'expires-in': { type: 'string', short: 'e' },
    json: { type: 'boolean' },
    link: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const subject = values.subject as string | undefined;
  if (!subject) throw new UsageError('--subject is required (who the token is for)');
  const documents = (values.documents as string[] | undefined) ?? [];
  if (documents.length === 0) throw new UsageError("--documents is required (e.g. --documents 'team/*', or '*' for all)");
  const expiresIn = (values['expires-in'] as string | undefined) ?? '8h';
  const seconds = parseDuration(expiresIn);
  if (seconds === null) throw new UsageError(`--expires-in must look like 90s, 15m, 8h or 30d, got "${expiresIn}"`);
  let link: URL | null = null;
  if (values.link !== undefined) {
    try {
      link = new URL(values.link as string);
    } catch {
      throw new UsageError(`--link must be a URL like https://docs.example.com/, got "${values.link}"`);
    }
  }
  const key = await importSecret(secretFromEnv());
  let token: string;
  try {
    token = await mintToken(key, { subject, documents, canWrite: !values['read-only'], admin: values.admin === true, expiresInSeconds: seconds });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const claims = await verifyToken(key, token);
  if (values.json) {
    process.stdout.write(JSON.stringify({ token, claims }, null, 2) + '\n');
    return;
  }
  if (link) {
    link.searchParams.set('token', token);
    process.stdout.write(link.href + '\n');
  } else {
    process.stdout.write(token + '\n');
  }
  process.stderr.write(
    `token for ${subject}: ${claims.write ? 'read and write' : 'read-only'}${claims.admin ? ', admin' : ''}, documents ${documents.join(' ')}, ` +
      `expires ${new Date(claims.exp * 1000).toISOString()}, id ${claims.jti}\n`,
  );
}

async function verify(args: string[]): Promise<void> {
  const { positionals } = parse(args, {});
  if (positionals.length !== 1) throw new UsageError('verify takes one token');
  const key = await importSecret(secretFromEnv());
  try {
    process.stdout.write(JSON.stringify(await verifyToken(key, positionals[0]!), null, 2) + '\n');
  } catch (error) {
    if (error instanceof AuthError) throw new UsageError(error.message);
    throw error;
  }
}

async function revoke(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    token: { type: 'string' },
    'token-id': { type: 'string' },
    subject: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const given = ['token', 'token-id', 'subject'].filter((name) => values[name] !== undefined);
  if (given.length !== 1) throw new UsageError('revoke takes exactly one of --token, --token-id, --subject');
  const file = path.resolve(process.env.REVOCATION_FILE?.trim() || path.join(process.env.DATA_DIR?.trim() || 'data', 'revoked-tokens.json'));
  if (values.token !== undefined) {
    const key = await importSecret(secretFromEnv());
    let claims;
    try {
      claims = await verifyToken(key, values.token as string);
    } catch (error) {
      if (error instanceof AuthError && error.message === 'token expired') {
        process.stderr.write('that token has expired already; nothing to revoke\n');
        return;
      }
      if (error instanceof AuthError) throw new UsageError(error.message);
      throw error;
    }
    if (!claims.jti) throw new UsageError('that token has no id (jti): revoke its subject with --subject instead');
    addRevocation(file, { tokenId: claims.jti, expiresAt: claims.exp });
    process.stderr.write(`revoked token ${claims.jti} of ${claims.sub} in ${file}\n`);
  } else if (values['token-id'] !== undefined) {
    addRevocation(file, { tokenId: values['token-id'] as string });
    process.stderr.write(`revoked token ${values['token-id']} in ${file}\n`);
  } else {
    addRevocation(file, { subject: values.subject as string });
    process.stderr.write(`revoked every token of ${values.subject} issued until now, in ${file}\n`);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'verify') await verify(rest);
    else if (command === 'revoke') await revoke(rest);
    else if (command === 'help') process.stdout.write(USAGE + '\n');
    else if (command === undefined) throw new UsageError('no arguments');
    else if (command.startsWith('-')) await mint(argv);
    else throw new UsageError(`unknown command "${command}"`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
