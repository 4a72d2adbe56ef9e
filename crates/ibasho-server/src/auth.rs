//! Access tokens: HS256 JWTs carrying account id, handle and role. This is the one seam
//! between however someone signed in (guest entry now; invitations and passwords later) and
//! the hub, which only ever sees a verified [`Identity`].

use crate::config::{Config, RunMode, Secret};
use anyhow::Context;
use ibasho_hub::Identity;
use ibasho_protocol::{AccountId, Role};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The account id.
    sub: AccountId,
    /// The handle when the token was issued.
    handle: String,
    /// The role.
    role: Role,
    /// Issued at (seconds since the epoch).
    iat: u64,
    /// Expires at (seconds since the epoch).
    exp: u64,
    /// Audience: always `ibasho`, so that tokens for other services are refused.
    aud: String,
}

const AUDIENCE: &str = "ibasho";

/// Signs and verifies access tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(***)")
    }
}

impl TokenKeys {
    /// Keys from a secret.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// The configured secret, or in embedded mode the one generated into the data
    /// directory (created on first use, readable only by its owner).
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        if let Some(Secret(secret)) = &config.auth.jwt_secret {
            return Ok(Self::new(secret.as_bytes()));
        }
        anyhow::ensure!(
            config.mode == RunMode::Embedded,
            "production mode needs auth.jwt_secret"
        );
        let secret = load_or_create_secret(&config.data_dir.join("jwt-secret"))?;
        Ok(Self::new(secret.as_bytes()))
    }

    /// Issues a token for `identity`, valid for `ttl`.
    pub fn issue(&self, identity: &Identity, ttl: Duration) -> anyhow::Result<String> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: identity.account,
            handle: identity.handle.clone(),
            role: identity.role,
            iat: now,
            exp: now + ttl.as_secs(),
            aud: AUDIENCE.to_owned(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Verifies a token: signature, expiry, audience.
    pub fn verify(&self, token: &str) -> Option<Identity> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        Some(Identity {
            account: data.claims.sub,
            handle: data.claims.handle,
            role: data.claims.role,
        })
    }
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        anyhow::ensure!(
            existing.len() >= 32,
            "{} is too short; delete it to make a new one",
            path.display()
        );
        return Ok(existing);
    }
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write_private(path, &secret).with_context(|| format!("writing {}", path.display()))?;
    Ok(secret)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            account: AccountId::new_v7(),
            handle: "はな".into(),
            role: Role::Participant,
        }
    }

    #[test]
    fn round_trip_and_tamper() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
        let id = identity();
        let token = keys.issue(&id, Duration::from_secs(60)).unwrap();
        assert_eq!(keys.verify(&token), Some(id));
        let other = TokenKeys::new(b"fedcba9876543210fedcba9876543210");
        assert_eq!(other.verify(&token), None);
        assert_eq!(keys.verify("not-a-token"), None);
    }

    #[test]
    fn generated_secret_is_stable() {
        let dir = std::env::temp_dir().join(format!("ibasho-secret-{}", uuid::Uuid::new_v4()));
        let path = dir.join("jwt-secret");
        let a = load_or_create_secret(&path).unwrap();
        let b = load_or_create_secret(&path).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
