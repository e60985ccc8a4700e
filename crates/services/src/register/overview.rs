//! The register from above: a secretary's neighbourhood (coverage of visits, counts by
//! tag) and, for the subdistrict, every neighbourhood's, where a count under five is
//! shown as "<5" by whoever displays it (`people::small_count`).

use crate::{Caller, Error, Result, Services};
use doorstep_domain::Role;
use doorstep_store::CareOverview;

/// Care figures the caller may see: the subdistrict's (admins), a neighbourhood's
/// (its secretary). Workers have their block's page instead.
pub async fn overview(sv: &Services, who: &Caller) -> Result<Vec<(String, CareOverview)>> {
    if !who.actor.may_see_care_overview() {
        return Err(Error::Forbidden);
    }
    let nb = match who.actor.role {
        Role::Admin => None,
        _ => who.actor.neighbourhood_id,
    };
    let figures = sv
        .store
        .register()
        .overview(who.actor.subdistrict_id, nb, sv.now())
        .await?;
    let ids: Vec<i64> = figures.iter().map(|o| o.neighbourhood_id.get()).collect();
    let names = crate::places::titles(sv, doorstep_domain::Entity::Neighbourhood, &ids).await?;
    let mut out: Vec<(String, CareOverview)> = figures
        .into_iter()
        .map(|o| {
            let name = names
                .get(&o.neighbourhood_id.get())
                .cloned()
                .unwrap_or_default();
            (name, o)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}
