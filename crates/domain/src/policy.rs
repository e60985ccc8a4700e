//! Who may do what: roles and scopes, decided on the server for every route. Every rule
//! lives here, as pure functions of the actor and the record, so each is tested as a
//! table: places and accounts, and requests (who may read one, and in which relation one
//! may move it).

use crate::ids::{AccountId, NeighbourhoodId, SubdistrictId};
use crate::requests::{Handler, Move, Relation};
use crate::{Entity, Role};
use serde::Serialize;

mod care;
pub use care::{BlockPlace, TagClass};

/// The signed-in account on whose behalf a request runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub account_id: AccountId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub subdistrict_id: SubdistrictId,
    /// Set for every role but `admin`.
    pub neighbourhood_id: Option<NeighbourhoodId>,
}

/// What a list may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Subdistrict(SubdistrictId),
    Neighbourhood {
        subdistrict_id: SubdistrictId,
        neighbourhood_id: NeighbourhoodId,
    },
}

impl Scope {
    pub fn subdistrict_id(self) -> SubdistrictId {
        match self {
            Scope::Subdistrict(sd)
            | Scope::Neighbourhood {
                subdistrict_id: sd, ..
            } => sd,
        }
    }

    pub fn neighbourhood_id(self) -> Option<NeighbourhoodId> {
        match self {
            Scope::Subdistrict(_) => None,
            Scope::Neighbourhood {
                neighbourhood_id, ..
            } => Some(neighbourhood_id),
        }
    }
}

/// Where a record sits, for scope checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub subdistrict_id: SubdistrictId,
    /// For neighbourhoods, their own id; `None` above the neighbourhood level.
    pub neighbourhood_id: Option<NeighbourhoodId>,
}

/// What the rules need to know of a request: where it sits and who holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestPlace {
    pub subdistrict_id: SubdistrictId,
    pub neighbourhood_id: NeighbourhoodId,
    /// Who first received it and owns it until it is closed (首问).
    pub owner_id: AccountId,
    /// The worker it is assigned to, if it is assigned to a worker.
    pub handler_id: Option<AccountId>,
}

impl RequestPlace {
    pub fn handler_of(handler: Option<&Handler>) -> Option<AccountId> {
        match handler {
            Some(Handler::Worker(a)) => Some(*a),
            _ => None,
        }
    }
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
        subdistrict_id: SubdistrictId,
        neighbourhood_id: Option<NeighbourhoodId>,
        id: AccountId,
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

    /// The neighbourhood a request-related question is asked about: admins choose (or
    /// leave it open: the whole subdistrict); secretaries and workers always their own, and
    /// asking about another is forbidden; other roles have no part in requests.
    pub fn request_neighbourhood(
        &self,
        asked: Option<NeighbourhoodId>,
    ) -> Result<Option<NeighbourhoodId>, Decision> {
        match (self.role, self.neighbourhood_id) {
            (Role::Admin, _) => Ok(asked),
            (Role::Secretary | Role::Worker, Some(mine)) => match asked {
                Some(n) if n != mine => Err(Decision::Forbidden),
                _ => Ok(Some(mine)),
            },
            _ => Err(Decision::Forbidden),
        }
    }

    /// May the actor take requests at the desk (and so own them)?
    pub fn may_take_requests(&self) -> bool {
        self.role.is_staff()
    }

    /// Whether the actor is staff working in neighbourhood `nb` (a worker or secretary
    /// there, an admin anywhere in the subdistrict): who files for it on any channel and
    /// books its stations' rooms.
    pub fn staff_of(&self, nb: NeighbourhoodId) -> bool {
        self.may_take_requests() && self.request_neighbourhood(Some(nb)).is_ok()
    }

    /// Whether the actor supervises the requests of a neighbourhood: its secretary, or the
    /// subdistrict.
    pub fn supervises(&self, neighbourhood_id: NeighbourhoodId) -> bool {
        self.role == Role::Admin
            || (self.role == Role::Secretary && self.neighbourhood_id == Some(neighbourhood_id))
    }

    /// Who may read a request: the subdistrict, the staff of its neighbourhood, and its
    /// owner wherever they now work.
    pub fn may_read_request(&self, r: &RequestPlace) -> Decision {
        if r.subdistrict_id != self.subdistrict_id {
            return Decision::Hidden;
        }
        let ok = self.role == Role::Admin
            || (matches!(self.role, Role::Secretary | Role::Worker)
                && self.neighbourhood_id == Some(r.neighbourhood_id))
            || r.owner_id == self.account_id;
        if ok {
            Decision::Allow
        } else {
            Decision::Forbidden
        }
    }

