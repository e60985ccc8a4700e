//! Places: subdistrict → community → neighbourhood → estate → building, with blocks,
//! stations and rooms.
//!
//! Each kind of place describes its fields once; validation, forms, list tables, the
//! database columns and the OpenAPI schemas all come from these descriptions.

use crate::fields::{FieldKind, FieldSpec};

crate::coded_enum! {
    /// A kind of reference record: the places, partner units and catalogue items, which
    /// share one life cycle (create, change, archive) and one scope rule. The code is the
    /// singular name (translation key `entity.CODE`).
    pub enum Entity {
        Subdistrict = "subdistrict",
        Community = "community",
        Neighbourhood = "neighbourhood",
        Estate = "estate",
        Building = "building",
        Block = "block",
        Station = "station",
        Room = "room",
        Partner = "partner",
        /// A matter of the service catalogue (服务清单); reference data like the places.
        ServiceItem = "service_item",
    }
}

/// Kinds of partner units (共建单位 / 辖区单位).
pub const PARTNER_KINDS: &[&str] = &[
    "health_centre",
    "hospital",
    "school",
    "kindergarten",
    "elderly_service",
    "market",
    "culture_sport",
    "social_org",
    "property_manager",
    "police",
    "enterprise",
    "government",
    "other",
];

/// Kinds of function rooms (功能室). The first seven are the ones the Huamu seed names.
pub const ROOM_KINDS: &[&str] = &[
    "reception",
    "party_service",
    "culture_lounge",
    "joint_duty",
    "activity",
    "health_cabin",
    "green_cabin",
    "office",
    "meeting",
    "reading",
    "elderly_care",
    "custom",
];

const SUBDISTRICT: &[FieldSpec] = &[
    FieldSpec::text("name", 50).required().listed(),
    FieldSpec::text("code", 20).listed(),
    FieldSpec::text("district", 50).listed(),
    FieldSpec::text("address", 200),
    FieldSpec::new("phone", FieldKind::Phone),
];

const COMMUNITY: &[FieldSpec] = &[
    FieldSpec::new("subdistrict_id", FieldKind::Ref("subdistricts"))
        .required()
        .fixed(),
    FieldSpec::text("name", 50).required().listed(),
    FieldSpec::long_text("description", 1000),
];

const NEIGHBOURHOOD: &[FieldSpec] = &[
    FieldSpec::new("community_id", FieldKind::Ref("communities"))
        .required()
        .fixed(),
    FieldSpec::text("name", 50).required().listed(),
    FieldSpec::text("short_name", 20).listed(),
    FieldSpec::text("committee_name", 100),
    FieldSpec::text("secretary_name", 30).listed(),
    FieldSpec::new("office_phone", FieldKind::Phone),
    FieldSpec::text("address", 200),
    FieldSpec::int("households", 0, 100_000).listed(),
    FieldSpec::int("population", 0, 300_000).listed(),
];

const ESTATE: &[FieldSpec] = &[
    FieldSpec::new("neighbourhood_id", FieldKind::Ref("neighbourhoods"))
        .required()
        .fixed(),
    FieldSpec::text("name", 100).required().listed(),
    FieldSpec::text("address", 200).listed(),
    FieldSpec::int("built_year", 1900, 2100).listed(),
    FieldSpec::text("property_manager", 100).listed(),
];

const BUILDING: &[FieldSpec] = &[
    FieldSpec::new("estate_id", FieldKind::Ref("estates"))
        .required()
        .fixed(),
    FieldSpec::text("number", 20).required().listed(),
    FieldSpec::int("units", 1, 50).listed(),
    FieldSpec::int("floors", 1, 200).listed(),
    FieldSpec::int("households", 0, 5_000).listed(),
    FieldSpec::float("lat", 18.0, 54.0),
    FieldSpec::float("lon", 73.0, 136.0),
    FieldSpec::text("leader_name", 30).listed(),
    FieldSpec::new("block_id", FieldKind::Ref("blocks")).listed(),
];

