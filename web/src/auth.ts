/**
 * The API token of the local runtime. It arrives once in the URL fragment (`#token=…`, which
 * never reaches a server or a Referer), is kept for the tab's session only, and the fragment is
 * replaced at once so the token does not stay in the address bar or the history.
 */
const KEY = "keyheal.apiToken";

export function readToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}

/**
 * Takes `#token=…` out of the address (keeping any page route after it) into the session.
 * True when there was one.
 */
export function adoptTokenFromHash(): boolean {
  const match = /^#token=([^&]+)(?:&(.*))?$/.exec(window.location.hash);
  if (!match?.[1]) return false;
  saveToken(decodeURIComponent(match[1]));
  const rest = match[2] ?? "";
  const route = rest.startsWith("/") ? `#${rest}` : "#/devices";
  window.history.replaceState(
    null,
    "",
    `${window.location.pathname}${window.location.search}${route}`,
  );
  return true;
}
