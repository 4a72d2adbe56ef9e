//! [`ConsultStore`] on SQLite.

use crate::sqlite::{SqliteStore, enum_value, parse_enum_value};
use async_trait::async_trait;
use ibasho_consult::End;
use ibasho_consult::store::{ConsultRecord, ConsultStore, LeftMessage, NoteRecord, StoreFailure};
use ibasho_protocol::AccountId;
use ibasho_protocol::consult::{ConsultId, CounsellorProfile, Profession};
use ibasho_protocol::{Millis, RoomId};
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

pub(crate) fn fail(e: impl std::fmt::Display) -> StoreFailure {
    StoreFailure(e.to_string())
}

pub(crate) fn db_id(id: ConsultId) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

pub(crate) fn wire<T: DeserializeOwned>(s: &str) -> Result<T, StoreFailure> {
    parse_enum_value(s).map_err(|e| fail(format!("bad stored value {s:?}: {e}")))
}

fn opt_wire<T: DeserializeOwned>(s: Option<&str>) -> Result<Option<T>, StoreFailure> {
    s.map(wire).transpose()
}

pub(crate) fn account(s: &str) -> Result<AccountId, StoreFailure> {
    s.parse()
        .map_err(|e| fail(format!("bad stored account {s:?}: {e}")))
}

fn opt_account(s: Option<&str>) -> Result<Option<AccountId>, StoreFailure> {
    s.map(account).transpose()
}

/// The room a consult is talked in.
pub(crate) fn room_of(id: ConsultId) -> RoomId {
    RoomId::parse(&format!("consult-{id}")).unwrap_or_else(RoomId::lobby)
}

const COLUMNS: &str = "id, requester_id, topic, for_whom, profession, channel, first_message, \
    urgent, requested_at, queued_at, front, counsellor_id, started_at, only_id, handover, ended, ended_at, appointment_id";

fn record(row: &SqliteRow) -> Result<ConsultRecord, StoreFailure> {
    Ok(ConsultRecord {
        id: u64::try_from(row.get::<i64, _>("id")).unwrap_or(0),
        requester: account(row.get("requester_id"))?,
        topic: wire(row.get("topic"))?,
        for_whom: wire(row.get("for_whom"))?,
        profession: opt_wire(row.get("profession"))?,
        channel: wire(row.get("channel"))?,
        first_message: row.get("first_message"),
        urgent: row.get::<i64, _>("urgent") != 0,
        requested_at: row.get("requested_at"),
        queued_at: row.get("queued_at"),
        front: row.get::<i64, _>("front") != 0,
        counsellor: opt_account(row.get("counsellor_id"))?,
        started_at: row.get("started_at"),
        only: opt_account(row.get("only_id"))?,
        handover: row.get("handover"),
        end: opt_wire::<End>(row.get("ended"))?,
        ended_at: row.get("ended_at"),
        appointment: row
            .get::<Option<i64>, _>("appointment_id")
            .and_then(|a| u64::try_from(a).ok()),
    })
}

fn note(row: &SqliteRow) -> Result<NoteRecord, StoreFailure> {
    Ok(NoteRecord {
        consult: u64::try_from(row.get::<i64, _>("consult_id")).unwrap_or(0),
        counsellor: account(row.get("counsellor_id"))?,
        notes: row.get("notes"),
        outcome: opt_wire(row.get("outcome"))?,
        updated_at: row.get("updated_at"),
    })
}

fn profile(row: &SqliteRow) -> Result<CounsellorProfile, StoreFailure> {
    // Staff's profile if they set one; otherwise what the invitation said.
    if let Some(professions) = row.get::<Option<&str>, _>("professions") {
        let professions: Vec<Profession> =
            serde_json::from_str(professions).map_err(|e| fail(format!("bad professions: {e}")))?;
        return Ok(CounsellorProfile {
            professions,
            capacity: u32::try_from(row.get::<i64, _>("capacity"))
                .unwrap_or(1)
                .max(1),
            supervisor: row.get::<i64, _>("p_supervisor") != 0,
        });
    }
    Ok(CounsellorProfile {
        professions: opt_wire::<Profession>(row.get("a_profession"))?
            .into_iter()
            .collect(),
        capacity: 1,
        supervisor: row.get::<i64, _>("a_supervisor") != 0,
    })
}

