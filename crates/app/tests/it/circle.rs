//! The 15-minute circle through the server: coverage, lists, exports, siting, scope,
//! and `doorstep geo import` of a real extract.

use crate::backend_tests;
use crate::support::TestApp;
use doorstep_geo::snap::Snapper;
use doorstep_geo::{Accessibility, Category};
use doorstep_store::{Backend, FacilityRow};
use serde_json::Value;

backend_tests!(the_circle_answers_with_figures_exports_and_sites);

fn api() -> reqwest::Client {
    reqwest::Client::new()
}

async fn the_circle_answers_with_figures_exports_and_sites(b: Backend) {
    let app = TestApp::spawn(b).await;
    let admin = app.token("admin").await;
    // Without a network: a 404 in the API and an explanation on the page.
    let r = api()
        .get(app.url("/api/v1/circle"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let c = app.login("admin").await;
    let html = c
        .get(app.url("/circle"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("尚未导入步行路网"));

    // A small street grid around the fixture's building (31.2100, 121.5500), with one
    // market 600 m away to the east and one clinic far away.
    let net = doorstep_geo::synth::grid(31.2050, 121.5450, 15, 20, 70.0, 0, 1);
    let market = (31.2100, 121.5563);
    let clinic = (31.2050, 121.5450);
    let facilities = vec![
        FacilityRow {
            category: "market".into(),
            name: "花木菜场".into(),
            lat: market.0,
            lon: market.1,
            source: "test:1".into(),
        },
        FacilityRow {
            category: "health".into(),
            name: "远处诊所".into(),
            lat: clinic.0,
            lon: clinic.1,
            source: "test:2".into(),
        },
    ];
    app.save_network(&net, "测试路网", &facilities).await;

    // What the server reports equals the library on the same data.
    let snap = Snapper::new(&net, 100.0);
    let (bnode, bsnap) = snap.nearest(&net, 31.2100, 121.5500).unwrap();
    let (mnode, _) = snap.nearest(&net, market.0, market.1).unwrap();
    let (hnode, _) = snap.nearest(&net, clinic.0, clinic.1).unwrap();
    let acc = Accessibility::compute(
        &net,
        &[(Category::Market, mnode), (Category::Health, hnode)],
        1.2,
    );
    let want_market =
        (f64::from(acc.nearest[Category::Market.index()][bnode as usize]) + bsnap) / 1.2 / 60.0;
    let r: Value = api()
        .get(app.url("/api/v1/circle/buildings?category=market"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["total"], 1);
    let got = r["items"][0]["minutes"]["market"].as_f64().unwrap();
    assert!(
        (got - (want_market * 10.0).round() / 10.0).abs() < 1e-9,
        "{got} vs {want_market}"
    );
    assert!(got < 15.0, "the market is within the circle");
    assert_eq!(r["items"][0]["counts"]["market"]["within_15"], 1);
    assert!(
        r["items"][0]["minutes"]["health"].as_f64().unwrap() < 2.0,
        "the partner health centre next door counts"
    );
    assert!(
        r["items"][0]["minutes"]["elderly_care"].is_null(),
        "no elderly care at all"
    );

    let s: Value = api()
        .get(app.url("/api/v1/circle"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["facilities"]["market"], 1);
    let rows = s["coverage"].as_array().unwrap();
    let total = rows.last().unwrap();
    assert_eq!(total["share"]["market"], 1.0);
    assert_eq!(total["share"]["elderly_care"], 0.0);
    assert_eq!(total["residents"], 62.4, "24 households × 2.6");

    // Where to add elderly care: the one building is the whole demand.
    let r: Value = api()
        .get(app.url("/api/v1/circle/sites?category=elderly_care&k=2"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sites = r["sites"].as_array().unwrap();
    assert_eq!(
        sites.len(),
        1,
        "one site covers everyone; a second gains nothing"
    );
    assert_eq!(sites[0]["gain_points"], 1);
    let r = api()
        .get(app.url(&format!(
            "/api/v1/circle/sites?category=elderly_care&candidate_buildings={}",
            app.fx.building1
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Exports: GeoJSON and XLSX, both audited.
    let r = api()
        .get(app.url("/api/v1/circle/buildings.geojson?category=market&k=1"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/geo+json");
    let g: Value = r.json().await.unwrap();
    assert_eq!(g["type"], "FeatureCollection");
    assert_eq!(g["features"][0]["geometry"]["coordinates"][0], 121.55);
    let r = api()
        .get(app.url("/api/v1/circle/export.xlsx"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK", "an XLSX is a zip");
    let audit = app
        .store()
        .audit()
        .list(&doorstep_store::AuditFilter {
            action: Some("export".parse().unwrap()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.total, 2);

    // Bad parameters, and scope.
    for q in [
        "category=shoes",
        "minutes=0",
        "k=99",
        "candidate_buildings=x",
    ] {
        let r = api()
            .get(app.url(&format!("/api/v1/circle/sites?{q}")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{q}");
    }
    let sec2 = app.token("sec2").await;
    let r = api()
        .get(app.url(&format!(
            "/api/v1/circle/buildings?neighbourhood_id={}",
            app.fx.nb1
        )))
        .bearer_auth(&sec2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r: Value = api()
        .get(app.url("/api/v1/circle/buildings"))
        .bearer_auth(&sec2)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["total"], 0,
        "another neighbourhood's buildings are not listed"
    );

    // The page draws the map from our own data.
    let html = c
        .get(app.url("/circle?category=market&k=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<svg") && (html.contains("class=\"b1\"") || html.contains("class=\"b2\"")),
        "building coloured by time"
    );
    assert!(html.contains("测试路网") && html.contains("演示路网为合成数据"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn geo_import_reads_a_real_extract() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let url = app.db.as_ref().unwrap().url.clone();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../geo/tests/data/helsinki-centre.osm.pbf"
    );
    let run = |args: Vec<String>| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_doorstep"))
                .args(args)
                .env("DOORSTEP_DATABASE_URL", url)
                .output()
                .unwrap()
        })
    };
    let out = run(vec![
        "geo".into(),
        "import".into(),
        fixture.into(),
        "--bbox".into(),
        "60.16,24.93,60.18,24.96".into(),
    ])
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("network") && text.contains("health"),
        "{text}"
    );
    let admin = app.token("admin").await;
    let s: Value = api()
        .get(app.url("/api/v1/circle"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["network"]["name"], "helsinki-centre.osm.pbf");
    assert_eq!(s["network"]["synthetic"], false);
    assert!(s["network"]["nodes"].as_i64().unwrap() > 1000);
    assert_eq!(s["attribution"], "© OpenStreetMap contributors, ODbL 1.0");
    // Bad input: a clear message and a non-zero exit; the stored network is untouched.
    let out = run(vec![
        "geo".into(),
        "import".into(),
        fixture.into(),
        "--bbox".into(),
        "1,2,3".into(),
    ])
    .await
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--bbox"));
    let out = run(vec![
        "geo".into(),
        "import".into(),
        "/nonexistent/x.osm.pbf".into(),
    ])
    .await
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.osm.pbf"));
    let again: Value = api()
        .get(app.url("/api/v1/circle"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["network"]["id"], s["network"]["id"]);
    app.stop().await;
}
