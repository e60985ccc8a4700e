//! Issue 9, item 10: backups taken under write load hold every write acknowledged before
//! they began, and a restore checks a backup before it replaces anything. SQLite through
//! `doorstep backup` / `doorstep restore`; PostgreSQL through the README's pg_dump /
//! pg_restore procedure.

use crate::backend_tests;
use crate::resident::count_requests;
use crate::support::{PNG, TestApp};
use doorstep_store::{Backend, Store};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

backend_tests!(a_backup_under_write_load_holds_every_acknowledged_write);

/// `doorstep ARGS` on the database at `url`, off the test's runtime threads.
async fn doorstep(url: &str, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_doorstep"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("DOORSTEP_")) {
        c.env_remove(k);
    }
    c.env("DOORSTEP_DATABASE_URL", url)
        .env("DOORSTEP_LOG", "warn")
        .args(args);
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

fn says(out: &Output, what: &str) -> bool {
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    text.contains(what)
}

/// Writers filing requests through the API until told to stop; each acknowledged id
/// with whether its answer came before the backup began.
struct Load {
    stop: Arc<AtomicBool>,
    started: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Vec<(i64, bool)>>>,
}

impl Load {
    async fn start(app: &TestApp, writers: usize) -> Load {
        let token = app.token("sec1").await;
        let (stop, started) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let tasks = (0..writers)
            .map(|w| {
                let (url, token, nb) = (app.url("/api/v1/requests"), token.clone(), app.fx.nb1);
                let (stop, started) = (stop.clone(), started.clone());
                tokio::spawn(async move {
                    let c = reqwest::Client::new();
                    let mut acked = Vec::new();
                    for i in 0.. {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let body = serde_json::json!({"neighbourhood_id": nb, "channel": "desk",
                            "kind": "consultation", "description": format!("备份期间写入 {w}-{i}")});
                        let r = c.post(&url).bearer_auth(&token).json(&body).send().await.unwrap();
                        assert_eq!(r.status(), 201);
                        let v: serde_json::Value = r.json().await.unwrap();
                        acked.push((v["id"].as_i64().unwrap(), !started.load(Ordering::SeqCst)));
                    }
                    acked
                })
            })
            .collect();
        Load {
            stop,
            started,
            tasks,
        }
    }

    async fn finish(self) -> Vec<(i64, bool)> {
        self.stop.store(true, Ordering::SeqCst);
        let mut all = Vec::new();
        for t in self.tasks {
            all.extend(t.await.unwrap());
        }
        all
    }
}

async fn wait_for_writes(app: &TestApp, at_least: i64) {
    for _ in 0..2000 {
        let n: i64 = count_requests(app).await;
        if n >= at_least {
            return;
        }
        doorstep_services::clock::pause(std::time::Duration::from_millis(5)).await;
    }
    panic!("the writers did not write");
}

/// Every write acknowledged before the backup began is in `restored`.
async fn holds_every_acknowledged_write(restored: &Store, acked: &[(i64, bool)]) -> usize {
    let before: Vec<i64> = acked
        .iter()
        .filter(|(_, b)| *b)
        .map(|(id, _)| *id)
        .collect();
    for id in &before {
        let r = restored.requests().get((*id).into()).await;
        assert!(
            r.is_ok(),
            "request {id} was acknowledged before the backup began but is missing"
        );
    }
    before.len()
}

