//! Secrets: random single-use tokens (stored only as SHA-256 hashes) and passwords
//! (argon2id).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use data_encoding::BASE64URL_NOPAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Bytes of randomness in an invitation or refresh token.
pub const TOKEN_BYTES: usize = 32;

/// A new random token: 32 bytes from the OS generator, base64url without padding (43
/// characters), safe in URLs.
pub fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    BASE64URL_NOPAD.encode(&bytes)
}

/// The form a token is stored in: hex SHA-256. A stolen database does not yield usable
/// tokens, and a token of 256 random bits needs no slow hash.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than the minimum.
    #[error("a password needs at least {0} characters")]
    TooShort(usize),
    /// Longer than the maximum (argon2 would take it, but nobody types this much).
    #[error("a password may have at most {0} characters")]
    TooLong(usize),
    /// Hashing failed (should not happen).
    #[error("could not hash the password")]
    Hashing,
}

/// Shortest password or passphrase.
pub const MIN_SECRET_CHARS: usize = 10;
/// Longest password or passphrase.
pub const MAX_SECRET_CHARS: usize = 256;

/// The argon2id parameters: OWASP's recommendation (19 MiB, 2 passes, 1 lane).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password or passphrase with argon2id and a random salt (PHC string format).
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let chars = password.chars().count();
    if chars < MIN_SECRET_CHARS {
        return Err(PasswordError::TooShort(MIN_SECRET_CHARS));
    }
    if chars > MAX_SECRET_CHARS {
        return Err(PasswordError::TooLong(MAX_SECRET_CHARS));
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hashing)?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hashing)
}

/// Whether `password` matches a stored hash. A malformed hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    if password.chars().count() > MAX_SECRET_CHARS {
        return false;
    }
    PasswordHash::new(stored)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("correct horse battery", "not a hash"));
        assert_eq!(hash_password("short"), Err(PasswordError::TooShort(10)));
    }
}
