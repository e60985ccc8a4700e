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
/// an older key, a batch (one transaction) at a time while the server serves. Returns how
/// many changed.
pub async fn seal_all(sv: &Services, rotate: bool) -> Result<usize> {
    let v = sv.vault()?;
    let stale_for = rotate.then(|| v.key_id());
    let mut done = 0;
    loop {
        let read = sv.store.requests().phones_to_seal(stale_for, 500).await?;
        let mut batch = Vec::with_capacity(read.len());
        for was in read {
            let plain = plain(v, &was)?;
            batch.push((was, mask_phone(&plain), v.seal(&plain)));
        }
        let n = sv.store.requests().seal_phones(&batch).await?;
        done += n;
        // A batch that moved nothing was all changed under us (or is empty): stop rather
        // than spin; the next run takes what is left.
        if n == 0 {
            return Ok(done);
        }
    }
}

/// The startup pass: seals the phones stored in full, then compacts the database so
/// their full form leaves its free pages too. A mark kept in the database until the
/// compaction is done makes a pass cut short (a crash, a restart) compact next time.
pub async fn seal_at_startup(sv: &Services) -> Result<usize> {
    const MARK: &str = "phones_compact_pending";
    let meta = sv.store.meta();
    if !sv
        .store
        .requests()
        .phones_to_seal(None, 1)
        .await?
        .is_empty()
    {
        meta.set(MARK, "1").await?;
    }
    let n = seal_all(sv, false).await?;
    if meta.get(MARK).await?.as_deref() == Some("1") {
        compact(sv).await?;
        meta.set(MARK, "0").await?;
    }
    Ok(n)
}

/// Compacts the database, retrying while other connections hold its log (a few seconds
/// at most); an error if it stays busy.
pub async fn compact(sv: &Services) -> Result<()> {
    for _ in 0..50 {
        if sv.store.compact().await? {
            return Ok(());
        }
        crate::clock::pause(std::time::Duration::from_millis(100)).await;
    }
    Err(Error::Unavailable)
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
