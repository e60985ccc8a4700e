//! The audit log as admins search it.

use crate::{Error, Result, Services};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use doorstep_domain::Actor;
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_store::{AuditFilter, AuditRecord, Page};

/// A search of the log: every filter is one the log knows (the adapters refuse others).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Part of the actor's name.
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    pub entity: Option<AuditEntity>,
    pub entity_id: Option<i64>,
    /// Days in Shanghai, both included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub limit: i64,
    pub offset: i64,
}

/// Midnight in Shanghai at the start of `d`, in UTC.
pub fn shanghai_midnight(d: NaiveDate) -> DateTime<Utc> {
    Shanghai
        .from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// Entries of the caller's subdistrict (admins only), newest first.
pub async fn search(sv: &Services, who: &Actor, q: &AuditQuery) -> Result<Page<AuditRecord>> {
    if !who.may_read_audit() {
        return Err(Error::Forbidden);
    }
    let f = AuditFilter {
        subdistrict_id: Some(who.subdistrict_id),
        actor: q.actor.clone().filter(|a| !a.trim().is_empty()),
        action: q.action,
        entity: q.entity,
        entity_id: q.entity_id,
        from: q.from.map(shanghai_midnight),
        to: q
            .to
            .map(|d| shanghai_midnight(d + chrono::Duration::days(1))),
        limit: q.limit,
        offset: q.offset,
    };
    Ok(sv.store.audit().list(&f).await?)
}
