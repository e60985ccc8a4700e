//! Who may do what: roles and scopes, decided on the server for every route.

use crate::{Entity, Role};
use serde::Serialize;

/// The signed-in account on whose behalf a request runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub account_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub subdistrict_id: i64,
    /// Set for every role but `admin`.
    pub neighbourhood_id: Option<i64>,
}

/// What a list may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Subdistrict(i64),
    Neighbourhood {
        subdistrict_id: i64,
        neighbourhood_id: i64,
    },
}

/// Where a record sits, for scope checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub subdistrict_id: i64,
    /// For neighbourhoods, their own id; `None` above the neighbourhood level.
    pub neighbourhood_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    Archive,
}

/// The answer to "may this actor do that".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// 403: the record is known to exist but is outside the actor's role or scope.
    Forbidden,
    /// 404: the record belongs to another subdistrict, whose existence must not leak.
    Hidden,
}

impl Actor {
    fn own_neighbourhood(&self, place: Place) -> bool {
        self.neighbourhood_id.is_some() && place.neighbourhood_id == self.neighbourhood_id
    }

    /// May the actor act on a record of `entity` at `place`?
    pub fn may(&self, action: Action, entity: Entity, place: Place) -> Decision {
        if place.subdistrict_id != self.subdistrict_id {
            return Decision::Hidden;
        }
        let allowed = match (self.role, action) {
            (Role::Admin, Action::Create | Action::Archive) => entity != Entity::Subdistrict,
            (Role::Admin, _) => true,
            (_, Action::Read) => {
                entity.readable_subdistrict_wide() || self.own_neighbourhood(place)
            }
            (Role::Secretary, Action::Update) if entity == Entity::Neighbourhood => {
                self.own_neighbourhood(place)
            }
            (Role::Secretary, _) => entity.in_neighbourhood() && self.own_neighbourhood(place),
            (Role::Worker | Role::Partner | Role::Volunteer, _) => false,
        };
        if allowed {
            Decision::Allow
        } else {
            Decision::Forbidden
        }
    }

    /// The widest scope of a list of `entity` the actor may read.
    pub fn list_scope(&self, entity: Entity) -> Scope {
        match (self.role, self.neighbourhood_id) {
            (Role::Admin, _) | (_, None) => Scope::Subdistrict(self.subdistrict_id),
            _ if entity.readable_subdistrict_wide() => Scope::Subdistrict(self.subdistrict_id),
            (_, Some(n)) => Scope::Neighbourhood {
                subdistrict_id: self.subdistrict_id,
                neighbourhood_id: n,
            },
        }
    }

    /// Accounts: admins manage them; secretaries see their neighbourhood's; everyone sees
    /// themselves.
    pub fn may_read_account(
        &self,
        subdistrict_id: i64,
        neighbourhood_id: Option<i64>,
        id: i64,
    ) -> Decision {
        if subdistrict_id != self.subdistrict_id {
            return Decision::Hidden;
        }
        let ok = id == self.account_id
            || self.role == Role::Admin
            || (self.role == Role::Secretary
                && neighbourhood_id.is_some()
                && neighbourhood_id == self.neighbourhood_id);
        if ok {
            Decision::Allow
        } else {
            Decision::Forbidden
        }
    }

    pub fn may_manage_accounts(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn may_read_audit(&self) -> bool {
        self.role == Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, nb: Option<i64>) -> Actor {
        Actor {
            account_id: 1,
            username: "u".into(),
            display_name: "U".into(),
            role,
            subdistrict_id: 1,
            neighbourhood_id: nb,
        }
    }
    const MINE: Place = Place {
        subdistrict_id: 1,
        neighbourhood_id: Some(7),
    };
    const OTHER: Place = Place {
        subdistrict_id: 1,
        neighbourhood_id: Some(8),
    };
    const ELSEWHERE: Place = Place {
        subdistrict_id: 2,
        neighbourhood_id: Some(9),
    };

    #[test]
    fn secretaries_write_only_inside_their_neighbourhood() {
        let s = actor(Role::Secretary, Some(7));
        assert_eq!(
            s.may(Action::Create, Entity::Building, MINE),
            Decision::Allow
        );
        assert_eq!(
            s.may(Action::Create, Entity::Building, OTHER),
            Decision::Forbidden
        );
        assert_eq!(
            s.may(Action::Read, Entity::Building, OTHER),
            Decision::Forbidden
        );
        assert_eq!(s.may(Action::Read, Entity::Station, OTHER), Decision::Allow);
        assert_eq!(
            s.may(Action::Update, Entity::Neighbourhood, MINE),
            Decision::Allow
        );
        assert_eq!(
            s.may(Action::Archive, Entity::Neighbourhood, MINE),
            Decision::Forbidden
        );
        assert_eq!(
            s.may(Action::Read, Entity::Building, ELSEWHERE),
            Decision::Hidden
        );
    }

    #[test]
    fn workers_read_their_neighbourhood_and_write_nothing() {
        let w = actor(Role::Worker, Some(7));
        assert_eq!(w.may(Action::Read, Entity::Estate, MINE), Decision::Allow);
        assert_eq!(
            w.may(Action::Update, Entity::Building, MINE),
            Decision::Forbidden
        );
        assert_eq!(
            w.list_scope(Entity::Building),
            Scope::Neighbourhood {
                subdistrict_id: 1,
                neighbourhood_id: 7
            }
        );
        assert_eq!(w.list_scope(Entity::Room), Scope::Subdistrict(1));
    }

    #[test]
    fn admins_do_everything_in_their_subdistrict_only() {
        let a = actor(Role::Admin, None);
        assert_eq!(
            a.may(Action::Archive, Entity::Community, OTHER),
            Decision::Allow
        );
        assert_eq!(
            a.may(Action::Read, Entity::Room, ELSEWHERE),
            Decision::Hidden
        );
        assert_eq!(
            a.may(Action::Create, Entity::Subdistrict, MINE),
            Decision::Forbidden
        );
    }
}