const PROFILE_QUERY: &str = "SELECT a.id, a.profession AS a_profession, a.supervisor AS a_supervisor, \
    p.professions, COALESCE(p.capacity, 1) AS capacity, COALESCE(p.supervisor, 0) AS p_supervisor \
    FROM accounts a LEFT JOIN counsellor_profiles p ON p.account_id = a.id \
    WHERE a.role = 'counsellor' AND a.status != 'deleted'";

#[async_trait]
impl ConsultStore for SqliteStore {
    async fn next_consult_id(&self) -> Result<ConsultId, StoreFailure> {
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM consults")
            .fetch_one(self.pool())
            .await
            .map_err(fail)?;
        Ok(u64::try_from(max.unwrap_or(0)).unwrap_or(0) + 1)
    }

    async fn save_consult(&self, r: &ConsultRecord) -> Result<(), StoreFailure> {
        sqlx::query(&format!(
            "INSERT INTO consults ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET profession = excluded.profession, \
             first_message = excluded.first_message, urgent = excluded.urgent, \
             queued_at = excluded.queued_at, front = excluded.front, \
             counsellor_id = excluded.counsellor_id, started_at = excluded.started_at, \
             only_id = excluded.only_id, handover = excluded.handover, ended = excluded.ended, \
             ended_at = excluded.ended_at"
        ))
        .bind(db_id(r.id))
        .bind(r.requester.to_string())
        .bind(enum_value(&r.topic))
        .bind(enum_value(&r.for_whom))
        .bind(r.profession.map(|p| p.as_str()))
        .bind(enum_value(&r.channel))
        .bind(&r.first_message)
        .bind(i64::from(r.urgent))
        .bind(r.requested_at)
        .bind(r.queued_at)
        .bind(i64::from(r.front))
        .bind(r.counsellor.map(|c| c.to_string()))
        .bind(r.started_at)
        .bind(r.only.map(|c| c.to_string()))
        .bind(&r.handover)
        .bind(r.end.map(|e| e.as_str()))
        .bind(r.ended_at)
        .bind(r.appointment.map(db_id))
        .execute(self.pool())
        .await
        .map_err(fail)?;
        Ok(())
    }

