//! Doorstep's domain: the types, rules and validation shared by every layer.
//!
//! Nothing here does IO. Time comes in through [`clock::Clock`], so rules that depend on
//! "now" are testable.

pub mod accounts;
pub mod audit;
pub mod bookings;
pub mod calendar;
pub mod catalogue;
pub mod clock;
pub mod codes;
pub mod duplicates;
pub mod earth;
pub mod fields;
pub mod ids;
pub mod mask;
pub mod opening;
pub mod people;
pub mod places;
pub mod policy;
pub mod requests;
pub mod role;
pub mod secret;

pub use clock::{Clock, SystemClock};
pub use fields::{FieldError, FieldErrors, FieldKind, FieldSpec, Value, Values, validate};
pub use ids::{
    AccountId, AttachmentId, BookingId, BuildingId, CareTagId, HouseholdId, NeighbourhoodId,
    RequestId, ResidentId, RoomId, ServiceItemId, SubdistrictId, TokenId, VisitId,
};
pub use places::Entity;
pub use policy::{Actor, Scope};
pub use role::Role;
