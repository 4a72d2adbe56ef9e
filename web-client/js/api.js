// The HTTP side: every endpoint of the "HTTP API" in docs/protocol.md that the client uses.
// Problem responses (RFC 9457) become an ApiError with the stable `code`, the `field` at fault
// and, for 429, the wait from Retry-After. Calls that need the access token take it from the
// session (session.js), which renews it once when the server answers 401 `unauthorized`.

/** An HTTP problem or a network failure. */
export class ApiError extends Error {
  constructor(code, { detail = '', status = 0, field = null, retryAfter = null, body = null } = {}) {
    super(detail || code);
    this.code = code;
    this.detail = detail;
    this.status = status;
    this.field = field;
    // Seconds, from Retry-After.
    this.retryAfter = retryAfter;
    // The whole problem body (some carry more, such as the bookings in the way).
    this.body = body;
  }
}

async function problemFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // A proxy's HTML error page, say: fall back to the status.
  }
  const fallback = response.status === 401 ? 'unauthorized'
    : response.status === 429 ? 'rate_limited'
      : response.status === 503 ? 'unavailable' : 'internal';
  const retry = Number(response.headers.get('Retry-After'));
  return new ApiError(body?.code || fallback, {
    detail: body?.detail || '',
    status: response.status,
    field: body?.field || null,
    retryAfter: Number.isFinite(retry) && retry > 0 ? retry : null,
    body,
  });
}

/** Where authenticated calls get their token: set once by main.js. */
let tokens = { token: () => null, renew: async () => 'ended' };

export function setTokenSource(source) {
  tokens = source;
}

async function send(method, path, { body, raw, auth = false, renewed = false } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  // A file as it is (a gallery upload), with its own media type.
  if (raw) headers['Content-Type'] = raw.type;
  if (auth) {
    const token = tokens.token();
    if (token) headers.Authorization = `Bearer ${token}`;
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: raw ? raw.body : (body === undefined ? undefined : JSON.stringify(body)),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError('network');
  }
  if (response.ok) return response;
  const problem = await problemFrom(response);
  // An expired access token: renew it once and ask again. Other 401s (a wrong current
  // passphrase, say) are answers, not expiry.
  if (auth && !renewed && problem.status === 401 && problem.code === 'unauthorized') {
    if ((await tokens.renew()) === 'ok') return send(method, path, { body, raw, auth, renewed: true });
  }
  throw problem;
}

async function json(method, path, options) {
  const response = await send(method, path, options);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

const seg = (s) => encodeURIComponent(s);

// ---- public ---------------------------------------------------------------------------------

/** The public configuration: home page words, crisis contacts, limits, guest entry. */
export const getConfig = () => json('GET', '/api/config');

/** The signed-in person for `token`, or null when it is missing or no longer valid. */
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
export const enterAsGuest = (handle, avatar) => json('POST', '/api/guest', { body: { handle, avatar } });

export const apply = (body) => json('POST', '/api/applications', { body });
export const previewInvitation = (token) => json('GET', `/api/invitations/${seg(token)}`);
export const register = (body) => json('POST', '/api/register', { body });
export const signIn = (body) => json('POST', '/api/sign-in', { body });

// ---- one's own account ---------------------------------------------------------------------

export const getMe = () => json('GET', '/api/me', { auth: true });
export const updateProfile = (body) => json('PUT', '/api/me/profile', { body, auth: true });
export const changeSecret = (kind, body) => json('PUT', `/api/me/${kind === 'password' ? 'password' : 'passphrase'}`, { body, auth: true });
export const totpSetup = () => json('POST', '/api/me/totp/setup', { auth: true });
export const totpEnable = (secret, code) => json('POST', '/api/me/totp', { body: { secret, code }, auth: true });
export const totpDisable = (code) => json('DELETE', '/api/me/totp', { body: { code }, auth: true });
export const deleteMe = (confirm) => json('DELETE', '/api/me', { body: { confirm }, auth: true });

/** Everything stored about me: the raw JSON text (to save as a file) and its parsed form. */
export async function exportMe() {
  const response = await send('GET', '/api/me/export', { auth: true });
  const text = await response.text();
  return { text, data: JSON.parse(text) };
}

// ---- staff -------------------------------------------------------------------------------

export const listApplications = (status) => json('GET', `/api/staff/applications?status=${seg(status)}`, { auth: true });
export const decideApplication = (id, verb, body) => json('POST', `/api/staff/applications/${seg(id)}/${verb}`, { body, auth: true });
export const listInvitations = () => json('GET', '/api/staff/invitations', { auth: true });
export const createInvitation = (body) => json('POST', '/api/staff/invitations', { body, auth: true });
export const revokeInvitation = (id) => json('POST', `/api/staff/invitations/${seg(id)}/revoke`, { auth: true });

// ---- programmes, the timetable, the gallery, statistics ---------------------------------------

/** Public: the occurrences overlapping `[from, to)` (milliseconds; at most 62 days). */
export const getTimetable = (from, to) => json('GET', `/api/timetable?from=${Math.floor(from)}&to=${Math.floor(to)}`);
/** Public: the programmes on offer (for the gallery). */
export const listProgrammes = () => json('GET', '/api/programmes');
/** Public: one programme and its sessions: `{programme, sessions}`. */
export const getProgramme = (id) => json('GET', `/api/programmes/${seg(id)}`);
export const listAllProgrammes = () => json('GET', '/api/staff/programmes', { auth: true });
export const createProgramme = (body) => json('POST', '/api/programmes', { body, auth: true });
export const updateProgramme = (id, body) => json('PUT', `/api/programmes/${seg(id)}`, { body, auth: true });
export const archiveProgramme = (id) => json('POST', `/api/programmes/${seg(id)}/archive`, { auth: true });
export const createSession = (programme, body) => json('POST', `/api/programmes/${seg(programme)}/sessions`, { body, auth: true });
export const updateSession = (id, body) => json('PUT', `/api/sessions/${seg(id)}`, { body, auth: true });
/** A schedule's next occurrences before saving: `{occurrences: [{start, end, outside_hours}]}`. */
export const previewSessions = (body) => json('POST', '/api/sessions/preview', { body, auth: true });
/** Calls off one occurrence (`start`) or, without it, the rest of the series. */
export const cancelSession = (id, body) => json('POST', `/api/sessions/${seg(id)}/cancel`, { body, auth: true });
/** A programme's introduction file, sent as it is → the programme. */
export const uploadGallery = (id, file) => json('PUT', `/api/programmes/${seg(id)}/gallery`, { raw: { body: file, type: file.type }, auth: true });
export const removeGallery = (id) => json('DELETE', `/api/programmes/${seg(id)}/gallery`, { auth: true });
export const monthStatistics = (month) => json('GET', `/api/staff/statistics?month=${seg(month)}`, { auth: true });

/** The month's figures as a CSV file: its text and the name the server gives it. */
export async function statisticsCsv(month) {
  const response = await send('GET', `/api/staff/statistics.csv?month=${seg(month)}`, { auth: true });
  const disposition = response.headers.get('Content-Disposition') || '';
  const name = disposition.match(/filename="([^"]+)"/)?.[1] || `ibasho-${month}.csv`;
  return { blob: await response.blob(), name };
}

