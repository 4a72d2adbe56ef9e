//! Applications (and the mail about them) are deleted once past the retention period.

use ibasho_accounts::store::{ApplicationRecord, ApplicationStore, OutgoingMail};
use ibasho_protocol::api::{ApplicationStatus, Relation};
use ibasho_store::{SqliteOptions, SqliteStore};

fn application(created_at: i64) -> ApplicationRecord {
    ApplicationRecord {
        id: uuid::Uuid::now_v7(),
        email: format!("{created_at}@example.org"),
        relation: Relation::ForSelf,
        message: String::new(),
        lang: "ja".into(),
        consent_version: "test".into(),
        status: ApplicationStatus::Pending,
        created_at,
    }
}

#[tokio::test]
async fn applications_and_sent_mail_past_retention_are_deleted() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("ibasho-retention-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir)?;
    let store = SqliteStore::open(&dir.join("db.sqlite3"), &SqliteOptions::default()).await?;
    store.create_application(&application(1_000)).await?;
    store.create_application(&application(5_000)).await?;
    let mail = OutgoingMail {
        id: uuid::Uuid::now_v7(),
        to: "a@example.org".into(),
        subject: "s".into(),
        body: "b".into(),
        attempts: 0,
    };
    store.create_mail(&mail, 1_000).await?;
    store.update_mail_sent(mail.id, 1_500).await?;

    assert_eq!(store.delete_applications_before(3_000).await?, 1);
    let left = store.applications(None, 10).await?;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].created_at, 5_000);
    assert!(store.due_mail(10_000, 8, 10).await?.is_empty());
    store.close().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
