//! [`AppointmentStore`] on SQLite. A booking is one conditional INSERT, so that of two
//! attempts at one counsellor's time exactly one wins (SQLite runs one writing statement at a
//! time); the partial unique index on (counsellor, start) of live bookings backs it up.

use crate::consults::{account, db_id, fail, wire};
use crate::sqlite::{SqliteStore, enum_value};
use async_trait::async_trait;
use ibasho_consult::appointments::SlotRuleInput;
use ibasho_consult::store::{
    AppointmentRecord, AppointmentStore, Booking, NewAppointment, RuleRecord, StoreFailure,
};
use ibasho_protocol::consult::{AppointmentId, AppointmentState};
use ibasho_protocol::{AccountId, Millis};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

const RULE_COLUMNS: &str = "id, counsellor_id, spec, created_by, created_at";

fn rule(row: &SqliteRow) -> Result<RuleRecord, StoreFailure> {
    let input: SlotRuleInput = serde_json::from_str(row.get("spec"))
        .map_err(|e| fail(format!("bad stored slot rule: {e}")))?;
    Ok(RuleRecord {
        id: u64::try_from(row.get::<i64, _>("id")).unwrap_or(0),
        counsellor: account(row.get("counsellor_id"))?,
        input,
        created_by: account(row.get("created_by"))?,
        created_at: row.get("created_at"),
    })
}

const COLUMNS: &str = "id, counsellor_id, requester_id, starts_at, ends_at, for_whom, topic, \
    first_note, state, cancelled_by, message, email_reminders, email, consult_id, booked_at, changed_at, \
    reminded_day_before, reminded_soon, requester_came_at, counsellor_came_at";

/// Live bookings: they hold their slot.
const LIVE: &str = "state IN ('booked', 'open')";

