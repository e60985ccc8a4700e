//! The care register's keys: ID numbers and phones are stored sealed (no plaintext in the
//! database file), found by keyed hash, and re-sealed under a new key by
//! `doorstep keys rotate` while old values still open.

use crate::backend_tests;
use doorstep::config::Config;
use doorstep_domain::BuildingId;
use doorstep_domain::people::Residency;
use doorstep_services::register::{rotate, seal};
use doorstep_services::requests::phones::seal_all;
use doorstep_store::scratch::ScratchDb;
use doorstep_store::{Backend, NewResident, WriteCtx};
use std::sync::Arc;

backend_tests!(
    a_roster_is_checked_row_by_row_and_imports_all_or_nothing,
    keys_rotate_without_losing_a_value,
    a_worker_knows_her_block_and_turns_a_visit_finding_into_a_request
);

const OLD: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const NEW: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
const ID: &str = "11010519491231002X";
const PHONE: &str = "13800138000";
const PHONE2: &str = "13912345678";

fn services(db: &ScratchDb, key: &str, previous: &[&str]) -> doorstep_services::Services {
    let mut config = Config {
        database_url: db.url.clone(),
        ..Default::default()
    };
    config.set("encryption_key", key).unwrap();
    config
        .set("previous_encryption_keys", &previous.join(","))
        .unwrap();
    let clock = doorstep_domain::clock::ManualClock::new(crate::support::start_time());
    doorstep::startup::services(db.store.clone(), Arc::new(clock), &config).unwrap()
}

