//! The care register's rules: who knows a block's people (its worker and the
//! neighbourhood's secretary), who sees which tag, and who keeps the register (settings,
//! roster import and export, the view from above).

use super::{Actor, Decision};
use crate::Role;
use crate::ids::{AccountId, NeighbourhoodId, SubdistrictId};

/// What the rules need to know of a block (块区) of the care register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockPlace {
    pub subdistrict_id: SubdistrictId,
    pub neighbourhood_id: NeighbourhoodId,
    /// The worker who looks after it (every worker knows her block's people).
    pub worker_id: Option<AccountId>,
}

impl Actor {
    /// The subdistrict's care settings (its own tags, the visit plan): its admins.
    pub fn may_configure_care(&self) -> bool {
        self.role == Role::Admin
    }

    /// A roster import: admins (the subdistrict), secretaries (their neighbourhood).
    pub fn may_import_roster(&self) -> bool {
        self.role == Role::Admin
            || (self.role == Role::Secretary && self.neighbourhood_id.is_some())
    }

    /// A roster export: a secretary's neighbourhood (in full, with a reason, too), a
    /// worker's blocks (masked only).
    pub fn may_export_roster(&self, full: bool) -> bool {
        self.may_keep_register() && (self.role == Role::Secretary || !full)
    }

    /// Who keeps some block's people (adds residents, logs visits) at all: workers and
    /// secretaries of a neighbourhood; which block is [`Actor::may_know_block`]'s.
    pub fn may_keep_register(&self) -> bool {
        matches!(self.role, Role::Worker | Role::Secretary) && self.neighbourhood_id.is_some()
    }

    /// The register from above (coverage, counts): admins and secretaries.
    pub fn may_see_care_overview(&self) -> bool {
        self.may_import_roster()
    }

    /// Who may know a block's people (names, care tags, notes, visits): its worker and the
    /// secretary of its neighbourhood. The subdistrict sees counts, never names (and counts
    /// under five as "<5"); colleagues see their own blocks.
    pub fn may_know_block(&self, b: &BlockPlace) -> Decision {
        if b.subdistrict_id != self.subdistrict_id {
            return Decision::Hidden;
        }
        // A worker who moved to another neighbourhood no longer knows her old block, even
        // while it still names her.
        let worker = self.role == Role::Worker
            && b.worker_id == Some(self.account_id)
            && self.neighbourhood_id == Some(b.neighbourhood_id);
        let secretary =
            self.role == Role::Secretary && self.neighbourhood_id == Some(b.neighbourhood_id);
        if worker || secretary {
            Decision::Allow
        } else {
            Decision::Forbidden
        }
    }

    /// Who may see a household of block `b` and its people: whoever knows the block; and
    /// a worker of the subdistrict while `on_case`: she owns or handles an open request
    /// that came from a visit to the household (to read it, never to change it).
    pub fn may_see_household(&self, b: &BlockPlace, on_case: bool) -> Decision {
        match self.may_know_block(b) {
            Decision::Forbidden if on_case && self.role == Role::Worker => Decision::Allow,
            d => d,
        }
    }

    /// Who may see a care tag of someone in block `b`: whoever knows the block; a worker
    /// on the household's open case too, unless the tag is restricted (the mental-disorder
    /// tag, 精神卫生法, and admin-defined tags marked sensitive: the block's worker and the
    /// secretary alone).
    pub fn may_see_tag(&self, b: &BlockPlace, tag: TagClass, on_case: bool) -> Decision {
        match self.may_know_block(b) {
            Decision::Forbidden
                if on_case && self.role == Role::Worker && tag != TagClass::Restricted =>
            {
                Decision::Allow
            }
            d => d,
        }
    }
}

/// What the rules need to know of a care tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagClass {
    /// Never beyond the block's worker and the secretary: the mental-disorder tag, and
    /// admin-defined tags marked sensitive.
    Restricted,
    /// The seed's other groups, and admin-defined tags not marked sensitive.
    Other,
}

