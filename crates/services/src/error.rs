//! What a use case answers when it does not do what was asked. The adapters map each
//! variant to their own form (an HTTP status, an Open311 error, an exit code).

use doorstep_domain::FieldErrors;
use doorstep_domain::policy::Decision;
use doorstep_store::StoreError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a use case refused or failed. Codes are stable snake_case; the UI translates them.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// No such thing (or one whose existence must not leak).
    NotFound,
    /// Outside the caller's role or scope.
    Forbidden,
    /// Fields that failed validation.
    Validation(FieldErrors),
    /// A duplicate, a stale version, a record still in use, a move the state does not
    /// allow, or another precondition.
    Conflict {
        code: &'static str,
        fields: Vec<String>,
        current_version: Option<i64>,
    },
    /// A change without the version it was based on (which could undo another's).
    VersionRequired,
    /// The room is booked then (409): the booking in the way.
    Overlap(Box<doorstep_store::Booking>),
    /// Too many attempts.
    TooManyRequests,
    /// The database is unreachable.
    Unavailable,
    /// A bug or an unexpected failure; the cause is logged where it happens.
    Internal,
}

impl Error {
    pub fn validation(field: &str, code: &'static str) -> Self {
        Error::Validation(FieldErrors::single(field, code))
    }

    pub fn conflict(code: &'static str) -> Self {
        Error::Conflict {
            code,
            fields: Vec::new(),
            current_version: None,
        }
    }

    /// A failure worth a log line, answered as [`Error::Internal`].
    pub fn internal(what: impl std::fmt::Display) -> Self {
        tracing::error!(error = %what, "internal error");
        Error::Internal
    }

    /// The stable code of the answer.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound => "not_found",
            Error::Forbidden => "forbidden",
            Error::Validation(_) => "validation_failed",
            Error::Conflict { code, .. } => code,
            Error::VersionRequired => "version_required",
            Error::Overlap(_) => "booking_overlap",
            Error::TooManyRequests => "too_many_requests",
            Error::Unavailable => "unavailable",
            Error::Internal => "internal",
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for Error {}

/// An access decision as an answer: allowed, forbidden (403), or hidden (404: the record
/// belongs to another subdistrict, whose existence must not leak).
pub fn allowed(d: Decision) -> Result<()> {
    match d {
        Decision::Allow => Ok(()),
        Decision::Forbidden => Err(Error::Forbidden),
        Decision::Hidden => Err(Error::NotFound),
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::NotFound,
            StoreError::Duplicate(fields) => Error::Conflict {
                code: "duplicate",
                fields,
                current_version: None,
            },
            StoreError::VersionConflict { current } => Error::Conflict {
                code: "version_conflict",
                fields: Vec::new(),
                current_version: Some(current),
            },
            StoreError::InUse => Error::conflict("in_use"),
            StoreError::Overlap(b) => Error::Overlap(b),
            StoreError::Conflict(code) => Error::conflict(code),
            StoreError::IllegalMove(_) => Error::conflict("illegal_move"),
            StoreError::Validation(errors) => Error::Validation(errors),
            StoreError::Unavailable(msg) => {
                tracing::error!(error = %msg, "database unavailable");
                Error::Unavailable
            }
            other => Error::internal(format!("store: {other}")),
        }
    }
}

impl From<FieldErrors> for Error {
    fn from(e: FieldErrors) -> Self {
        Error::Validation(e)
    }
}
