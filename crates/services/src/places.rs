//! Places (and partner units and catalogue items): listing, reading, creating, changing
//! and archiving records of every kind, each allowed by `Actor::may` for the record's
//! place, and the read models the pages show around a record (names of what it refers
//! to, the trail above it, the choices for its reference fields, the figures of a scope).

use crate::{Caller, Error, Result, Services, allowed};
use doorstep_domain::policy::{Action, Decision, Place};
use doorstep_domain::{Actor, Entity, FieldKind, NeighbourhoodId, Role, Scope, Value, Values};
use doorstep_store::{
    Account, AccountFilter, ListQuery, Page, PlaceRecord, PlaceTotals, RoomAreas,
};
use std::collections::HashMap;

/// Titles of referenced records, by table and id.
pub type Refs = HashMap<&'static str, HashMap<i64, String>>;

/// The record, if the caller may read it.
pub async fn readable(sv: &Services, who: &Actor, entity: Entity, id: i64) -> Result<PlaceRecord> {
    let r = sv.store.places().get(entity, id).await?;
    allowed(who.may(Action::Read, entity, r.place()))?;
    Ok(r)
}

/// Where a child of `parent` would sit.
pub fn child_place(parent: &PlaceRecord, child: Entity) -> Place {
    Place {
        subdistrict_id: parent.subdistrict_id,
        neighbourhood_id: if child.in_neighbourhood() || child == Entity::Neighbourhood {
            parent.neighbourhood_id
        } else {
            None
        },
    }
}

/// Whether the actor may create records of this kind anywhere (to offer a "new" button).
pub fn may_create_somewhere(actor: &Actor, entity: Entity) -> bool {
    match actor.role {
        Role::Admin => entity != Entity::Subdistrict,
        Role::Secretary => entity.in_neighbourhood(),
        _ => false,
    }
}

/// What a list asks for.
#[derive(Debug, Clone, Default)]
pub struct PlaceQuery {
    /// Equality filters on reference fields (or `neighbourhood_id`), by id.
    pub filters: Vec<(String, i64)>,
    /// Part of the title.
    pub q: Option<String>,
    pub include_archived: bool,
    /// Blocks only: those the caller works.
    pub mine: bool,
    pub limit: i64,
    pub offset: i64,
}

/// Whether `field` can filter a list of `entity`: one of its references, or the
/// neighbourhood of records that belong to one.
pub fn filterable(entity: Entity, field: &str) -> Option<&'static str> {
    match entity.field(field) {
        Some(f) if matches!(f.kind, FieldKind::Ref(_)) => Some(f.name),
        _ if field == "neighbourhood_id" && entity.in_neighbourhood() => Some("neighbourhood_id"),
        _ => None,
    }
}

/// A page of records of `entity` in the widest scope the caller may read.
pub async fn list(
    sv: &Services,
    who: &Actor,
    entity: Entity,
    q: &PlaceQuery,
) -> Result<Page<PlaceRecord>> {
    let mut lq = ListQuery::new(who.list_scope(entity));
    lq.limit = q.limit;
    lq.offset = q.offset;
    lq.q = q.q.clone();
    lq.include_archived = q.include_archived;
    for (k, id) in &q.filters {
        let field = filterable(entity, k).ok_or_else(|| Error::validation(k, "unknown_field"))?;
        lq = lq.filter(field, Value::Int(*id));
    }
    if q.mine && entity == Entity::Block {
        lq = lq.filter("worker_id", Value::Int(who.account_id.get()));
    }
    Ok(sv.store.places().list(entity, &lq).await?)
}

/// Every active record of `entity` in a scope (for choices and overviews).
pub async fn all_in(sv: &Services, entity: Entity, scope: Scope) -> Result<Vec<PlaceRecord>> {
    Ok(sv
        .store
        .places()
        .list(entity, &ListQuery::new(scope).all())
        .await?
        .items)
}

/// Creates a record from form or JSON input.
pub async fn create(
    sv: &Services,
    who: &Caller,
    entity: Entity,
    input: &serde_json::Map<String, serde_json::Value>,
) -> Result<PlaceRecord> {
    if !may_create_somewhere(&who.actor, entity) {
        return Err(Error::Forbidden);
    }
    let values = doorstep_domain::validate(entity.fields(), input, None, &[])?;
    let parent = sv.store.places().parent(entity, &values).await?;
    let Some(parent) = parent else {
        let fk = entity.parent().map(|(_, fk)| fk).unwrap_or("parent");
        return Err(Error::validation(fk, "invalid_reference"));
    };
    allowed(
        who.actor
            .may(Action::Create, entity, child_place(&parent, entity)),
    )?;
    Ok(sv
        .store
        .places()
        .create(entity, &values, &sv.ctx(who))
        .await?)
}

