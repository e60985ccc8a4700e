//! Configuration: defaults, then a TOML file, then `DOORSTEP_*` environment variables.
//! Every value remembers where it came from, for `doorstep config`.

use anyhow::{Context, bail};
use doorstep_domain::calendar::WorkCalendar;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env(String),
    Flag,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(p) => write!(f, "file {}", p.display()),
            Source::Env(v) => write!(f, "environment {v}"),
            Source::Flag => f.write_str("command line"),
        }
    }
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the server listens on.
    pub bind: String,
    /// `sqlite://PATH` (embedded default) or `postgres://…` (scale-out).
    pub database_url: String,
    /// The URL users reach the server at; `https://…` makes cookies `Secure` and is
    /// trusted for cross-origin checks behind a proxy.
    pub public_url: Option<String>,
    pub session_idle_minutes: u64,
    pub session_absolute_hours: u64,
    pub lockout_failures: i64,
    pub lockout_minutes: u64,
    pub ip_attempts_per_15_minutes: usize,
    pub max_body_bytes: usize,
    /// Apply pending migrations when the server starts.
    pub auto_migrate: bool,
    /// tracing filter, e.g. `info` or `doorstep=debug,tower_http=info`.
    pub log: String,
    /// `text` (for people) or `json` (one object per line, for a log collector).
    pub log_format: LogFormat,
    /// Walking speed for the 15-minute circle, metres per second.
    pub walk_speed_mps: f64,
    /// Days an archived resident's (moved away, died) personal data is kept, then erased.
    pub archived_retention_days: u64,
    /// Requests one address may send through the resident web page or Open311 in an hour.
    pub resident_reports_per_hour: usize,
    /// Requests one Open311 key may file per hour.
    pub open311_reports_per_hour: usize,
    /// A working-day table (TOML, as `crates/domain/src/calendar_cn.toml`) whose years
    /// replace or extend the built-in ones.
    pub calendar_file: Option<PathBuf>,
    /// Proxies (addresses or networks) whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<doorstep_web::client::Net>,
    /// Addresses (or networks) that may read `/metrics` without an admin token.
    pub metrics_from: Vec<doorstep_web::client::Net>,
    /// The master key that seals ID numbers and phones (base64, 32 bytes); never printed.
    pub encryption_key: Option<String>,
    /// Keys that sealed older values, kept during a rotation (comma-separated).
    pub previous_encryption_keys: Vec<String>,
    pub sources: BTreeMap<&'static str, Source>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/doorstep.sqlite";
pub const DEMO_DATABASE_URL: &str = "sqlite://data/demo.sqlite";

const KEYS: &[&str] = &[
    "bind",
    "database_url",
    "public_url",
    "session_idle_minutes",
    "session_absolute_hours",
    "lockout_failures",
    "lockout_minutes",
    "ip_attempts_per_15_minutes",
    "max_body_bytes",
    "auto_migrate",
    "log",
    "log_format",
    "walk_speed_mps",
    "archived_retention_days",
    "resident_reports_per_hour",
    "open311_reports_per_hour",
    "calendar_file",
    "trusted_proxies",
    "metrics_from",
    "encryption_key",
    "previous_encryption_keys",
];

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: DEFAULT_DATABASE_URL.into(),
            public_url: None,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            lockout_failures: 5,
            lockout_minutes: 15,
            ip_attempts_per_15_minutes: 30,
            max_body_bytes: 2 * 1024 * 1024,
            auto_migrate: true,
            log: "info".into(),
            log_format: LogFormat::Text,
            walk_speed_mps: 1.2,
            archived_retention_days: 3 * 365,
            resident_reports_per_hour: 10,
            open311_reports_per_hour: 600,
            calendar_file: None,
            trusted_proxies: Vec::new(),
            // None by default: behind a reverse proxy on the same machine every visitor
            // would come from loopback.
            metrics_from: Vec::new(),
            encryption_key: None,
            previous_encryption_keys: Vec::new(),
            sources: KEYS.iter().map(|k| (*k, Source::Default)).collect(),
        }
    }
}

