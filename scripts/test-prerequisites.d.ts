// Types of scripts/test-prerequisites.js (plain JavaScript so that `npm test` can run it before any build).
type Env = Record<string, string | undefined>;

export interface Prerequisite {
  tool: string;
  /** The Debian package that provides it. */
  package: string;
  usedBy: string;
  lookedFor: string;
  found: string | null;
}

export type InstallPlan =
  | { action: 'none' }
  | { action: 'install'; commands: string[][] }
  | { action: 'stop'; why: string; command: string };

export function findOnPath(name: string, env?: Env, extraDirs?: string[]): string | null;
export function findChromium(env?: Env): string | null;
export function findRedisServer(env?: Env): string | null;
export function findPgBin(env?: Env): string | null;
export function findNginx(env?: Env): string | null;
export function prerequisites(env?: Env): Prerequisite[];
export function manualInstallCommand(packages: string[]): string;
export function installPlan(options: { packages: string[]; isRoot: boolean; aptGet: string | null; passwordlessSudo: boolean }): InstallPlan;
export function main(env?: Env, log?: (message: string) => void, fail?: (message: string) => void): number;