/// Validates a change against the current values (merged).
fn merged(
    entity: Entity,
    input: &serde_json::Map<String, serde_json::Value>,
    current: &PlaceRecord,
) -> Result<Values, doorstep_store::StoreError> {
    Ok(doorstep_domain::validate(
        entity.fields(),
        input,
        Some(&current.values),
        &["version"],
    )?)
}

/// Changes a record: the fields given, over the record as it is when the change is made.
pub async fn update(
    sv: &Services,
    who: &Caller,
    entity: Entity,
    id: i64,
    version: Option<i64>,
    input: &serde_json::Map<String, serde_json::Value>,
) -> Result<PlaceRecord> {
    let r = readable(sv, &who.actor, entity, id).await?;
    allowed(who.actor.may(Action::Update, entity, r.place()))?;
    let version = version.ok_or(Error::VersionRequired)?;
    Ok(sv
        .store
        .places()
        .update(entity, id, Some(version), &sv.ctx(who), |cur| {
            merged(entity, input, cur)
        })
        .await?)
}

/// Archives a record (or restores one).
pub async fn archive(
    sv: &Services,
    who: &Caller,
    entity: Entity,
    id: i64,
    version: Option<i64>,
    archive: bool,
) -> Result<PlaceRecord> {
    let r = readable(sv, &who.actor, entity, id).await?;
    allowed(who.actor.may(Action::Archive, entity, r.place()))?;
    Ok(sv
        .store
        .places()
        .archive(entity, id, version, archive, &sv.ctx(who))
        .await?)
}

/// The titles of every record that `records` reference, by table and id.
pub async fn references(sv: &Services, entity: Entity, records: &[PlaceRecord]) -> Result<Refs> {
    let mut refs = Refs::new();
    for spec in entity.fields() {
        let FieldKind::Ref(table) = spec.kind else {
            continue;
        };
        let ids: Vec<i64> = records
            .iter()
            .filter_map(|r| r.get(spec.name).as_i64())
            .collect();
        if ids.is_empty() {
            continue;
        }
        let titles = match Entity::from_table(table) {
            Some(target) => sv.store.places().titles(target, &ids).await?,
            None => {
                let ids: Vec<_> = ids.into_iter().map(doorstep_domain::AccountId).collect();
                let names = sv.store.accounts().names(&ids).await?;
                names.into_iter().map(|(k, v)| (k.get(), v)).collect()
            }
        };
        refs.entry(table).or_default().extend(titles);
    }
    Ok(refs)
}

/// The records above `record` that the actor may read, from the top down.
pub async fn trail(sv: &Services, who: &Actor, record: &PlaceRecord) -> Result<Vec<PlaceRecord>> {
    let up = |r: &PlaceRecord| {
        r.entity
            .parent()
            .and_then(|(pe, fk)| r.get(fk).as_i64().map(|id| (pe, id)))
    };
    let mut out = Vec::new();
    let mut cur = up(record);
    while let Some((e, id)) = cur {
        let Some(r) = sv.store.places().find(e, id).await? else {
            break;
        };
        cur = up(&r);
        if who.may(Action::Read, e, r.place()) == Decision::Allow {
            out.push(r);
        }
    }
    out.reverse();
    Ok(out)
}

/// The record `id` of `entity` if the actor may read it (for a filter's crumb), else
/// nothing.
pub async fn find_readable(
    sv: &Services,
    who: &Actor,
    entity: Entity,
    id: i64,
) -> Result<Option<PlaceRecord>> {
    Ok(sv
        .store
        .places()
        .find(entity, id)
        .await?
        .filter(|r| who.may(Action::Read, entity, r.place()) == Decision::Allow))
}

/// A choice of a reference field: the id and how people name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub id: i64,
    pub label: String,
}

/// Choices for the reference fields of a form of `entity`, limited to what the actor
/// may use (in `neighbourhood`, when the record sits in one).
pub async fn ref_choices(
    sv: &Services,
    who: &Actor,
    entity: Entity,
    neighbourhood: Option<NeighbourhoodId>,
) -> Result<HashMap<&'static str, Vec<Choice>>> {
    let mut out = HashMap::new();
    for spec in entity.fields() {
        let FieldKind::Ref(table) = spec.kind else {
            continue;
        };
        let choices = match Entity::from_table(table) {
            None => workers(sv, who, neighbourhood.or(who.neighbourhood_id))
                .await?
                .into_iter()
                .map(|a| Choice {
                    id: a.id.get(),
                    label: format!("{} ({})", a.display_name, a.username),
                })
                .collect(),
            Some(target) => {
                let scope = choice_scope(who, target, neighbourhood);
                all_in(sv, target, scope)
                    .await?
                    .into_iter()
                    .map(|r| Choice {
                        id: r.id,
                        label: r.title(),
                    })
                    .collect()
            }
        };
        out.insert(spec.name, choices);
    }
    Ok(out)
}

