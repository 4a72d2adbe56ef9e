//! Handle rules. A handle is the pseudonym others see. It is normalised to NFC, must be
//! between [`Limits::handle_min_chars`] and [`Limits::handle_max_chars`] characters, may not
//! contain control, format (invisible) or line-breaking characters, may not start or end with
//! a space or hold two spaces in a row, and is unique compared case-insensitively
//! ([`handle_key`]).

use crate::Limits;
use unicode_normalization::UnicodeNormalization;

/// Why a handle was refused. The message is shown to the person choosing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandleError {
    /// Fewer characters than the minimum.
    TooShort(usize),
    /// More characters than the maximum.
    TooLong(usize),
    /// A control, invisible or line-breaking character.
    ForbiddenCharacter(char),
    /// A space at either end, or two in a row.
    BadSpacing,
}

impl std::fmt::Display for HandleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooShort(min) => write!(f, "a handle needs at least {min} characters"),
            Self::TooLong(max) => write!(f, "a handle may have at most {max} characters"),
            Self::ForbiddenCharacter(c) => {
                write!(
                    f,
                    "a handle may not contain the character U+{:04X}",
                    *c as u32
                )
            }
            Self::BadSpacing => f.write_str(
                "a handle may not start or end with a space or contain two spaces in a row",
            ),
        }
    }
}

/// Normalises `raw` to NFC and checks it against the rules. Returns the handle to store.
pub fn normalize_handle(raw: &str, limits: &Limits) -> Result<String, HandleError> {
    let handle: String = raw.nfc().collect();
    let chars = handle.chars().count();
    if chars < limits.handle_min_chars {
        return Err(HandleError::TooShort(limits.handle_min_chars));
    }
    if chars > limits.handle_max_chars {
        return Err(HandleError::TooLong(limits.handle_max_chars));
    }
    if let Some(c) = handle.chars().find(|&c| is_forbidden(c)) {
        return Err(HandleError::ForbiddenCharacter(c));
    }
    if handle.starts_with(' ') || handle.ends_with(' ') || handle.contains("  ") {
        return Err(HandleError::BadSpacing);
    }
    Ok(handle)
}

/// The key under which handles are unique: NFKC, then lowercase, so that `Ｈａｎａ`, `HANA` and
/// `hana` are one handle.
pub fn handle_key(handle: &str) -> String {
    handle.nfkc().collect::<String>().to_lowercase()
}

/// Characters a handle may not hold: controls, every whitespace but the ASCII space, and the
/// format and filler characters that render as nothing (used to impersonate others).
fn is_forbidden(c: char) -> bool {
    if c.is_control() || (c.is_whitespace() && c != ' ') {
        return true;
    }
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180E
        | 0x0600..=0x0605 | 0x06DD | 0x070F | 0x08E2
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F
        | 0x2800 | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFFB
        | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF
        // private use areas
        | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str) -> Result<String, HandleError> {
        normalize_handle(s, &Limits::default())
    }

    #[test]
    fn accepts_ordinary_handles() {
        assert_eq!(check("はな").unwrap(), "はな");
        assert_eq!(check("sora 7").unwrap(), "sora 7");
        assert_eq!(check("ねこ🐈").unwrap(), "ねこ🐈");
    }

    #[test]
    fn normalises_to_nfc() {
        // "が" written as か + combining dakuten becomes one code point.
        assert_eq!(check("か\u{3099}き").unwrap(), "がき");
    }

    #[test]
    fn refuses_invisible_and_control_characters() {
        for bad in [
            "a\u{200B}b",
            "ab\u{202E}",
            "a\u{3164}b",
            "a\nb",
            "a\u{0007}b",
            "a\tb",
            "ab\u{FEFF}",
        ] {
            assert!(
                matches!(check(bad), Err(HandleError::ForbiddenCharacter(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn refuses_bad_lengths_and_spacing() {
        assert_eq!(check("a"), Err(HandleError::TooShort(2)));
        assert_eq!(check(&"あ".repeat(25)), Err(HandleError::TooLong(24)));
        assert_eq!(check(" ab"), Err(HandleError::BadSpacing));
        assert_eq!(check("a  b"), Err(HandleError::BadSpacing));
        assert!(matches!(
            check("ab\u{3000}"),
            Err(HandleError::ForbiddenCharacter(_))
        ));
    }

    #[test]
    fn key_folds_case_and_width() {
        assert_eq!(handle_key("Ｈａｎａ"), handle_key("hana"));
        assert_eq!(handle_key("HANA"), "hana");
    }
}