fn appointment(row: &SqliteRow) -> Result<AppointmentRecord, StoreFailure> {
    Ok(AppointmentRecord {
        id: u64::try_from(row.get::<i64, _>("id")).unwrap_or(0),
        counsellor: account(row.get("counsellor_id"))?,
        requester: account(row.get("requester_id"))?,
        starts_at: row.get("starts_at"),
        ends_at: row.get("ends_at"),
        for_whom: wire(row.get("for_whom"))?,
        topic: wire(row.get("topic"))?,
        first_note: row.get("first_note"),
        state: wire(row.get("state"))?,
        cancelled_by: row
            .get::<Option<&str>, _>("cancelled_by")
            .map(wire)
            .transpose()?,
        message: row.get("message"),
        email_reminders: row.get::<i64, _>("email_reminders") != 0,
        email: row.get("email"),
        consult: row
            .get::<Option<i64>, _>("consult_id")
            .and_then(|c| u64::try_from(c).ok()),
        booked_at: row.get("booked_at"),
        changed_at: row.get("changed_at"),
        reminded_day_before: row.get::<i64, _>("reminded_day_before") != 0,
        reminded_soon: row.get::<i64, _>("reminded_soon") != 0,
        requester_came_at: row.get("requester_came_at"),
        counsellor_came_at: row.get("counsellor_came_at"),
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl SqliteStore {
    /// The conditional INSERT of a booking, on `conn`: only if no live booking of the
    /// counsellor overlaps it, and the person holds fewer than `max` live bookings (not
    /// counting `except`), none overlapping it. Returns the new id, or `None` if refused.
    async fn insert_booking(
        conn: &mut sqlx::SqliteConnection,
        new: &NewAppointment,
        max: u32,
        except: Option<AppointmentId>,
        at: Millis,
    ) -> Result<Option<i64>, sqlx::Error> {
        let requester = new.requester.to_string();
        let except = except.map(db_id).unwrap_or(-1);
        let done = sqlx::query(&format!(
            "INSERT INTO appointments (counsellor_id, requester_id, starts_at, ends_at, for_whom, \
             topic, first_note, state, email_reminders, email, booked_at, changed_at, \
             reminded_day_before, reminded_soon) \
             SELECT ?, ?, ?, ?, ?, ?, ?, 'booked', ?, ?, ?, ?, ?, ? \
             WHERE NOT EXISTS (SELECT 1 FROM appointments WHERE counsellor_id = ? AND {LIVE} \
                AND starts_at < ? AND ends_at > ?) \
             AND NOT EXISTS (SELECT 1 FROM appointments WHERE requester_id = ? AND {LIVE} \
                AND id != ? AND starts_at < ? AND ends_at > ?) \
             AND (SELECT COUNT(*) FROM appointments WHERE requester_id = ? AND {LIVE} AND id != ?) < ?"
        ))
        .bind(new.counsellor.to_string())
        .bind(&requester)
        .bind(new.starts_at)
        .bind(new.ends_at)
        .bind(enum_value(&new.for_whom))
        .bind(enum_value(&new.topic))
        .bind(&new.first_note)
        .bind(i64::from(new.email_reminders))
        .bind(&new.email)
        .bind(at)
        .bind(at)
        .bind(i64::from(new.reminded_day_before))
        .bind(i64::from(new.reminded_soon))
        .bind(new.counsellor.to_string())
        .bind(new.ends_at)
        .bind(new.starts_at)
        .bind(&requester)
        .bind(except)
        .bind(new.ends_at)
        .bind(new.starts_at)
        .bind(&requester)
        .bind(except)
        .bind(i64::from(max))
        .execute(&mut *conn)
        .await?;
        Ok((done.rows_affected() == 1).then(|| done.last_insert_rowid()))
    }

    /// Why a booking was refused: the counsellor's time is taken, or the person's limit.
    async fn refusal(
        conn: &mut sqlx::SqliteConnection,
        new: &NewAppointment,
    ) -> Result<Booking, sqlx::Error> {
        let taken: bool = sqlx::query_scalar(&format!(
            "SELECT EXISTS (SELECT 1 FROM appointments WHERE counsellor_id = ? AND {LIVE} \
             AND starts_at < ? AND ends_at > ?)"
        ))
        .bind(new.counsellor.to_string())
        .bind(new.ends_at)
        .bind(new.starts_at)
        .fetch_one(&mut *conn)
        .await?;
        Ok(if taken {
            Booking::Taken
        } else {
            Booking::Limit
        })
    }

    async fn fetch_appointment(
        conn: &mut sqlx::SqliteConnection,
        id: i64,
    ) -> Result<Option<AppointmentRecord>, StoreFailure> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM appointments WHERE id = ?"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(fail)?;
        row.as_ref().map(appointment).transpose()
    }
}

#[async_trait]
impl AppointmentStore for SqliteStore {
    async fn create_rule(
        &self,
        counsellor: AccountId,
        input: &SlotRuleInput,
        by: AccountId,
        at: Millis,
    ) -> Result<RuleRecord, StoreFailure> {
        let spec = serde_json::to_string(input).map_err(fail)?;
        let done = sqlx::query(
            "INSERT INTO appointment_rules (counsellor_id, spec, created_by, created_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(counsellor.to_string())
        .bind(spec)
        .bind(by.to_string())
        .bind(at)
        .execute(self.pool())
        .await
        .map_err(fail)?;
        Ok(RuleRecord {
            id: u64::try_from(done.last_insert_rowid()).unwrap_or(0),
            counsellor,
            input: input.clone(),
            created_by: by,
            created_at: at,
        })
    }

    async fn rules(&self, counsellor: Option<AccountId>) -> Result<Vec<RuleRecord>, StoreFailure> {
        let rows = sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM appointment_rules WHERE deleted_at IS NULL \
             AND (? IS NULL OR counsellor_id = ?) ORDER BY id"
        ))
        .bind(counsellor.map(|c| c.to_string()))
        .bind(counsellor.map(|c| c.to_string()))
        .fetch_all(self.pool())
        .await
        .map_err(fail)?;
        rows.iter().map(rule).collect()
    }

    async fn rule(&self, id: u64) -> Result<Option<RuleRecord>, StoreFailure> {
        let row = sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM appointment_rules WHERE id = ? AND deleted_at IS NULL"
        ))
        .bind(db_id(id))
        .fetch_optional(self.pool())
        .await
        .map_err(fail)?;
        row.as_ref().map(rule).transpose()
    }

    async fn delete_rule(&self, id: u64, at: Millis) -> Result<bool, StoreFailure> {
        let done = sqlx::query(
            "UPDATE appointment_rules SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
        )
        .bind(at)
        .bind(db_id(id))
        .execute(self.pool())
        .await
        .map_err(fail)?;
        Ok(done.rows_affected() > 0)
    }

    async fn book(
        &self,
        new: &NewAppointment,
        max_upcoming: u32,
        at: Millis,
    ) -> Result<Booking, StoreFailure> {
        let mut conn = self.pool().acquire().await.map_err(fail)?;
        match Self::insert_booking(&mut conn, new, max_upcoming, None, at).await {
            Ok(Some(id)) => Ok(Self::fetch_appointment(&mut conn, id)
                .await?
                .map(Booking::Booked)
                .unwrap_or(Booking::Taken)),
            Ok(None) => Self::refusal(&mut conn, new).await.map_err(fail),
            Err(e) if is_unique_violation(&e) => Ok(Booking::Taken),
            Err(e) => Err(fail(e)),
        }
    }

    async fn move_appointment(
        &self,
        old: AppointmentId,
        new: &NewAppointment,
        max_upcoming: u32,
        at: Millis,
    ) -> Result<Booking, StoreFailure> {
        let mut tx = self.pool().begin().await.map_err(fail)?;
        // Mark the old one first: this takes the write lock, and a move of a booking that was
        // cancelled (or moved) meanwhile stops here.
        let marked = sqlx::query(
            "UPDATE appointments SET state = 'moved', changed_at = ? WHERE id = ? AND state = 'booked'",
        )
        .bind(at)
        .bind(db_id(old))
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
        if marked.rows_affected() == 0 {
            return Ok(Booking::Gone);
        }
        let outcome = match Self::insert_booking(&mut tx, new, max_upcoming, Some(old), at).await {
            Ok(Some(id)) => Self::fetch_appointment(&mut tx, id)
                .await?
                .map(Booking::Booked)
                .unwrap_or(Booking::Taken),
            Ok(None) => Self::refusal(&mut tx, new).await.map_err(fail)?,
            Err(e) if is_unique_violation(&e) => Booking::Taken,
            Err(e) => return Err(fail(e)),
        };
        if matches!(outcome, Booking::Booked(_)) {
            tx.commit().await.map_err(fail)?;
        } else {
            tx.rollback().await.map_err(fail)?;
        }
        Ok(outcome)
    }

    async fn appointment(
        &self,
        id: AppointmentId,
    ) -> Result<Option<AppointmentRecord>, StoreFailure> {
        let mut conn = self.pool().acquire().await.map_err(fail)?;
        Self::fetch_appointment(&mut conn, db_id(id)).await
    }

    async fn update_appointment(
        &self,
        r: &AppointmentRecord,
        expected: AppointmentState,
    ) -> Result<bool, StoreFailure> {
        let done = sqlx::query(
            "UPDATE appointments SET state = ?, cancelled_by = ?, message = ?, consult_id = ?, \
             changed_at = ?, reminded_day_before = ?, reminded_soon = ?, requester_came_at = ?, \
             counsellor_came_at = ?, first_note = ?, email = ? WHERE id = ? AND state = ?",
        )
        .bind(r.state.as_str())
        .bind(r.cancelled_by.map(|c| enum_value(&c)))
        .bind(&r.message)
        .bind(r.consult.map(db_id))
        .bind(r.changed_at)
        .bind(i64::from(r.reminded_day_before))
        .bind(i64::from(r.reminded_soon))
        .bind(r.requester_came_at)
        .bind(r.counsellor_came_at)
        .bind(&r.first_note)
        .bind(&r.email)
        .bind(db_id(r.id))
        .bind(expected.as_str())
        .execute(self.pool())
        .await
        .map_err(fail)?;
        Ok(done.rows_affected() > 0)
    }

    async fn appointments_between(
        &self,
        from: Millis,
        to: Millis,
        counsellor: Option<AccountId>,
    ) -> Result<Vec<AppointmentRecord>, StoreFailure> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM appointments WHERE starts_at >= ? AND starts_at < ? \
             AND (? IS NULL OR counsellor_id = ?) ORDER BY starts_at, id"
        ))
        .bind(from)
        .bind(to)
        .bind(counsellor.map(|c| c.to_string()))
        .bind(counsellor.map(|c| c.to_string()))
        .fetch_all(self.pool())
        .await
        .map_err(fail)?;
        rows.iter().map(appointment).collect()
    }

    async fn appointments_of(
        &self,
        requester: AccountId,
        limit: u32,
    ) -> Result<Vec<AppointmentRecord>, StoreFailure> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM appointments WHERE requester_id = ? \
             ORDER BY starts_at DESC, id DESC LIMIT ?"
        ))
        .bind(requester.to_string())
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(fail)?;
        rows.iter().map(appointment).collect()
    }

    async fn live_appointments(&self) -> Result<Vec<AppointmentRecord>, StoreFailure> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM appointments WHERE {LIVE} ORDER BY starts_at, id"
        ))
        .fetch_all(self.pool())
        .await
        .map_err(fail)?;
        rows.iter().map(appointment).collect()
    }
}
