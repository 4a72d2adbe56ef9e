//! The SQLite implementation of [`EntryStore`].

use crate::sqlite::{SqliteStore, enum_value, parse_enum_value, parse_uuid};
use async_trait::async_trait;
use ibasho_accounts::store::{
    AdminStore, ApplicationRecord, ApplicationStore, Credentials, EntryStore, InvitationRecord,
    NewInvitation, NewMember, OutgoingMail, RegisterError, Rotation, StoreError,
};
use ibasho_protocol::api::{AccountStatus, AccountView, ApplicationStatus, Profession, Relation};
use ibasho_protocol::{AccountId, Millis, Role};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn invitation_from_row(row: &SqliteRow) -> Result<InvitationRecord, StoreError> {
    let role: &str = row.get("role");
    Ok(InvitationRecord {
        id: parse_uuid(row.get::<&str, _>("id")).map_err(backend)?,
        email: row.get("email"),
        role: Role::parse(role).ok_or_else(|| backend(format!("bad role {role}")))?,
        profession: row
            .get::<Option<&str>, _>("profession")
            .and_then(Profession::parse),
        supervisor: row.get::<i64, _>("supervisor") != 0,
        lang: row.get("lang"),
        created_by: AccountId(parse_uuid(row.get::<&str, _>("created_by")).map_err(backend)?),
        created_at: row.get("created_at"),
        expires_at: row.get("expires_at"),
        used_at: row.get("used_at"),
        revoked_at: row.get("revoked_at"),
        account: row
            .get::<Option<&str>, _>("account_id")
            .map(|s| parse_uuid(s).map(AccountId))
            .transpose()
            .map_err(backend)?,
        reset_account: row
            .get::<Option<&str>, _>("reset_account")
            .map(|s| parse_uuid(s).map(AccountId))
            .transpose()
            .map_err(backend)?,
    })
}

fn credentials_from_row(row: &SqliteRow) -> Result<Credentials, StoreError> {
    let role: &str = row.get("role");
    let status: &str = row.get("status");
    Ok(Credentials {
        account: AccountId(parse_uuid(row.get::<&str, _>("id")).map_err(backend)?),
        handle: row.get("handle"),
        role: Role::parse(role).ok_or_else(|| backend(format!("bad role {role}")))?,
        status: AccountStatus::parse(status)
            .ok_or_else(|| backend(format!("bad status {status}")))?,
        secret_hash: row.get("secret_hash"),
        totp_secret: row.get("totp_secret"),
        email: row.get("email"),
    })
}

/// Why an invitation could not be taken: unknown, or in which state it is.
async fn why_unusable(
    tx: &mut Transaction<'_, Sqlite>,
    token_hash: &str,
    now: Millis,
) -> RegisterError {
    let row = sqlx::query(&format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = ?"
    ))
    .bind(token_hash)
    .fetch_optional(&mut **tx)
    .await;
    match row {
        Ok(None) => RegisterError::UnknownInvitation,
        Ok(Some(row)) => match invitation_from_row(&row) {
            Ok(invitation) => RegisterError::Unusable(invitation.state(now)),
            Err(e) => e.into(),
        },
        Err(e) => backend(e).into(),
    }
}

/// Issues `new_hash` in `session` as the successor of `replaced`.
async fn issue_refresh(
    tx: &mut Transaction<'_, Sqlite>,
    session: &str,
    replaced: &str,
    new_hash: &str,
    now: Millis,
    expires_at: Millis,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE refresh_tokens SET replaced_by = ? WHERE token_hash = ?")
        .bind(new_hash)
        .bind(replaced)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) VALUES (?, ?, ?, ?)")
        .bind(new_hash)
        .bind(session)
        .bind(now)
        .bind(expires_at)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

const INVITATION_COLUMNS: &str = "id, email, role, profession, supervisor, lang, created_by, created_at, expires_at, used_at, revoked_at, account_id, reset_account";
const CREDENTIAL_COLUMNS: &str = "id, handle, role, status, secret_hash, totp_secret, email";

