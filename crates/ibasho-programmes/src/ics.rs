//! The public iCalendar feed (RFC 5545) of the timetable, for calendar apps. Each occurrence
//! is its own event with a stable UID, so that a calendar app updates it in place when it is
//! moved or called off; exceptions, opening hours and cancellations are applied before.

use crate::catalogue::Catalogue;
use ibasho_protocol::Millis;
use ibasho_protocol::programme::{Category, Phase};
use ibasho_schedule::chrono::{DateTime, Utc};
use std::fmt::Write as _;

/// What the feed says about the space.
#[derive(Clone, Debug)]
pub struct FeedInfo<'a> {
    /// The calendar's name.
    pub name: &'a str,
    /// The page people open from an event.
    pub url: &'a str,
    /// The host part of UIDs (the public host name).
    pub uid_domain: &'a str,
}

fn utc(ms: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line, folded at 75 octets without splitting a UTF-8 character
/// (RFC 5545 §3.1), ending in CRLF.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

fn category(c: Category) -> &'static str {
    match c {
        Category::Meal => "MEAL",
        Category::Art => "ART",
        Category::Music => "MUSIC",
        Category::PeerSalon => "PEER-SALON",
        Category::Other => "OTHER",
    }
}

/// The feed for `[from, to)` as it stands at `now`.
pub fn feed(cat: &Catalogue, info: &FeedInfo<'_>, from: Millis, to: Millis, now: Millis) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//ibasho//programmes//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", text(info.name)));
    line(&mut out, &format!("X-WR-TIMEZONE:{}", cat.tz().name()));
    let stamp = utc(now);
    for e in cat.timetable(from, to, now).entries {
        let description = cat
            .programme(e.programme)
            .map(|p| p.description.clone())
            .unwrap_or_default();
        line(&mut out, "BEGIN:VEVENT");
        let mut uid = String::new();
        let _ = write!(uid, "UID:{}-{}@{}", e.session, e.start, info.uid_domain);
        line(&mut out, &uid);
        line(&mut out, &format!("DTSTAMP:{stamp}"));
        line(&mut out, &format!("DTSTART:{}", utc(e.start)));
        line(&mut out, &format!("DTEND:{}", utc(e.end)));
        line(&mut out, &format!("SUMMARY:{}", text(&e.title)));
        let description = if e.phase == Phase::Cancelled {
            format!("{}\n\n{}", e.cancel_reason, description)
        } else {
            description
        };
        if !description.trim().is_empty() {
            line(
                &mut out,
                &format!("DESCRIPTION:{}", text(description.trim())),
            );
        }
        line(&mut out, &format!("CATEGORIES:{}", category(e.category)));
        let status = if e.phase == Phase::Cancelled {
            "CANCELLED"
        } else {
            "CONFIRMED"
        };
        line(&mut out, &format!("STATUS:{status}"));
        if !info.url.is_empty() {
            line(&mut out, &format!("URL:{}", info.url));
        }
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_between_characters_and_text_is_escaped() {
        let mut out = String::new();
        let summary = format!("SUMMARY:{}", text(&"みんなでランチ, またね; \\ ".repeat(8)));
        line(&mut out, &summary);
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded.strip_suffix("\r\n"), Some(summary.as_str()));
        assert!(summary.contains("\\,") && summary.contains("\\;") && summary.contains("\\\\"));
        assert_eq!(text("a\r\nb"), "a\\nb");
    }
}