    /// Who may see a request's resident contact unmasked: the request's owner and its
    /// current handler, and the secretary of its neighbourhood. Nobody else, not even
    /// the subdistrict: masked is the default, and every reveal is audited.
    pub fn may_reveal_request_contact(&self, r: &RequestPlace) -> Decision {
        if r.subdistrict_id != self.subdistrict_id {
            return Decision::Hidden;
        }
        let mine = r.owner_id == self.account_id || r.handler_id == Some(self.account_id);
        let secretary =
            self.role == Role::Secretary && self.neighbourhood_id == Some(r.neighbourhood_id);
        if mine || secretary {
            Decision::Allow
        } else if self.may_read_request(r) == Decision::Allow {
            Decision::Forbidden
        } else {
            self.may_read_request(r)
        }
    }

    /// In which relation the actor would make `mv` on a request, if in any: the state
    /// machine then decides whether the move is possible in the request's state.
    pub fn relation_for(&self, r: &RequestPlace, mv: &Move) -> Option<Relation> {
        if self.may_read_request(r) != Decision::Allow {
            return None;
        }
        let handler = r.handler_id == Some(self.account_id);
        let owner = r.owner_id == self.account_id;
        let supervisor = self.supervises(r.neighbourhood_id);
        match mv {
            Move::DecideExtension { .. } | Move::Escalate => {
                supervisor.then_some(Relation::Supervisor)
            }
            Move::FollowUp { .. } | Move::Close | Move::Merge { .. } => {
                if owner {
                    Some(Relation::Owner)
                } else {
                    supervisor.then_some(Relation::Supervisor)
                }
            }
            Move::Accept | Move::Return { .. } => handler.then_some(Relation::Handler),
            // Only a merge writes the other side.
            Move::Absorb { .. } => None,
            _ => {
                if handler {
                    Some(Relation::Handler)
                } else {
                    owner.then_some(Relation::Owner)
                }
            }
        }
    }
}