async fn workers(sv: &Services, who: &Actor, nb: Option<NeighbourhoodId>) -> Result<Vec<Account>> {
    let f = AccountFilter {
        neighbourhood_id: nb,
        role: Some(Role::Worker),
        limit: 500,
        ..AccountFilter::of(who.subdistrict_id)
    };
    let page = sv.store.accounts().list(&f).await?;
    Ok(page.items.into_iter().filter(|a| !a.disabled).collect())
}

/// Where the choices of a reference to `target` come from.
fn choice_scope(who: &Actor, target: Entity, neighbourhood: Option<NeighbourhoodId>) -> Scope {
    let nb_level = target.in_neighbourhood() || target == Entity::Neighbourhood;
    let sd = who.subdistrict_id;
    match (neighbourhood, nb_level, who.role, who.neighbourhood_id) {
        (Some(nb), true, _, _) => Scope::Neighbourhood {
            subdistrict_id: sd,
            neighbourhood_id: nb,
        },
        (_, _, Role::Admin, _) => Scope::Subdistrict(sd),
        (_, true, _, Some(nb)) => Scope::Neighbourhood {
            subdistrict_id: sd,
            neighbourhood_id: nb,
        },
        _ => Scope::Subdistrict(sd),
    }
}

/// A neighbourhood's buildings in use, labelled "estate number" (the desk form and the
/// resident's report choose from them).
pub async fn buildings_of(sv: &Services, scope: Scope) -> Result<Vec<Choice>> {
    Ok(building_choices(sv, scope)
        .await?
        .into_iter()
        .map(|b| Choice {
            id: b.id,
            label: format!("{} {}", b.estate, b.number),
        })
        .collect())
}

/// A building as people find it: by its estate's name or street address and its number.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildingChoice {
    pub id: i64,
    pub estate: String,
    pub address: String,
    pub number: String,
}

