//! Creating accounts: guest entry and `ibasho admin create` share these rules.

use crate::error::AppError;
use ibasho_hub::store::{AccountRecord, HubStore, NewAccount, StoreError};
use ibasho_protocol::handle::{handle_key, normalize_handle};
use ibasho_protocol::{AccountId, Avatar, ErrorCode, Limits, Role};

/// Creates an account after checking the handle rules.
pub async fn create_account(
    store: &dyn HubStore,
    limits: &Limits,
    raw_handle: &str,
    avatar: Avatar,
    role: Role,
    now: i64,
) -> Result<AccountRecord, AppError> {
    let handle = normalize_handle(raw_handle, limits)
        .map_err(|e| AppError::client(ErrorCode::InvalidHandle, e.to_string()))?;
    let new = NewAccount {
        id: AccountId::new_v7(),
        handle_key: handle_key(&handle),
        handle,
        avatar,
        role,
        created_at: now,
    };
    match store.create_account(&new).await {
        Ok(record) => Ok(record),
        Err(StoreError::HandleTaken) => Err(AppError::client(
            ErrorCode::HandleTaken,
            "someone already uses this handle; please choose another",
        )),
        Err(e) => Err(AppError::Internal(e.into())),
    }
}
