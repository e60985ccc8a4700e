use doorstep_domain::FieldErrors;

/// What went wrong in the store, in terms the web layer maps to statuses.
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
    /// A precondition of the operation does not hold (409), e.g. setup when accounts exist.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The database cannot be reached (503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Duplicate(Vec::new())
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::InUse,
            sqlx::Error::Database(db) if db.code().is_some_and(|c| server_unavailable(&c)) => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Database(e),
        }
    }
}

impl From<FieldErrors> for StoreError {
    fn from(e: FieldErrors) -> Self {
        StoreError::Validation(e)
    }
}

/// PostgreSQL SQLSTATEs that mean "the server (or the database) cannot serve now": class 08
/// (connection exception), 57P01–57P03 (shut down, crashed, not yet accepting), 3D000 (the
/// database is gone), 53300 (too many connections).
fn server_unavailable(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "3D000" | "53300")
}
