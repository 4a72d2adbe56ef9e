//! A programme's introduction: an image or a short video uploaded by staff, kept under
//! `<data_dir>/gallery/` and served from the same origin (so that nobody's browser is sent
//! elsewhere). The declared type must be one of a few, and the file's first bytes must say
//! the same; the size is bounded by `programmes.gallery_max_bytes`, counted while the upload
//! streams to disk.

use crate::error::AppError;
use crate::http::{AppState, Caller};
use crate::programmes::{parse_id, programme_record, save_programme, view};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use ibasho_accounts::authz::Action;
use ibasho_protocol::programme::GalleryItem;
use ibasho_protocol::{ErrorCode, ProgrammeId};
use std::path::{Path as FsPath, PathBuf};
use tokio::io::AsyncWriteExt;

/// A check of a file's first bytes.
type Sniff = fn(&[u8]) -> bool;

/// The kinds of file a gallery item may be: media type, file extension, and a check of the
/// first bytes.
const KINDS: &[(&str, &str, Sniff)] = &[
    ("image/png", "png", |b| b.starts_with(b"\x89PNG\r\n\x1a\n")),
    ("image/jpeg", "jpg", |b| b.starts_with(b"\xff\xd8\xff")),
    ("image/webp", "webp", |b| {
        b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP"
    }),
    ("video/mp4", "mp4", |b| b.len() >= 8 && &b[4..8] == b"ftyp"),
    ("video/webm", "webm", |b| b.starts_with(b"\x1a\x45\xdf\xa3")),
];

/// The media types accepted, for `/api/config` and error messages.
pub fn accepted_types() -> Vec<&'static str> {
    KINDS.iter().map(|(t, _, _)| *t).collect()
}

/// Where gallery files live.
pub fn dir(state: &AppState) -> PathBuf {
    state.config.data_dir.join("gallery")
}

fn file_of(url: &str) -> Option<&str> {
    url.strip_prefix("/gallery/")
        .filter(|name| !name.contains(['/', '\\']) && !name.starts_with('.'))
}

async fn remove_file(state: &AppState, item: Option<&GalleryItem>) {
    if let Some(GalleryItem::Upload { url, .. }) = item
        && let Some(name) = file_of(url)
        && let Err(e) = tokio::fs::remove_file(dir(state).join(name)).await
    {
        tracing::warn!(file = name, error = %e, "could not remove a replaced gallery file");
    }
}

/// Streams `body` into `path`, at most `max` bytes; returns the size and the first bytes.
async fn receive(path: &FsPath, body: Body, max: u64) -> Result<(u64, Vec<u8>), AppError> {
    let mut file = tokio::fs::File::create(path).await?;
    let mut stream = body.into_data_stream();
    let mut size: u64 = 0;
    let mut head = Vec::with_capacity(16);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            AppError::client(
                ErrorCode::InvalidInput,
                format!("the upload broke off: {e}"),
            )
        })?;
        size += chunk.len() as u64;
        if size > max {
            return Err(AppError::field(
                ErrorCode::TooLong,
                "file",
                format!("at most {max} bytes (programmes.gallery_max_bytes)"),
            ));
        }
        if head.len() < 16 {
            let take = (16 - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        file.write_all(&chunk).await?;
    }
    file.sync_all().await?;
    Ok((size, head))
}

/// `PUT /api/programmes/{id}/gallery` (staff): the file is the body, with its Content-Type.
pub(crate) async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    caller.require(Action::ManageProgrammes)?;
    let id: ProgrammeId = parse_id(&id)?;
    let mut record = programme_record(&state, id)?;
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let Some(&(content_type, ext, looks_right)) = KINDS.iter().find(|(t, _, _)| *t == declared)
    else {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "content_type",
            format!("send one of: {}", accepted_types().join(", ")),
        ));
    };
    let dir = dir(&state);
    tokio::fs::create_dir_all(&dir).await?;
    let name = format!("{id}-{}.{ext}", uuid::Uuid::now_v7().simple());
    let partial = dir.join(format!(".upload-{name}"));
    let received = receive(&partial, body, state.config.programmes.gallery_max_bytes).await;
    let checked = match received {
        Ok((0, _)) => Err(AppError::field(
            ErrorCode::InvalidInput,
            "file",
            "the file is empty",
        )),
        Ok((_, head)) if !looks_right(&head) => Err(AppError::field(
            ErrorCode::InvalidInput,
            "file",
            format!("the file is not {content_type}"),
        )),
        other => other,
    };
    let bytes = match checked {
        Ok((bytes, _)) => bytes,
        Err(e) => {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
    };
    tokio::fs::rename(&partial, dir.join(&name)).await?;
    let previous = record.gallery.replace(GalleryItem::Upload {
        url: format!("/gallery/{name}"),
        content_type: content_type.to_owned(),
        bytes,
    });
    save_programme(&state, &mut record).await?;
    remove_file(&state, previous.as_ref()).await;
    state
        .audit(
            caller.0.account,
            "upload_gallery",
            None,
            String::new(),
            serde_json::json!({ "programme": id, "content_type": content_type, "bytes": bytes }),
        )
        .await?;
    Ok(Json(view(&state, &record).await?).into_response())
}

/// `DELETE /api/programmes/{id}/gallery` (staff).
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    caller.require(Action::ManageProgrammes)?;
    let id: ProgrammeId = parse_id(&id)?;
    let mut record = programme_record(&state, id)?;
    let previous = record.gallery.take();
    save_programme(&state, &mut record).await?;
    remove_file(&state, previous.as_ref()).await;
    state
        .audit(
            caller.0.account,
            "remove_gallery",
            None,
            String::new(),
            serde_json::json!({ "programme": id }),
        )
        .await?;
    Ok(Json(view(&state, &record).await?).into_response())
}
