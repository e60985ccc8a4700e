#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is how a test fails
//! The store's contract, written once and run on both backends: SQLite always, PostgreSQL
//! with `--features pg-tests` (which fails, never skips, when the server is unreachable).
//! One module per aggregate.

mod accounts;
mod bookings;
mod geo;
mod limits;
mod places;
mod register;
mod request_views;
mod requests;
mod scratch;

use chrono::{TimeZone, Utc};
use doorstep_domain::policy::Place;
use doorstep_domain::{
    AccountId, Entity, FieldErrors, NeighbourhoodId, Role, Scope, SubdistrictId, Value, Values,
};
use doorstep_store::scratch::ScratchDb;
use doorstep_store::{AuditFilter, ListQuery, NewAccount, Store, StoreError, WriteCtx};
use serde_json::json;

pub(crate) fn ctx() -> WriteCtx {
    WriteCtx {
        actor_id: None,
        actor_name: "test".into(),
        subdistrict_id: None,
        ip: Some("127.0.0.1".into()),
        at: Utc.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap(),
        demo: false,
    }
}

pub(crate) fn vals(entity: Entity, v: serde_json::Value) -> Values {
    let map = v.as_object().cloned().unwrap_or_default();
    doorstep_domain::validate(entity.fields(), &map, None, &[]).expect("valid test values")
}

pub(crate) struct Seed {
    pub sd: SubdistrictId,
    pub nb1: NeighbourhoodId,
    pub nb2: NeighbourhoodId,
    pub estate: i64,
    pub station: i64,
}

pub(crate) async fn seed(s: &Store) -> Seed {
    let c = ctx();
    let sd = s
        .places()
        .create(
            Entity::Subdistrict,
            &vals(
                Entity::Subdistrict,
                json!({"name": "花木街道", "code": "310115016"}),
            ),
            &c,
        )
        .await
        .unwrap();
    let com = s
        .places()
        .create(
            Entity::Community,
            &vals(
                Entity::Community,
                json!({"subdistrict_id": sd.id, "name": "牡丹"}),
            ),
            &c,
        )
        .await
        .unwrap();
    let nb1 = s
        .places()
        .create(
            Entity::Neighbourhood,
            &vals(
                Entity::Neighbourhood,
                json!({"community_id": com.id, "name": "牡丹第七居民区", "short_name": "牡丹七"}),
            ),
            &c,
        )
        .await
        .unwrap();
    let nb2 = s
        .places()
        .create(
            Entity::Neighbourhood,
            &vals(
                Entity::Neighbourhood,
                json!({"community_id": com.id, "name": "牡丹第六居民区"}),
            ),
            &c,
        )
        .await
        .unwrap();
    let estate = s
        .places()
        .create(
            Entity::Estate,
            &vals(
                Entity::Estate,
                json!({"neighbourhood_id": nb1.id, "name": "牡丹路100弄"}),
            ),
            &c,
        )
        .await
        .unwrap();
    let station = s.places().create(Entity::Station, &vals(Entity::Station, json!({"neighbourhood_id": nb1.id, "name": "牡丹七家门口服务站", "office_area_before_m2": 300})), &c).await.unwrap();
    Seed {
        sd: SubdistrictId(sd.id),
        nb1: NeighbourhoodId(nb1.id),
        nb2: NeighbourhoodId(nb2.id),
        estate: estate.id,
        station: station.id,
    }
}

macro_rules! contract_tests {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = doorstep_store::scratch::ScratchDb::sqlite().await.unwrap();
                    super::$module::$name(db.store.clone()).await;
                    db.drop_db().await;
                }
            )*
        }
        #[cfg(feature = "pg-tests")]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = doorstep_store::scratch::ScratchDb::postgres().await.unwrap();
                    super::$module::$name(db.store.clone()).await;
                    db.drop_db().await;
                }
            )*
        }
    };
}

contract_tests!(
    places::places_nest_and_carry_their_scope,
    places::lists_page_filter_and_search,
    places::duplicates_within_a_parent_conflict,
    places::updates_check_versions_and_never_lose_a_write,
    places::failed_writes_leave_nothing_behind,
    places::archiving_respects_children,
    places::station_areas_split_office_from_service,
    accounts::the_audit_log_is_append_only,
    accounts::accounts_sessions_and_sign_in_attempts,
    accounts::setup_happens_once,
    accounts::concurrent_account_changes_are_all_kept,
    geo::networks_are_stored_whole_and_replaced,
    bookings::a_room_is_held_by_one_booking_at_a_time,
    limits::concurrent_attempts_never_pass_a_limit,
    limits::a_job_slot_is_claimed_once,
    requests::requests_move_under_version_checks_and_keep_their_timeline,
    requests::random_moves_keep_state_columns_and_timeline_in_step,
    request_views::merges_duplicates_figures_and_attachments,
    request_views::loaded_histories_match_live_moves_or_load_nothing,
    request_views::batched_intake_is_all_or_nothing,
    request_views::queues_count_each_neighbourhoods_waiting_requests,
    register::the_register_keeps_households_residents_tags_and_visits,
    register::a_roster_imports_all_or_nothing_and_reimports_without_duplicates,
);
#[cfg(feature = "pg-tests")]
#[tokio::test]
async fn both_backends_have_the_same_schema() {
    let lite = ScratchDb::sqlite().await.unwrap();
    let pg = ScratchDb::postgres().await.unwrap();
    let a = doorstep_store::testing::schema_columns(&lite.store)
        .await
        .unwrap();
    let b = doorstep_store::testing::schema_columns(&pg.store)
        .await
        .unwrap();
    assert!(
        a.len() > 50,
        "introspection found too few columns: {}",
        a.len()
    );
    let only_lite: Vec<_> = a.iter().filter(|c| !b.contains(c)).collect();
    let only_pg: Vec<_> = b.iter().filter(|c| !a.contains(c)).collect();
    assert!(
        only_lite.is_empty() && only_pg.is_empty(),
        "only in SQLite: {only_lite:?}\nonly in PostgreSQL: {only_pg:?}"
    );
    lite.drop_db().await;
    pg.drop_db().await;
}

#[tokio::test]
async fn migrations_are_idempotent_and_sqlite_runs_in_wal() {
    let db = ScratchDb::sqlite().await.unwrap();
    db.store.migrate().await.unwrap();
    assert_eq!(
        doorstep_store::testing::journal_mode(&db.store)
            .await
            .unwrap()
            .as_deref(),
        Some("wal")
    );
    db.drop_db().await;
}

#[tokio::test]
async fn a_missing_database_server_is_unavailable_not_a_panic() {
    let err = Store::connect("postgres://postgres@127.0.0.1:1/nowhere")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}