/// An actor for the tables of tests: account 1 in subdistrict 1.
#[cfg(test)]
pub(crate) fn actor(role: Role, nb: Option<i64>) -> Actor {
    Actor {
        account_id: AccountId(1),
        username: "u".into(),
        display_name: "U".into(),
        role,
        subdistrict_id: SubdistrictId(1),
        neighbourhood_id: nb.map(NeighbourhoodId),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINE: Place = Place {
        subdistrict_id: SubdistrictId(1),
        neighbourhood_id: Some(NeighbourhoodId(7)),
    };
    const OTHER: Place = Place {
        subdistrict_id: SubdistrictId(1),
        neighbourhood_id: Some(NeighbourhoodId(8)),
    };
    const ELSEWHERE: Place = Place {
        subdistrict_id: SubdistrictId(2),
        neighbourhood_id: Some(NeighbourhoodId(9)),
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
                subdistrict_id: SubdistrictId(1),
                neighbourhood_id: NeighbourhoodId(7)
            }
        );
        assert_eq!(
            w.list_scope(Entity::Room),
            Scope::Subdistrict(SubdistrictId(1))
        );
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

    /// Who the actor (account 1) is to a request of neighbourhood 7 in subdistrict 1.
    #[derive(Clone, Copy, Debug)]
    enum Tie {
        Owner,
        Handler,
        Stranger,
        /// The request is in neighbourhood 8.
        OtherNeighbourhood,
        /// The request is in subdistrict 2.
        OtherSubdistrict,
    }

    fn request(tie: Tie) -> RequestPlace {
        let (sd, nb, owner, handler) = match tie {
            Tie::Owner => (1, 7, 1, Some(2)),
            Tie::Handler => (1, 7, 2, Some(1)),
            Tie::Stranger => (1, 7, 2, Some(3)),
            Tie::OtherNeighbourhood => (1, 8, 2, None),
            Tie::OtherSubdistrict => (2, 9, 2, None),
        };
        RequestPlace {
            subdistrict_id: SubdistrictId(sd),
            neighbourhood_id: NeighbourhoodId(nb),
            owner_id: AccountId(owner),
            handler_id: handler.map(AccountId),
        }
    }

    #[test]
    fn who_reads_a_request() {
        use Decision::*;
        use Role::*;
        let table = [
            (Admin, None, Tie::Stranger, Allow),
            (Admin, None, Tie::OtherNeighbourhood, Allow),
            (Admin, None, Tie::OtherSubdistrict, Hidden),
            (Secretary, Some(7), Tie::Stranger, Allow),
            (Secretary, Some(7), Tie::OtherNeighbourhood, Forbidden),
            (Secretary, Some(7), Tie::OtherSubdistrict, Hidden),
            (Worker, Some(7), Tie::Stranger, Allow),
            (Worker, Some(8), Tie::Stranger, Forbidden),
            // An owner who moved to another neighbourhood still reads what she owns.
            (Worker, Some(8), Tie::Owner, Allow),
            (Partner, Some(7), Tie::Stranger, Forbidden),
            (Volunteer, Some(7), Tie::Handler, Forbidden),
            (Volunteer, Some(7), Tie::Owner, Allow),
        ];
        for (role, nb, tie, want) in table {
            let got = actor(role, nb).may_read_request(&request(tie));
            assert_eq!(got, want, "{role:?} in {nb:?}, {tie:?}");
        }
    }

    #[test]
    fn who_may_see_a_residents_contact() {
        use Decision::*;
        use Role::*;
        let table = [
            (Worker, Some(7), Tie::Owner, Allow),
            (Worker, Some(7), Tie::Handler, Allow),
            // A colleague at the same station reads the request, but not the phone.
            (Worker, Some(7), Tie::Stranger, Forbidden),
            (Secretary, Some(7), Tie::Stranger, Allow),
            (Secretary, Some(7), Tie::OtherNeighbourhood, Forbidden),
            // The subdistrict supervises, but does not call residents: masked.
            (Admin, None, Tie::Stranger, Forbidden),
            (Admin, None, Tie::OtherSubdistrict, Hidden),
            (Worker, Some(8), Tie::Stranger, Forbidden),
            (Worker, Some(8), Tie::Owner, Allow),
            (Volunteer, Some(7), Tie::Stranger, Forbidden),
            (Secretary, Some(7), Tie::OtherSubdistrict, Hidden),
        ];
        for (role, nb, tie, want) in table {
            let got = actor(role, nb).may_reveal_request_contact(&request(tie));
            assert_eq!(got, want, "{role:?} in {nb:?}, {tie:?}");
        }
    }

    #[test]
    fn in_which_relation_a_move_is_made() {
        use crate::requests::{FollowUpChannel, ReturnReason, Satisfaction::Satisfied};
        use Relation::{Handler as H, Owner as O, Supervisor as S};
        use Role::*;
        let resolve = Move::Resolve { reply: "x".into() };
        let accept = Move::Accept;
        let ret = Move::Return {
            reason: ReturnReason::Unclear,
            note: "x".into(),
        };
        let follow = Move::FollowUp {
            efficiency: Satisfied,
            attitude: Satisfied,
            result: Satisfied,
            channel: FollowUpChannel::Phone,
        };
        let merge = Move::Merge {
            into: crate::ids::RequestId(5),
        };
        let absorb = Move::Absorb {
            from: crate::ids::RequestId(5),
        };
        let decide = Move::DecideExtension { approve: true };
        type Row<'a> = (Role, Option<i64>, Tie, &'a Move, Option<Relation>);
        let table: Vec<Row> = vec![
            // Resolving is the handler's, else the owner's.
            (Worker, Some(7), Tie::Handler, &resolve, Some(H)),
            (Worker, Some(7), Tie::Owner, &resolve, Some(O)),
            (Worker, Some(7), Tie::Stranger, &resolve, None),
            (Secretary, Some(7), Tie::Stranger, &resolve, None),
            // Accepting and returning are the handler's alone.
            (Worker, Some(7), Tie::Handler, &accept, Some(H)),
            (Worker, Some(7), Tie::Owner, &accept, None),
            (Worker, Some(7), Tie::Handler, &ret, Some(H)),
            // Follow-up, closing and merging: the owner, else a supervisor.
            (Worker, Some(7), Tie::Owner, &follow, Some(O)),
            (Secretary, Some(7), Tie::Stranger, &follow, Some(S)),
            (Worker, Some(7), Tie::Handler, &follow, None),
            (Admin, None, Tie::OtherNeighbourhood, &merge, Some(S)),
            (Secretary, Some(7), Tie::OtherNeighbourhood, &merge, None),
            // Extensions are decided by supervisors only, even their own.
            (Secretary, Some(7), Tie::Owner, &decide, Some(S)),
            (Worker, Some(7), Tie::Owner, &decide, None),
            // Nobody absorbs directly; nobody acts in another subdistrict.
            (Admin, None, Tie::Stranger, &absorb, None),
            (Admin, None, Tie::OtherSubdistrict, &follow, None),
            (Partner, Some(7), Tie::Owner, &decide, None),
        ];
        for (role, nb, tie, mv, want) in table {
            let got = actor(role, nb).relation_for(&request(tie), mv);
            assert_eq!(got, want, "{role:?} in {nb:?}, {tie:?}, {mv:?}");
        }
    }

    #[test]
    fn which_neighbourhood_request_questions_cover() {
        let n = |x| Some(NeighbourhoodId(x));
        let a = actor(Role::Admin, None);
        assert_eq!(a.request_neighbourhood(None), Ok(None));
        assert_eq!(a.request_neighbourhood(n(8)), Ok(n(8)));
        let s = actor(Role::Secretary, Some(7));
        assert_eq!(s.request_neighbourhood(None), Ok(n(7)));
        assert_eq!(s.request_neighbourhood(n(8)), Err(Decision::Forbidden));
        let p = actor(Role::Partner, Some(7));
        assert_eq!(p.request_neighbourhood(n(7)), Err(Decision::Forbidden));
    }
}
