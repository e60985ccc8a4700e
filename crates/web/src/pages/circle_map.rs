//! The circle's map: an SVG drawn from our own data (no tiles, no scripts): streets,
//! buildings coloured by walking time to the nearest facility of a category, the
//! facilities, and suggested sites.

use crate::views::map::{Frame, esc};
use doorstep_geo::access::BANDS_MIN;
use doorstep_geo::{Category, SiteChoice};
use doorstep_services::circle::{CircleData, PlacedBuilding};
use std::fmt::Write;

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
    // The frame: the buildings in scope (or the whole network).
    let frame = if buildings.is_empty() {
        let net = &data.net;
        Frame::around(net.lat.iter().copied().zip(net.lon.iter().copied()))
    } else {
        Frame::around(buildings.iter().map(|b| (b.point.lat, b.point.lon)))
    };
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {:.0} {:.0}\" class=\"map\" role=\"img\" aria-label=\"{}\">",
        frame.width,
        frame.height,
        esc(&labels.title)
    );
    out.push_str("<rect class=\"bg\" x=\"0\" y=\"0\" width=\"100%\" height=\"100%\"/>");
    streets(&mut out, &frame, data);
    for b in buildings {
        let m = data.minutes(b, c);
        let _ = write!(
            out,
            "<circle class=\"b{}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.2\"><title>{} {} · {}</title></circle>",
            band(m, limit),
            frame.x(b.point.lon),
            frame.y(b.point.lat),
            esc(&b.point.estate),
            esc(&b.point.number),
            m.map(|m| format!("{m:.1} {}", labels.minutes))
                .unwrap_or_else(|| "—".into())
        );
    }
    facilities(&mut out, &frame, data, c, &labels.unnamed);
    for (i, site) in sites.iter().enumerate() {
        let (cx, cy) = (frame.x(site.lon), frame.y(site.lat));
        let title = format!("{} {} · +{:.0}", labels.site, i + 1, site.gain_weight);
        let _ = write!(
            out,
            "<g class=\"site\"><circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"11\"/><text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text><title>{}</title></g>",
            cy + 4.5,
            i + 1,
            esc(&title)
        );
    }
    out.push_str("</svg>");
    out
}

/// The streets touching the frame, as one path (at most 60 000 segments, so a whole
/// city's network cannot make the page unusable on a phone).
fn streets(out: &mut String, frame: &Frame, data: &CircleData) {
    const MAX_SEGMENTS: usize = 60_000;
    let net = &data.net;
    out.push_str("<path class=\"street\" d=\"");
    let mut drawn = 0;
    for (a, b, _) in net.edges() {
        let (a, b) = (a as usize, b as usize);
        if drawn > MAX_SEGMENTS
            || !(frame.inside(net.lat[a], net.lon[a]) || frame.inside(net.lat[b], net.lon[b]))
        {
            continue;
        }
        let _ = write!(
            out,
            "M{:.1} {:.1}L{:.1} {:.1}",
            frame.x(net.lon[a]),
            frame.y(net.lat[a]),
            frame.x(net.lon[b]),
            frame.y(net.lat[b])
        );
        drawn += 1;
    }
    out.push_str("\"/>");
}

/// The facilities of category `c` inside the frame, as small squares.
fn facilities(out: &mut String, frame: &Frame, data: &CircleData, c: Category, unnamed: &str) {
    for f in data
        .facilities
        .iter()
        .filter(|f| f.category == c && frame.inside(f.lat, f.lon))
    {
        let name = if f.name.is_empty() { unnamed } else { &f.name };
        let _ = write!(
            out,
            "<rect class=\"fac\" x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\"><title>{}</title></rect>",
            frame.x(f.lon) - 4.0,
            frame.y(f.lat) - 4.0,
            esc(name)
        );
    }
}

/// Words the map shows, in the reader's language.
pub(crate) struct MapLabels {
    pub title: String,
    pub minutes: String,
    pub site: String,
    pub unnamed: String,
}
