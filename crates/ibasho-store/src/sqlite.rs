//! The SQLite backend.

use async_trait::async_trait;
use ibasho_hub::store::{
    AccountRecord, AccountStore, Appended, AttendanceStore, AuditEntry, HubStore, MessageMeta,
    ModerationStore, MuteRecord, NewAccount, RoomRecord, RoomStore, StoreError, TimelineChange,
    TimelineStore,
};
use ibasho_protocol::{
    AccountId, Avatar, Message, MessageId, Millis, Mode, Person, Reaction, RoomEvent, RoomId,
    RoomInfo, SequencedEvent,
};
use serde::{Serialize, de::DeserializeOwned};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// How hard SQLite works to make a commit survive a crash of the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Synchronous {
    /// Every commit is on disk before it returns: an acknowledged message survives a power cut.
    #[default]
    Full,
    /// Commits survive a crash of the process but the last ones may be lost on a power cut.
    /// Faster; for benchmarks and tests.
    Normal,
}

/// How to open the database.
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    /// Durability of commits.
    pub synchronous: Synchronous,
    /// Connections in the pool (SQLite has one writer at a time; readers run beside it).
    pub max_connections: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            max_connections: 4,
        }
    }
}

/// The hub's store on an SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// The wire name of a serde enum value, as stored in text columns.
pub(crate) fn enum_value<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

/// Parses the wire name of a serde enum value from a text column.
pub(crate) fn parse_enum_value<T: DeserializeOwned>(s: &str) -> Result<T, serde_json::Error> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
}

pub(crate) fn parse_enum<T: DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| backend(format!("bad stored value {s:?}: {e}")))
}

pub(crate) fn parse_id<T: FromStr>(s: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.parse()
        .map_err(|e| backend(format!("bad stored id {s:?}: {e}")))
}

/// Parses a stored UUID.
pub(crate) fn parse_uuid(s: &str) -> Result<uuid::Uuid, uuid::Error> {
    uuid::Uuid::parse_str(s)
}

fn seq_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn db_seq(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and brings its schema up to
    /// date.
    pub async fn open(path: &Path, options: &SqliteOptions) -> Result<Self, StoreError> {
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match options.synchronous {
                Synchronous::Full => SqliteSynchronous::Full,
                Synchronous::Normal => SqliteSynchronous::Normal,
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .connect_with(connect)
            .await
            .map_err(backend)?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("migrations/sqlite")
            .run(&self.pool)
            .await
            .map_err(backend)
    }

    /// The connection pool, for the other modules of this crate.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Every account, oldest first (for the admin CLI).
    pub async fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        let rows = sqlx::query("SELECT id, handle, avatar_shape, avatar_color, role, status, age_band, created_at FROM accounts ORDER BY created_at")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(account_from_row).collect()
    }
}

fn account_from_row(row: &SqliteRow) -> Result<AccountRecord, StoreError> {
    Ok(AccountRecord {
        id: parse_id(row.get::<&str, _>("id"))?,
        handle: row.get("handle"),
        avatar: Avatar {
            shape: parse_enum(row.get::<&str, _>("avatar_shape"))?,
            color: parse_enum(row.get::<&str, _>("avatar_color"))?,
        },
        role: parse_enum(row.get::<&str, _>("role"))?,
        status: parse_enum(row.get::<&str, _>("status"))?,
        age_band: row
            .get::<Option<&str>, _>("age_band")
            .map(parse_enum)
            .transpose()?,
        created_at: row.get("created_at"),
    })
}

fn room_from_row(row: &SqliteRow) -> Result<RoomRecord, StoreError> {
    let capacity: i64 = row.get("capacity");
    Ok(RoomRecord {
        info: RoomInfo {
            id: RoomId::parse(row.get::<&str, _>("id"))
                .ok_or_else(|| backend("bad stored room id"))?,
            kind: parse_enum(row.get::<&str, _>("kind"))?,
            name: row.get("name"),
            topic: row.get("topic"),
            capacity: u32::try_from(capacity).unwrap_or(u32::MAX),
            last_seq: seq_of(row.get("last_seq")),
            archived: row.get::<i64, _>("archived") != 0,
            programme: row
                .get::<Option<&str>, _>("programme")
                .map(|j| {
                    serde_json::from_str(j)
                        .map_err(|e| backend(format!("bad stored programme: {e}")))
                })
                .transpose()?,
            pinned: row.get("pinned"),
            stage: row.get::<i64, _>("stage") != 0,
        },
        created_by: row
            .get::<Option<&str>, _>("created_by")
            .map(parse_id)
            .transpose()?,
        created_at: row.get("created_at"),
    })
}