async fn keys_rotate_without_losing_a_value(b: Backend) {
    let db = ScratchDb::new(b).await.unwrap();
    let fx = crate::support::fixture(&db.store).await;
    let ctx = WriteCtx::system("test", None, crate::support::start_time());
    let old = services(&db, OLD, &[]);
    let v = old.vault().unwrap();
    let reg = db.store.register();
    let h = reg
        .household(BuildingId(fx.building1), "1", "502", &ctx)
        .await
        .unwrap();
    let r = reg
        .add_resident(
            &NewResident {
                household_id: h.id,
                name: "王秀英".into(),
                sex: None,
                birth_date: None,
                id_number: Some(seal(v, ID)),
                phone: Some(seal(v, PHONE)),
                residency: Residency::Registered,
                languages: None,
            },
            &ctx,
        )
        .await
        .unwrap();
    // A request's phone stored in full (before the deployment had a key) is sealed by
    // the startup pass, which then compacts the database.
    let mut legacy = crate::support::new_request(&fx);
    legacy.resident_phone = Some(PHONE2.into());
    legacy.tracking_code = "LEGACY0001".into();
    let req = db.store.requests().create(&legacy, &ctx).await.unwrap().id;
    assert_eq!(seal_all(&old, false).await.unwrap(), 1);
    assert_eq!(
        seal_all(&old, false).await.unwrap(),
        0,
        "nothing left to do"
    );
    doorstep_services::requests::phones::compact(&old)
        .await
        .unwrap();
    let shown = db.store.requests().get(req).await.unwrap();
    assert_eq!(shown.resident_phone.as_deref(), Some("139****5678"));
    // Nothing of the values is in the database file.
    if b == Backend::Sqlite {
        let _ = db.store.analyze().await;
        let path = db.url.trim_start_matches("sqlite://");
        let mut bytes = std::fs::read(path).unwrap();
        for wal in ["-wal", "-shm"] {
            if let Ok(more) = std::fs::read(format!("{path}{wal}")) {
                bytes.extend(more);
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(ID) && !text.contains(PHONE) && !text.contains(PHONE2),
            "plaintext in the database file"
        );
    }
    // A new key, the old one kept to open: rotation re-seals, and the lookups follow.
    let new = services(&db, NEW, &[OLD]);
    assert_eq!(rotate(&new).await.unwrap(), 1);
    assert_eq!(rotate(&new).await.unwrap(), 0, "nothing left to do");
    assert_eq!(
        seal_all(&new, false).await.unwrap(),
        0,
        "only stale keys are left"
    );
    assert_eq!(seal_all(&new, true).await.unwrap(), 1);
    assert_eq!(seal_all(&new, true).await.unwrap(), 0);
    let only_new = services(&db, NEW, &[]);
    let nv = only_new.vault().unwrap();
    let again = reg.find_resident(r.id).await.unwrap().unwrap();
    assert_eq!(
        doorstep_services::register::id_number(nv, &again)
            .unwrap()
            .as_deref(),
        Some(ID)
    );
    assert_eq!(
        doorstep_services::register::phone(nv, &again)
            .unwrap()
            .as_deref(),
        Some(PHONE)
    );
    assert_eq!(
        reg.resident_by_id_number(again.subdistrict_id, &nv.lookup(ID))
            .await
            .unwrap()
            .map(|x| x.id),
        Some(r.id)
    );
    let sealed = db.store.requests().get(req).await.unwrap();
    assert_eq!(sealed.resident_phone.as_deref(), Some("139****5678"));
    let opened = nv.open(sealed.resident_phone_sealed.as_deref().unwrap());
    assert_eq!(opened.as_deref(), Ok(PHONE2));
    db.drop_db().await;
}

/// A building made through the API by the admin, for places the fixture lacks.
async fn api_building(app: &crate::support::TestApp, estate: i64, number: &str) -> i64 {
    let t = app.token("admin").await;
    let r = app
        .client()
        .post(app.url("/api/v1/buildings"))
        .bearer_auth(&t)
        .json(&serde_json::json!({"estate_id": estate, "number": number, "floors": 6}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// `client` (w1, or the secretary) registers a resident in building 1 through the form;
/// the answer is the household page's address.
pub(crate) async fn register_resident(
    app: &crate::support::TestApp,
    client: &reqwest::Client,
    fields: &[(&str, &str)],
) -> String {
    let csrf = app.csrf(client).await;
    let building = app.fx.building1.to_string();
    let mut form = vec![("_csrf", csrf.as_str()), ("building_id", building.as_str())];
    form.extend_from_slice(fields);
    let r = client
        .post(app.url("/care/residents/new"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    r.headers()["location"].to_str().unwrap().to_string()
}

async fn a_worker_knows_her_block_and_turns_a_visit_finding_into_a_request(b: Backend) {
    let app = crate::support::TestApp::spawn(b).await;
    let w1 = app.login("w1").await;
    let csrf = app.csrf(&w1).await;
    let building = app.fx.building1.to_string();
    // She registers a resident of her block; the ID number fills in sex and birth date.
    let household = register_resident(
        &app,
        &w1,
        &[
            ("unit", "1"),
            ("room", "502"),
            ("name", "王秀英"),
            ("id_number", ID),
            ("phone", PHONE),
            ("residency", "registered"),
        ],
    )
    .await;
    let page = w1
        .get(app.url(&household))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("王秀英") && page.contains("女") && page.contains("76 岁"),
        "{page}"
    );
    assert!(page.contains("110***********002X") && page.contains("138****8000"));
    assert!(
        !page.contains(ID) && !page.contains(PHONE),
        "masked by default"
    );
    // A wrong check digit is named, and nothing is stored.
    let r = w1
        .post(app.url("/care/residents/new"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("building_id", building.as_str()),
            ("room", "503"),
            ("name", "李四"),
            ("id_number", "110105194912310021"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("校验位"));
    // The reveal: with a reason, audited; without one, refused.
    let resident: String = page
        .split("id=\"resident-")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let reveal = format!("/care/residents/{resident}/reveal");
    let r = w1
        .post(app.url(&reveal))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("field", "id_number"),
            ("reason", "verify"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.text().await.unwrap().contains(ID));
    let r = w1
        .post(app.url(&reveal))
        .form(&[("_csrf", csrf.as_str()), ("field", "phone"), ("reason", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // The secretary sees the household; the subdistrict and another neighbourhood do not.
    let sec = app.login("sec1").await;
    assert_eq!(
        sec.get(app.url(&household)).send().await.unwrap().status(),
        200
    );
    let admin = app.login("admin").await;
    assert_eq!(
        admin
            .get(app.url(&household))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let sec2 = app.login("sec2").await;
    assert_eq!(
        sec2.get(app.url(&household)).send().await.unwrap().status(),
        403
    );
    let scsrf = app.csrf(&sec2).await;
    let r = sec2
        .post(app.url(&reveal))
        .form(&[
            ("_csrf", scsrf.as_str()),
            ("field", "id_number"),
            ("reason", "verify"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A visit: what she heard becomes her request, linked; a resend makes nothing new.
    let visit = [
        ("_csrf", csrf.as_str()),
        ("client_key", "phone-key-0001"),
        ("kind", "care"),
        ("met", "王秀英"),
        ("notes", "身体尚可"),
        ("finding", "楼道灯坏了，晚上看不见"),
    ];
    let r = w1
        .post(app.url(&format!("{household}/visits")))
        .form(&visit)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let request = r.headers()["location"].to_str().unwrap().to_string();
    assert!(request.starts_with("/requests/"), "{request}");
    let again = w1
        .post(app.url(&format!("{household}/visits")))
        .form(&visit)
        .send()
        .await
        .unwrap();
    assert_eq!(again.headers()["location"].to_str().unwrap(), request);
    let req = w1
        .get(app.url(&request))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(req.contains("楼道灯坏了") && req.contains("走访"), "{req}");
    let page = w1
        .get(app.url(&household))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(page.matches("身体尚可").count(), 1, "one visit, not two");
    // Her block page counts nobody yet (no tags) and lists the building with one
    // household; the building's page lists the household.
    let to_block = w1.get(app.url("/care")).send().await.unwrap();
    assert_eq!(to_block.status(), 303, "one block: straight to it");
    let block_url = to_block.headers()["location"].to_str().unwrap().to_string();
    let text = w1
        .get(app.url(&block_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("独居老人") && text.contains("1 户") && text.contains("1 人"),
        "{text}"
    );
    let building = format!("{block_url}/buildings/{}", app.fx.building1);
    assert!(text.contains(&building.replace('/', "&#x2f;")), "{text}");
    let rooms = w1
        .get(app.url(&building))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(rooms.contains("502室") && rooms.contains("1 人"), "{rooms}");
    // Her home page has the block at a glance, a link to it.
    let home = w1
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("id=\"mind-1\"") && home.contains("户已超期") && home.contains("独居老人"),
        "{home}"
    );
    let log = app
        .store()
        .audit()
        .list(&doorstep_store::AuditFilter {
            action: Some(doorstep_domain::audit::AuditAction::Reveal),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        log.total, 1,
        "the refused reveals left no value and no entry"
    );
    app.stop().await;
}

async fn a_roster_is_checked_row_by_row_and_imports_all_or_nothing(b: Backend) {
    let app = crate::support::TestApp::spawn(b).await;
    let sec = app.login("sec1").await;
    let csrf = app.csrf(&sec).await;
    // The template downloads as a workbook.
    let t = sec
        .get(app.url("/care/import/template.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(t.status(), 200);
    assert!(t.bytes().await.unwrap().starts_with(b"PK"));
    let csv = "小区,楼号,单元,室号,姓名,身份证号,联系电话,户籍情况,关爱标签\n\
               牡丹路100弄,1号,1,502,王秀英,11010519491231002X,13800138000,户籍,独居老人、低保\n\
               牡丹路100弄,1号,1,503,李四,110105194912310021,,户籍,\n\
               不存在路1弄,9号,1,101,张三,310115196001010011,,户籍,退休干部\n";
    let upload = |mode: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("_csrf", csrf.clone())
            .text("mode", mode)
            .part(
                "file",
                reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("花名册.csv"),
            );
        sec.post(app.url("/care/import")).multipart(form).send()
    };
    // A dry run reports every problem by row and column, and writes nothing.
    let r = upload("check").await.unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    for want in [
        "身份证号校验位不对",
        "本居民区没有这个小区和楼号",
        "有不认识的关爱标签",
        "<td class=\"num\">3</td>",
        "<td class=\"num\">4</td>",
    ] {
        assert!(page.contains(want), "{want}: {page}");
    }
    let store = app.store();
    let count = || async {
        store
            .register()
            .households_in(&[BuildingId(app.fx.building1)])
            .await
            .unwrap()
            .len()
    };
    assert_eq!(count().await, 0);
    // All or nothing: still nothing.
    let r = upload("import").await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("未导入任何数据"));
    assert_eq!(count().await, 0);
    // The valid rows only: the one good row, with its tags.
    let r = upload("valid").await.unwrap();
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("新增 1 户、1 人，更新 0 人，新增标签 2 个")
    );
    assert_eq!(count().await, 1);
    // Again: updated by ID number, not doubled.
    let r = upload("valid").await.unwrap();
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("新增 0 户、0 人，更新 1 人，新增标签 0 个")
    );
    // The export reads back through the importer, masked unless asked with a reason.
    let r = sec.get(app.url("/care/export.xlsx")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let rows = doorstep_services::register::import::read_table("x.xlsx", &r.bytes().await.unwrap())
        .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][4], "王秀英");
    assert_eq!(rows[1][5], "110***********002X");
    assert_eq!(rows[1][6], "138****8000");
    assert_eq!(rows[1][8], "独居老人、困难");
    let r = sec
        .post(app.url("/care/export.xlsx"))
        .form(&[("_csrf", csrf.as_str()), ("reason", "visit")])
        .send()
        .await
        .unwrap();
    let rows = doorstep_services::register::import::read_table("x.xlsx", &r.bytes().await.unwrap())
        .unwrap();
    assert_eq!(rows[1][5], "11010519491231002X");
    let exports = store
        .audit()
        .list(&doorstep_store::AuditFilter {
            action: Some(doorstep_domain::audit::AuditAction::Export),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(exports.total, 2, "each export is in the audit log");
    // Another neighbourhood's roster cannot take over someone still living in this one.
    let building2 = api_building(&app, app.fx.estate2, "2号").await;
    assert!(building2 > 0);
    let sec2 = app.login("sec2").await;
    let csrf2 = app.csrf(&sec2).await;
    let csv2 = "小区,楼号,单元,室号,姓名,身份证号,联系电话,户籍情况,关爱标签\n\
                芳甸路200弄,2号,1,101,王秀英,11010519491231002X,,户籍,\n";
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf2)
        .text("mode", "import")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv2.as_bytes().to_vec()).file_name("花名册.csv"),
        );
    let r = sec2
        .post(app.url("/care/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("此人仍在其他居民区登记"));
    assert_eq!(count().await, 1, "still in building 1");
    // Workers do not import, nor export in full.
    let w1 = app.login("w1").await;
    assert_eq!(
        w1.post(app.url("/care/export.xlsx"))
            .form(&[("_csrf", app.csrf(&w1).await.as_str()), ("reason", "visit")])
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        w1.get(app.url("/care/import"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    app.stop().await;
}
