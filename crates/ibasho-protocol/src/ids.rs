//! Identifier newtypes. Each is transparent on the wire and prints as its inner value.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A fresh, random, time-ordered id (UUIDv7).
            pub fn new_v7() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A person's account. Pseudonymous: it never carries a real name.
    AccountId
);
uuid_id!(
    /// A chat message, stable across edits and deletion.
    MessageId
);
uuid_id!(
    /// A programme (lunch together, live illustration, ...).
    ProgrammeId
);
uuid_id!(
    /// A programme's schedule: one session, or a recurring series of them.
    SessionId
);

/// One WebSocket connection to one server process. Only ever shown to the connection itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A room: the lobby (`"lobby"`) or a chat room. Lowercase ASCII letters, digits and `-`,
/// 1 to 64 characters, so that ids are safe in URLs and logs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RoomId(String);

impl RoomId {
    /// The id of the lobby (the free space), which always exists.
    pub const LOBBY: &'static str = "lobby";

    /// The lobby's id.
    pub fn lobby() -> Self {
        Self(Self::LOBBY.to_owned())
    }

    /// Checks `s` against the room id rules.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| Self(s.to_owned()))
    }

    /// A fresh id for a newly created room.
    pub fn generate() -> Self {
        Self(format!("r-{}", uuid::Uuid::now_v7().simple()))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the lobby.
    pub fn is_lobby(&self) -> bool {
        self.0 == Self::LOBBY
    }

    /// The room of one occurrence of a programme session: the same for the same occurrence,
    /// whoever asks, so that opening it twice finds the first.
    pub fn for_occurrence(session: SessionId, start: i64) -> Self {
        Self(format!("p-{}-{}", session.0.simple(), start.max(0)))
    }
}

impl<'de> Deserialize<'de> for RoomId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        RoomId::parse(&s).ok_or_else(|| {
            serde::de::Error::custom("room id must be 1-64 characters of a-z, 0-9 and -")
        })
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id a client puts on a request so that it can pair the reply with it. A number or a
/// string of at most 64 characters; the server echoes it unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// A numeric id, as most clients use a counter.
    Number(u64),
    /// A string id.
    Text(BoundedString<64>),
}

/// A string that refuses to deserialize when longer than `N` bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct BoundedString<const N: usize>(String);

impl<const N: usize> BoundedString<N> {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de, const N: usize> Deserialize<'de> for BoundedString<N> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.len() > N {
            return Err(serde::de::Error::custom(format_args!(
                "string longer than {N} bytes"
            )));
        }
        Ok(Self(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_id_rules() {
        assert!(RoomId::parse("lobby").is_some());
        assert!(RoomId::parse("r-0193ab").is_some());
        assert!(RoomId::parse("").is_none());
        assert!(RoomId::parse("Lobby").is_none());
        assert!(RoomId::parse("a b").is_none());
        assert!(RoomId::parse(&"a".repeat(65)).is_none());
        assert!(RoomId::generate().as_str().starts_with("r-"));
    }

    #[test]
    fn request_id_is_number_or_short_string() {
        let n: RequestId = serde_json::from_str("7").unwrap();
        assert_eq!(n, RequestId::Number(7));
        let s: RequestId = serde_json::from_str("\"a1\"").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"a1\"");
        assert!(serde_json::from_str::<RequestId>(&format!("\"{}\"", "x".repeat(65))).is_err());
    }
}
