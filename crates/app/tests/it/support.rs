//! `TestApp`: a running server with a fresh database and a small fixture.

use chrono::Utc;
use doorstep::config::Config;
use doorstep::startup::Application;
use doorstep_domain::clock::ManualClock;
use doorstep_domain::{Entity, Role, Values};
use doorstep_store::scratch::ScratchDb as TestDb;
use doorstep_store::{Backend, NewAccount, Store, WriteCtx};
use std::sync::Arc;
use tokio::sync::OnceCell;

pub const PASSWORD: &str = "test-password-1";

/// Ids of the fixture's records.
#[derive(Debug, Clone, Default)]
pub struct Fixture {
    pub sd: i64,
    pub sd2: i64,
    pub community: i64,
    pub nb1: i64,
    pub nb2: i64,
    pub estate1: i64,
    pub estate2: i64,
    pub building1: i64,
    pub block1: i64,
    pub station1: i64,
    pub station2: i64,
    pub room1: i64,
    pub partner1: i64,
    pub service_item1: i64,
    pub request1: i64,
    pub admin: i64,
    pub sec1: i64,
    pub w1: i64,
}

pub struct TestApp {
    /// Where tests reach the server: through the leak scanner's proxy.
    pub base: String,
    pub findings: Arc<crate::scanner::Findings>,
    pub db: Option<TestDb>,
    pub clock: ManualClock,
    pub fx: Fixture,
    pub setup_token: Option<String>,
    /// The server's state, to run background jobs on demand.
    pub state: doorstep_web::AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

async fn password_hash() -> String {
    static HASH: OnceCell<String> = OnceCell::const_new();
    HASH.get_or_init(|| async {
        doorstep_services::signin::hash_password(PASSWORD.into())
            .await
            .expect("hash")
    })
    .await
    .clone()
}

/// The instant every test starts at: Monday 30 November 2026, 10:00 in Shanghai (a
/// working day, in office hours). Tests move the clock themselves; none reads the wall.
pub fn start_time() -> chrono::DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap()
}

fn ctx() -> WriteCtx {
    WriteCtx::system("fixture", None, start_time())
}

fn vals(entity: Entity, v: serde_json::Value) -> Values {
    doorstep_domain::validate(entity.fields(), v.as_object().expect("object"), None, &[])
        .expect("valid fixture")
}

async fn account(store: &Store, sd: i64, username: &str, role: Role, nb: Option<i64>) -> i64 {
    let a = NewAccount {
        username: username.into(),
        display_name: format!("测试{username}"),
        role,
        neighbourhood_id: nb.map(doorstep_domain::NeighbourhoodId),
        partner_unit: (role == Role::Partner).then(|| "花木社区卫生服务中心".to_string()),
        phone: None,
        locale: "zh-CN".into(),
        password_hash: Some(password_hash().await),
    };
    store
        .accounts()
        .create(doorstep_domain::SubdistrictId(sd), &a, &ctx())
        .await
        .expect("account")
        .id
        .get()
}

async fn place(store: &Store, e: Entity, v: serde_json::Value) -> i64 {
    store
        .places()
        .create(e, &vals(e, v), &ctx())
        .await
        .expect("place")
        .id
}