/// `messages.deleted`: 0 present, 1 deleted by its author, 2 deleted by staff.
const DELETED_BY_AUTHOR: i64 = 1;
const DELETED_BY_STAFF: i64 = 2;

const MESSAGE_COLUMNS: &str = "m.id, m.seq, m.body, m.created_at, m.edited_at, m.deleted, \
     a.id AS author_id, a.handle, a.avatar_shape, a.avatar_color, a.role";

fn message_from_row(row: &SqliteRow) -> Result<Message, StoreError> {
    Ok(Message {
        id: parse_id(row.get::<&str, _>("id"))?,
        seq: seq_of(row.get("seq")),
        author: Person {
            id: parse_id(row.get::<&str, _>("author_id"))?,
            handle: row.get("handle"),
            avatar: Avatar {
                shape: parse_enum(row.get::<&str, _>("avatar_shape"))?,
                color: parse_enum(row.get::<&str, _>("avatar_color"))?,
            },
            role: parse_enum(row.get::<&str, _>("role"))?,
        },
        body: row.get("body"),
        created_at: row.get("created_at"),
        edited_at: row.get("edited_at"),
        deleted: row.get::<i64, _>("deleted") != 0,
        deleted_by_staff: row.get::<i64, _>("deleted") == DELETED_BY_STAFF,
        reactions: Vec::new(),
    })
}

/// Takes the room's next sequence number. Runs first in the transaction, so that the
/// transaction holds SQLite's write lock from its start.
async fn next_seq(tx: &mut Transaction<'_, Sqlite>, room: &RoomId) -> Result<u64, StoreError> {
    let row =
        sqlx::query("UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq")
            .bind(room.as_str())
            .fetch_optional(&mut **tx)
            .await
            .map_err(backend)?
            .ok_or(StoreError::NotFound)?;
    Ok(seq_of(row.get(0)))
}

