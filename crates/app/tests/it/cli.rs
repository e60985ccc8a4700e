//! The binary's commands: configuration errors, `config`, `migrate`, `healthcheck`.

use crate::support::TestApp;
use doorstep_store::Backend;
use std::process::Command;

fn doorstep() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_doorstep"));
    // Only what the test sets.
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("DOORSTEP_")) {
        c.env_remove(k);
    }
    c
}

#[test]
fn bad_configuration_exits_non_zero_naming_the_cause() {
    let out = doorstep()
        .args(["config"])
        .env("DOORSTEP_SESSION_IDLE_MINUTES", "soon")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("DOORSTEP_SESSION_IDLE_MINUTES") && err.contains("not a valid number"),
        "{err}"
    );

    let dir = std::env::temp_dir().join(format!("doorstep-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("doorstep.toml");
    std::fs::write(&file, "bind = \"127.0.0.1:9\"\nlog = [1, 2]\n").unwrap();
    let out = doorstep()
        .args(["--config", file.to_str().unwrap(), "config"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("doorstep.toml") && err.contains("`log`"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn config_prints_values_and_sources_without_secrets() {
    let out = doorstep()
        .args(["config"])
        .env(
            "DOORSTEP_DATABASE_URL",
            "postgres://doorstep:s3cret@db.internal/doorstep",
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("database_url = \"postgres://doorstep:****@db.internal/doorstep\""),
        "{text}"
    );
    assert!(
        text.contains("# environment DOORSTEP_DATABASE_URL"),
        "{text}"
    );
    assert!(
        text.contains("bind = \"127.0.0.1:8080\"") && text.contains("# default"),
        "{text}"
    );
    assert!(!text.contains("s3cret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_and_healthcheck_work_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("doorstep-cli-m-{}", std::process::id()));
    let url = format!("sqlite://{}/x.sqlite", dir.display());
    let out = doorstep()
        .args(["migrate"])
        .env("DOORSTEP_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);

    let app = TestApp::spawn(Backend::Sqlite).await;
    let base = app.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        doorstep()
            .args(["healthcheck", "--url", &base])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"status\":\"ok\""));
    app.stop().await;
    let out = doorstep()
        .args(["healthcheck", "--url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "nothing listens on port 9");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_create_prints_a_working_api_key() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let url = app.db.as_ref().unwrap().url.clone();
    let out = doorstep()
        .args(["token", "create", "sec1", "--name", "open311 client"])
        .env("DOORSTEP_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(secret.starts_with("ds_"), "{secret}");
    let me: serde_json::Value = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["account"]["username"], "sec1");
    let out = doorstep()
        .args(["token", "create", "nobody"])
        .env("DOORSTEP_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no account named nobody"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_without_migrating_refuses_a_database_that_is_behind() {
    // Before: `serve --no-migrate` on an empty database started, and every page was a 500.
    let dir = std::env::temp_dir().join(format!("doorstep-cli-nm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/behind.sqlite", dir.display());
    let mut serve = tokio::process::Command::new(env!("CARGO_BIN_EXE_doorstep"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("DOORSTEP_")) {
        serve.env_remove(k);
    }
    serve
        .args(["serve", "--no-migrate", "--bind", "127.0.0.1:0"])
        .env("DOORSTEP_DATABASE_URL", &url)
        .kill_on_drop(true);
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), serve.output())
        .await
        .expect("serve must exit, not start on a database without its tables")
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("migration(s) behind") && err.contains("doorstep migrate"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
