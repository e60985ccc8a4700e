//! A request's phone is personal data like the register's: with an encryption key
//! configured it is stored sealed, with only its masked form readable, and opened for
//! the audited reveal alone. Requests stored before the key was set are sealed by a pass
//! at startup; `doorstep keys rotate` re-seals them under a new key.

use crate::vault::Vault;
use crate::{Error, Result, Services};
use doorstep_domain::mask::mask_phone;
use doorstep_store::{RequestRecord, StoredPhone};

/// What is stored for a phone given at intake: (shown, sealed). Without a vault the
/// phone is kept in full and nothing is sealed.
pub(crate) fn for_storage(
    vault: Option<&Vault>,
    phone: Option<String>,
) -> (Option<String>, Option<String>) {
    match (vault, phone) {
        (Some(v), Some(p)) => (Some(mask_phone(&p)), Some(v.seal(&p))),
        (_, p) => (p, None),
    }
}

/// The full phone of a request, for the reveal.
pub(crate) fn full(sv: &Services, r: &RequestRecord) -> Result<Option<String>> {
    match &r.resident_phone_sealed {
        Some(sealed) => sv.vault()?.open(sealed).map(Some).map_err(Error::internal),
        None => Ok(r.resident_phone.clone()),
    }
}

/// Seals every phone still stored in full, and with `rotate` re-seals those sealed under
/// an older key, a batch at a time while the server serves. Returns how many changed.
pub async fn seal_all(sv: &Services, rotate: bool) -> Result<usize> {
    let v = sv.vault()?;
    let stale_for = rotate.then(|| v.key_id());
    let mut done = 0;
    loop {
        let batch = sv.store.requests().phones_to_seal(stale_for, 500).await?;
        let mut progressed = false;
        for was in &batch {
            let plain = plain(v, was)?;
            let (shown, sealed) = (mask_phone(&plain), v.seal(&plain));
            if sv.store.requests().seal_phone(was, &shown, &sealed).await? {
                done += 1;
                progressed = true;
            }
        }
        // A batch that moved nothing was all changed under us (or is empty): stop rather
        // than spin; the next run takes what is left.
        if !progressed {
            return Ok(done);
        }
    }
}

fn plain(v: &Vault, was: &StoredPhone) -> Result<String> {
    match &was.sealed {
        Some(s) => v.open(s).map_err(Error::internal),
        None => Ok(was.shown.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vault_keeps_only_the_masked_phone_readable() {
        let v = Vault::new("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", &[]).unwrap();
        let (shown, sealed) = for_storage(Some(&v), Some("13812345678".into()));
        assert_eq!(shown.as_deref(), Some("138****5678"));
        let sealed = sealed.unwrap();
        assert!(!sealed.contains("12345678"));
        assert_eq!(v.open(&sealed).unwrap(), "13812345678");
        assert_eq!(
            for_storage(None, Some("13812345678".into())),
            (Some("13812345678".into()), None)
        );
        assert_eq!(for_storage(Some(&v), None), (None, None));
    }
}