async fn insert_event(
    tx: &mut Transaction<'_, Sqlite>,
    room: &RoomId,
    seq: u64,
    at: Millis,
    message_id: MessageId,
    event: &RoomEvent,
) -> Result<(), StoreError> {
    let payload = serde_json::to_string(event).map_err(backend)?;
    sqlx::query(
        "INSERT INTO room_events (room_id, seq, at, message_id, payload) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(room.as_str())
    .bind(db_seq(seq))
    .bind(at)
    .bind(message_id.to_string())
    .bind(payload)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Author and deletion state of a message in a room, read with `executor` (the pool, or a
/// transaction's connection).
async fn meta_in<'e, E>(
    executor: E,
    room: &RoomId,
    id: MessageId,
) -> Result<Option<MessageMeta>, StoreError>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query("SELECT author_id, deleted FROM messages WHERE id = ? AND room_id = ?")
        .bind(id.to_string())
        .bind(room.as_str())
        .fetch_optional(executor)
        .await
        .map_err(backend)?;
    row.map(|r| {
        Ok(MessageMeta {
            author: parse_id(r.get::<&str, _>("author_id"))?,
            deleted: r.get::<i64, _>("deleted") != 0,
        })
    })
    .transpose()
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(&self, new: &NewAccount) -> Result<AccountRecord, StoreError> {
        let result = sqlx::query(
            "INSERT INTO accounts (id, handle, handle_key, avatar_shape, avatar_color, role, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(new.id.to_string())
        .bind(&new.handle)
        .bind(&new.handle_key)
        .bind(enum_value(&new.avatar.shape))
        .bind(enum_value(&new.avatar.color))
        .bind(new.role.as_str())
        .bind(new.created_at)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(AccountRecord {
                id: new.id,
                handle: new.handle.clone(),
                avatar: new.avatar,
                role: new.role,
                status: ibasho_protocol::api::AccountStatus::Active,
                age_band: None,
                created_at: new.created_at,
            }),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::HandleTaken)
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn account(&self, id: AccountId) -> Result<Option<AccountRecord>, StoreError> {
        let row = sqlx::query("SELECT id, handle, avatar_shape, avatar_color, role, status, age_band, created_at FROM accounts WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(account_from_row).transpose()
    }
}

#[async_trait]
impl RoomStore for SqliteStore {
    async fn create_room(&self, room: &RoomRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO rooms (id, kind, name, topic, capacity, last_seq, archived, created_by, created_at, programme) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
        )
        .bind(room.info.id.as_str())
        .bind(enum_value(&room.info.kind))
        .bind(&room.info.name)
        .bind(&room.info.topic)
        .bind(i64::from(room.info.capacity))
        .bind(i64::from(room.info.archived))
        .bind(room.created_by.map(|a| a.to_string()))
        .bind(room.created_at)
        .bind(
            room.info
                .programme
                .as_ref()
                .map(|p| serde_json::to_string(p).unwrap_or_default()),
        )
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn rooms(&self) -> Result<Vec<RoomRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, name, topic, capacity, last_seq, archived, created_by, created_at, programme, pinned, stage FROM rooms ORDER BY id != 'lobby', created_at",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(room_from_row).collect()
    }

    async fn update_room_controls(
        &self,
        room: &RoomId,
        pinned: Option<&str>,
        stage: bool,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE rooms SET pinned = ?, stage = ? WHERE id = ?")
            .bind(pinned)
            .bind(i64::from(stage))
            .bind(room.as_str())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn archive_room(&self, room: &RoomId) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE rooms SET archived = 1 WHERE id = ?")
            .bind(room.as_str())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

#[async_trait]
impl TimelineStore for SqliteStore {
    async fn append_event(
        &self,
        room: &RoomId,
        change: TimelineChange,
        at: Millis,
    ) -> Result<Appended, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let seq = next_seq(&mut tx, room).await?;
        // A re-sent post: answer with the original, store nothing. (The sequence number is
        // taken first so that the transaction holds the write lock from its first statement.)
        if let TimelineChange::Post {
            author,
            client_msg_id: Some(key),
            ..
        } = &change
        {
            let earlier = sqlx::query("SELECT id, seq FROM messages WHERE room_id = ? AND author_id = ? AND client_msg_id = ?")
                .bind(room.as_str())
                .bind(author.to_string())
                .bind(key.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
            if let Some(row) = earlier {
                // Rolling back returns the sequence number taken above.
                tx.rollback().await.map_err(backend)?;
                return Ok(Appended::Duplicate {
                    seq: seq_of(row.get("seq")),
                    message_id: parse_id(row.get::<&str, _>("id"))?,
                });
            }
        }
        let (message_id, event) = match change {
            TimelineChange::Post {
                message_id,
                author,
                body,
                client_msg_id,
            } => {
                sqlx::query("INSERT INTO messages (id, room_id, seq, author_id, body, created_at, client_msg_id) VALUES (?, ?, ?, ?, ?, ?, ?)")
                    .bind(message_id.to_string())
                    .bind(room.as_str())
                    .bind(db_seq(seq))
                    .bind(author.to_string())
                    .bind(&body)
                    .bind(at)
                    .bind(client_msg_id.map(|k| k.to_string()))
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                let row = sqlx::query(&format!("SELECT {MESSAGE_COLUMNS} FROM messages m JOIN accounts a ON a.id = m.author_id WHERE m.id = ?"))
                    .bind(message_id.to_string())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?;
                let message = message_from_row(&row)?;
                (message_id, RoomEvent::Posted { message })
            }
            TimelineChange::Edit {
                message_id,
                author,
                body,
            } => {
                let meta = meta_in(&mut *tx, room, message_id)
                    .await?
                    .filter(|m| !m.deleted)
                    .ok_or(StoreError::NotFound)?;
                if meta.author != author {
                    return Err(StoreError::NotAuthor);
                }
                sqlx::query("UPDATE messages SET body = ?, edited_at = ? WHERE id = ?")
                    .bind(&body)
                    .bind(at)
                    .bind(message_id.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                (
                    message_id,
                    RoomEvent::Edited {
                        message_id,
                        body,
                        edited_at: at,
                    },
                )
            }
            TimelineChange::Delete {
                message_id,
                by,
                by_staff,
            } => {
                let meta = meta_in(&mut *tx, room, message_id)
                    .await?
                    .filter(|m| !m.deleted)
                    .ok_or(StoreError::NotFound)?;
                if meta.author != by && !by_staff {
                    return Err(StoreError::NotAuthor);
                }
                let id = message_id.to_string();
                sqlx::query("UPDATE messages SET body = '', deleted = ? WHERE id = ?")
                    .bind(if by_staff {
                        DELETED_BY_STAFF
                    } else {
                        DELETED_BY_AUTHOR
                    })
                    .bind(&id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                sqlx::query("DELETE FROM reactions WHERE message_id = ?")
                    .bind(&id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                // A deleted text must not come back through a resume: scrub it from the
                // events that carried it.
                sqlx::query(
                    "UPDATE room_events SET payload = CASE json_extract(payload, '$.kind') \
                       WHEN 'posted' THEN json_set(payload, '$.message.body', '', '$.message.deleted', json('true'), '$.message.deleted_by_staff', json(?), '$.message.reactions', json('[]')) \
                       WHEN 'edited' THEN json_set(payload, '$.body', '') \
                       ELSE payload END \
                     WHERE message_id = ? AND room_id = ?",
                )
                .bind(if by_staff { "true" } else { "false" })
                .bind(&id)
                .bind(room.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                (
                    message_id,
                    RoomEvent::Deleted {
                        message_id,
                        by_staff,
                    },
                )
            }
            TimelineChange::React {
                message_id,
                account,
                stamp,
                on,
            } => {
                meta_in(&mut *tx, room, message_id)
                    .await?
                    .filter(|m| !m.deleted)
                    .ok_or(StoreError::NotFound)?;
                let stamp_str = enum_value(&stamp);
                let changed = if on {
                    sqlx::query("INSERT OR IGNORE INTO reactions (message_id, stamp, account_id, created_at) VALUES (?, ?, ?, ?)")
                        .bind(message_id.to_string())
                        .bind(&stamp_str)
                        .bind(account.to_string())
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                } else {
                    sqlx::query("DELETE FROM reactions WHERE message_id = ? AND stamp = ? AND account_id = ?")
                        .bind(message_id.to_string())
                        .bind(&stamp_str)
                        .bind(account.to_string())
                        .execute(&mut *tx)
                        .await
                }
                .map_err(backend)?
                .rows_affected();
                if changed == 0 {
                    // Rolling back also returns the sequence number taken above.
                    tx.rollback().await.map_err(backend)?;
                    return Ok(Appended::Unchanged);
                }
                (
                    message_id,
                    RoomEvent::Reacted {
                        message_id,
                        stamp,
                        account,
                        on,
                    },
                )
            }
        };
        insert_event(&mut tx, room, seq, at, message_id, &event).await?;
        tx.commit().await.map_err(backend)?;
        Ok(Appended::New(SequencedEvent { seq, at, event }))
    }

    async fn events_after(
        &self,
        room: &RoomId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<SequencedEvent>, StoreError> {
        let rows = sqlx::query("SELECT seq, at, payload FROM room_events WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?")
            .bind(room.as_str())
            .bind(db_seq(after))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(SequencedEvent {
                    seq: seq_of(r.get("seq")),
                    at: r.get("at"),
                    event: serde_json::from_str(r.get::<&str, _>("payload")).map_err(backend)?,
                })
            })
            .collect()
    }

    async fn messages_before(
        &self,
        room: &RoomId,
        before_seq: Option<u64>,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), StoreError> {
        let before = before_seq.map_or(i64::MAX, db_seq);
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN accounts a ON a.id = m.author_id \
             WHERE m.room_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?"
        ))
        .bind(room.as_str())
        .bind(before)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let has_older = rows.len() > limit as usize;
        let mut messages = rows
            .iter()
            .take(limit as usize)
            .map(message_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        messages.reverse();
        if !messages.is_empty() {
            let ids: Vec<String> = messages.iter().map(|m| m.id.to_string()).collect();
            let rows = sqlx::query(
                "SELECT message_id, stamp, account_id FROM reactions \
                 WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY created_at, rowid",
            )
            .bind(serde_json::to_string(&ids).map_err(backend)?)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
            let mut by_message: HashMap<MessageId, Vec<Reaction>> = HashMap::new();
            for r in &rows {
                let id: MessageId = parse_id(r.get::<&str, _>("message_id"))?;
                let stamp = parse_enum(r.get::<&str, _>("stamp"))?;
                let account: AccountId = parse_id(r.get::<&str, _>("account_id"))?;
                let reactions = by_message.entry(id).or_default();
                match reactions.iter_mut().find(|x| x.stamp == stamp) {
                    Some(x) => x.by.push(account),
                    None => reactions.push(Reaction {
                        stamp,
                        by: vec![account],
                    }),
                }
            }
            for m in &mut messages {
                if let Some(mut r) = by_message.remove(&m.id) {
                    r.sort_by_key(|x| x.stamp);
                    m.reactions = r;
                }
            }
        }
        Ok((messages, has_older))
    }

    async fn message_meta(
        &self,
        room: &RoomId,
        id: MessageId,
    ) -> Result<Option<MessageMeta>, StoreError> {
        meta_in(&self.pool, room, id).await
    }
}

#[async_trait]
impl ModerationStore for SqliteStore {
    async fn create_mute(&self, mute: &MuteRecord) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO mutes (room_id, account_id, until) VALUES (?, ?, ?) ON CONFLICT (room_id, account_id) DO UPDATE SET until = excluded.until")
            .bind(mute.room.as_str())
            .bind(mute.account.to_string())
            .bind(mute.until)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn mutes(&self, room: &RoomId, now: Millis) -> Result<Vec<MuteRecord>, StoreError> {
        let rows =
            sqlx::query("SELECT account_id, until FROM mutes WHERE room_id = ? AND until > ?")
                .bind(room.as_str())
                .bind(now)
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(MuteRecord {
                    room: room.clone(),
                    account: parse_id(r.get::<&str, _>("account_id"))?,
                    until: r.get("until"),
                })
            })
            .collect()
    }

    async fn delete_mute(&self, room: &RoomId, account: AccountId) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM mutes WHERE room_id = ? AND account_id = ?")
            .bind(room.as_str())
            .bind(account.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn create_removal(
        &self,
        room: &RoomId,
        account: AccountId,
        at: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT OR REPLACE INTO removals (room_id, account_id, at) VALUES (?, ?, ?)")
            .bind(room.as_str())
            .bind(account.to_string())
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn removals(&self, room: &RoomId) -> Result<Vec<AccountId>, StoreError> {
        let rows = sqlx::query("SELECT account_id FROM removals WHERE room_id = ?")
            .bind(room.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| parse_id(r.get::<&str, _>("account_id")))
            .collect()
    }

    async fn delete_removal(&self, room: &RoomId, account: AccountId) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM removals WHERE room_id = ? AND account_id = ?")
            .bind(room.as_str())
            .bind(account.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO audit_log (at, actor_id, action, room_id, target_account, target_message, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(entry.at)
            .bind(entry.actor.to_string())
            .bind(&entry.action)
            .bind(entry.room.as_ref().map(|r| r.as_str().to_owned()))
            .bind(entry.target_account.map(|a| a.to_string()))
            .bind(entry.target_message.map(|m| m.to_string()))
            .bind(&entry.reason)
            .bind(entry.detail.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query("SELECT at, actor_id, action, room_id, target_account, target_message, reason, detail FROM audit_log ORDER BY id DESC LIMIT ?")
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: r.get("at"),
                    actor: parse_id(r.get::<&str, _>("actor_id"))?,
                    action: r.get("action"),
                    room: r.get::<Option<&str>, _>("room_id").and_then(RoomId::parse),
                    target_account: r
                        .get::<Option<&str>, _>("target_account")
                        .map(parse_id)
                        .transpose()?,
                    target_message: r
                        .get::<Option<&str>, _>("target_message")
                        .map(parse_id)
                        .transpose()?,
                    reason: r.get("reason"),
                    detail: serde_json::from_str(r.get::<&str, _>("detail"))
                        .unwrap_or(serde_json::Value::Null),
                })
            })
            .collect()
    }
}

/// How present a mode is, as stored in `programme_attendance.mode_rank`.
pub(crate) fn mode_rank(mode: Mode) -> i64 {
    match mode {
        Mode::ViewOnly => 0,
        Mode::ChatOnly => 1,
        Mode::Participant => 2,
    }
}

#[async_trait]
impl AttendanceStore for SqliteStore {
    async fn record_attendance(
        &self,
        room: &RoomId,
        account: AccountId,
        mode: Mode,
        at: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO programme_attendance (room_id, account_id, mode_rank, first_joined_at) \
             VALUES (?, ?, ?, ?) ON CONFLICT (room_id, account_id) \
             DO UPDATE SET mode_rank = MAX(mode_rank, excluded.mode_rank)",
        )
        .bind(room.as_str())
        .bind(account.to_string())
        .bind(mode_rank(mode))
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn record_peak(&self, room: &RoomId, peak: u32) -> Result<(), StoreError> {
        sqlx::query("UPDATE rooms SET peak = MAX(peak, ?) WHERE id = ?")
            .bind(i64::from(peak))
            .bind(room.as_str())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl HubStore for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