    async fn consult(&self, id: ConsultId) -> Result<Option<ConsultRecord>, StoreFailure> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM consults WHERE id = ?"))
            .bind(db_id(id))
            .fetch_optional(self.pool())
            .await
            .map_err(fail)?;
        row.as_ref().map(record).transpose()
    }

    async fn open_consults(&self) -> Result<Vec<ConsultRecord>, StoreFailure> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM consults WHERE ended IS NULL ORDER BY id"
        ))
        .fetch_all(self.pool())
        .await
        .map_err(fail)?;
        rows.iter().map(record).collect()
    }

    async fn save_notes(&self, n: &NoteRecord) -> Result<(), StoreFailure> {
        sqlx::query(
            "INSERT INTO consult_notes (consult_id, counsellor_id, notes, outcome, updated_at) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (consult_id, counsellor_id) DO UPDATE SET \
             notes = excluded.notes, outcome = excluded.outcome, updated_at = excluded.updated_at",
        )
        .bind(db_id(n.consult))
        .bind(n.counsellor.to_string())
        .bind(&n.notes)
        .bind(n.outcome.map(|o| o.as_str()))
        .bind(n.updated_at)
        .execute(self.pool())
        .await
        .map_err(fail)?;
        Ok(())
    }

    async fn notes(&self, consult: ConsultId) -> Result<Vec<NoteRecord>, StoreFailure> {
        let rows = sqlx::query(
            "SELECT consult_id, counsellor_id, notes, outcome, updated_at FROM consult_notes \
             WHERE consult_id = ? ORDER BY updated_at",
        )
        .bind(db_id(consult))
        .fetch_all(self.pool())
        .await
        .map_err(fail)?;
        rows.iter().map(note).collect()
    }

    async fn leave_message(&self, m: &LeftMessage) -> Result<(), StoreFailure> {
        sqlx::query(
            "INSERT INTO consult_messages (consult_id, body, left_at) VALUES (?, ?, ?) \
             ON CONFLICT (consult_id) DO UPDATE SET body = excluded.body, left_at = excluded.left_at",
        )
        .bind(db_id(m.consult))
        .bind(&m.body)
        .bind(m.left_at)
        .execute(self.pool())
        .await
        .map_err(fail)?;
        Ok(())
    }

    async fn left_messages(&self) -> Result<Vec<LeftMessage>, StoreFailure> {
        let rows = sqlx::query(
            "SELECT m.consult_id, c.requester_id, c.topic, c.for_whom, m.body, m.left_at \
             FROM consult_messages m JOIN consults c ON c.id = m.consult_id \
             WHERE m.handled_at IS NULL ORDER BY m.left_at",
        )
        .fetch_all(self.pool())
        .await
        .map_err(fail)?;
        rows.iter()
            .map(|row| {
                Ok(LeftMessage {
                    consult: u64::try_from(row.get::<i64, _>("consult_id")).unwrap_or(0),
                    requester: account(row.get("requester_id"))?,
                    topic: wire(row.get("topic"))?,
                    for_whom: wire(row.get("for_whom"))?,
                    body: row.get("body"),
                    left_at: row.get("left_at"),
                })
            })
            .collect()
    }

    async fn message_handled(
        &self,
        consult: ConsultId,
        by: AccountId,
        at: Millis,
    ) -> Result<bool, StoreFailure> {
        let done = sqlx::query(
            "UPDATE consult_messages SET handled_by = ?, handled_at = ? \
             WHERE consult_id = ? AND handled_at IS NULL",
        )
        .bind(by.to_string())
        .bind(at)
        .bind(db_id(consult))
        .execute(self.pool())
        .await
        .map_err(fail)?;
        Ok(done.rows_affected() > 0)
    }

    async fn counsellor_profile(
        &self,
        account: AccountId,
    ) -> Result<Option<CounsellorProfile>, StoreFailure> {
        let row = sqlx::query(&format!("{PROFILE_QUERY} AND a.id = ?"))
            .bind(account.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(fail)?;
        row.as_ref().map(profile).transpose()
    }

    async fn set_counsellor_profile(
        &self,
        account: AccountId,
        p: &CounsellorProfile,
    ) -> Result<(), StoreFailure> {
        sqlx::query(
            "INSERT INTO counsellor_profiles (account_id, professions, capacity, supervisor, updated_at) \
             VALUES (?, ?, ?, ?, strftime('%s','now') * 1000) ON CONFLICT (account_id) DO UPDATE SET \
             professions = excluded.professions, capacity = excluded.capacity, \
             supervisor = excluded.supervisor, updated_at = excluded.updated_at",
        )
        .bind(account.to_string())
        .bind(serde_json::to_string(&p.professions).map_err(fail)?)
        .bind(i64::from(p.capacity.max(1)))
        .bind(i64::from(p.supervisor))
        .execute(self.pool())
        .await
        .map_err(fail)?;
        Ok(())
    }

    async fn counsellor_profiles(
        &self,
    ) -> Result<Vec<(AccountId, CounsellorProfile)>, StoreFailure> {
        let rows = sqlx::query(&format!("{PROFILE_QUERY} ORDER BY a.created_at"))
            .fetch_all(self.pool())
            .await
            .map_err(fail)?;
        rows.iter()
            .map(|row| Ok((account(row.get("id"))?, profile(row)?)))
            .collect()
    }

    async fn purge_consults(&self, ended_before: Millis) -> Result<u64, StoreFailure> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM consults WHERE ended IS NOT NULL AND purged = 0 AND ended_at < ?",
        )
        .bind(ended_before)
        .fetch_all(self.pool())
        .await
        .map_err(fail)?;
        for id in &ids {
            let room = room_of(u64::try_from(*id).unwrap_or(0));
            let mut tx = self.pool().begin().await.map_err(fail)?;
            for sql in [
                "DELETE FROM reactions WHERE message_id IN (SELECT id FROM messages WHERE room_id = ?)",
                "DELETE FROM messages WHERE room_id = ?",
                "DELETE FROM room_events WHERE room_id = ?",
            ] {
                sqlx::query(sql)
                    .bind(room.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(fail)?;
            }
            sqlx::query("DELETE FROM consult_messages WHERE consult_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
            sqlx::query(
                "UPDATE consults SET first_message = NULL, handover = NULL, purged = 1 WHERE id = ?",
            )
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
            tx.commit().await.map_err(fail)?;
        }
        // Bookings' first notes and cancellation messages go on the same terms.
        sqlx::query(
            "UPDATE appointments SET first_note = NULL, message = NULL, email = NULL \
             WHERE ends_at < ? AND state NOT IN ('booked', 'open') \
             AND (first_note IS NOT NULL OR message IS NOT NULL OR email IS NOT NULL)",
        )
        .bind(ended_before)
        .execute(self.pool())
        .await
        .map_err(fail)?;
        Ok(ids.len() as u64)
    }
}
