//! Walking networks.

use super::*;

pub(crate) async fn networks_are_stored_whole_and_replaced(s: Store) {
    let seed = seed(&s).await;
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let meta = doorstep_store::NetworkMeta {
        id: 0,
        subdistrict_id: seed.sd,
        name: "Huamu".into(),
        source: "shanghai.osm.pbf".into(),
        synthetic: false,
        nodes: 10,
        edges: 12,
        bbox: (31.2, 121.53, 31.23, 121.57),
        created_at: ctx().at,
    };
    let fac = vec![doorstep_store::FacilityRow {
        category: "health".into(),
        name: "卫生服务中心".into(),
        lat: 31.21,
        lon: 121.55,
        source: "osm:node/1".into(),
    }];
    let first = s
        .geo()
        .save_network(&meta, &data, &fac, &ctx())
        .await
        .unwrap();
    let second = s
        .geo()
        .save_network(&meta, &data[..1000], &[], &ctx())
        .await
        .unwrap();
    let (m, d) = s.geo().current_network(seed.sd).await.unwrap().unwrap();
    assert_eq!((m.id, d.len(), m.bbox), (second, 1000, meta.bbox));
    assert!(
        s.geo().facilities(first).await.unwrap().is_empty(),
        "the old network's facilities went with it"
    );
    s.geo()
        .save_network(&meta, &data, &fac, &ctx())
        .await
        .unwrap();
    let (m, d) = s.geo().current_network(seed.sd).await.unwrap().unwrap();
    assert_eq!(d, data);
    assert_eq!(s.geo().facilities(m.id).await.unwrap(), fac);
    let before = s.places().places_fingerprint(seed.sd).await.unwrap();
    s.places().create(Entity::Building, &vals(Entity::Building, json!({"estate_id": seed.estate, "number": "1号", "households": 30, "lat": 31.21, "lon": 121.55})), &ctx()).await.unwrap();
    assert_ne!(
        before,
        s.places().places_fingerprint(seed.sd).await.unwrap()
    );
    let pts = s.geo().building_points(seed.sd).await.unwrap();
    assert_eq!(pts.len(), 1);
    assert!(
        (pts[0].residents - 78.0).abs() < 1e-9,
        "2.6 people per household by default"
    );
}
