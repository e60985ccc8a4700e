//! The circle's map: an SVG drawn from our own data (no tiles, no scripts): streets,
//! buildings coloured by walking time to the nearest facility of a category, the
//! facilities, and suggested sites.

use doorstep_geo::access::BANDS_MIN;
use doorstep_geo::{Category, SiteChoice};
use doorstep_services::circle::{CircleData, PlacedBuilding};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Walking-time band of a building: 0 ≤5 min, 1 ≤10, 2 ≤15, 3 within the limit but
/// beyond 15 (never with the default limits), 4 outside the limit.
fn band(minutes: Option<f64>, limit: f64) -> usize {
    match minutes {
        Some(m) if m > limit => 4,
        Some(m) if m <= BANDS_MIN[0] => 0,
        Some(m) if m <= BANDS_MIN[1] => 1,
        Some(m) if m <= BANDS_MIN[2] => 2,
        Some(_) => 3,
        None => 4,
    }
}

/// An SVG map drawn from our own data: streets, buildings coloured by walking time to the
/// nearest facility of `c`, the facilities, and suggested sites.
pub(crate) fn map_svg(
    data: &CircleData,
    buildings: &[&PlacedBuilding],
    c: Category,
    limit: f64,
    sites: &[SiteChoice],
    labels: &MapLabels,
) -> String {
    use std::fmt::Write;
    // The frame: the buildings in scope (or the whole network), padded by 150 m.
    let pts: Vec<(f64, f64)> = if buildings.is_empty() {
        data.net
            .lat
            .iter()
            .copied()
            .zip(data.net.lon.iter().copied())
            .collect()
    } else {
        buildings
            .iter()
            .map(|b| (b.point.lat, b.point.lon))
            .collect()
    };
    let (mut s, mut w, mut n, mut e) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (la, lo) in &pts {
        s = s.min(*la);
        n = n.max(*la);
        w = w.min(*lo);
        e = e.max(*lo);
    }
    let pad_lat = 150.0 / 111_195.0;
    let coslat = ((s + n) / 2.0).to_radians().cos();
    let pad_lon = pad_lat / coslat;
    let (s, w, n, e) = (s - pad_lat, w - pad_lon, n + pad_lat, e + pad_lon);
    let width = 1000.0;
    let scale = width / ((e - w) * coslat).max(1e-9);
    let height = ((n - s) * scale).max(100.0);
    let x = |lon: f64| (lon - w) * coslat * scale;
    let y = |lat: f64| (n - lat) * scale;
    let inside = |lat: f64, lon: f64| lat >= s && lat <= n && lon >= w && lon <= e;
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width:.0} {height:.0}\" class=\"map\" role=\"img\" aria-label=\"{}\">",
        esc(&labels.title)
    );
    out.push_str("<rect class=\"bg\" x=\"0\" y=\"0\" width=\"100%\" height=\"100%\"/><path class=\"street\" d=\"");
    let mut drawn = 0;
    for (a, b, _) in data.net.edges() {
        let (a, b) = (a as usize, b as usize);
        if drawn > 60_000
            || !(inside(data.net.lat[a], data.net.lon[a])
                || inside(data.net.lat[b], data.net.lon[b]))
        {
            continue;
        }
        let _ = write!(
            out,
            "M{:.1} {:.1}L{:.1} {:.1}",
            x(data.net.lon[a]),
            y(data.net.lat[a]),
            x(data.net.lon[b]),
            y(data.net.lat[b])
        );
        drawn += 1;
    }
    out.push_str("\"/>");
    for b in buildings {
        let m = data.minutes(b, c);
        let _ = write!(
            out,
            "<circle class=\"b{}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.2\"><title>{} {} · {}</title></circle>",
            band(m, limit),
            x(b.point.lon),
            y(b.point.lat),
            esc(&b.point.estate),
            esc(&b.point.number),
            m.map(|m| format!("{m:.1} {}", labels.minutes))
                .unwrap_or_else(|| "—".into())
        );
    }
    for f in data
        .facilities
        .iter()
        .filter(|f| f.category == c && inside(f.lat, f.lon))
    {
        let _ = write!(
            out,
            "<rect class=\"fac\" x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\"><title>{}</title></rect>",
            x(f.lon) - 4.0,
            y(f.lat) - 4.0,
            esc(if f.name.is_empty() {
                &labels.unnamed
            } else {
                &f.name
            })
        );
    }
    for (i, site) in sites.iter().enumerate() {
        let (cx, cy) = (x(site.lon), y(site.lat));
        let _ = write!(
            out,
            "<g class=\"site\"><circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"11\"/><text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text><title>{}</title></g>",
            cy + 4.5,
            i + 1,
            esc(&format!(
                "{} {} · +{:.0}",
                labels.site,
                i + 1,
                site.gain_weight
            ))
        );
    }
    out.push_str("</svg>");
    out
}

/// Words the map shows, in the reader's language.
pub(crate) struct MapLabels {
    pub title: String,
    pub minutes: String,
    pub site: String,
    pub unnamed: String,
}
