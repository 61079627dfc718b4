/**
 * A module imported on first use rather than at startup, for the heavy ones a server may never
 * need (server/content/lazy.ts says what each costs). Every caller shares one load, concurrent
 * first callers included; a load that failed is tried again by the next caller, not remembered.
 */
export function lazyModule<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | null = null;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = null;
      throw error;
    });
    return loading;
  };
}
