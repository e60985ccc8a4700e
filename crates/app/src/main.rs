//! `doorstep`: the one binary. See `doorstep --help`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use doorstep::config::{Config, DEMO_DATABASE_URL, LogFormat, Source};
use doorstep::startup::{Application, open_store, public_base};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "doorstep",
    version,
    about = "Doorstep (家门口): the residential service system of a subdistrict"
)]
struct Cli {
    /// Configuration file (default: $DOORSTEP_CONFIG, else ./doorstep.toml if present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve {
        /// Listen address (overrides `bind`).
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
        /// Do not apply pending migrations at start.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Build (once) and serve the Huamu demo on a local SQLite database.
    Demo {
        /// Listen address (overrides `bind`).
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the effective configuration and where each value came from.
    Config,
    /// The 15-minute circle's walking network.
    Geo {
        #[command(subcommand)]
        command: GeoCommand,
    },
    /// Print the OpenAPI document of the JSON API.
    Openapi,
    /// Run a benchmark and print its figures as JSON.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// API tokens (also the `api_key` of Open311 clients).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The field-encryption keys of the care register.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Write a consistent copy of the SQLite database (the server may keep running) to a
    /// new FILE, and check it. PostgreSQL: use pg_dump (README, Backups).
    Backup {
        /// The backup file to create (it must not exist).
        file: PathBuf,
    },
    /// Replace the SQLite database with a backup FILE, after checking its integrity and
    /// schema version; the server must be stopped. The replaced database is kept beside
    /// it as `….before-restore-TIME`.
    Restore {
        /// The backup file (made by `doorstep backup`).
        file: PathBuf,
    },
    /// Ask a running server whether it and its database are healthy (exit 0 if so).
    Healthcheck {
        /// Base URL of the server (default: from `bind`).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
}

#[derive(Subcommand)]
enum GeoCommand {
    /// Import a walking network and facilities from an OpenStreetMap .osm.pbf extract,
    /// replacing the subdistrict's current network.
    Import {
        /// The .osm.pbf file.
        file: PathBuf,
        /// Keep only this box: south,west,north,east (degrees).
        #[arg(long, value_name = "S,W,N,E")]
        bbox: Option<String>,
        /// A name for the network (default: the file name).
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print a new random key for `encryption_key` (keep it outside the database).
    Generate,
    /// Re-seal every ID number and phone under the current `encryption_key`, the old key
    /// listed in `previous_encryption_keys`; the server may keep running meanwhile.
    Rotate,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Make an API token for an account and print it (shown once; stored hashed, audited).
    Create {
        /// The account's user name.
        username: String,
        /// What the token is for, e.g. "open311 client of the 12345 hotline".
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// The 15-minute circle: parse, graph build, snapping, accessibility (all nodes × 7
    /// categories), siting; time and peak memory per phase.
    Geo {
        /// An .osm.pbf extract (or use --synthetic-nodes).
        file: Option<PathBuf>,
        /// Use a generated street grid of about this many nodes instead of a file.
        #[arg(long, value_name = "N")]
        synthetic_nodes: Option<usize>,
        /// Demand points (standing in for buildings) to snap and site for.
        #[arg(long, default_value_t = 20_000)]
        points: usize,
        /// Walking speed, metres per second.
        #[arg(long, default_value_t = 1.2)]
        speed: f64,
        /// Also run pandana 0.8 on the same graph (needs python3 with pandana) and compare.
        #[arg(long)]
        pandana: bool,
    },
    /// Requests: load a year of past requests into the Huamu demo on a fresh database,
    /// start the server, and measure intake throughput and inbox/figures page latency
    /// beside a trivial endpoint's throughput.
    Requests {
        /// Use a fresh PostgreSQL database (on DOORSTEP_TEST_PG_URL, default
        /// postgres://postgres@127.0.0.1:5432/postgres) instead of SQLite.
        #[arg(long)]
        postgres: bool,
        /// Past requests to load.
        #[arg(long, default_value_t = 500_000)]
        requests: usize,
        /// Requests sent to the intake and to the trivial endpoint.
        #[arg(long, default_value_t = 5_000)]
        intake: usize,
        /// Page loads per latency figure.
        #[arg(long, default_value_t = 300)]
        samples: usize,
        /// Concurrent clients in the throughput phases.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Keep the database afterwards and print its URL.
        #[arg(long)]
        keep: bool,
        /// Measure on a database kept by an earlier run (skips building and loading).
        #[arg(long, value_name = "DATABASE_URL")]
        reuse: Option<String>,
    },
    /// The care register: import a neighbourhood's roster (~12,000 people) and the whole
    /// subdistrict's (~230,000) on a fresh database of the Huamu demo, rows per second and
    /// peak memory; then a worker's block page with 2,000 households, beside /healthz.
    Register {
        /// Use a fresh PostgreSQL database instead of SQLite.
        #[arg(long)]
        postgres: bool,
        /// Households in the neighbourhood's roster (~2.4 people each).
        #[arg(long, default_value_t = 5_000)]
        neighbourhood_households: usize,
        /// Households in the subdistrict's roster.
        #[arg(long, default_value_t = 110_000)]
        subdistrict_households: usize,
        /// Households in the measured worker's block.
        #[arg(long, default_value_t = 2_000)]
        block_households: usize,
        /// Page loads per latency figure.
        #[arg(long, default_value_t = 300)]
        samples: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match config.log_format {
        LogFormat::Text => logs.try_init(),
        // One JSON object per line, for a log collector.
        LogFormat::Json => logs.json().flatten_event(true).try_init(),
    };
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(cli.config.as_deref())?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match cli.command {
        Command::Geo {
            command: GeoCommand::Import { file, bbox, name },
        } => {
            init_logging(&config);
            let bbox = bbox.as_deref();
            runtime.block_on(doorstep::geo_cmd::import(&config, &file, bbox, name))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { command } => bench(&runtime, command),
        Command::Token {
            command: TokenCommand::Create { username, name },
        } => {
            let secret =
                runtime.block_on(doorstep::startup::create_token(&config, &username, &name))?;
            println!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys {
            command: KeysCommand::Generate,
        } => {
            println!("{}", doorstep_services::vault::Vault::generate_key());
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => runtime.block_on(rotate_keys(&config)),
        Command::Openapi => {
            let doc = doorstep_web::api::openapi();
            println!("{}", serde_json::to_string_pretty(&doc)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Config => {
            print!("{}", config.describe());
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            init_logging(&config);
            runtime.block_on(migrate(&config))
        }
        Command::Serve { bind, no_migrate } => {
            set_bind(&mut config, bind)?;
            if no_migrate {
                config.auto_migrate = false;
            }
            init_logging(&config);
            runtime.block_on(serve(&config))
        }
        Command::Demo { bind } => {
            set_bind(&mut config, bind)?;
            if config.sources.get("database_url") == Some(&Source::Default) {
                config.database_url = DEMO_DATABASE_URL.to_string();
            }
            if config.encryption_key.is_none() {
                // The demo's register is sealed with a published key: demo data only.
                config.encryption_key = Some(doorstep::demo::DEMO_ENCRYPTION_KEY.to_string());
            }
            init_logging(&config);
            runtime.block_on(demo(&config))
        }
        Command::Healthcheck { url } => runtime.block_on(check_health(&config, url)),
        Command::Backup { file } => runtime.block_on(backup(&config, &file)),
        Command::Restore { file } => runtime.block_on(restore(&config, &file)),
    }
}

/// `--bind` over the configuration.
fn set_bind(config: &mut Config, bind: Option<String>) -> anyhow::Result<()> {
    if let Some(b) = bind {
        config.set("bind", &b).context("--bind")?;
        config.sources.insert("bind", Source::Flag);
    }
    Ok(())
}

/// `doorstep bench …`.
fn bench(runtime: &tokio::runtime::Runtime, command: BenchCommand) -> anyhow::Result<ExitCode> {
    let out = match command {
        BenchCommand::Geo {
            file,
            synthetic_nodes,
            points,
            speed,
            pandana,
        } => doorstep::bench::geo(&doorstep::bench::GeoBench {
            file,
            synthetic_nodes,
            points,
            speed,
            pandana,
        })?,
        BenchCommand::Requests {
            postgres,
            requests,
            intake,
            samples,
            concurrency,
            keep,
            reuse,
        } => {
            let bench = doorstep::bench::RequestsBench {
                backend: if postgres {
                    doorstep_store::Backend::Postgres
                } else {
                    doorstep_store::Backend::Sqlite
                },
                requests,
                intake: intake.max(1),
                samples: samples.max(1),
                concurrency: concurrency.max(1),
                keep,
                reuse,
            };
            runtime.block_on(doorstep::bench::requests(&bench))?
        }
        BenchCommand::Register {
            postgres,
            neighbourhood_households,
            subdistrict_households,
            block_households,
            samples,
        } => runtime.block_on(doorstep::bench::register(&doorstep::bench::RegisterBench {
            backend: if postgres {
                doorstep_store::Backend::Postgres
            } else {
                doorstep_store::Backend::Sqlite
            },
            neighbourhood_households: neighbourhood_households.max(1),
            subdistrict_households: subdistrict_households.max(1),
            block_households,
            samples: samples.max(1),
        }))?,
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

/// `doorstep migrate`.
async fn migrate(config: &Config) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    store.migrate().await.context("applying migrations")?;
    println!(
        "migrations applied to {}",
        doorstep::config::mask_url_password(&config.database_url)
    );
    Ok(ExitCode::SUCCESS)
}

/// `doorstep serve`: migrations are applied unless told not to; a database that is then
/// still behind is refused (the server would fail on its first query otherwise).
async fn serve(config: &Config) -> anyhow::Result<ExitCode> {
    let app = Application::build(config, None).await?;
    println!(
        "Doorstep is listening on {}",
        public_base(config, app.addr())
    );
    app.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

/// `doorstep backup FILE`.
async fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let info = doorstep::backup_cmd::backup(config, file).await?;
    let described = doorstep::backup_cmd::describe(&info);
    println!("Backed up to {}: {described}", file.display());
    Ok(ExitCode::SUCCESS)
}

/// `doorstep restore FILE`.
async fn restore(config: &Config, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let now = doorstep_domain::Clock::now(&doorstep_domain::SystemClock);
    let stamp = now.format("%Y%m%dT%H%M%SZ").to_string();
    let (info, kept, target) = doorstep::backup_cmd::restore(config, file, &stamp).await?;
    let described = doorstep::backup_cmd::describe(&info);
    println!(
        "Restored {} into {}: {described}",
        file.display(),
        target.display()
    );
    if let Some(k) = kept {
        println!("The replaced database is kept as {}", k.display());
    }
    println!("Start the server: it applies any newer migrations first.");
    Ok(ExitCode::SUCCESS)
}

/// `doorstep keys rotate`.
async fn rotate_keys(config: &Config) -> anyhow::Result<ExitCode> {
    if config.encryption_key.is_none() {
        anyhow::bail!(
            "set encryption_key (the new key) and previous_encryption_keys (the old ones) first"
        );
    }
    let store = open_store(config).await?;
    let sv = doorstep::startup::services(
        store,
        std::sync::Arc::new(doorstep_domain::SystemClock),
        config,
    )?;
    let n = doorstep_services::register::rotate(&sv)
        .await
        .map_err(|e| anyhow::anyhow!("rotation stopped: {}", e.code()))?;
    let m = doorstep_services::requests::phones::seal_all(&sv, true)
        .await
        .map_err(|e| anyhow::anyhow!("rotation stopped: {}", e.code()))?;
    if n + m > 0 {
        // Values sealed under the old key leave the free pages too (SQLite).
        doorstep_services::requests::phones::compact(&sv)
            .await
            .map_err(|e| anyhow::anyhow!("compacting: {}", e.code()))?;
    }
    println!("re-sealed {n} residents and {m} requests' phones under the current key");
    Ok(ExitCode::SUCCESS)
}

/// `doorstep demo`: builds the Huamu demo once, then serves it.
async fn demo(config: &Config) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    store.migrate().await.context("applying migrations")?;
    let started = doorstep_domain::clock::Stopwatch::start();
    let now = doorstep_domain::Clock::now(&doorstep_domain::SystemClock);
    let loaded = doorstep::demo::ensure(&store, now, async || {
        doorstep_services::signin::hash_password(doorstep::demo::DEMO_PASSWORD.to_string())
            .await
            .map_err(|e| anyhow::anyhow!("hashing the demo password: {e}"))
    })
    .await?;
    if loaded {
        println!("Built the Huamu demo in {:.1} s.", started.secs());
    } else {
        println!("Reusing the Huamu demo database.");
    }
    if let Some(vault) = config.vault()? {
        let t = doorstep_domain::clock::Stopwatch::start();
        let people = doorstep::demo::add_register(
            &store,
            &vault,
            now,
            doorstep::demo::DEMO_HOUSEHOLDS_PER_BUILDING,
        )
        .await?;
        if people > 0 {
            println!("Registered {people} demo residents in {:.1} s.", t.secs());
        }
    }
    store.close().await;
    let app = Application::build(config, Some(true)).await?;
    let base = public_base(config, app.addr());
    println!("\nDoorstep demo (花木街道, demo data) is running at {base}\n");
    println!(
        "Demo sign-ins (password for all: {}):",
        doorstep::demo::DEMO_PASSWORD
    );
    for l in doorstep::demo::logins() {
        println!("  {:<16} {:<10} {}", l.username, l.role.code(), l.scope);
    }
    println!(
        "\nDatabase: {}   Stop with Ctrl-C.",
        doorstep::config::mask_url_password(&config.database_url)
    );
    app.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

/// `doorstep healthcheck`: exit 0 when the server and its database answer.
async fn check_health(config: &Config, url: Option<String>) -> anyhow::Result<ExitCode> {
    let base = match url {
        Some(u) => u,
        None => {
            let addr: std::net::SocketAddr = config.bind.parse()?;
            let local = Config {
                public_url: None,
                ..config.clone()
            };
            public_base(&local, addr)
        }
    };
    match healthcheck(&base).await {
        Ok(body) => {
            println!("healthy: {body}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("unhealthy: {e:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// GET {base}/healthz over plain HTTP/1.1 (no client library needed for one request).
async fn healthcheck(base: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let u = url::Url::parse(base).with_context(|| format!("`{base}` is not a URL"))?;
    if u.scheme() != "http" {
        anyhow::bail!("only http:// is supported (check the server from its own machine)");
    }
    let host = u.host_str().context("URL without a host")?;
    let port = u.port_or_known_default().unwrap_or(80);
    let mut stream = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    .context("timed out connecting")?
    .with_context(|| format!("cannot connect to {host}:{port}"))?;
    let req = format!(
        "GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut buf),
    )
    .await
    .context("timed out reading the answer")??;
    let text = String::from_utf8_lossy(&buf);
    let status = text.lines().next().unwrap_or("");
    let body = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or("")
        .trim()
        .to_string();
    if status.split_whitespace().nth(1) == Some("200") {
        Ok(body)
    } else {
        anyhow::bail!("{status} {body}")
    }
}
