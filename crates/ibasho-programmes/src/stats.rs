//! The figures cities report: per session, how many came and how, first-time or returning,
//! the most at once; per month, the totals. Counts only — no one is named.

use crate::catalogue::Catalogue;
use crate::store::AttendanceRow;
use ibasho_protocol::programme::{MonthStatistics, Phase, SessionStatistics};
use ibasho_protocol::{Millis, Mode, RoomId};
use ibasho_schedule::chrono::{NaiveDate, NaiveTime};
use ibasho_schedule::recurrence::local_instant;
use std::collections::{HashMap, HashSet};

/// A room opens at most this long before its session (`open_before_minutes`).
const EARLY_MS: Millis = crate::catalogue::MAX_OPEN_BEFORE_MINUTES as Millis * 60_000;

/// The instants a month (`YYYY-MM`) starts and ends in the catalogue's time zone.
pub fn month_bounds(cat: &Catalogue, month: &str) -> Option<(Millis, Millis)> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    let next = first.checked_add_months(ibasho_schedule::chrono::Months::new(1))?;
    let start = local_instant(cat.tz(), first, NaiveTime::MIN)?;
    let end = local_instant(cat.tz(), next, NaiveTime::MIN)?;
    Some((start.timestamp_millis(), end.timestamp_millis()))
}

/// The attendance window to read for a month's sessions: rooms open before the start.
pub fn attendance_window(from: Millis, to: Millis) -> (Millis, Millis) {
    (from - EARLY_MS, to)
}

/// Builds a month's figures from the sessions that started in `[from, to)` and the
/// attendance and peaks read for them.
pub fn month(
    cat: &Catalogue,
    month: &str,
    (from, to): (Millis, Millis),
    now: Millis,
    rows: &[AttendanceRow],
    peaks: &[(RoomId, u32)],
) -> MonthStatistics {
    let mut by_room: HashMap<&RoomId, Vec<&AttendanceRow>> = HashMap::new();
    for r in rows {
        by_room.entry(&r.room).or_default().push(r);
    }
    let peaks: HashMap<&RoomId, u32> = peaks.iter().map(|(r, p)| (r, *p)).collect();
    let mut out = MonthStatistics {
        month: month.to_owned(),
        time_zone: cat.tz().name().to_owned(),
        sessions: Vec::new(),
        sessions_held: 0,
        joined: 0,
        people: 0,
        first_time: 0,
        returning: 0,
        view_only: 0,
        chat_only: 0,
        participant: 0,
    };
    let mut people = HashSet::new();
    for o in cat.occurrences(from, to) {
        if o.start < from || o.start >= to {
            continue;
        }
        let Some(p) = cat.programme(o.programme) else {
            continue;
        };
        let room = o.room();
        let here = by_room.get(&room).map(Vec::as_slice).unwrap_or_default();
        let count = |f: &dyn Fn(&AttendanceRow) -> bool| {
            u32::try_from(here.iter().filter(|r| f(r)).count()).unwrap_or(u32::MAX)
        };
        let cancelled = o.phase(now) == Phase::Cancelled;
        let s = SessionStatistics {
            title: p.title.clone(),
            category: p.category,
            start: o.start,
            end: o.end,
            cancelled,
            held: !cancelled && o.start <= now,
            joined: count(&|_| true),
            view_only: count(&|r| r.mode == Mode::ViewOnly),
            chat_only: count(&|r| r.mode == Mode::ChatOnly),
            participant: count(&|r| r.mode == Mode::Participant),
            first_time: count(&|r| r.first_time),
            returning: count(&|r| !r.first_time),
            peak: peaks.get(&room).copied().unwrap_or(0),
        };
        if s.held {
            out.sessions_held += 1;
        }
        out.joined += s.joined;
        out.first_time += s.first_time;
        out.returning += s.returning;
        out.view_only += s.view_only;
        out.chat_only += s.chat_only;
        out.participant += s.participant;
        people.extend(here.iter().map(|r| r.account));
        out.sessions.push(s);
    }
    out.people = u32::try_from(people.len()).unwrap_or(u32::MAX);
    out
}

fn csv_field(s: &str) -> String {
    // Quote when needed; neutralise a leading =, +, - or @ so that a spreadsheet does not
    // run a title as a formula.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The month as CSV (UTF-8 with a byte-order mark, so that spreadsheet programs read the
/// Japanese titles right): one row per session, then a total row. Times are local.
pub fn csv(cat: &Catalogue, m: &MonthStatistics) -> String {
    let tz = cat.tz();
    let local = |ms: Millis| {
        ibasho_schedule::chrono::DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&tz))
    };
    let mut out = String::from(
        "\u{feff}date,start,end,programme,category,status,joined,view_only,chat_only,participant,first_time,returning,peak\r\n",
    );
    for s in &m.sessions {
        let (Some(start), Some(end)) = (local(s.start), local(s.end)) else {
            continue;
        };
        let row = [
            start.format("%Y-%m-%d").to_string(),
            start.format("%H:%M").to_string(),
            end.format("%H:%M").to_string(),
            csv_field(&s.title),
            s.category.as_str().to_owned(),
            match (s.cancelled, s.held) {
                (true, _) => "cancelled",
                (false, true) => "held",
                (false, false) => "scheduled",
            }
            .to_owned(),
            s.joined.to_string(),
            s.view_only.to_string(),
            s.chat_only.to_string(),
            s.participant.to_string(),
            s.first_time.to_string(),
            s.returning.to_string(),
            s.peak.to_string(),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    let total = [
        m.month.clone(),
        String::new(),
        String::new(),
        "total".to_owned(),
        String::new(),
        format!("{} held", m.sessions_held),
        m.joined.to_string(),
        m.view_only.to_string(),
        m.chat_only.to_string(),
        m.participant.to_string(),
        m.first_time.to_string(),
        m.returning.to_string(),
        String::new(),
    ];
    out.push_str(&total.join(","));
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("ランチ"), "ランチ");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
    }
}
