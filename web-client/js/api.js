// The HTTP side: the stored access token, guest entry and "who am I".

const TOKEN_KEY = 'ibasho.token';

export function storedToken() {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function storeToken(token) {
  try {
    localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Private modes may refuse storage; the session still works until the page closes.
  }
}

export function forgetToken() {
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Nothing stored, nothing to forget.
  }
}

/**
 * A sign-in link carries the token in the fragment (never sent to any server). Takes it,
 * stores it, and removes it from the address bar so it does not linger in history or get
 * copied along with the address.
 */
export function takeTokenFromLocation() {
  const hash = location.hash.startsWith('#') ? location.hash.slice(1) : location.hash;
  const params = new URLSearchParams(hash);
  const token = params.get('token');
  if (!token) return null;
  storeToken(token);
  params.delete('token');
  const rest = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  return token;
}

/** An HTTP problem (RFC 9457) or a network failure, with a stable `code`. */
export class ApiError extends Error {
  constructor(code, detail, status = 0) {
    super(detail || code);
    this.code = code;
    this.detail = detail || '';
    this.status = status;
  }
}

async function problemFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // A proxy's HTML error page, say: fall back to the status.
  }
  const code = body?.code || (response.status === 401 ? 'unauthorized' : 'internal');
  return new ApiError(code, body?.detail || '', response.status);
}

/** The signed-in person, or null when the token is missing or no longer valid. */
export async function fetchMe(token) {
  if (!token) return null;
  let response;
  try {
    response = await fetch('/api/me', { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
  } catch {
    throw new ApiError('network');
  }
  if (response.status === 401) return null;
  if (!response.ok) throw await problemFrom(response);
  return response.json();
}

/** Guest entry: `{handle, avatar}` → `{token, me}`. */
export async function enterAsGuest(handle, avatar) {
  let response;
  try {
    response = await fetch('/api/guest', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ handle, avatar }),
    });
  } catch {
    throw new ApiError('network');
  }
  if (!response.ok) throw await problemFrom(response);
  return response.json();
}