impl Config {
    /// Loads the configuration: `file` (or `DOORSTEP_CONFIG`, or `./doorstep.toml` when it
    /// exists), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let env: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("DOORSTEP_"))
            .collect();
        Self::load_from(file, &env)
    }

    pub fn load_from(
        file: Option<&Path>,
        env: &BTreeMap<String, String>,
    ) -> anyhow::Result<Config> {
        let mut c = Config::default();
        let path = match file {
            Some(p) => Some(p.to_path_buf()),
            None => match env.get("DOORSTEP_CONFIG") {
                Some(p) => Some(PathBuf::from(p)),
                None => Some(PathBuf::from("doorstep.toml")).filter(|p| p.exists()),
            },
        };
        if let Some(path) = path {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read configuration file {}", path.display()))?;
            let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
                anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim())
            })?;
            for (k, v) in &table {
                let Some(key) = KEYS.iter().find(|x| **x == k) else {
                    bail!(
                        "{}: unknown setting `{k}` (known: {})",
                        path.display(),
                        KEYS.join(", ")
                    );
                };
                let s = match v {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    // A list (trusted_proxies) is read as its items joined by commas.
                    toml::Value::Array(items) if items.iter().all(|i| i.is_str()) => items
                        .iter()
                        .filter_map(|i| i.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    other => bail!("{}: `{k}` has an unsupported value {other}", path.display()),
                };
                c.set(key, &s)
                    .with_context(|| format!("{}: setting `{k}`", path.display()))?;
                c.sources.insert(key, Source::File(path.clone()));
            }
        }
        for key in KEYS {
            let var = format!("DOORSTEP_{}", key.to_uppercase());
            if let Some(v) = env.get(&var) {
                c.set(key, v)
                    .with_context(|| format!("environment variable {var}"))?;
                c.sources.insert(key, Source::Env(var));
            }
        }
        Ok(c)
    }

    /// Sets one value from text.
    pub fn set(&mut self, key: &str, v: &str) -> anyhow::Result<()> {
        fn num<T: std::str::FromStr>(v: &str) -> anyhow::Result<T> {
            v.trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("`{v}` is not a valid number"))
        }
        match key {
            "bind" => {
                v.parse::<std::net::SocketAddr>()
                    .map_err(|_| anyhow::anyhow!("`{v}` is not an address like 127.0.0.1:8080"))?;
                self.bind = v.to_string();
            }
            "database_url" => {
                if !(v.starts_with("sqlite:")
                    || v.starts_with("postgres://")
                    || v.starts_with("postgresql://"))
                {
                    bail!("must start with sqlite: or postgres://");
                }
                self.database_url = v.to_string();
            }
            "public_url" => {
                let u =
                    url::Url::parse(v).map_err(|e| anyhow::anyhow!("`{v}` is not a URL: {e}"))?;
                if !matches!(u.scheme(), "http" | "https") {
                    bail!("must be an http or https URL");
                }
                self.public_url = Some(v.trim_end_matches('/').to_string());
            }
            "session_idle_minutes" => self.session_idle_minutes = positive(num(v)?)?,
            "session_absolute_hours" => self.session_absolute_hours = positive(num(v)?)?,
            "lockout_failures" => self.lockout_failures = positive(num::<u64>(v)?)? as i64,
            "lockout_minutes" => self.lockout_minutes = positive(num(v)?)?,
            "ip_attempts_per_15_minutes" => {
                self.ip_attempts_per_15_minutes = positive(num::<u64>(v)?)? as usize
            }
            "max_body_bytes" => self.max_body_bytes = positive(num::<u64>(v)?)? as usize,
            "auto_migrate" => {
                self.auto_migrate = match v.trim() {
                    "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ => bail!("`{v}` is not true or false"),
                }
            }
            "log" => self.log = v.to_string(),
            "log_format" => {
                self.log_format = match v.trim() {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    _ => bail!("`{v}` is neither text nor json"),
                }
            }
            "walk_speed_mps" => {
                let s: f64 = num(v)?;
                if !(0.3..=3.0).contains(&s) {
                    bail!("must be between 0.3 and 3.0 metres per second");
                }
                self.walk_speed_mps = s;
            }
            "archived_retention_days" => self.archived_retention_days = positive(num::<u64>(v)?)?,
            "resident_reports_per_hour" => {
                self.resident_reports_per_hour = positive(num::<u64>(v)?)? as usize
            }
            "open311_reports_per_hour" => {
                self.open311_reports_per_hour = positive(num::<u64>(v)?)? as usize
            }
            "trusted_proxies"
            | "metrics_from"
            | "encryption_key"
            | "previous_encryption_keys"
            | "calendar_file" => self.set_more(key, v)?,
            other => bail!("unknown setting `{other}`"),
        }
        Ok(())
    }

    fn nets_text(nets: &[doorstep_web::client::Net]) -> String {
        nets.iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    fn nets(v: &str) -> anyhow::Result<Vec<doorstep_web::client::Net>> {
        v.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().map_err(|e: String| anyhow::anyhow!(e)))
            .collect()
    }

    /// The settings that are lists, keys or files.
    fn set_more(&mut self, key: &str, v: &str) -> anyhow::Result<()> {
        match key {
            "trusted_proxies" => self.trusted_proxies = Self::nets(v)?,
            "metrics_from" => self.metrics_from = Self::nets(v)?,
            "encryption_key" => {
                doorstep_services::vault::Vault::new(v, &[]).map_err(|e| anyhow::anyhow!("{e}"))?;
                self.encryption_key = Some(v.trim().to_string());
            }
            "previous_encryption_keys" => {
                let keys: Vec<String> = v
                    .split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_string)
                    .collect();
                for k in &keys {
                    doorstep_services::vault::Vault::new(k, &[])
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                }
                self.previous_encryption_keys = keys;
            }
            "calendar_file" => {
                let path = PathBuf::from(v.trim());
                read_calendar(&path)?;
                self.calendar_file = Some(path);
            }
            other => bail!("unknown setting `{other}`"),
        }
        Ok(())
    }

    /// The field-encryption vault, when a key is configured.
    pub fn vault(&self) -> anyhow::Result<Option<doorstep_services::vault::Vault>> {
        self.encryption_key
            .as_deref()
            .map(|k| doorstep_services::vault::Vault::new(k, &self.previous_encryption_keys))
            .transpose()
            .map_err(|e| anyhow::anyhow!("encryption_key: {e}"))
    }

    /// The working-day calendar: the built-in table, with the years of `calendar_file`.
    pub fn calendar(&self) -> anyhow::Result<WorkCalendar> {
        let built_in = WorkCalendar::china().context("the built-in working-day calendar")?;
        Ok(match &self.calendar_file {
            Some(path) => built_in.with_years_from(read_calendar(path)?),
            None => built_in,
        })
    }

    /// The services' settings.
    pub fn services(&self) -> doorstep_services::Settings {
        doorstep_services::Settings {
            session_idle: Duration::from_secs(self.session_idle_minutes * 60),
            session_absolute: Duration::from_secs(self.session_absolute_hours * 3600),
            lockout_failures: self.lockout_failures,
            lockout_window: Duration::from_secs(15 * 60),
            lockout_duration: Duration::from_secs(self.lockout_minutes * 60),
            walk_speed_mps: self.walk_speed_mps,
            archived_retention: Duration::from_secs(self.archived_retention_days * 86_400),
        }
    }

    pub fn web(&self) -> doorstep_web::WebConfig {
        let origin = self
            .public_url
            .as_ref()
            .and_then(|u| url::Url::parse(u).ok())
            .map(|u| u.origin().ascii_serialization());
        doorstep_web::WebConfig {
            ip_attempts: self.ip_attempts_per_15_minutes,
            ip_window: Duration::from_secs(15 * 60),
            secure_cookies: self
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
            max_body_bytes: self.max_body_bytes,
            trusted_origins: origin.into_iter().collect(),
            resident_reports_per_hour: self.resident_reports_per_hour,
            open311_reports_per_hour: self.open311_reports_per_hour,
            trusted_proxies: self.trusted_proxies.clone(),
            metrics_from: self.metrics_from.clone(),
        }
    }

    /// The lines of the list, key and file settings (keys never shown).
    fn describe_more(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "trusted_proxies",
                if self.trusted_proxies.is_empty() {
                    "# (none: X-Forwarded-For is ignored)".into()
                } else {
                    quote(&Self::nets_text(&self.trusted_proxies))
                },
            ),
            (
                "metrics_from",
                if self.metrics_from.is_empty() {
                    "# (none: /metrics needs an admin token)".into()
                } else {
                    quote(&Self::nets_text(&self.metrics_from))
                },
            ),
            (
                "encryption_key",
                if self.encryption_key.is_some() {
                    "\"****\"".into()
                } else {
                    "# (not set: the care register is unavailable)".into()
                },
            ),
            (
                "previous_encryption_keys",
                format!("# {} key(s)", self.previous_encryption_keys.len()),
            ),
            (
                "calendar_file",
                self.calendar_file
                    .as_deref()
                    .map(|p| quote(&p.display().to_string()))
                    .unwrap_or_else(|| "# (built-in table only)".into()),
            ),
        ]
    }

    /// `key = value  # source` lines, with secrets masked.
    pub fn describe(&self) -> String {
        let mut vals: Vec<(&str, String)> = vec![
            ("bind", quote(&self.bind)),
            (
                "database_url",
                quote(&mask_url_password(&self.database_url)),
            ),
            (
                "public_url",
                self.public_url
                    .as_deref()
                    .map(quote)
                    .unwrap_or_else(|| "# (not set)".into()),
            ),
            (
                "session_idle_minutes",
                self.session_idle_minutes.to_string(),
            ),
            (
                "session_absolute_hours",
                self.session_absolute_hours.to_string(),
            ),
            ("lockout_failures", self.lockout_failures.to_string()),
            ("lockout_minutes", self.lockout_minutes.to_string()),
            (
                "ip_attempts_per_15_minutes",
                self.ip_attempts_per_15_minutes.to_string(),
            ),
            ("max_body_bytes", self.max_body_bytes.to_string()),
            ("auto_migrate", self.auto_migrate.to_string()),
            ("log", quote(&self.log)),
            (
                "log_format",
                quote(match self.log_format {
                    LogFormat::Text => "text",
                    LogFormat::Json => "json",
                }),
            ),
            ("walk_speed_mps", self.walk_speed_mps.to_string()),
            (
                "resident_reports_per_hour",
                self.resident_reports_per_hour.to_string(),
            ),
            (
                "open311_reports_per_hour",
                self.open311_reports_per_hour.to_string(),
            ),
        ];
        vals.extend(self.describe_more());
        let width = vals
            .iter()
            .map(|(k, v)| k.len() + v.len() + 3)
            .max()
            .unwrap_or(40);
        vals.iter()
            .map(|(k, v)| {
                let line = format!("{k} = {v}");
                let src = self
                    .sources
                    .get(k)
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                format!("{line:<width$}  # {src}\n")
            })
            .collect()
    }
}

/// Reads and checks a working-day table, naming the file in any error.
fn read_calendar(path: &Path) -> anyhow::Result<WorkCalendar> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the calendar file {}", path.display()))?;
    WorkCalendar::from_toml(&text).with_context(|| format!("calendar file {}", path.display()))
}

fn positive<T: PartialOrd + Default + Copy>(v: T) -> anyhow::Result<T> {
    if v > T::default() {
        Ok(v)
    } else {
        bail!("must be greater than zero")
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `postgres://user:secret@host/db` → `postgres://user:****@host/db`.
pub fn mask_url_password(u: &str) -> String {
    match url::Url::parse(u) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => u.to_string(),
    }
}

#[cfg(test)]
mod tests;
