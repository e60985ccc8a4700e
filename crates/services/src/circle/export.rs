//! The circle's exports: every building's figures as JSON and GeoJSON (RFC 7946), and
//! the XLSX workbook; each export is written to the audit log.

use super::{CircleData, Coverage, PlacedBuilding, attribution};
use crate::{Caller, Error, Result, Services};
use doorstep_domain::audit::AuditAction;
use doorstep_geo::{Category, SiteChoice};
use doorstep_store::AuditEntry;

/// One building's figures, for lists and exports.
pub fn building_json(data: &CircleData, b: &PlacedBuilding) -> serde_json::Value {
    let mut minutes = serde_json::Map::new();
    let mut counts = serde_json::Map::new();
    for c in Category::ALL {
        minutes.insert(
            c.code().into(),
            data.minutes(b, c).map(|m| (m * 10.0).round() / 10.0).into(),
        );
        counts.insert(
            c.code().into(),
            serde_json::json!({
                "within_5": data.count(b, c, 0), "within_10": data.count(b, c, 1), "within_15": data.count(b, c, 2),
            }),
        );
    }
    serde_json::json!({
        "id": b.point.id, "neighbourhood_id": b.point.neighbourhood_id, "estate": b.point.estate,
        "number": b.point.number, "lat": b.point.lat, "lon": b.point.lon, "households": b.point.households,
        "residents": (b.point.residents * 10.0).round() / 10.0, "snap_m": (f64::from(b.snap_m) * 10.0).round() / 10.0,
        "minutes": minutes, "counts": counts,
    })
}

/// The buildings as a GeoJSON FeatureCollection (RFC 7946).
pub fn geojson(
    data: &CircleData,
    buildings: &[&PlacedBuilding],
    sites: &[SiteChoice],
    attribution: &str,
) -> serde_json::Value {
    let mut features: Vec<serde_json::Value> = buildings
        .iter()
        .map(|b| {
            serde_json::json!({
                "type": "Feature",
                "id": format!("building/{}", b.point.id),
                "geometry": {"type": "Point", "coordinates": [b.point.lon, b.point.lat]},
                "properties": building_json(data, b),
            })
        })
        .collect();
    for (i, s) in sites.iter().enumerate() {
        features.push(serde_json::json!({
            "type": "Feature",
            "id": format!("site/{}", i + 1),
            "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
            "properties": {"kind": "suggested_site", "rank": i + 1, "residents_gained": (s.gain_weight * 10.0).round() / 10.0, "buildings_gained": s.gain_points},
        }));
    }
    serde_json::json!({"type": "FeatureCollection", "attribution": attribution, "features": features})
}

/// The XLSX workbook: coverage per neighbourhood, and every building's walking times.
pub fn workbook(
    data: &CircleData,
    rows: &[Coverage],
    buildings: &[&PlacedBuilding],
    headers: &XlsxLabels,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0%");
    let sheet = wb.add_worksheet();
    sheet.set_name(&headers.coverage_sheet)?;
    sheet.write_with_format(0, 0, &headers.neighbourhood, &bold)?;
    sheet.write_with_format(0, 1, &headers.buildings, &bold)?;
    sheet.write_with_format(0, 2, &headers.residents, &bold)?;
    for (i, label) in headers.categories.iter().enumerate() {
        sheet.write_with_format(0, 3 + i as u16, label, &bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write(r, 0, &row.name)?;
        sheet.write(r, 1, row.buildings as f64)?;
        sheet.write(r, 2, row.residents.round())?;
        for (i, c) in Category::ALL.iter().enumerate() {
            sheet.write_with_format(r, 3 + i as u16, row.share[c.code()], &pct)?;
        }
    }
    sheet.write(rows.len() as u32 + 2, 0, &headers.note)?;
    let sheet = wb.add_worksheet();
    sheet.set_name(&headers.buildings_sheet)?;
    let fixed = [
        &headers.estate,
        &headers.number,
        &headers.households,
        &headers.residents,
        &headers.lat,
        &headers.lon,
    ];
    for (i, h) in fixed.iter().enumerate() {
        sheet.write_with_format(0, i as u16, h.as_str(), &bold)?;
    }
    for (i, name) in headers.categories.iter().enumerate() {
        sheet.write_with_format(
            0,
            (fixed.len() + i) as u16,
            format!("{name} ({})", headers.minutes),
            &bold,
        )?;
    }
    for (r, b) in buildings.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write(r, 0, &b.point.estate)?;
        sheet.write(r, 1, &b.point.number)?;
        sheet.write(r, 2, b.point.households as f64)?;
        sheet.write(r, 3, b.point.residents.round())?;
        sheet.write(r, 4, b.point.lat)?;
        sheet.write(r, 5, b.point.lon)?;
        for (i, c) in Category::ALL.iter().enumerate() {
            if let Some(m) = data.minutes(b, *c) {
                sheet.write(r, (fixed.len() + i) as u16, (m * 10.0).round() / 10.0)?;
            }
        }
    }
    wb.save_to_buffer()
}

/// Column titles of the workbook, in the reader's language.
pub struct XlsxLabels {
    pub coverage_sheet: String,
    pub buildings_sheet: String,
    pub neighbourhood: String,
    pub buildings: String,
    pub residents: String,
    pub estate: String,
    pub number: String,
    pub households: String,
    pub lat: String,
    pub lon: String,
    pub minutes: String,
    pub categories: Vec<String>,
    pub note: String,
}

/// Records that `rows` buildings left the system in `format`.
pub async fn record(sv: &Services, who: &Caller, format: &str, rows: usize) -> Result<()> {
    let what = serde_json::json!({"what": "circle_buildings", "format": format, "rows": rows});
    let entry = AuditEntry::event(AuditAction::Export, what);
    sv.store.audit().record(&sv.ctx(who), entry).await?;
    Ok(())
}

/// The buildings in scope as GeoJSON, with `k` suggested sites; audited.
pub async fn geojson_export(
    sv: &Services,
    who: &Caller,
    data: &CircleData,
    buildings: &[&PlacedBuilding],
    sites: &[SiteChoice],
) -> Result<serde_json::Value> {
    let body = geojson(data, buildings, sites, attribution(data));
    record(sv, who, "geojson", buildings.len()).await?;
    Ok(body)
}

/// The workbook of coverage and buildings; audited.
pub async fn xlsx_export(
    sv: &Services,
    who: &Caller,
    data: &CircleData,
    rows: &[Coverage],
    buildings: &[&PlacedBuilding],
    labels: &XlsxLabels,
) -> Result<Vec<u8>> {
    let bytes = workbook(data, rows, buildings, labels)
        .map_err(|e| Error::internal(format!("xlsx export: {e}")))?;
    record(sv, who, "xlsx", buildings.len()).await?;
    Ok(bytes)
}