#[async_trait]
impl EntryStore for SqliteStore {
    async fn create_invitation(&self, new: &NewInvitation) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO invitations (id, token_hash, email, role, profession, supervisor, lang, created_by, created_at, expires_at, reset_account) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(new.id.to_string())
        .bind(&new.token_hash)
        .bind(&new.email)
        .bind(new.role.as_str())
        .bind(new.profession.map(Profession::as_str))
        .bind(i64::from(new.supervisor))
        .bind(&new.lang)
        .bind(new.created_by.to_string())
        .bind(new.created_at)
        .bind(new.expires_at)
        .bind(new.reset_account.map(|a| a.to_string()))
        .execute(self.pool())
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn invitations(&self, limit: u32) -> Result<Vec<InvitationRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations ORDER BY created_at DESC, id DESC LIMIT ?"
        ))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(backend)?;
        rows.iter().map(invitation_from_row).collect()
    }

    async fn invitation_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<InvitationRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = ?"
        ))
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await
        .map_err(backend)?;
        row.as_ref().map(invitation_from_row).transpose()
    }

    async fn revoke_invitation(&self, id: uuid::Uuid, now: Millis) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE invitations SET revoked_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?",
        )
        .bind(now)
        .bind(id.to_string())
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn register(
        &self,
        token_hash: &str,
        member: &NewMember,
        now: Millis,
    ) -> Result<(), RegisterError> {
        let mut tx = self.pool().begin().await.map_err(backend)?;
        // Take the invitation first (a write, so the transaction holds the lock from here):
        // a second registration with the same token finds it used.
        let taken = sqlx::query(
            "UPDATE invitations SET used_at = ? \
             WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ? AND reset_account IS NULL",
        )
        .bind(now)
        .bind(token_hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if taken.rows_affected() == 0 {
            return Err(why_unusable(&mut tx, token_hash, now).await);
        }
        let inserted = sqlx::query(
            "INSERT INTO accounts (id, handle, handle_key, avatar_shape, avatar_color, role, created_at, \
             status, relation, age_band, profession, supervisor, email, secret_hash) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?)",
        )
        .bind(member.id.to_string())
        .bind(&member.handle)
        .bind(&member.handle_key)
        .bind(enum_value(&member.avatar.shape))
        .bind(enum_value(&member.avatar.color))
        .bind(member.role.as_str())
        .bind(member.created_at)
        .bind(member.relation.map(|r| r.as_str()))
        .bind(member.age_band.map(|a| a.as_str()))
        .bind(member.profession.map(Profession::as_str))
        .bind(i64::from(member.supervisor))
        .bind(member.email.as_deref())
        .bind(member.secret_hash.as_deref())
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(RegisterError::HandleTaken);
            }
            Err(e) => return Err(backend(e).into()),
        }
        sqlx::query("UPDATE invitations SET account_id = ? WHERE token_hash = ?")
            .bind(member.id.to_string())
            .bind(token_hash)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn redeem_reset(
        &self,
        token_hash: &str,
        secret_hash: Option<&str>,
        now: Millis,
    ) -> Result<AccountId, RegisterError> {
        let mut tx = self.pool().begin().await.map_err(backend)?;
        let taken = sqlx::query(
            "UPDATE invitations SET used_at = ?, account_id = reset_account \
             WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ? AND reset_account IS NOT NULL \
             RETURNING reset_account",
        )
        .bind(now)
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let Some(row) = taken else {
            return Err(why_unusable(&mut tx, token_hash, now).await);
        };
        let account = AccountId(parse_uuid(row.get::<&str, _>(0)).map_err(backend)?);
        let active = sqlx::query("SELECT 1 FROM accounts WHERE id = ? AND status = 'active'")
            .bind(account.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        if active.is_none() {
            return Err(RegisterError::Unusable(
                ibasho_protocol::api::InvitationState::Revoked,
            ));
        }
        if let Some(hash) = secret_hash {
            sqlx::query("UPDATE accounts SET secret_hash = ?, totp_secret = NULL, totp_last_step = 0 WHERE id = ?")
                .bind(hash)
                .bind(account.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        // A reset ends every other session: whoever had the lost device is out.
        sqlx::query(
            "UPDATE sessions SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(account.to_string())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(account)
    }

    async fn credentials(&self, login: &str) -> Result<Option<Credentials>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM accounts WHERE (handle_key = ? OR email = ?) AND status != 'deleted'"
        ))
        .bind(login)
        .bind(login)
        .fetch_optional(self.pool())
        .await
        .map_err(backend)?;
        row.as_ref().map(credentials_from_row).transpose()
    }

    async fn credentials_of(&self, account: AccountId) -> Result<Option<Credentials>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM accounts WHERE id = ?"
        ))
        .bind(account.to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(backend)?;
        row.as_ref().map(credentials_from_row).transpose()
    }

    async fn update_secret(&self, account: AccountId, secret_hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET secret_hash = ? WHERE id = ?")
            .bind(secret_hash)
            .bind(account.to_string())
            .execute(self.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn update_totp(
        &self,
        account: AccountId,
        secret: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET totp_secret = ?, totp_last_step = 0 WHERE id = ?")
            .bind(secret)
            .bind(account.to_string())
            .execute(self.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn use_totp_step(&self, account: AccountId, step: u64) -> Result<bool, StoreError> {
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        let done = sqlx::query(
            "UPDATE accounts SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?",
        )
        .bind(step)
        .bind(account.to_string())
        .bind(step)
        .execute(self.pool())
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn update_status(
        &self,
        account: AccountId,
        status: AccountStatus,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE accounts SET status = ? WHERE id = ? AND status != 'deleted'")
                .bind(status.as_str())
                .bind(account.to_string())
                .execute(self.pool())
                .await
                .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_session(
        &self,
        account: AccountId,
        token_hash: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        let session = uuid::Uuid::now_v7().to_string();
        let mut tx = self.pool().begin().await.map_err(backend)?;
        sqlx::query("INSERT INTO sessions (id, account_id, created_at) VALUES (?, ?, ?)")
            .bind(&session)
            .bind(account.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(token_hash)
            .bind(&session)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn rotate_refresh(
        &self,
        presented_hash: &str,
        new_hash: &str,
        now: Millis,
        expires_at: Millis,
        grace_ms: Millis,
    ) -> Result<Rotation, StoreError> {
        let mut tx = self.pool().begin().await.map_err(backend)?;
        // Mark it used first (a write: the transaction holds the lock, so two racing
        // presentations of one token cannot both rotate it).
        let marked = sqlx::query(
            "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? \
             AND session_id IN (SELECT id FROM sessions WHERE revoked_at IS NULL)",
        )
        .bind(now)
        .bind(presented_hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let row = sqlx::query(
            "SELECT t.session_id, t.used_at, t.replaced_by, t.expires_at, s.account_id, s.revoked_at FROM refresh_tokens t \
             JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = ?",
        )
        .bind(presented_hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let Some(row) = row else {
            return Ok(Rotation::Invalid);
        };
        let session: String = row.get("session_id");
        let account = AccountId(parse_uuid(row.get::<&str, _>("account_id")).map_err(backend)?);
        if marked.rows_affected() == 1 {
            issue_refresh(&mut tx, &session, presented_hash, new_hash, now, expires_at).await?;
            tx.commit().await.map_err(backend)?;
            return Ok(Rotation::Rotated { account });
        }
        let used_at = row.get::<Option<i64>, _>("used_at");
        let revoked = row.get::<Option<i64>, _>("revoked_at").is_some();
        let unexpired = row.get::<i64, _>("expires_at") > now;
        // Presented again shortly after its rotation, while the token that replaced it has not
        // been used: the answer to the rotation was lost (a reload, a dropped connection), not
        // stolen. Rotate the unused successor instead of ending the session.
        if let (Some(used_at), false, true, Some(successor)) = (
            used_at,
            revoked,
            unexpired,
            row.get::<Option<String>, _>("replaced_by"),
        ) && now - used_at <= grace_ms
        {
            let taken = sqlx::query(
                "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
            )
            .bind(now)
            .bind(&successor)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            if taken.rows_affected() == 1 {
                issue_refresh(&mut tx, &session, &successor, new_hash, now, expires_at).await?;
                tx.commit().await.map_err(backend)?;
                return Ok(Rotation::Rotated { account });
            }
        }
        if used_at.is_some() && !revoked {
            // Reuse of a rotated token: someone has a copy. End the whole session.
            sqlx::query("UPDATE sessions SET revoked_at = ? WHERE id = ?")
                .bind(now)
                .bind(&session)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
            return Ok(Rotation::Reused { account });
        }
        Ok(Rotation::Invalid)
    }

    async fn delete_session(&self, presented_hash: &str, now: Millis) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sessions SET revoked_at = ? WHERE revoked_at IS NULL AND id = (SELECT session_id FROM refresh_tokens WHERE token_hash = ?)",
        )
        .bind(now)
        .bind(presented_hash)
        .execute(self.pool())
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn delete_sessions_of(&self, account: AccountId, now: Millis) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sessions SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(account.to_string())
        .execute(self.pool())
        .await
        .map_err(backend)?;
        Ok(())
    }
}

fn application_from_row(row: &SqliteRow) -> Result<ApplicationRecord, StoreError> {
    let relation: &str = row.get("relation");
    let status: &str = row.get("status");
    Ok(ApplicationRecord {
        id: parse_uuid(row.get::<&str, _>("id")).map_err(backend)?,
        email: row.get("email"),
        relation: Relation::parse(relation)
            .ok_or_else(|| backend(format!("bad relation {relation}")))?,
        message: row.get("message"),
        lang: row.get("lang"),
        consent_version: row.get("consent_version"),
        status: ApplicationStatus::parse(status)
            .ok_or_else(|| backend(format!("bad status {status}")))?,
        created_at: row.get("created_at"),
    })
}

const APPLICATION_COLUMNS: &str =
    "id, email, relation, message, lang, consent_version, status, created_at";

#[async_trait]
impl ApplicationStore for SqliteStore {
    async fn create_application(&self, a: &ApplicationRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO applications (id, email, relation, message, lang, consent_version, status, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(a.id.to_string())
        .bind(&a.email)
        .bind(a.relation.as_str())
        .bind(&a.message)
        .bind(&a.lang)
        .bind(&a.consent_version)
        .bind(a.status.as_str())
        .bind(a.created_at)
        .execute(self.pool())
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn applications(
        &self,
        status: Option<ApplicationStatus>,
        limit: u32,
    ) -> Result<Vec<ApplicationRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {APPLICATION_COLUMNS} FROM applications WHERE (? IS NULL OR status = ?) ORDER BY created_at DESC, id DESC LIMIT ?"
        ))
        .bind(status.map(ApplicationStatus::as_str))
        .bind(status.map(ApplicationStatus::as_str))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(backend)?;
        rows.iter().map(application_from_row).collect()
    }

    async fn application(&self, id: uuid::Uuid) -> Result<Option<ApplicationRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {APPLICATION_COLUMNS} FROM applications WHERE id = ?"
        ))
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(backend)?;
        row.as_ref().map(application_from_row).transpose()
    }

    async fn update_application(
        &self,
        id: uuid::Uuid,
        status: ApplicationStatus,
        by: AccountId,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE applications SET status = ?, decided_by = ?, decided_at = ? WHERE id = ? AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(by.to_string())
        .bind(now)
        .bind(id.to_string())
        .execute(self.pool())
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_applications_before(&self, cutoff: Millis) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM applications WHERE created_at < ?")
            .bind(cutoff)
            .execute(self.pool())
            .await
            .map_err(backend)?;
        sqlx::query(
            "DELETE FROM outbox WHERE created_at < ? AND (sent_at IS NOT NULL OR attempts > 0)",
        )
        .bind(cutoff)
        .execute(self.pool())
        .await
        .map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn create_mail(&self, mail: &OutgoingMail, now: Millis) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO outbox (id, to_addr, subject, body, created_at, attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, 0, ?)")
            .bind(mail.id.to_string())
            .bind(&mail.to)
            .bind(&mail.subject)
            .bind(&mail.body)
            .bind(now)
            .bind(now)
            .execute(self.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn due_mail(
        &self,
        now: Millis,
        max_attempts: u32,
        limit: u32,
    ) -> Result<Vec<OutgoingMail>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, to_addr, subject, body, attempts FROM outbox \
             WHERE sent_at IS NULL AND next_attempt_at <= ? AND attempts < ? ORDER BY next_attempt_at, created_at LIMIT ?",
        )
        .bind(now)
        .bind(i64::from(max_attempts))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(OutgoingMail {
                    id: parse_uuid(r.get::<&str, _>("id")).map_err(backend)?,
                    to: r.get("to_addr"),
                    subject: r.get("subject"),
                    body: r.get("body"),
                    attempts: u32::try_from(r.get::<i64, _>("attempts")).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    async fn update_mail_sent(&self, id: uuid::Uuid, now: Millis) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET sent_at = ?, last_error = NULL WHERE id = ?")
            .bind(now)
            .bind(id.to_string())
            .execute(self.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn update_mail_failed(
        &self,
        id: uuid::Uuid,
        error: &str,
        retry_at: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?")
            .bind(error)
            .bind(retry_at)
            .bind(id.to_string())
            .execute(self.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl AdminStore for SqliteStore {
    async fn accounts(&self, query: &str, limit: u32) -> Result<Vec<AccountView>, StoreError> {
        // LIKE with the wildcards of the query escaped, so that "%" and "_" match themselves.
        let escaped: String = query
            .trim()
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = format!("%{escaped}%");
        let rows = sqlx::query(
            "SELECT id, handle, avatar_shape, avatar_color, role, status, relation, profession, supervisor, \
             totp_secret IS NOT NULL AS totp, email, created_at FROM accounts \
             WHERE status != 'deleted' AND (handle_key LIKE ? ESCAPE '\\' OR IFNULL(email, '') LIKE ? ESCAPE '\\') \
             ORDER BY created_at DESC, id DESC LIMIT ?",
        )
        .bind(&pattern)
        .bind(&pattern)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let role: &str = r.get("role");
                let status: &str = r.get("status");
                Ok(AccountView {
                    id: AccountId(parse_uuid(r.get::<&str, _>("id")).map_err(backend)?),
                    handle: r.get("handle"),
                    avatar: ibasho_protocol::Avatar {
                        shape: parse_enum_value(r.get::<&str, _>("avatar_shape"))
                            .map_err(backend)?,
                        color: parse_enum_value(r.get::<&str, _>("avatar_color"))
                            .map_err(backend)?,
                    },
                    role: Role::parse(role).ok_or_else(|| backend(format!("bad role {role}")))?,
                    status: AccountStatus::parse(status)
                        .ok_or_else(|| backend(format!("bad status {status}")))?,
                    relation: r
                        .get::<Option<&str>, _>("relation")
                        .and_then(Relation::parse),
                    profession: r
                        .get::<Option<&str>, _>("profession")
                        .and_then(Profession::parse),
                    supervisor: r.get::<i64, _>("supervisor") != 0,
                    totp: r.get::<i64, _>("totp") != 0,
                    email: r.get("email"),
                    created_at: r.get("created_at"),
                })
            })
            .collect()
    }

    async fn update_profile(
        &self,
        account: AccountId,
        handle: Option<(&str, &str)>,
        avatar: Option<ibasho_protocol::Avatar>,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE accounts SET handle = COALESCE(?, handle), handle_key = COALESCE(?, handle_key), \
             avatar_shape = COALESCE(?, avatar_shape), avatar_color = COALESCE(?, avatar_color) \
             WHERE id = ? AND status = 'active'",
        )
        .bind(handle.map(|(h, _)| h))
        .bind(handle.map(|(_, k)| k))
        .bind(avatar.map(|a| enum_value(&a.shape)))
        .bind(avatar.map(|a| enum_value(&a.color)))
        .bind(account.to_string())
        .execute(self.pool())
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    async fn update_role(&self, account: AccountId, role: Role) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE accounts SET role = ? WHERE id = ? AND status != 'deleted'")
            .bind(role.as_str())
            .bind(account.to_string())
            .execute(self.pool())
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn export_account(&self, account: AccountId) -> Result<serde_json::Value, StoreError> {
        let id = account.to_string();
        let pool = self.pool();
        let json_rows = |sql: &'static str| {
            let id = id.clone();
            async move {
                let rows = sqlx::query(sql)
                    .bind(&id)
                    .fetch_all(pool)
                    .await
                    .map_err(backend)?;
                rows.iter()
                    .map(|r| {
                        serde_json::from_str::<serde_json::Value>(r.get::<&str, _>(0))
                            .map_err(backend)
                    })
                    .collect::<Result<Vec<_>, _>>()
            }
        };
        let account_row = json_rows(
            "SELECT json_object('id', id, 'handle', handle, 'avatar', json_object('shape', avatar_shape, 'color', avatar_color), \
             'role', role, 'status', status, 'relation', relation, 'age_band', age_band, 'profession', profession, \
             'supervisor', supervisor != 0, 'email', email, 'two_step_sign_in', totp_secret IS NOT NULL, \
             'has_passphrase_or_password', secret_hash IS NOT NULL, 'created_at', created_at) FROM accounts WHERE id = ?",
        )
        .await?;
        let messages = json_rows(
            "SELECT json_object('id', m.id, 'room', m.room_id, 'room_name', r.name, 'seq', m.seq, 'body', m.body, \
             'created_at', m.created_at, 'edited_at', m.edited_at, 'deleted', m.deleted != 0) \
             FROM messages m JOIN rooms r ON r.id = m.room_id WHERE m.author_id = ? ORDER BY m.created_at",
        )
        .await?;
        let reactions = json_rows(
            "SELECT json_object('message', message_id, 'stamp', stamp, 'at', created_at) FROM reactions WHERE account_id = ? ORDER BY created_at",
        )
        .await?;
        let sessions = json_rows(
            "SELECT json_object('started', created_at, 'ended', revoked_at) FROM sessions WHERE account_id = ? ORDER BY created_at",
        )
        .await?;
        let mutes = json_rows(
            "SELECT json_object('room', room_id, 'until', until) FROM mutes WHERE account_id = ?",
        )
        .await?;
        let removals = json_rows(
            "SELECT json_object('room', room_id, 'at', at) FROM removals WHERE account_id = ?",
        )
        .await?;
        let invitation = json_rows(
            "SELECT json_object('role', role, 'created_at', created_at, 'used_at', used_at) FROM invitations WHERE account_id = ?",
        )
        .await?;
        let moderation = json_rows(
            "SELECT json_object('at', at, 'action', action, 'room', room_id, 'reason', reason) FROM audit_log WHERE target_account = ? ORDER BY id",
        )
        .await?;
        // Their consult requests and any message they left; never the counsellors' notes.
        let consults = json_rows(
            "SELECT json_object('consult', c.id, 'topic', c.topic, 'for_whom', c.for_whom, \
             'profession', c.profession, 'first_message', c.first_message, 'requested_at', c.requested_at, \
             'ended', c.ended, 'ended_at', c.ended_at, 'left_message', m.body) \
             FROM consults c LEFT JOIN consult_messages m ON m.consult_id = c.id \
             WHERE c.requester_id = ? ORDER BY c.id",
        )
        .await?;
        // Their bookings, with their own note; never the counsellor's side.
        let appointments = json_rows(
            "SELECT json_object('appointment', id, 'starts_at', starts_at, 'ends_at', ends_at, \
             'for_whom', for_whom, 'topic', topic, 'first_note', first_note, 'state', state, \
             'booked_at', booked_at, 'email_reminders', email_reminders != 0, 'email', email) \
             FROM appointments WHERE requester_id = ? ORDER BY starts_at",
        )
        .await?;
        Ok(serde_json::json!({
            "account": account_row.into_iter().next(),
            "messages": messages,
            "consults": consults,
            "appointments": appointments,
            "reactions": reactions,
            "sessions": sessions,
            "invitation": invitation,
            "mutes": mutes,
            "removals": removals,
            "moderation_about_you": moderation,
        }))
    }

    async fn delete_account(&self, account: AccountId, now: Millis) -> Result<bool, StoreError> {
        let id = account.to_string();
        let mut tx = self.pool().begin().await.map_err(backend)?;
        let done = sqlx::query(
            "UPDATE accounts SET status = 'deleted', handle = '', handle_key = 'deleted:' || id, \
             avatar_shape = 'circle', avatar_color = 'sumi', email = NULL, secret_hash = NULL, totp_secret = NULL, \
             relation = NULL, age_band = NULL, profession = NULL \
             WHERE id = ? AND status != 'deleted'",
        )
        .bind(&id)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        for sql in [
            "UPDATE sessions SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL",
            "DELETE FROM mutes WHERE ? IS NOT NULL AND account_id = ?",
            "UPDATE invitations SET revoked_at = ? WHERE reset_account = ? AND used_at IS NULL AND revoked_at IS NULL",
        ] {
            sqlx::query(sql)
                .bind(now)
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        // Stamps are participation, not words: they go with the account.
        sqlx::query("DELETE FROM reactions WHERE account_id = ?")
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }
}
