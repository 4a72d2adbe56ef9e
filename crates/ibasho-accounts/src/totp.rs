//! Time-based one-time passwords (RFC 6238): HMAC-SHA1, 30-second steps, 6 digits — what
//! every authenticator app speaks.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use rand::RngCore;

/// Seconds per step.
pub const STEP_SECS: u64 = 30;
/// Steps before and after now that are still accepted (clock drift).
pub const SKEW_STEPS: u64 = 1;

/// A new secret: 20 random bytes, base32 (as authenticator apps expect).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    BASE32_NOPAD.encode(&bytes)
}

/// The `otpauth://` URI an authenticator app reads (usually from a QR code).
pub fn provisioning_uri(secret: &str, issuer: &str, account: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

/// The code for one time step (HOTP, RFC 4226).
fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(key) else {
        return u32::MAX;
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let bin = (u32::from(digest[offset]) & 0x7f) << 24
        | u32::from(digest[offset + 1]) << 16
        | u32::from(digest[offset + 2]) << 8
        | u32::from(digest[offset + 3]);
    bin % 10u32.pow(digits)
}

/// The 6-digit code at `unix_secs`.
pub fn code_at(secret: &str, unix_secs: u64) -> Option<String> {
    let key = BASE32_NOPAD.decode(secret.as_bytes()).ok()?;
    Some(format!("{:06}", hotp(&key, unix_secs / STEP_SECS, 6)))
}

/// Whether `code` is valid at `unix_secs`, allowing one step of drift either way. Returns the
/// matching step so that callers can refuse a code used twice.
pub fn verify(secret: &str, code: &str, unix_secs: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let key = BASE32_NOPAD.decode(secret.as_bytes()).ok()?;
    let now = unix_secs / STEP_SECS;
    (now.saturating_sub(SKEW_STEPS)..=now + SKEW_STEPS)
        .find(|&step| format!("{:06}", hotp(&key, step, 6)) == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (8 digits), secret "12345678901234567890".
    #[test]
    fn rfc_6238_test_vectors() {
        let key = b"12345678901234567890";
        for (time, expected) in [
            (59u64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(key, time / 30, 8), expected, "t={time}");
        }
    }

    #[test]
    fn verify_accepts_one_step_of_drift_only() {
        let secret = new_secret();
        let t = 1_800_000_000;
        let code = code_at(&secret, t).unwrap();
        assert!(verify(&secret, &code, t).is_some());
        assert!(verify(&secret, &code, t + 30).is_some());
        assert!(verify(&secret, &code, t + 90).is_none());
        assert!(verify(&secret, "12345", t).is_none());
        assert!(verify(&secret, "abcdef", t).is_none());
        let uri = provisioning_uri(&secret, "ibasho", "スタッフ");
        assert!(uri.starts_with("otpauth://totp/ibasho:%E3%82%B9"));
    }
}
