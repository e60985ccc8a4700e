//! Staff roles.

crate::coded_enum! {
    /// What an account is allowed to be. The scope that goes with it lives on the account.
    pub enum Role {
        /// Subdistrict staff: everything in their subdistrict.
        Admin = "admin",
        /// A neighbourhood's committee secretary: everything in that neighbourhood.
        Secretary = "secretary",
        /// A social worker: the blocks they own in one neighbourhood.
        Worker = "worker",
        /// Staff of a partner unit (共建单位).
        Partner = "partner",
        /// A volunteer with an account.
        Volunteer = "volunteer",
    }
}

impl Role {
    /// Every role but the subdistrict's is tied to one neighbourhood.
    pub fn needs_neighbourhood(self) -> bool {
        self != Role::Admin
    }

    /// Roles that work requests: take them at the desk, handle them, see the inbox.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Secretary | Role::Worker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Some(*r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
