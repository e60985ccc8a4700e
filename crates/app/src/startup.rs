//! Building and running the application.

use crate::config::Config;
use anyhow::Context;
use doorstep_domain::{Clock, SystemClock};
use doorstep_services::Services;
use doorstep_store::Store;
use doorstep_web::AppState;
use std::net::SocketAddr;
use std::sync::Arc;

/// A bound, ready-to-run server.
pub struct Application {
    listener: tokio::net::TcpListener,
    state: AppState,
    addr: SocketAddr,
    /// A SQLite database is this server's while it runs (a restore waits for it to stop).
    _lock: Option<crate::backup_cmd::DatabaseLock>,
}

impl Application {
    /// Opens the database (migrating it unless told not to, and refusing it if it is then
    /// behind), binds the listener and, on an empty database, prints the one-time setup
    /// link. `demo` says whether the database holds the demo (`None`: look).
    pub async fn build(config: &Config, demo: Option<bool>) -> anyhow::Result<Application> {
        Self::build_with_clock(config, demo, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(
        config: &Config,
        demo: Option<bool>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        // The catalogue's word dictionary loads while the database opens, not on the
        // first search at the counter.
        let warm = tokio::task::spawn_blocking(doorstep_domain::catalogue::text::warm_up);
        let lock = crate::backup_cmd::lock_database(&config.database_url)?;
        let store = open_store(config).await?;
        if config.auto_migrate {
            store
                .migrate()
                .await
                .context("applying database migrations")?;
        }
        let pending = store.pending_migrations().await?;
        if pending > 0 {
            anyhow::bail!(
                "the database is {pending} migration(s) behind this version: run `doorstep migrate` (or start without --no-migrate)"
            );
        }
        let demo = match demo {
            Some(d) => d,
            None => crate::demo::is_demo(&store).await?,
        };
        let listener = tokio::net::TcpListener::bind(&config.bind)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {} (is another server using it? set DOORSTEP_BIND)",
                    config.bind
                )
            })?;
        let addr = listener.local_addr()?;
        warm.await?;
        let services = services(store.clone(), clock, config)?;
        seal_phones(&services).await?;
        let state = AppState::new(services, config.web(), demo);
        if store.accounts().count().await? == 0 {
            let token = state.enable_setup();
            let host = public_base(config, addr);
            println!(
                "No account exists yet. Finish the setup at:\n\n    {host}/setup?token={token}\n"
            );
        }
        Ok(Application {
            listener,
            state,
            addr,
            _lock: lock,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C (or SIGTERM).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        doorstep_web::serve(self.listener, self.state, shutdown_signal()).await?;
        Ok(())
    }

    /// Serves until `stop` completes (tests).
    pub async fn run_until<F>(self, stop: F) -> anyhow::Result<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        doorstep_web::serve(self.listener, self.state, stop).await?;
        Ok(())
    }
}

/// The URL to print for people (the public URL if set, else the bound address).
pub fn public_base(config: &Config, addr: SocketAddr) -> String {
    match &config.public_url {
        Some(u) => u.clone(),
        None if addr.ip().is_unspecified() => format!("http://127.0.0.1:{}", addr.port()),
        None => format!("http://{addr}"),
    }
}

/// Makes an API token for `username` (`doorstep token create`): printed once, stored as a
/// hash, written to the audit log like one made on /me.
pub async fn create_token(config: &Config, username: &str, name: &str) -> anyhow::Result<String> {
    let store = open_store(config).await?;
    let secret = create_token_in(&store, username, name, "cli").await;
    store.close().await;
    secret
}

/// Makes an API token for `username` on an open store, recording `actor` as its maker:
/// the same rules and audit entry as a token made on /me.
pub async fn create_token_in(
    store: &Store,
    username: &str,
    name: &str,
    actor: &str,
) -> anyhow::Result<String> {
    let Some((account, _)) = store.accounts().find_login(username).await? else {
        anyhow::bail!("no account named {username}");
    };
    let sv = services(store.clone(), Arc::new(SystemClock), &Config::default())?;
    let ctx = sv.system_ctx(actor, Some(account.subdistrict_id), None);
    doorstep_services::accounts::mint_token(&sv, &account, name, &ctx)
        .await
        .map_err(|e| match e {
            doorstep_services::Error::Validation(_) => anyhow::anyhow!(
                "--name must be 1 to {} characters",
                doorstep_services::accounts::TOKEN_NAME_MAX
            ),
            doorstep_services::Error::Conflict { .. } => {
                anyhow::anyhow!("the account {username} is disabled")
            }
            other => anyhow::anyhow!("making the token failed: {other}"),
        })
}

/// The services on `store`, configured from `config`. The working-day calendar must
/// parse: a deadline counted on weekends alone would be wrong for residents.
pub fn services(store: Store, clock: Arc<dyn Clock>, config: &Config) -> anyhow::Result<Services> {
    let calendar = config.calendar()?;
    let services = Services::new(store, clock, calendar, config.services());
    Ok(match config.vault()? {
        Some(v) => services.with_vault(v),
        None => services,
    })
}

/// Seals the requests' phones still stored in full (written before a key was configured),
/// or warns that there is no key to seal them with.
async fn seal_phones(sv: &Services) -> anyhow::Result<()> {
    if sv.vault().is_err() {
        tracing::warn!(
            "no encryption_key: residents' phones on requests are stored in full and the care register is off (make a key with `doorstep keys generate`)"
        );
        return Ok(());
    }
    let n = doorstep_services::requests::phones::seal_at_startup(sv)
        .await
        .map_err(|e| anyhow::anyhow!("sealing requests' phones: {}", e.code()))?;
    if n > 0 {
        tracing::info!(requests = n, "sealed requests' phones stored in full");
    }
    Ok(())
}

pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::connect(&config.database_url).await.with_context(|| {
        format!(
            "cannot open database {}",
            crate::config::mask_url_password(&config.database_url)
        )
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
