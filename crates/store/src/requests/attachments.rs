//! Images attached to requests (at most [`MAX_ATTACHMENTS`] each), stored in the database.

use crate::audit::{self, AuditEntry};
use crate::db::{DbRow, Exec, Sql};
use crate::{Result, Store, StoreError, WriteCtx};
use chrono::{DateTime, Utc};
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_domain::requests::MAX_ATTACHMENTS;
use doorstep_domain::{AttachmentId, FieldErrors, RequestId};
use serde::Serialize;

/// An image checked by the services, to be stored.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub content_type: String,
    pub sha256: String,
    pub data: Vec<u8>,
}

/// An attachment's description (the bytes are fetched separately).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Attachment {
    pub id: AttachmentId,
    pub request_id: RequestId,
    pub content_type: String,
    pub byte_size: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

fn read(r: &DbRow) -> Result<Attachment> {
    Ok(Attachment {
        id: r.id("id")?,
        request_id: r.id("request_id")?,
        content_type: r.get("content_type")?,
        byte_size: r.get("byte_size")?,
        sha256: r.get("sha256")?,
        created_at: r.get("created_at")?,
    })
}

const COLUMNS: &str = "id, request_id, content_type, byte_size, sha256, created_at";

/// Stores one image inside the caller's transaction; returns its description.
pub(crate) async fn insert(
    db: &mut impl Exec,
    request_id: RequestId,
    a: &NewAttachment,
    at: DateTime<Utc>,
) -> Result<Attachment> {
    let row = Sql::new(format!(
        "INSERT INTO request_attachments (request_id, content_type, byte_size, sha256, data, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind(request_id)
    .bind(&a.content_type)
    .bind(a.data.len() as i64)
    .bind(&a.sha256)
    .bind(a.data.clone())
    .bind(at)
    .fetch_one(db)
    .await?;
    read(&row)
}

/// The requests' images.
#[derive(Debug, Clone, Copy)]
pub struct AttachmentStore<'a>(pub(crate) &'a Store);

impl AttachmentStore<'_> {
    /// Stores an image of a request; refuses past [`MAX_ATTACHMENTS`].
    pub async fn add(
        self,
        request_id: RequestId,
        a: &NewAttachment,
        ctx: &WriteCtx,
    ) -> Result<Attachment> {
        let mut tx = self.0.begin().await?;
        let n: i64 = Sql::new("SELECT COUNT(*) FROM request_attachments WHERE request_id = $1")
            .bind(request_id)
            .scalar(&mut tx)
            .await?;
        if n >= MAX_ATTACHMENTS as i64 {
            return Err(FieldErrors::single("attachment", "too_many").into());
        }
        let stored = insert(&mut tx, request_id, a, ctx.at).await?;
        let what = serde_json::json!({
            "attachment": stored.id, "bytes": a.data.len(), "type": a.content_type
        });
        let entry = AuditEntry::write(AuditAction::Attach, AuditEntity::Request, request_id, what);
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await?;
        Ok(stored)
    }

    pub async fn list(self, request_id: RequestId) -> Result<Vec<Attachment>> {
        Sql::new(format!(
            "SELECT {COLUMNS} FROM request_attachments WHERE request_id = $1 ORDER BY id"
        ))
        .bind(request_id)
        .fetch_all(&mut self.0.db())
        .await?
        .iter()
        .map(read)
        .collect()
    }

    /// An attachment's type and bytes.
    pub async fn data(self, request_id: RequestId, id: AttachmentId) -> Result<(String, Vec<u8>)> {
        let r = Sql::new(
            "SELECT content_type, data FROM request_attachments WHERE request_id = $1 AND id = $2",
        )
        .bind(request_id)
        .bind(id)
        .fetch_optional(&mut self.0.db())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok((r.get("content_type")?, r.get("data")?))
    }
}