const BLOCK: &[FieldSpec] = &[
    FieldSpec::new("neighbourhood_id", FieldKind::Ref("neighbourhoods"))
        .required()
        .fixed(),
    FieldSpec::text("name", 50).required().listed(),
    FieldSpec::new("worker_id", FieldKind::Ref("accounts")).listed(),
    FieldSpec::long_text("description", 1000),
];

const STATION: &[FieldSpec] = &[
    FieldSpec::new("neighbourhood_id", FieldKind::Ref("neighbourhoods"))
        .required()
        .fixed(),
    FieldSpec::text("name", 100).required().listed(),
    FieldSpec::text("address", 200).listed(),
    FieldSpec::text("opening_hours", 100).listed(),
    FieldSpec::new("phone", FieldKind::Phone),
    FieldSpec::float("lat", 18.0, 54.0),
    FieldSpec::float("lon", 73.0, 136.0),
    FieldSpec::float("office_area_before_m2", 0.0, 100_000.0),
    FieldSpec::new("is_model", FieldKind::Bool).listed(),
];

const ROOM: &[FieldSpec] = &[
    FieldSpec::new("station_id", FieldKind::Ref("stations"))
        .required()
        .fixed(),
    FieldSpec::text("name", 50).required().listed(),
    FieldSpec::new("kind", FieldKind::Choice(ROOM_KINDS))
        .required()
        .listed(),
    FieldSpec::float("area_m2", 0.0, 100_000.0)
        .required()
        .listed(),
    FieldSpec::int("capacity", 0, 10_000).listed(),
    FieldSpec::new("is_office", FieldKind::Bool).listed(),
    FieldSpec::long_text("description", 1000),
];

const PARTNER: &[FieldSpec] = &[
    FieldSpec::new("subdistrict_id", FieldKind::Ref("subdistricts"))
        .required()
        .fixed(),
    FieldSpec::text("name", 100).required().listed(),
    FieldSpec::new("kind", FieldKind::Choice(PARTNER_KINDS))
        .required()
        .listed(),
    FieldSpec::new("neighbourhood_id", FieldKind::Ref("neighbourhoods")).listed(),
    FieldSpec::text("address", 200).listed(),
    FieldSpec::text("contact_name", 30),
    FieldSpec::new("phone", FieldKind::Phone),
    FieldSpec::float("lat", 18.0, 54.0),
    FieldSpec::float("lon", 73.0, 136.0),
    FieldSpec::long_text("resources", 2000),
    FieldSpec::long_text("description", 1000),
];

const SERVICE_ITEM: &[FieldSpec] = &[
    FieldSpec::new("subdistrict_id", FieldKind::Ref("subdistricts"))
        .required()
        .fixed(),
    FieldSpec::new(
        "category",
        FieldKind::Choice(crate::catalogue::Category::CODES),
    )
    .required()
    .listed(),
    FieldSpec::text("name", 100).required().listed(),
    FieldSpec::long_text("description", 2000).required(),
    FieldSpec::long_text("phrasings", 2000),
    FieldSpec::long_text("eligibility", 1000),
    FieldSpec::long_text("materials", 2000),
    FieldSpec::long_text("steps", 2000),
    FieldSpec::text("location", 100).listed(),
    FieldSpec::int("time_limit_days", 1, 60).required().listed(),
    FieldSpec::text("post", 50).listed(),
    FieldSpec::new("remote_assist", FieldKind::Bool).listed(),
    FieldSpec::new("publishable", FieldKind::Bool).listed(),
];