async fn a_backup_under_write_load_holds_every_acknowledged_write(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sec = app.token("sec1").await;
    let photo = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/requests/{}/attachments", app.fx.request1)))
        .bearer_auth(&sec)
        .header("content-type", "image/png")
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status(), 201);
    let load = Load::start(&app, 4).await;
    wait_for_writes(&app, 30).await;
    let url = app.db.as_ref().unwrap().url.clone();
    let dir = std::env::temp_dir().join(format!("doorstep-backup-{}-{b:?}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("backup.db");
    load.started.store(true, Ordering::SeqCst);
    let restored = match b {
        Backend::Sqlite => backup_and_restore_sqlite(&app, &url, &file, &dir).await,
        Backend::Postgres => backup_and_restore_postgres(&url, &file).await,
    };
    let acked = load.finish().await;
    let before = holds_every_acknowledged_write(&restored.store, &acked).await;
    assert!(
        before >= 20 && acked.len() > before,
        "writes went on during the backup: {before} of {}",
        acked.len()
    );
    let photos = restored
        .store
        .attachments()
        .list(app.fx.request1.into())
        .await
        .unwrap();
    assert_eq!(photos.len(), 1, "attachments come with the backup");
    restored.store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    app.stop().await;
}

/// A restored database, and what removes it.
struct Restored {
    store: Store,
    _db: Option<doorstep_store::scratch::ScratchDb>,
}

async fn backup_and_restore_sqlite(app: &TestApp, url: &str, file: &Path, dir: &Path) -> Restored {
    let out = doorstep(url, &["backup", file.to_str().unwrap()]).await;
    assert!(out.status.success() && says(&out, "Backed up"), "{out:?}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "people's data: the owner's only");
    }
    let again = doorstep(url, &["backup", file.to_str().unwrap()]).await;
    assert!(
        !again.status.success() && says(&again, "exists already"),
        "{again:?}"
    );
    // The running server holds its database: a restore onto it is refused, and nothing
    // of it changes.
    let count = count_requests(app).await;
    let out = doorstep(url, &["restore", file.to_str().unwrap()]).await;
    assert!(
        !out.status.success() && says(&out, "in use by a running doorstep server"),
        "{out:?}"
    );
    assert!(count_requests(app).await >= count);
    // A damaged or foreign file is refused before anything is replaced.
    let target = dir.join("restored.sqlite");
    let target_url = format!("sqlite://{}", target.display());
    let out = doorstep(&target_url, &["restore", file.to_str().unwrap()]).await;
    assert!(
        out.status.success() && says(&out, &format!("into {}", target.display())),
        "{out:?}"
    );
    let good = std::fs::read(&target).unwrap();
    for (name, bytes, why) in bad_backups(file).await {
        let bad = dir.join(name);
        std::fs::write(&bad, bytes).unwrap();
        let out = doorstep(&target_url, &["restore", bad.to_str().unwrap()]).await;
        assert!(!out.status.success() && says(&out, why), "{name}: {out:?}");
        assert_eq!(
            std::fs::read(&target).unwrap(),
            good,
            "{name}: the database is untouched"
        );
    }
    let store = Store::connect(&target_url).await.unwrap();
    assert_eq!(store.pending_migrations().await.unwrap(), 0);
    Restored { store, _db: None }
}

/// Files a restore must refuse, with the words of its refusal.
async fn bad_backups(good: &Path) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let bytes = std::fs::read(good).unwrap();
    let half = bytes[..bytes.len() / 2].to_vec();
    let future = good.with_extension("future");
    std::fs::copy(good, &future).unwrap();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", future.display()))
        .await
        .unwrap();
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99991231000000, 'from the future', TRUE, x'00', 0)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    vec![
        (
            "notes.txt",
            "这不是数据库".as_bytes().to_vec(),
            "not a SQLite database",
        ),
        ("half.db", half, "not a usable backup"),
        (
            "future.db",
            std::fs::read(&future).unwrap(),
            "newer than this program's",
        ),
    ]
}

async fn backup_and_restore_postgres(url: &str, file: &Path) -> Restored {
    let out = doorstep(url, &["backup", file.to_str().unwrap()]).await;
    assert!(!out.status.success() && says(&out, "pg_dump"), "{out:?}");
    // The README's procedure: pg_dump's custom format (one consistent snapshot)…
    let dump = run(
        "pg_dump",
        &[
            "--format=custom",
            "--no-owner",
            "--file",
            file.to_str().unwrap(),
            url,
        ],
    )
    .await;
    assert!(dump.status.success(), "{dump:?}");
    // …restored into an empty database.
    let fresh = doorstep_store::scratch::ScratchDb::unmigrated(Backend::Postgres)
        .await
        .unwrap();
    let restore = run(
        "pg_restore",
        &[
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            &fresh.url,
            file.to_str().unwrap(),
        ],
    )
    .await;
    assert!(restore.status.success(), "{restore:?}");
    let store = Store::connect(&fresh.url).await.unwrap();
    assert_eq!(store.pending_migrations().await.unwrap(), 0);
    Restored {
        store,
        _db: Some(fresh),
    }
}

async fn run(program: &'static str, args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || Command::new(program).args(&args).output().unwrap())
        .await
        .unwrap()
}
