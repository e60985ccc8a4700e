//! Issue 9, item 11: several app servers on one PostgreSQL database start together
//! (migrations under PostgreSQL's advisory lock), share the per-key and per-address
//! limits, and run the deadline job once per minute between them. On SQLite a database
//! has one server: a second is refused.

use crate::backend_tests;
use crate::support::{TestApp, start_time};
use doorstep::config::Config;
use doorstep::startup::Application;
use doorstep_domain::clock::ManualClock;
use doorstep_services::limits;
use doorstep_store::Backend;
use std::sync::Arc;

backend_tests!(several_servers_share_one_database);

async fn several_servers_share_one_database(b: Backend) {
    let a = TestApp::spawn(b).await;
    match b {
        Backend::Sqlite => {
            let refused = a
                .spawn_beside()
                .await
                .err()
                .expect("a second server is refused");
            assert!(
                format!("{refused:#}").contains("in use by a running doorstep server"),
                "{refused:#}"
            );
        }
        Backend::Postgres => {
            let other = a.spawn_beside().await.expect("a second server");
            limits_are_shared(&a, &other).await;
            the_deadline_job_runs_once(&a, &other).await;
            other.stop().await;
        }
    }
    a.stop().await;
}

/// An Open311 key may file 3 requests an hour in the tests: two through one server and
/// one through the other use it up on both.
async fn limits_are_shared(a: &TestApp, b: &TestApp) {
    let key = a.token("sec1").await;
    let c = reqwest::Client::new();
    let post = |server: &TestApp| {
        let form = [
            ("jurisdiction_id", a.fx.sd.to_string()),
            ("service_code", a.fx.service_item1.to_string()),
            ("address_id", a.fx.building1.to_string()),
            ("description", "楼道灯不亮".to_string()),
            ("api_key", key.clone()),
        ];
        c.post(server.url("/open311/v2/requests.json"))
            .form(&form)
            .send()
    };
    for server in [a, a, b] {
        assert_eq!(post(server).await.unwrap().status(), 201);
    }
    for server in [a, b] {
        assert_eq!(
            post(server).await.unwrap().status(),
            429,
            "the limit is the deployment's"
        );
    }
}

/// Both servers' loops ask for the same minute: one runs the job, the other skips it;
/// the next minute, again one.
async fn the_deadline_job_runs_once(a: &TestApp, b: &TestApp) {
    for _ in 0..2 {
        let (x, y) = tokio::join!(
            limits::claim_job(&a.state.services, "escalate_overdue", 1),
            limits::claim_job(&b.state.services, "escalate_overdue", 1),
        );
        let runs = [x.unwrap(), y.unwrap()].iter().filter(|r| **r).count();
        assert_eq!(runs, 1, "exactly one server runs the minute's job");
        let again = limits::claim_job(&b.state.services, "escalate_overdue", 1).await;
        assert!(!again.unwrap(), "and not twice");
        for s in [a, b] {
            s.clock.advance(chrono::Duration::minutes(1));
        }
    }
}

/// Servers started together on an empty database: one applies the migrations under the
/// advisory lock, the other waits and finds them applied.
#[cfg(feature = "pg-tests")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_starting_together_migrate_once() {
    let db = doorstep_store::scratch::ScratchDb::unmigrated(Backend::Postgres)
        .await
        .unwrap();
    let config = Config {
        bind: "127.0.0.1:0".into(),
        database_url: db.url.clone(),
        ..Default::default()
    };
    let clock = || Arc::new(ManualClock::new(start_time()));
    let (x, y, z) = tokio::join!(
        Application::build_with_clock(&config, Some(false), clock()),
        Application::build_with_clock(&config, Some(false), clock()),
        Application::build_with_clock(&config, Some(false), clock()),
    );
    for app in [x, y, z] {
        let app = app.expect("every server starts");
        assert_eq!(
            app.state()
                .services
                .store
                .pending_migrations()
                .await
                .unwrap(),
            0
        );
    }
    db.store.close().await;
    db.drop_db().await;
}
