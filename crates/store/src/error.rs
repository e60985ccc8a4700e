use doorstep_domain::FieldErrors;

/// What went wrong in the store, in terms the services map to answers.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique key is taken (409). The fields name the key.
    #[error("duplicate: {0:?}")]
    Duplicate(Vec<String>),
    /// The record changed since the caller read it (409).
    #[error("version conflict: current version is {current}")]
    VersionConflict { current: i64 },
    /// The record is still referenced (409).
    #[error("in use")]
    InUse,
    #[error("invalid: {0}")]
    Validation(FieldErrors),
    /// A workflow move the request's state or the actor's relation does not allow (409).
    #[error("illegal move: {0}")]
    IllegalMove(String),
    /// The room is held then by another booking (409, naming it).
    #[error("the room is booked then: booking {}", .0.id)]
    Overlap(Box<crate::bookings::Booking>),
    /// A precondition of the operation does not hold (409), e.g. setup when accounts exist.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The database cannot be reached (503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("configuration: {0}")]
    Config(String),
    /// A failure of the database or of the store's own reading (a bug, or a damaged row).
    #[error("database error: {0}")]
    Database(String),
    #[error("migration failed: {0}")]
    Migrate(String),
}

/// What kind of failure a database error is, whichever backend raised it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureKind {
    UniqueViolation,
    ForeignKeyViolation,
    NotNullViolation,
    CheckViolation,
    /// The server, the database or the connection to it is gone or not accepting.
    Unavailable,
    NotFound,
    Other,
}

/// Classifies a driver error. Constraint violations come from the driver's own kinds.
/// Availability is the one thing the driver leaves as a code: PostgreSQL's SQLSTATE class
/// 08 (connection exception), 57P01–57P03 (shut down, crashed, not yet accepting), 3D000
/// (the database is gone) and 53300 (too many connections); this is the one place that
/// reads it.
pub(crate) fn classify(e: &sqlx::Error) -> FailureKind {
    use sqlx::error::ErrorKind;
    match e {
        sqlx::Error::RowNotFound => FailureKind::NotFound,
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => FailureKind::Unavailable,
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => FailureKind::UniqueViolation,
            ErrorKind::ForeignKeyViolation => FailureKind::ForeignKeyViolation,
            ErrorKind::NotNullViolation => FailureKind::NotNullViolation,
            ErrorKind::CheckViolation => FailureKind::CheckViolation,
            _ if db.code().is_some_and(|c| {
                c.starts_with("08")
                    || matches!(&*c, "57P01" | "57P02" | "57P03" | "3D000" | "53300")
            }) =>
            {
                FailureKind::Unavailable
            }
            _ => FailureKind::Other,
        },
        _ => FailureKind::Other,
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match classify(&e) {
            FailureKind::NotFound => StoreError::NotFound,
            FailureKind::Unavailable => StoreError::Unavailable(e.to_string()),
            FailureKind::UniqueViolation => StoreError::Duplicate(Vec::new()),
            FailureKind::ForeignKeyViolation => StoreError::InUse,
            FailureKind::NotNullViolation | FailureKind::CheckViolation | FailureKind::Other => {
                StoreError::Database(e.to_string())
            }
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        match e {
            sqlx::migrate::MigrateError::Execute(inner) => match StoreError::from(inner) {
                StoreError::Unavailable(m) => StoreError::Unavailable(m),
                other => StoreError::Migrate(other.to_string()),
            },
            other => StoreError::Migrate(other.to_string()),
        }
    }
}

impl From<FieldErrors> for StoreError {
    fn from(e: FieldErrors) -> Self {
        StoreError::Validation(e)
    }
}

impl StoreError {
    /// Maps a unique violation to a duplicate of the named key.
    pub(crate) fn on_key(self, fields: &[&str]) -> StoreError {
        match self {
            StoreError::Duplicate(_) => {
                StoreError::Duplicate(fields.iter().map(|s| s.to_string()).collect())
            }
            other => other,
        }
    }
}