// ---- consults ----------------------------------------------------------------------------

/** Staff: every counsellor with their profile: `[{account, handle, professions, capacity, supervisor}]`. */
export const listCounsellors = () => json('GET', '/api/counsellors', { auth: true });
/** Staff: sets a counsellor's `{professions, capacity, supervisor}` → the same entry. */
export const updateCounsellor = (account, body) => json('PUT', `/api/counsellors/${seg(account)}`, { body, auth: true });
/** Counsellors and staff: messages left to be contacted, not yet handled. */
export const listLeftMessages = () => json('GET', '/api/consults/messages', { auth: true });
export const markMessageHandled = (consult) => json('POST', `/api/consults/messages/${seg(String(consult))}/handled`, { auth: true });

// ---- admin -------------------------------------------------------------------------------

export const listAccounts = (q, limit = 200) => json('GET', `/api/admin/accounts?q=${seg(q)}&limit=${limit}`, { auth: true });
export const accountAction = (id, verb, body) => json('POST', `/api/admin/accounts/${seg(id)}/${verb}`, { body, auth: true });
export const deleteAccount = (id, reason) => json('DELETE', `/api/admin/accounts/${seg(id)}`, { body: { reason }, auth: true });
export const auditLog = (limit = 200) => json('GET', `/api/admin/audit?limit=${limit}`, { auth: true });

// ---- appointments (予約) ------------------------------------------------------------------------

/** Free slots: `filters` `{weeks, profession, for_whom, topic, counsellor}` (empty ones left out). */
export function freeSlots(filters = {}) {
  const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  return json('GET', `/api/appointments/slots?${q}`, { auth: true });
}
export const listAppointments = () => json('GET', '/api/appointments', { auth: true });
export const bookAppointment = (body) => json('POST', '/api/appointments', { body, auth: true });
export const cancelAppointment = (id, message) => json('POST', `/api/appointments/${seg(String(id))}/cancel`, { body: message ? { message } : {}, auth: true });
export const moveAppointment = (id, body) => json('POST', `/api/appointments/${seg(String(id))}/move`, { body, auth: true });
export const listSlotRules = (counsellor) => json('GET', `/api/appointment-rules${counsellor ? `?counsellor=${seg(counsellor)}` : ''}`, { auth: true });
export const createSlotRule = (body) => json('POST', '/api/appointment-rules', { body, auth: true });
export const previewSlotRule = (body) => json('POST', '/api/appointment-rules/preview', { body, auth: true });
/** Deletes a rule; a 409 `appointments_booked` carries the bookings in `err.body.appointments`. */
export const deleteSlotRule = (id, message) => json('DELETE', `/api/appointment-rules/${seg(String(id))}`, { body: message ? { message } : {}, auth: true });
export const appointmentsDay = (date) => json('GET', `/api/staff/appointments?date=${seg(date)}`, { auth: true });
export const appointmentsMonth = (month) => json('GET', `/api/staff/appointments/stats?month=${seg(month)}`, { auth: true });
/** The month's bookings as CSV: `{blob, name}`. */
export async function appointmentsCsv(month) {
  const response = await send('GET', `/api/staff/appointments.csv?month=${seg(month)}`, { auth: true });
  const disposition = response.headers.get('Content-Disposition') || '';
  const name = disposition.match(/filename="([^"]+)"/)?.[1] || `ibasho-appointments-${month}.csv`;
  return { blob: await response.blob(), name };
}