impl TagClass {
    /// A seed group's class.
    pub fn of(tag: crate::people::CareTag) -> TagClass {
        if tag == crate::people::CareTag::MentalDisorder {
            TagClass::Restricted
        } else {
            TagClass::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::actor;

    #[test]
    fn who_knows_a_blocks_people() {
        use Decision::*;
        use Role::*;
        let block = |nb: i64, worker: Option<i64>, sd: i64| BlockPlace {
            subdistrict_id: SubdistrictId(sd),
            neighbourhood_id: NeighbourhoodId(nb),
            worker_id: worker.map(AccountId),
        };
        let me = |role, nb| actor(role, nb);
        // The actor helper's account is 1 in subdistrict 1.
        let table = [
            (Worker, Some(7), block(7, Some(1), 1), Allow),
            (Worker, Some(7), block(7, Some(2), 1), Forbidden),
            (Worker, Some(7), block(7, None, 1), Forbidden),
            // Moved to neighbourhood 8: her old block still names her, but she is out.
            (Worker, Some(8), block(7, Some(1), 1), Forbidden),
            (Secretary, Some(7), block(7, Some(2), 1), Allow),
            (Secretary, Some(8), block(7, Some(2), 1), Forbidden),
            (Admin, None, block(7, Some(2), 1), Forbidden),
            (Volunteer, Some(7), block(7, Some(1), 1), Forbidden),
            (Secretary, Some(7), block(7, Some(2), 2), Hidden),
        ];
        for (role, nb, b, want) in table {
            assert_eq!(
                me(role, nb).may_know_block(&b),
                want,
                "{role:?} {nb:?} {b:?}"
            );
            for t in crate::people::CareTag::ALL {
                let class = TagClass::of(*t);
                assert_eq!(
                    me(role, nb).may_see_tag(&b, class, false),
                    want,
                    "{role:?} {t:?}"
                );
            }
            assert_eq!(me(role, nb).may_see_household(&b, false), want);
        }
    }

    #[test]
    fn a_worker_on_an_open_case_reads_the_household_but_not_mental_health() {
        use Decision::*;
        let other = BlockPlace {
            subdistrict_id: SubdistrictId(1),
            neighbourhood_id: NeighbourhoodId(7),
            worker_id: Some(AccountId(2)),
        };
        let w = actor(Role::Worker, Some(7));
        assert_eq!(w.may_see_household(&other, true), Allow);
        assert_eq!(w.may_see_tag(&other, TagClass::Other, true), Allow);
        assert_eq!(w.may_see_tag(&other, TagClass::Restricted, true), Forbidden);
        // Only workers, only in the subdistrict, and the grant opens nothing to change.
        let v = actor(Role::Volunteer, Some(7));
        assert_eq!(v.may_see_household(&other, true), Forbidden);
        let far = BlockPlace {
            subdistrict_id: SubdistrictId(2),
            ..other
        };
        assert_eq!(w.may_see_household(&far, true), Hidden);
        assert_eq!(w.may_know_block(&other), Forbidden);
    }

    #[test]
    fn who_keeps_the_register() {
        use Role::*;
        // (role, neighbourhood, configure, import, export masked, export in full)
        let table = [
            (Admin, None, true, true, false, false),
            (Secretary, Some(7), false, true, true, true),
            (Worker, Some(7), false, false, true, false),
            (Worker, None, false, false, false, false),
            (Volunteer, Some(7), false, false, false, false),
        ];
        for (role, nb, configure, import, masked, full) in table {
            let a = actor(role, nb);
            assert_eq!(
                (
                    a.may_configure_care(),
                    a.may_import_roster(),
                    a.may_export_roster(false),
                    a.may_export_roster(true)
                ),
                (configure, import, masked, full),
                "{role:?} {nb:?}"
            );
            assert_eq!(a.may_see_care_overview(), import);
            assert_eq!(a.may_keep_register(), masked);
        }
    }
}
