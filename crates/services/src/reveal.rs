//! Revealing personal data that is masked by default (PIPL: least privilege, every
//! access recorded). One path for every kind of secret: check who may see it, read it,
//! write the audit entry with the reason, and only then hand the value out. The care
//! register's ID numbers and phones join this enum as they arrive.

use crate::{Caller, Error, Result, Services, allowed};
use doorstep_domain::audit::{AuditAction, AuditEntity, RevealReason};
use doorstep_domain::{RequestId, ResidentId};
use doorstep_store::AuditEntry;
use serde_json::json;

/// Something masked that a caller may ask to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// The phone of the resident who made a request, to call them back.
    RequestPhone(RequestId),
    /// A registered resident's ID number (to check who is at the door, or for a form).
    ResidentIdNumber(ResidentId),
    /// A registered resident's phone.
    ResidentPhone(ResidentId),
}

impl Secret {
    /// The secret's field, as the audit log and the API name it.
    pub fn field(self) -> &'static str {
        match self {
            Secret::RequestPhone(_) => "resident_phone",
            Secret::ResidentIdNumber(_) => "id_number",
            Secret::ResidentPhone(_) => "phone",
        }
    }
}

/// The value of `secret`, if the caller may see it; the reveal is in the audit log
/// before the value leaves.
pub async fn reveal(
    sv: &Services,
    who: &Caller,
    secret: Secret,
    reason: RevealReason,
) -> Result<String> {
    let (entity, id, value) = match secret {
        Secret::RequestPhone(id) => {
            let r = sv.store.requests().get(id).await?;
            allowed(who.actor.may_reveal_request_contact(&r.place()))?;
            let phone = crate::requests::phones::full(sv, &r)?;
            (AuditEntity::Request, id.get(), phone)
        }
        Secret::ResidentIdNumber(id) | Secret::ResidentPhone(id) => {
            let r = crate::register::resident(sv, who, id).await?;
            let v = sv.vault()?;
            let value = match secret {
                Secret::ResidentIdNumber(_) => crate::register::id_number(v, &r)?,
                _ => crate::register::phone(v, &r)?,
            };
            (AuditEntity::Resident, id.get(), value)
        }
    };
    let value = value.filter(|v| !v.is_empty()).ok_or(Error::NotFound)?;
    let detail = json!({"field": secret.field(), "reason": reason.code()});
    let entry = AuditEntry::write(AuditAction::Reveal, entity, id, detail);
    sv.store.audit().record(&sv.ctx(who), entry).await?;
    Ok(value)
}
