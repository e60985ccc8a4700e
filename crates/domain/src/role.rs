//! Staff roles.

use serde::{Deserialize, Serialize};

/// What an account is allowed to be. The scope that goes with it lives on the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Subdistrict staff: everything in their subdistrict.
    Admin,
    /// A neighbourhood's committee secretary: everything in that neighbourhood.
    Secretary,
    /// A social worker: the blocks they own in one neighbourhood.
    Worker,
    /// Staff of a partner unit (共建单位).
    Partner,
    /// A volunteer with an account.
    Volunteer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Secretary,
        Role::Worker,
        Role::Partner,
        Role::Volunteer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Secretary => "secretary",
            Role::Worker => "worker",
            Role::Partner => "partner",
            Role::Volunteer => "volunteer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Every role but the subdistrict's is tied to one neighbourhood.
    pub fn needs_neighbourhood(self) -> bool {
        self != Role::Admin
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
