// Where the page gets its token when the server uses tokens (docs/client.md):
// a callback the hosting page defines, `window.chathubToken = async () => '...'`,
// asked again for every connection and every refresh; or a token handed over
// in the page address as `#token=...`, taken out of the address bar at once
// (so it is not bookmarked or shared) and kept for this tab only.

const KEY = 'chathub.token';

export class TokenSource {
  #callback;
  #fixed;

  constructor({ callback = globalThis.chathubToken, hash = location.hash, storage = sessionStorage } = {}) {
    this.#callback = typeof callback === 'function' ? callback : null;
    const fromHash = new URLSearchParams(hash.replace(/^#/, '')).get('token');
    if (fromHash) {
      try { storage.setItem(KEY, fromHash); } catch { /* storage disabled: memory only */ }
      history.replaceState(null, '', location.pathname + location.search);
    }
    let stored = null;
    try { stored = storage.getItem(KEY); } catch { /* storage disabled */ }
    this.#fixed = fromHash ?? stored;
  }

  /** True when there is any token to send: the server then wants no name=. */
  get present() {
    return this.#callback !== null || this.#fixed !== null;
  }

  /** True when a fresh token can be had before the current one expires. */
  get renewable() {
    return this.#callback !== null;
  }

  /** The token for the next connection or refresh; null when there is none. */
  async get() {
    if (this.#callback) return (await this.#callback()) || null;
    return this.#fixed;
  }
}

/** A JWT's exp in milliseconds since the epoch, or null (the client only reads it, the server checks it). */
export function tokenExpiry(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const exp = JSON.parse(atob(payload)).exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * When to ask for a fresh token: a third of the lifetime before it ends, but no
 * more than a minute early, so short tokens refresh in time and long ones not too soon.
 */
export function refreshDelayMs(expiresAtMs, issuedAtMs, nowMs = Date.now()) {
  const lead = Math.min(60000, Math.max(1000, (expiresAtMs - issuedAtMs) / 3));
  return Math.max(0, expiresAtMs - lead - nowMs);
}
