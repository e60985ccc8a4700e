//! Maps drawn on the server as SVG from our own coordinates: no tiles, no scripts, nothing
//! fetched from elsewhere. The frame projects latitude and longitude onto the canvas.

use std::fmt::Write;

/// Text for SVG attributes and titles.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The map's frame: a bounding box padded by 150 m, projected equirectangularly onto a
/// 1000-unit-wide canvas.
pub(crate) struct Frame {
    south: f64,
    west: f64,
    north: f64,
    east: f64,
    coslat: f64,
    scale: f64,
    pub(crate) width: f64,
    pub(crate) height: f64,
}

impl Frame {
    const PAD_M: f64 = 150.0;
    const WIDTH: f64 = 1000.0;

    pub(crate) fn around(points: impl Iterator<Item = (f64, f64)>) -> Frame {
        let (mut s, mut w, mut n, mut e) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (la, lo) in points {
            s = s.min(la);
            n = n.max(la);
            w = w.min(lo);
            e = e.max(lo);
        }
        let pad_lat = Self::PAD_M / 111_195.0;
        let coslat = ((s + n) / 2.0).to_radians().cos();
        let pad_lon = pad_lat / coslat;
        let (s, w, n, e) = (s - pad_lat, w - pad_lon, n + pad_lat, e + pad_lon);
        let scale = Self::WIDTH / ((e - w) * coslat).max(1e-9);
        Frame {
            south: s,
            west: w,
            north: n,
            east: e,
            coslat,
            scale,
            width: Self::WIDTH,
            height: ((n - s) * scale).max(100.0),
        }
    }

    pub(crate) fn x(&self, lon: f64) -> f64 {
        (lon - self.west) * self.coslat * self.scale
    }

    pub(crate) fn y(&self, lat: f64) -> f64 {
        (self.north - lat) * self.scale
    }

    pub(crate) fn inside(&self, lat: f64, lon: f64) -> bool {
        lat >= self.south && lat <= self.north && lon >= self.west && lon <= self.east
    }
}

/// A small map of one place: a pin at `at` among the buildings `around` (its estate),
/// titled `label` for screen readers.
pub(crate) fn pin_map(at: (f64, f64), around: &[(f64, f64)], label: &str) -> String {
    let frame = Frame::around(std::iter::once(at).chain(around.iter().copied()));
    let mut out = String::with_capacity(4096);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {:.0} {:.0}\" class=\"map pin-map\" role=\"img\" aria-label=\"{}\"><rect class=\"bg\" x=\"0\" y=\"0\" width=\"100%\" height=\"100%\"/>",
        frame.width,
        frame.height,
        esc(label)
    );
    // Symbols sized to the canvas, so they read at a phone's width.
    let unit = frame.width / 100.0;
    for (lat, lon) in around {
        let _ = write!(
            out,
            "<circle class=\"near\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{:.1}\"/>",
            frame.x(*lon),
            frame.y(*lat),
            unit * 2.0
        );
    }
    let (x, y) = (frame.x(at.1), frame.y(at.0));
    let (w, h, r) = (unit * 3.0, unit * 6.0, unit * 3.4);
    let _ = write!(
        out,
        "<path class=\"pin\" d=\"M{x:.1} {y:.1} l{:.1} {:.1} a{r:.1} {r:.1} 0 1 1 {:.1} 0 z\"/><circle class=\"pin-dot\" cx=\"{x:.1}\" cy=\"{:.1}\" r=\"{:.1}\"/></svg>",
        -w,
        -h,
        2.0 * w,
        y - h - unit * 1.2,
        unit * 1.2
    );
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pin_is_inside_the_frame() {
        let svg = super::pin_map((31.2, 121.5), &[(31.201, 121.501)], "a < b");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("aria-label=\"a &lt; b\""));
        assert_eq!(svg.matches("class=\"near\"").count(), 1);
    }
}
