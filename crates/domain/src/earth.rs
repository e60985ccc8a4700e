//! Distances on the Earth's surface.

/// Great-circle distance in metres (haversine, mean Earth radius 6,371,008.8 m).
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * a.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_known_distance_and_the_antipode() {
        // Huamu: Yulan Road 218 to about 1.17 km north.
        let d = super::haversine_m(31.2085, 121.5436, 31.2190, 121.5440);
        assert!((d - 1168.0).abs() < 5.0, "{d}");
        assert_eq!(super::haversine_m(31.0, 121.0, 31.0, 121.0), 0.0);
        let far = super::haversine_m(0.0, 0.0, 0.0, 180.0);
        assert!((far - std::f64::consts::PI * 6_371_008.8).abs() < 1.0);
    }
}
