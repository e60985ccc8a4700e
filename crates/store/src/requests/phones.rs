//! Sealing requests' phones: the rows whose phone is still in full, or sealed under a
//! key other than the current one, and their update when nobody changed them meanwhile.

use super::RequestStore;
use crate::Result;
use crate::db::Sql;
use doorstep_domain::RequestId;

/// A request's phone as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPhone {
    pub request_id: RequestId,
    /// What is shown (the full phone until sealed).
    pub shown: String,
    pub sealed: Option<String>,
}

impl RequestStore<'_> {
    /// Up to `limit` requests whose phone is in full, and with `stale_for` also those
    /// sealed under a key other than it, in id order.
    pub async fn phones_to_seal(
        self,
        stale_for: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StoredPhone>> {
        let unsealed = "SELECT id, resident_phone, resident_phone_sealed FROM requests \
             WHERE resident_phone IS NOT NULL AND resident_phone_sealed IS NULL";
        let q = match stale_for {
            None => Sql::new(format!("{unsealed} ORDER BY id LIMIT $1")),
            Some(key_id) => Sql::new(format!(
                "{unsealed} UNION SELECT id, resident_phone, resident_phone_sealed FROM requests \
                 WHERE resident_phone_sealed IS NOT NULL AND resident_phone_sealed NOT LIKE $1 \
                 ORDER BY id LIMIT $2"
            ))
            .bind(format!("v1:{key_id}:%")),
        };
        let rows = q.bind(limit).fetch_all(&mut self.0.db()).await?;
        rows.iter()
            .map(|r| {
                Ok(StoredPhone {
                    request_id: r.id("id")?,
                    shown: r
                        .get::<Option<String>>("resident_phone")?
                        .unwrap_or_default(),
                    sealed: r.get("resident_phone_sealed")?,
                })
            })
            .collect()
    }

    /// Stores each phone's masked form and sealed value, where the row still holds what
    /// was read, in one transaction; how many were stored. Not a change of the request:
    /// no version, event or audit entry.
    pub async fn seal_phones(self, batch: &[(StoredPhone, String, String)]) -> Result<usize> {
        let mut tx = self.0.begin().await?;
        let mut done = 0;
        for (was, shown, sealed) in batch {
            done += Sql::new(
                "UPDATE requests SET resident_phone = $1, resident_phone_sealed = $2 \
                 WHERE id = $3 AND resident_phone = $4 \
                 AND COALESCE(resident_phone_sealed, '') = $5",
            )
            .bind(shown.as_str())
            .bind(sealed.as_str())
            .bind(was.request_id)
            .bind(was.shown.as_str())
            .bind(was.sealed.clone().unwrap_or_default())
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await?;
        Ok(usize::try_from(done).unwrap_or(usize::MAX))
    }
}
