//! [`ProgrammeStore`] on SQLite.

use crate::sqlite::{SqliteStore, backend, enum_value, parse_enum, parse_id};
use async_trait::async_trait;
use ibasho_hub::store::StoreError;
use ibasho_programmes::store::{
    AttendanceRow, CancellationRecord, ProgrammeRecord, ProgrammeStore, SessionRecord,
};
use ibasho_protocol::{Millis, Mode, RoomId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn from_json<T: DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| backend(format!("bad stored JSON {s:?}: {e}")))
}

fn programme_from_row(row: &SqliteRow) -> Result<ProgrammeRecord, StoreError> {
    Ok(ProgrammeRecord {
        id: parse_id(row.get::<&str, _>("id"))?,
        title: row.get("title"),
        description: row.get("description"),
        category: parse_enum(row.get::<&str, _>("category"))?,
        hosts: from_json(row.get::<&str, _>("hosts"))?,
        modes: from_json(row.get::<&str, _>("modes"))?,
        capacity: u32::try_from(row.get::<i64, _>("capacity")).unwrap_or(0),
        age_bands: from_json(row.get::<&str, _>("age_bands"))?,
        gallery: row
            .get::<Option<&str>, _>("gallery")
            .map(from_json)
            .transpose()?,
        archived: row.get::<i64, _>("archived") != 0,
        created_by: row
            .get::<Option<&str>, _>("created_by")
            .map(parse_id)
            .transpose()?,
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
    })
}

fn session_from_row(row: &SqliteRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id: parse_id(row.get::<&str, _>("id"))?,
        programme: parse_id(row.get::<&str, _>("programme_id"))?,
        schedule: from_json(row.get::<&str, _>("schedule"))?,
        cancelled: row.get("cancelled"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
    })
}

fn found(rows: u64) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

#[async_trait]
impl ProgrammeStore for SqliteStore {
    async fn create_programme(&self, p: &ProgrammeRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO programmes (id, title, description, category, hosts, modes, capacity, \
             age_bands, gallery, archived, created_by, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(p.id.to_string())
        .bind(&p.title)
        .bind(&p.description)
        .bind(enum_value(&p.category))
        .bind(json(&p.hosts))
        .bind(json(&p.modes))
        .bind(i64::from(p.capacity))
        .bind(json(&p.age_bands))
        .bind(p.gallery.as_ref().map(json))
        .bind(i64::from(p.archived))
        .bind(p.created_by.map(|a| a.to_string()))
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(self.pool())
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn programmes(&self) -> Result<Vec<ProgrammeRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM programmes ORDER BY created_at")
            .fetch_all(self.pool())
            .await
            .map_err(backend)?;
        rows.iter().map(programme_from_row).collect()
    }

    async fn update_programme(&self, p: &ProgrammeRecord) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE programmes SET title = ?, description = ?, category = ?, hosts = ?, \
             modes = ?, capacity = ?, age_bands = ?, gallery = ?, archived = ?, updated_at = ? \
             WHERE id = ?",
        )
        .bind(&p.title)
        .bind(&p.description)
        .bind(enum_value(&p.category))
        .bind(json(&p.hosts))
        .bind(json(&p.modes))
        .bind(i64::from(p.capacity))
        .bind(json(&p.age_bands))
        .bind(p.gallery.as_ref().map(json))
        .bind(i64::from(p.archived))
        .bind(p.updated_at)
        .bind(p.id.to_string())
        .execute(self.pool())
        .await
        .map_err(backend)?;
        found(done.rows_affected())
    }

    async fn create_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO programme_sessions (id, programme_id, schedule, cancelled, created_at, \
             updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(s.id.to_string())
        .bind(s.programme.to_string())
        .bind(json(&s.schedule))
        .bind(s.cancelled.as_deref())
        .bind(s.created_at)
        .bind(s.updated_at)
        .execute(self.pool())
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn sessions(&self) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM programme_sessions ORDER BY created_at")
            .fetch_all(self.pool())
            .await
            .map_err(backend)?;
        rows.iter().map(session_from_row).collect()
    }

    async fn update_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE programme_sessions SET schedule = ?, cancelled = ?, updated_at = ? \
             WHERE id = ?",
        )
        .bind(json(&s.schedule))
        .bind(s.cancelled.as_deref())
        .bind(s.updated_at)
        .bind(s.id.to_string())
        .execute(self.pool())
        .await
        .map_err(backend)?;
        found(done.rows_affected())
    }

    async fn create_cancellation(&self, c: &CancellationRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO session_cancellations (session_id, start, reason, created_by, \
             created_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (session_id, start) DO UPDATE SET reason = excluded.reason",
        )
        .bind(c.session.to_string())
        .bind(c.start)
        .bind(&c.reason)
        .bind(c.by.to_string())
        .bind(c.at)
        .execute(self.pool())
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn cancellations(&self) -> Result<Vec<CancellationRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT session_id, start, reason, created_by, created_at FROM session_cancellations",
        )
        .fetch_all(self.pool())
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                Ok(CancellationRecord {
                    session: parse_id(row.get::<&str, _>("session_id"))?,
                    start: row.get("start"),
                    reason: row.get("reason"),
                    by: parse_id(row.get::<&str, _>("created_by"))?,
                    at: row.get("created_at"),
                })
            })
            .collect()
    }

    async fn attendance(&self, from: Millis, to: Millis) -> Result<Vec<AttendanceRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.room_id, a.account_id, a.mode_rank, NOT EXISTS (SELECT 1 FROM \
             programme_attendance b WHERE b.account_id = a.account_id AND \
             b.first_joined_at < a.first_joined_at) AS first_time \
             FROM programme_attendance a WHERE a.first_joined_at >= ? AND a.first_joined_at < ?",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                Ok(AttendanceRow {
                    room: RoomId::parse(row.get::<&str, _>("room_id"))
                        .ok_or_else(|| backend("bad stored room id"))?,
                    account: parse_id(row.get::<&str, _>("account_id"))?,
                    mode: match row.get::<i64, _>("mode_rank") {
                        0 => Mode::ViewOnly,
                        1 => Mode::ChatOnly,
                        _ => Mode::Participant,
                    },
                    first_time: row.get::<i64, _>("first_time") != 0,
                })
            })
            .collect()
    }

    async fn peaks(&self, from: Millis, to: Millis) -> Result<Vec<(RoomId, u32)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, peak FROM rooms WHERE kind = 'programme' AND created_at >= ? \
             AND created_at < ?",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                Ok((
                    RoomId::parse(row.get::<&str, _>("id"))
                        .ok_or_else(|| backend("bad stored room id"))?,
                    u32::try_from(row.get::<i64, _>("peak")).unwrap_or(0),
                ))
            })
            .collect()
    }
}
