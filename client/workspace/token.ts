/**
 * The workspace's access token: kept in localStorage under `collab.token`. A link with
 * `?token=…` stores it and removes it from the address bar (so it is not shared by copying the URL).
 */
const KEY = 'collab.token';

export function getToken(): string | null {
  try {
    return localStorage.getItem(KEY) || null;
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  try {
    if (token && token.trim() !== '') localStorage.setItem(KEY, token.trim());
    else localStorage.removeItem(KEY);
  } catch {
    // storage unavailable (private mode): the token lasts for this page only
  }
}

/** Moves `?token=` from the URL into storage. */
export function captureTokenFromUrl(): void {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (token === null) return;
  setToken(token);
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
}
