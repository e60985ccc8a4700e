//! The care register's keys: ID numbers and phones are stored sealed (no plaintext in the
//! database file), found by keyed hash, and re-sealed under a new key by
//! `doorstep keys rotate` while old values still open.

use crate::backend_tests;
use doorstep::config::Config;
use doorstep_domain::BuildingId;
use doorstep_domain::people::Residency;
use doorstep_services::register::{rotate, seal};
use doorstep_store::scratch::ScratchDb;
use doorstep_store::{Backend, NewResident, WriteCtx};
use std::sync::Arc;

backend_tests!(keys_rotate_without_losing_a_value);

const OLD: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const NEW: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
const ID: &str = "11010519491231002X";
const PHONE: &str = "13800138000";

fn services(db: &ScratchDb, key: &str, previous: &[&str]) -> doorstep_services::Services {
    let mut config = Config {
        database_url: db.url.clone(),
        ..Default::default()
    };
    config.set("encryption_key", key).unwrap();
    config
        .set("previous_encryption_keys", &previous.join(","))
        .unwrap();
    let clock = doorstep_domain::clock::ManualClock::new(crate::support::start_time());
    doorstep::startup::services(db.store.clone(), Arc::new(clock), &config).unwrap()
}

async fn keys_rotate_without_losing_a_value(b: Backend) {
    let db = ScratchDb::new(b).await.unwrap();
    let fx = crate::support::fixture(&db.store).await;
    let ctx = WriteCtx::system("test", None, crate::support::start_time());
    let old = services(&db, OLD, &[]);
    let v = old.vault().unwrap();
    let reg = db.store.register();
    let h = reg
        .household(BuildingId(fx.building1), "1", "502", &ctx)
        .await
        .unwrap();
    let r = reg
        .add_resident(
            &NewResident {
                household_id: h.id,
                name: "王秀英".into(),
                sex: None,
                birth_date: None,
                id_number: Some(seal(v, ID)),
                phone: Some(seal(v, PHONE)),
                residency: Residency::Registered,
                languages: None,
            },
            &ctx,
        )
        .await
        .unwrap();
    // Nothing of the values is in the database file.
    if b == Backend::Sqlite {
        let _ = db.store.analyze().await;
        let path = db.url.trim_start_matches("sqlite://");
        let mut bytes = std::fs::read(path).unwrap();
        for wal in ["-wal", "-shm"] {
            if let Ok(more) = std::fs::read(format!("{path}{wal}")) {
                bytes.extend(more);
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(ID) && !text.contains(PHONE),
            "plaintext in the database file"
        );
    }
    // A new key, the old one kept to open: rotation re-seals, and the lookups follow.
    let new = services(&db, NEW, &[OLD]);
    assert_eq!(rotate(&new).await.unwrap(), 1);
    assert_eq!(rotate(&new).await.unwrap(), 0, "nothing left to do");
    let only_new = services(&db, NEW, &[]);
    let nv = only_new.vault().unwrap();
    let again = reg.find_resident(r.id).await.unwrap().unwrap();
    assert_eq!(
        doorstep_services::register::id_number(nv, &again)
            .unwrap()
            .as_deref(),
        Some(ID)
    );
    assert_eq!(
        doorstep_services::register::phone(nv, &again)
            .unwrap()
            .as_deref(),
        Some(PHONE)
    );
    assert_eq!(
        reg.resident_by_id_number(again.subdistrict_id, &nv.lookup(ID))
            .await
            .unwrap()
            .map(|x| x.id),
        Some(r.id)
    );
    db.drop_db().await;
}
