//! Doorstep's services: one module per capability, each owning its use cases — who may
//! do what (through `doorstep_domain::policy`), the checks of what the caller names, the
//! working-day calendar, the write through the store and its audit entry. The web pages,
//! the JSON API, Open311 and the background jobs are adapters over these functions: they
//! parse input, call one service function and render its answer. Nothing here knows HTTP.
//!
//! A capability's functions take the [`Services`] context and, where someone acts, the
//! [`Caller`]; they answer with domain or store types, or an [`Error`].

pub mod accounts;
pub mod audit;
pub mod bookings;
pub mod catalogue;
pub mod circle;
pub mod clock;
mod error;
pub mod figures;
pub mod jobs;
pub mod limits;
pub mod places;
pub mod register;
pub mod requests;
pub mod reveal;
pub mod signin;
pub mod vault;

pub use error::{Error, Result, allowed};

/// The records the services hand out, as the store reads them. Adapters name them from
/// here: they never depend on the store itself.
pub mod records {
    pub use doorstep_store::{
        Account, AuditRecord, Booking, CareOverview, CareTagRecord, DuplicateCandidate, FigureRow,
        Figures, Household, PlaceRecord, PoolStats, PublicFilter, PublicRequest, RequestOrder,
        RequestRecord, Resident, TagKind, Visit,
    };
}

use chrono::{DateTime, Utc};
use doorstep_domain::calendar::WorkCalendar;
use doorstep_domain::{Actor, Clock, SubdistrictId};
use doorstep_store::{Store, WriteCtx};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// What the services are configured with (the binary fills it from its configuration,
/// which holds the one set of defaults).
#[derive(Debug, Clone)]
pub struct Settings {
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, whatever happens.
    pub session_absolute: Duration,
    /// Failed sign-ins of one user name within `lockout_window` that lock it.
    pub lockout_failures: i64,
    pub lockout_window: Duration,
    /// How long a locked user name stays locked after its last failure.
    pub lockout_duration: Duration,
    /// Walking speed for the 15-minute circle, metres per second.
    pub walk_speed_mps: f64,
    /// How long an archived resident's personal data is kept before it is erased.
    pub archived_retention: Duration,
}

/// Everything a use case needs besides its caller; cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub store: Store,
    clock: Arc<dyn Clock>,
    calendar: Arc<WorkCalendar>,
    settings: Arc<Settings>,
    catalogue: Arc<catalogue::Cache>,
    circle: Arc<circle::Cache>,
    intake: Arc<requests::IntakeQueue>,
    /// The field-encryption keys; none when the deployment has not configured them (the
    /// care register is then unavailable, everything else works).
    vault: Option<Arc<vault::Vault>>,
}

impl Services {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        calendar: WorkCalendar,
        settings: Settings,
    ) -> Services {
        Services {
            store,
            clock,
            calendar: Arc::new(calendar),
            settings: Arc::new(settings),
            catalogue: Arc::default(),
            circle: Arc::default(),
            intake: Arc::default(),
            vault: None,
        }
    }

    /// These services with field-encryption keys.
    pub fn with_vault(mut self, vault: vault::Vault) -> Services {
        self.vault = Some(Arc::new(vault));
        self
    }

    /// The vault, or a refusal naming the missing setting.
    pub fn vault(&self) -> Result<&vault::Vault> {
        self.vault
            .as_deref()
            .ok_or_else(|| Error::conflict("not_configured"))
    }

    /// The current instant, from the injected clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Whether the database answers; the backend's name when it does.
    pub async fn health(&self) -> Result<&'static str> {
        match self.store.ping().await {
            Ok(()) => Ok(match self.store.backend() {
                doorstep_store::Backend::Sqlite => "sqlite",
                doorstep_store::Backend::Postgres => "postgres",
            }),
            Err(e) => {
                tracing::error!(error = %e, "health check: database unreachable");
                Err(Error::Unavailable)
            }
        }
    }

    /// The database pool's use now, for `/metrics`.
    pub fn pool_stats(&self) -> records::PoolStats {
        self.store.pool_stats()
    }

    /// The intake queue's counters (waiting intakes, batch sizes), for `/metrics`.
    pub fn intake_stats(&self) -> &requests::IntakeStats {
        &self.intake.stats
    }

    pub fn calendar(&self) -> &WorkCalendar {
        &self.calendar
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Who writes, for the audit log: the caller, now.
    pub fn ctx(&self, caller: &Caller) -> WriteCtx {
        WriteCtx {
            actor_id: Some(caller.actor.account_id),
            actor_name: caller.actor.username.clone(),
            subdistrict_id: Some(caller.actor.subdistrict_id),
            ip: caller.ip.map(|ip| ip.to_string()),
            at: self.now(),
            demo: false,
        }
    }

    /// A write with no account behind it (a job, a resident's own page), now.
    pub fn system_ctx(
        &self,
        name: &str,
        subdistrict_id: Option<SubdistrictId>,
        ip: Option<IpAddr>,
    ) -> WriteCtx {
        WriteCtx {
            ip: ip.map(|i| i.to_string()),
            ..WriteCtx::system(name, subdistrict_id, self.now())
        }
    }
}

/// The signed-in account a use case runs for, and where the call came from.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub ip: Option<IpAddr>,
}