impl Entity {
    /// The table, which is also the URL segment and the API resource name.
    pub fn table(self) -> &'static str {
        match self {
            Entity::Subdistrict => "subdistricts",
            Entity::Community => "communities",
            Entity::Neighbourhood => "neighbourhoods",
            Entity::Estate => "estates",
            Entity::Building => "buildings",
            Entity::Block => "blocks",
            Entity::Station => "stations",
            Entity::Room => "rooms",
            Entity::Partner => "partners",
            Entity::ServiceItem => "service_items",
        }
    }

    pub fn from_table(table: &str) -> Option<Entity> {
        Entity::ALL.iter().copied().find(|e| e.table() == table)
    }

    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            Entity::Subdistrict => SUBDISTRICT,
            Entity::Community => COMMUNITY,
            Entity::Neighbourhood => NEIGHBOURHOOD,
            Entity::Estate => ESTATE,
            Entity::Building => BUILDING,
            Entity::Block => BLOCK,
            Entity::Station => STATION,
            Entity::Room => ROOM,
            Entity::Partner => PARTNER,
            Entity::ServiceItem => SERVICE_ITEM,
        }
    }

    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// The parent kind and the field that points at it.
    pub fn parent(self) -> Option<(Entity, &'static str)> {
        match self {
            Entity::Subdistrict => None,
            Entity::Community | Entity::Partner | Entity::ServiceItem => {
                Some((Entity::Subdistrict, "subdistrict_id"))
            }
            Entity::Neighbourhood => Some((Entity::Community, "community_id")),
            Entity::Estate | Entity::Block | Entity::Station => {
                Some((Entity::Neighbourhood, "neighbourhood_id"))
            }
            Entity::Building => Some((Entity::Estate, "estate_id")),
            Entity::Room => Some((Entity::Station, "station_id")),
        }
    }

    /// The kinds listed on this kind's page.
    pub fn children(self) -> &'static [Entity] {
        match self {
            Entity::Subdistrict => &[Entity::Community, Entity::Partner],
            Entity::Community => &[Entity::Neighbourhood],
            Entity::Neighbourhood => &[Entity::Estate, Entity::Block, Entity::Station],
            Entity::Estate => &[Entity::Building],
            Entity::Block => &[Entity::Building],
            Entity::Station => &[Entity::Room],
            Entity::Building | Entity::Room | Entity::Partner | Entity::ServiceItem => &[],
        }
    }

    /// The field that names a record to people.
    pub fn title_field(self) -> &'static str {
        match self {
            Entity::Building => "number",
            _ => "name",
        }
    }

    /// Fields that are unique together (a duplicate is a 409).
    pub fn unique_key(self) -> &'static [&'static str] {
        match self {
            Entity::Subdistrict => &["name"],
            Entity::Station => &["neighbourhood_id"],
            e => match e.parent() {
                Some((_, "estate_id")) => &["estate_id", "number"],
                Some((_, "subdistrict_id")) => &["subdistrict_id", "name"],
                Some((_, "community_id")) => &["community_id", "name"],
                Some((_, "station_id")) => &["station_id", "name"],
                _ => &["neighbourhood_id", "name"],
            },
        }
    }

    /// Whether records of this kind belong to one neighbourhood (and so to its scope).
    pub fn in_neighbourhood(self) -> bool {
        !matches!(
            self,
            Entity::Subdistrict
                | Entity::Community
                | Entity::Neighbourhood
                | Entity::Partner
                | Entity::ServiceItem
        )
    }

    /// Subdistrict-wide reference data that any staff member of the subdistrict may read:
    /// names of communities and neighbourhoods, and stations and their rooms (any worker
    /// may refer a resident to another station).
    pub fn readable_subdistrict_wide(self) -> bool {
        matches!(
            self,
            Entity::Subdistrict
                | Entity::Community
                | Entity::Neighbourhood
                | Entity::Station
                | Entity::Room
                | Entity::Partner
                | Entity::ServiceItem
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_parent_field_first_and_fixed() {
        for &e in Entity::ALL {
            if let Some((parent, fk)) = e.parent() {
                let first = e.fields()[0];
                assert_eq!(first.name, fk, "{e:?}");
                assert!(first.required && !first.editable);
                assert_eq!(first.kind, FieldKind::Ref(parent.table()));
            }
            assert!(e.field(e.title_field()).is_some_and(|f| f.required));
            for k in e.unique_key() {
                assert!(e.field(k).is_some(), "{e:?} {k}");
            }
            assert_eq!(Entity::from_table(e.table()), Some(e));
        }
    }
}
