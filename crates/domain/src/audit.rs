//! What the audit log records: actions and the kinds of record they touch, as codes.

use crate::Entity;

crate::coded_enum! {
    /// What was done.
    pub enum AuditAction {
        Login = "login",
        LoginFailed = "login_failed",
        Logout = "logout",
        /// The first admin and the subdistrict, on an empty database.
        Setup = "setup",
        Create = "create",
        Update = "update",
        Archive = "archive",
        Restore = "restore",
        /// Many records at once (a roster, a network, the demo).
        Import = "import",
        /// Data taken out of the system (XLSX, GeoJSON).
        Export = "export",
        SetPassword = "set_password",
        Revoke = "revoke",
        /// An image added to a request.
        Attach = "attach",
        /// An image of a request looked at (photos can show people).
        ViewAttachment = "view_attachment",
        /// Personal data shown unmasked (a phone number, to call back), with the reason.
        Reveal = "reveal",
        /// Personal data erased under the retention rule.
        Erase = "erase",
    }
}

crate::coded_enum! {
    /// The kind of record an entry is about.
    pub enum AuditEntity {
        Account = "account",
        ApiToken = "api_token",
        Request = "request",
        GeoNetwork = "geo_network",
        Subdistrict = "subdistrict",
        Community = "community",
        Neighbourhood = "neighbourhood",
        Estate = "estate",
        Building = "building",
        Block = "block",
        Station = "station",
        Room = "room",
        Partner = "partner",
        ServiceItem = "service_item",
        Household = "household",
        Resident = "resident",
        CareTag = "care_tag",
        Visit = "visit",
        /// A room booking (or a repeating series of them).
        Booking = "booking",
        /// A roster imported in one go.
        Roster = "roster",
    }
}

impl From<Entity> for AuditEntity {
    fn from(e: Entity) -> AuditEntity {
        match e {
            Entity::Subdistrict => AuditEntity::Subdistrict,
            Entity::Community => AuditEntity::Community,
            Entity::Neighbourhood => AuditEntity::Neighbourhood,
            Entity::Estate => AuditEntity::Estate,
            Entity::Building => AuditEntity::Building,
            Entity::Block => AuditEntity::Block,
            Entity::Station => AuditEntity::Station,
            Entity::Room => AuditEntity::Room,
            Entity::Partner => AuditEntity::Partner,
            Entity::ServiceItem => AuditEntity::ServiceItem,
        }
    }
}

impl AuditEntity {
    /// The place kind this is, if it is one.
    pub fn place(self) -> Option<Entity> {
        Entity::parse(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_place_kind_is_an_audit_entity_of_the_same_code() {
        for &e in Entity::ALL {
            let a = AuditEntity::from(e);
            assert_eq!(a.code(), e.code());
            assert_eq!(a.place(), Some(e));
        }
        assert_eq!(AuditEntity::Account.place(), None);
    }
}

crate::coded_enum! {
    /// Why someone asks to see personal data unmasked.
    pub enum RevealReason {
        /// To call the resident back about their request.
        CallBack = "call_back",
        /// To arrange a visit.
        Visit = "visit",
        /// To check who is asking (a duplicate, a name that does not match).
        Verify = "verify",
    }
}