/// The buildings in use in `scope`, by estate and number.
pub async fn building_choices(sv: &Services, scope: Scope) -> Result<Vec<BuildingChoice>> {
    let bs = all_in(sv, Entity::Building, scope).await?;
    let estates: HashMap<i64, PlaceRecord> = all_in(sv, Entity::Estate, scope)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let mut out: Vec<BuildingChoice> = bs
        .iter()
        .filter(|b| b.is_active())
        .map(|b| {
            let estate = b.get("estate_id").as_i64().and_then(|e| estates.get(&e));
            let text = |k: &str| {
                estate
                    .and_then(|e| e.get(k).as_str())
                    .unwrap_or("")
                    .to_string()
            };
            BuildingChoice {
                id: b.id,
                estate: text("name"),
                address: text("address"),
                number: b.title(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        a.estate
            .cmp(&b.estate)
            .then(natural(&a.number).cmp(&natural(&b.number)))
    });
    Ok(out)
}

/// Sorts 2号 before 10号.
fn natural(s: &str) -> (u64, String) {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    (digits.parse().unwrap_or(u64::MAX), s.to_string())
}

/// The scope an overview of the caller covers, and its name: the subdistrict for admins
/// (and accounts tied to none), else their neighbourhood.
pub async fn home_scope(sv: &Services, who: &Actor) -> Result<(Scope, PlaceRecord)> {
    match (who.role, who.neighbourhood_id) {
        (Role::Admin, _) | (_, None) => {
            let sd = sv
                .store
                .places()
                .get(Entity::Subdistrict, who.subdistrict_id.get())
                .await?;
            Ok((Scope::Subdistrict(who.subdistrict_id), sd))
        }
        (_, Some(nb)) => {
            let n = sv
                .store
                .places()
                .get(Entity::Neighbourhood, nb.get())
                .await?;
            let scope = Scope::Neighbourhood {
                subdistrict_id: who.subdistrict_id,
                neighbourhood_id: nb,
            };
            Ok((scope, n))
        }
    }
}

/// Counts and station areas of a scope.
pub async fn figures(sv: &Services, scope: Scope) -> Result<(PlaceTotals, Vec<RoomAreas>)> {
    let totals = sv.store.places().totals(scope).await?;
    let areas = sv.store.places().room_areas(scope).await?;
    Ok((totals, areas))
}

/// The place figures the API gives: of one neighbourhood (whose buildings the caller
/// may read) or of the caller's home scope.
pub async fn stats(
    sv: &Services,
    who: &Actor,
    neighbourhood: Option<NeighbourhoodId>,
) -> Result<(PlaceTotals, Vec<RoomAreas>)> {
    let scope = match neighbourhood {
        Some(nb) => {
            let r = sv
                .store
                .places()
                .get(Entity::Neighbourhood, nb.get())
                .await?;
            // Figures of a neighbourhood include its buildings: its scope is needed.
            allowed(who.may(Action::Read, Entity::Estate, r.place()))?;
            Scope::Neighbourhood {
                subdistrict_id: r.subdistrict_id,
                neighbourhood_id: nb,
            }
        }
        None => home_scope(sv, who).await?.0,
    };
    figures(sv, scope).await
}

/// The field of `child` that points at `parent` (e.g. `block_id` of a building).
pub fn link_field(child: Entity, parent: Entity) -> Option<&'static str> {
    child
        .fields()
        .iter()
        .find(|f| f.kind == FieldKind::Ref(parent.table()))
        .map(|f| f.name)
}

/// The records of one kind under a record, as its page lists them.
#[derive(Debug, Clone)]
pub struct Children {
    pub entity: Entity,
    /// The field of the children that points at the record.
    pub link: &'static str,
    pub page: Page<PlaceRecord>,
    pub refs: Refs,
    /// Whether the viewer may add one here.
    pub may_create: bool,
}

/// A record as its page shows it.
#[derive(Debug, Clone)]
pub struct Detail {
    pub record: PlaceRecord,
    pub refs: Refs,
    /// The records above it the viewer may read, top first.
    pub trail: Vec<PlaceRecord>,
    pub children: Vec<Children>,
    /// Counts and areas of a subdistrict or neighbourhood.
    pub totals: Option<PlaceTotals>,
    /// A station's rooms and areas.
    pub station: Option<RoomAreas>,
    pub may_update: bool,
    pub may_archive: bool,
}

/// Everything a record's page shows the viewer.
pub async fn detail(sv: &Services, who: &Actor, entity: Entity, id: i64) -> Result<Detail> {
    let record = readable(sv, who, entity, id).await?;
    let refs = references(sv, entity, std::slice::from_ref(&record)).await?;
    let mut children = Vec::new();
    for &child in entity.children() {
        let Some(link) = link_field(child, entity) else {
            continue;
        };
        let place = child_place(&record, child);
        if who.may(Action::Read, child, place) != Decision::Allow {
            continue;
        }
        let mut q = ListQuery::new(who.list_scope(child)).filter(link, Value::Int(id));
        q.limit = 200;
        let page = sv.store.places().list(child, &q).await?;
        let refs = references(sv, child, &page.items).await?;
        let may_create = record.is_active()
            && child.parent().map(|(p, _)| p) == Some(entity)
            && who.may(Action::Create, child, place) == Decision::Allow;
        children.push(Children {
            entity: child,
            link,
            page,
            refs,
            may_create,
        });
    }
    let (totals, station) = match entity {
        Entity::Subdistrict => (
            Some(
                figures(sv, Scope::Subdistrict(record.subdistrict_id))
                    .await?
                    .0,
            ),
            None,
        ),
        Entity::Neighbourhood => {
            let scope = Scope::Neighbourhood {
                subdistrict_id: record.subdistrict_id,
                neighbourhood_id: NeighbourhoodId(id),
            };
            (Some(figures(sv, scope).await?.0), None)
        }
        Entity::Station => {
            let scope = Scope::Neighbourhood {
                subdistrict_id: record.subdistrict_id,
                neighbourhood_id: record.neighbourhood_id.unwrap_or(NeighbourhoodId(0)),
            };
            let areas = sv.store.places().room_areas(scope).await?;
            let a = areas
                .into_iter()
                .find(|a| a.station_id == id)
                .unwrap_or_default();
            (None, Some(a))
        }
        _ => (None, None),
    };
    Ok(Detail {
        refs,
        trail: trail(sv, who, &record).await?,
        children,
        totals,
        station,
        may_update: who.may(Action::Update, entity, record.place()) == Decision::Allow,
        may_archive: who.may(Action::Archive, entity, record.place()) == Decision::Allow,
        record,
    })
}

/// The titles of records of `entity` by id (for showing references by name).
pub async fn titles(sv: &Services, entity: Entity, ids: &[i64]) -> Result<HashMap<i64, String>> {
    Ok(sv.store.places().titles(entity, ids).await?)
}