pub async fn fixture(s: &Store) -> Fixture {
    use serde_json::json;
    let mut f = Fixture::default();
    f.sd = place(s, Entity::Subdistrict, json!({"name": "花木街道"})).await;
    f.sd2 = place(s, Entity::Subdistrict, json!({"name": "其他街道"})).await;
    f.community = place(
        s,
        Entity::Community,
        json!({"subdistrict_id": f.sd, "name": "牡丹社区"}),
    )
    .await;
    f.nb1 = place(
        s,
        Entity::Neighbourhood,
        json!({"community_id": f.community, "name": "牡丹第七居民区", "short_name": "牡丹七"}),
    )
    .await;
    f.nb2 = place(
        s,
        Entity::Neighbourhood,
        json!({"community_id": f.community, "name": "牡丹第六居民区"}),
    )
    .await;
    f.admin = account(s, f.sd, "admin", Role::Admin, None).await;
    f.sec1 = account(s, f.sd, "sec1", Role::Secretary, Some(f.nb1)).await;
    account(s, f.sd, "sec2", Role::Secretary, Some(f.nb2)).await;
    f.w1 = account(s, f.sd, "w1", Role::Worker, Some(f.nb1)).await;
    account(s, f.sd, "partner1", Role::Partner, Some(f.nb1)).await;
    account(s, f.sd, "vol1", Role::Volunteer, Some(f.nb1)).await;
    account(s, f.sd2, "admin2", Role::Admin, None).await;
    f.estate1 = place(
        s,
        Entity::Estate,
        json!({"neighbourhood_id": f.nb1, "name": "牡丹路100弄"}),
    )
    .await;
    f.estate2 = place(
        s,
        Entity::Estate,
        json!({"neighbourhood_id": f.nb2, "name": "芳甸路200弄"}),
    )
    .await;
    f.block1 = place(
        s,
        Entity::Block,
        json!({"neighbourhood_id": f.nb1, "name": "第1块区", "worker_id": f.w1}),
    )
    .await;
    f.building1 = place(s, Entity::Building, json!({"estate_id": f.estate1, "number": "1号", "floors": 6, "households": 24, "block_id": f.block1, "lat": 31.2100, "lon": 121.5500})).await;
    f.station1 = place(
        s,
        Entity::Station,
        json!({"neighbourhood_id": f.nb1, "name": "牡丹七服务站", "office_area_before_m2": 300}),
    )
    .await;
    f.station2 = place(
        s,
        Entity::Station,
        json!({"neighbourhood_id": f.nb2, "name": "牡丹六服务站"}),
    )
    .await;
    f.partner1 = place(s, Entity::Partner, json!({"subdistrict_id": f.sd, "name": "花木社区卫生服务中心", "kind": "health_centre", "neighbourhood_id": f.nb1, "lat": 31.2102, "lon": 121.5503})).await;
    f.service_item1 = place(s, Entity::ServiceItem, json!({"subdistrict_id": f.sd, "category": "life", "name": "垃圾分类投放咨询", "description": "分类标准与投放时间", "time_limit_days": 1})).await;
    f.request1 = s
        .requests()
        .create(&new_request(&f), &ctx())
        .await
        .expect("request")
        .id
        .get();
    f.room1 = place(
        s,
        Entity::Room,
        json!({"station_id": f.station1, "name": "综合活动室", "kind": "activity", "area_m2": 120}),
    )
    .await;
    place(s, Entity::Room, json!({"station_id": f.station1, "name": "社工办公区", "kind": "office", "area_m2": 30, "is_office": true})).await;
    f
}

/// The fixture's desk request (a consultation in 牡丹七, owned by w1), to vary.
pub fn new_request(f: &Fixture) -> doorstep_store::NewRequest {
    doorstep_store::NewRequest {
        neighbourhood_id: doorstep_domain::NeighbourhoodId(f.nb1),
        tracking_code: "FIXTURE0001".into(),
        channel: doorstep_domain::requests::Channel::Desk,
        kind: doorstep_domain::requests::Kind::Consultation,
        service_item_id: None,
        description: "垃圾分类咨询".into(),
        public_description: false,
        building_id: None,
        lat: None,
        lon: None,
        resident_name: None,
        resident_phone: None,
        resident_phone_sealed: None,
        resident_email: None,
        address: None,
        owner_id: doorstep_domain::AccountId(f.w1),
        deadline_at: start_time() + chrono::Duration::days(1),
        attachments: Vec::new(),
    }
}

impl TestApp {
    /// A server on a fresh database holding the fixture.
    pub async fn spawn(backend: Backend) -> TestApp {
        let db = TestDb::new(backend).await.unwrap();
        let fx = fixture(&db.store).await;
        Self::start(db, fx).await
    }

    /// A server on a fresh, empty database (setup pending).
    pub async fn spawn_empty(backend: Backend) -> TestApp {
        let db = TestDb::new(backend).await.unwrap();
        Self::start(db, Fixture::default()).await
    }

    async fn start(db: TestDb, fx: Fixture) -> TestApp {
        let url = db.url.clone();
        Self::start_on(Some(db), url, fx).await.expect("build app")
    }

    /// Another server on this one's database, as a deployment runs several app servers
    /// on one PostgreSQL (on SQLite the first server's lock refuses it).
    pub async fn spawn_beside(&self) -> anyhow::Result<TestApp> {
        let url = self.db.as_ref().expect("db").url.clone();
        Self::start_on(None, url, self.fx.clone()).await
    }

