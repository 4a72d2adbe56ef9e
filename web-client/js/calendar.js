// Days as the space counts them: where a day, a week or a month begins in the space's time
// zone (`time_zone` of /api/config), whatever zone the reader's device is in. The timetable,
// the session form and the statistics all speak of the space's days.

import { spaceTimeZone } from './i18n.js';

const formatters = new Map();

function clockFormatter() {
  const tz = spaceTimeZone();
  if (!formatters.has(tz)) {
    formatters.set(tz, new Intl.DateTimeFormat('en-US', {
      timeZone: tz, year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23', weekday: 'short',
    }));
  }
  return formatters.get(tz);
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The space's wall clock at `ms`: year, month (1–12), day, hour, minute, second, weekday (0 = Sunday). */
export function wallClock(ms) {
  const p = Object.fromEntries(clockFormatter().formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return {
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    hour: Number(p.hour) % 24,
    minute: Number(p.minute),
    second: Number(p.second),
    weekday: WEEKDAYS.indexOf(p.weekday),
  };
}

/** How far the space's clock is ahead of UTC at `ms`. */
function offset(ms) {
  const w = wallClock(ms);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant at which the space's clock shows this date and time. Out-of-range days and
 * months roll over (day 32 is the 1st of the next month), so that adding is simple.
 */
export function instantOf(year, month, day, hour = 0, minute = 0) {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const first = wall - offset(wall);
  // Once more, in case the offset differs on the other side of a clock change.
  return wall - offset(first);
}

export function startOfDay(ms) {
  const w = wallClock(ms);
  return instantOf(w.year, w.month, w.day);
}

export function addDays(ms, days) {
  const w = wallClock(ms);
  return instantOf(w.year, w.month, w.day + days, w.hour, w.minute);
}

/** The Monday that begins the space's week holding `ms`. */
export function startOfWeek(ms) {
  const w = wallClock(ms);
  return instantOf(w.year, w.month, w.day - ((w.weekday + 6) % 7));
}

export function startOfMonth(ms) {
  const w = wallClock(ms);
  return instantOf(w.year, w.month, 1);
}

export function addMonths(ms, months) {
  const w = wallClock(ms);
  return instantOf(w.year, w.month + months, 1);
}

const pad = (n) => String(n).padStart(2, '0');

/** `YYYY-MM-DD` of `ms` in the space. */
export function dateText(ms) {
  const w = wallClock(ms);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}`;
}

/** `HH:MM` of `ms` in the space. */
export function timeText(ms) {
  const w = wallClock(ms);
  return `${pad(w.hour)}:${pad(w.minute)}`;
}

/** `YYYY-MM` of `ms` in the space. */
export function monthText(ms) {
  const w = wallClock(ms);
  return `${w.year}-${pad(w.month)}`;
}

/** Whether two instants fall on the same day in the space. */
export function sameDay(a, b) {
  return dateText(a) === dateText(b);
}
