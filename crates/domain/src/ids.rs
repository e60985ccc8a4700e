//! Typed record ids: a request id cannot be passed where an account id is meant. Each is
//! a plain number in JSON, in URLs and in the database.

macro_rules! ids {
    ($( $(#[$meta:meta])* $name:ident ),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> $name {
                $name(id)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    )+};
}

ids! {
    /// A subdistrict (街道): the unit of deployment and of every scope.
    SubdistrictId,
    /// A neighbourhood (居民区), with its committee and station.
    NeighbourhoodId,
    /// A staff account.
    AccountId,
    /// A request (诉求/工单).
    RequestId,
    /// An image attached to a request.
    AttachmentId,
    /// An item of the service catalogue.
    ServiceItemId,
    /// A building (楼栋).
    BuildingId,
    /// An API token.
    TokenId,
    /// A household (户) of the care register.
    HouseholdId,
    /// A resident of the care register.
    ResidentId,
    /// A care tag held by a resident, for a period.
    CareTagId,
    /// A door-to-door visit.
    VisitId,
    /// A station's room.
    RoomId,
    /// A booking of a room for one stretch of time (one occurrence of a series).
    BookingId,
}