    async fn start_on(db: Option<TestDb>, url: String, fx: Fixture) -> anyhow::Result<TestApp> {
        let config = Config {
            bind: "127.0.0.1:0".into(),
            database_url: url,
            // A test key for the care register (tests only).
            encryption_key: Some("dGVzdCBrZXkgZm9yIHRoZSBjYXJlIHJlZ2lzdGVyISE=".into()),
            // Small, so that a test reaches an Open311 key's hourly limit.
            open311_reports_per_hour: 3,
            // /metrics only with an admin token (the tests' own address is loopback).
            metrics_from: Vec::new(),
            ..Default::default()
        };
        let clock = ManualClock::new(start_time());
        let app =
            Application::build_with_clock(&config, Some(false), Arc::new(clock.clone())).await?;
        let direct = format!("http://{}", app.addr());
        let findings = Arc::<crate::scanner::Findings>::default();
        let base = crate::scanner::start(direct, findings.clone()).await;
        let setup_token = app.state().setup_token();
        let state = app.state().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            app.run_until(async move {
                let _ = rx.await;
            })
            .await
            .expect("server");
        });
        let t = TestApp {
            base,
            findings,
            db,
            clock,
            fx,
            setup_token,
            state,
            stop: Some(tx),
            handle: Some(handle),
        };
        // Ready when /healthz answers (no sleeping).
        let c = t.client();
        for _ in 0..200 {
            if c.get(t.url("/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return Ok(t);
            }
            tokio::task::yield_now().await;
        }
        anyhow::bail!("server did not become healthy");
    }

    pub fn store(&self) -> &Store {
        &self.db.as_ref().expect("db").store
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client with its own cookie jar that does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// A client signed in through the login form.
    pub async fn login(&self, username: &str) -> reqwest::Client {
        let c = self.client();
        let r = c
            .post(self.url("/login"))
            .form(&[
                ("username", username),
                ("password", PASSWORD),
                ("next", "/"),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 303, "login of {username} failed");
        c
    }

    /// The CSRF token of a signed-in client's session (from a page's forms).
    pub async fn csrf(&self, c: &reqwest::Client) -> String {
        let html = c
            .get(self.url("/me"))
            .send()
            .await
            .expect("me")
            .text()
            .await
            .expect("text");
        let marker = "name=\"_csrf\" value=\"";
        let start = html.find(marker).expect("csrf field") + marker.len();
        html[start..start + html[start..].find('"').expect("end")].to_string()
    }

    /// An API token for `username`, made directly in the store.
    pub async fn token(&self, username: &str) -> String {
        let (a, _) = self
            .store()
            .accounts()
            .find_login(username)
            .await
            .expect("lookup")
            .expect("account");
        let secret = format!(
            "ds_test_{username}_{}",
            doorstep_services::signin::random_token(8)
        );
        self.store()
            .tokens()
            .create(
                a.id,
                "test",
                &doorstep_services::signin::sha256_hex(&secret),
                &ctx(),
            )
            .await
            .expect("token");
        secret
    }

    /// Stores `net` (synthetic) with `facilities` as the subdistrict's walking network.
    pub async fn save_network(
        &self,
        net: &doorstep_geo::Network,
        name: &str,
        facilities: &[doorstep_store::FacilityRow],
    ) {
        let meta = doorstep_store::NetworkMeta {
            id: 0,
            subdistrict_id: doorstep_domain::SubdistrictId(self.fx.sd),
            name: name.into(),
            source: "synthetic".into(),
            synthetic: true,
            nodes: net.node_count() as i64,
            edges: net.edge_count() as i64,
            bbox: net.bbox().expect("a network"),
            created_at: start_time(),
        };
        let ctx = WriteCtx {
            subdistrict_id: Some(doorstep_domain::SubdistrictId(self.fx.sd)),
            ..ctx()
        };
        self.store()
            .geo()
            .save_network(&meta, &net.to_bytes(), facilities, &ctx)
            .await
            .expect("save network");
    }

    /// Fails on any full phone or ID number the scanner found so far.
    pub fn assert_no_leaks(&self) {
        if std::env::var_os("DOORSTEP_SCAN_REPORT").is_some() {
            let n = self
                .findings
                .scanned
                .load(std::sync::atomic::Ordering::Relaxed);
            eprintln!("SCANNED {n}");
        }
        let leaks = self.findings.leaks.lock().expect("findings");
        assert!(
            leaks.is_empty(),
            "full phone or ID numbers outside a reveal:\n{}",
            leaks.join("\n")
        );
    }

    pub async fn stop(mut self) {
        self.assert_no_leaks();
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
        if let Some(db) = self.db.take() {
            db.drop_db().await;
        }
    }
}

impl Drop for TestApp {
    /// A test that never stops its server is scanned too (unless it already failed).
    fn drop(&mut self) {
        if !std::thread::panicking() && self.stop.is_some() {
            self.assert_no_leaks();
        }
    }
}

/// Writes each test once and runs it on SQLite, and on PostgreSQL with `pg-tests`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(doorstep_store::Backend::Sqlite).await;
                }
            )*
        }
        #[cfg(feature = "pg-tests")]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(doorstep_store::Backend::Postgres).await;
                }
            )*
        }
    };
}

pub fn v_int(v: &serde_json::Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// A real 1 × 1 PNG with transparency (uploads are decoded, and stored as PNG).
pub const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\
\0\0\0\rIDATx\xdac\xfc\xcf\xc0P\x0f\0\x04\x85\x01\x80\x84\xa9\x8c!\0\0\0\0IEND\xaeB`\x82";

/// Percent-encodes a query value (every byte but ASCII letters and digits).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
