//! The audit log, accounts, sessions, sign-in attempts and setup.

use super::*;

pub(crate) async fn the_audit_log_is_append_only(s: Store) {
    seed(&s).await;
    let url_is_pg = s.backend() == doorstep_store::Backend::Postgres;
    let err = s.meta().set("x", "y").await; // an ordinary write still works
    assert!(err.is_ok());
    let page = s
        .audit()
        .list(&AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(page.total >= 6);
    assert!(
        doorstep_store::testing::tamper_with_audit_log(&s)
            .await
            .is_err(),
        "UPDATE on audit_log must fail (pg: {url_is_pg})"
    );
}

pub(crate) async fn accounts_sessions_and_sign_in_attempts(s: Store) {
    let seed = seed(&s).await;
    let new = NewAccount {
        username: "mudan7-sec".into(),
        display_name: "王书记".into(),
        role: Role::Secretary,
        neighbourhood_id: Some(seed.nb1),
        partner_unit: None,
        phone: None,
        locale: "zh-CN".into(),
        password_hash: Some("$argon2id$fake".into()),
    };
    let a = s.accounts().create(seed.sd, &new, &ctx()).await.unwrap();
    assert!(a.has_password);
    assert!(
        matches!(s.accounts().create(seed.sd, &new, &ctx()).await, Err(StoreError::Duplicate(f)) if f == vec!["username"])
    );
    let mut bad = new.clone();
    bad.username = "x2".into();
    bad.neighbourhood_id = Some(NeighbourhoodId(999_999));
    assert!(matches!(
        s.accounts().create(seed.sd, &bad, &ctx()).await,
        Err(StoreError::Validation(_))
    ));
    let (found, hash) = s
        .accounts()
        .find_login("MUDAN7-SEC")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, a.id);
    assert_eq!(hash.as_deref(), Some("$argon2id$fake"));

    let t0 = ctx().at;
    for i in 0..3 {
        let c = WriteCtx {
            at: t0 + chrono::Duration::minutes(i),
            ..ctx()
        };
        s.sessions()
            .record_login("mudan7-sec", Some(&a), false, "bad_password", &c)
            .await
            .unwrap();
    }
    let att = s
        .sessions()
        .login_attempts("mudan7-sec", t0 - chrono::Duration::minutes(15))
        .await
        .unwrap();
    assert_eq!(att.failures, 3);
    assert_eq!(att.last_failure, Some(t0 + chrono::Duration::minutes(2)));
    // A success resets the count.
    let c = WriteCtx {
        at: t0 + chrono::Duration::minutes(3),
        ..ctx()
    };
    s.sessions()
        .record_login("mudan7-sec", Some(&a), true, "ok", &c)
        .await
        .unwrap();
    let att = s
        .sessions()
        .login_attempts("mudan7-sec", t0 - chrono::Duration::minutes(15))
        .await
        .unwrap();
    assert_eq!(att.failures, 0);

    let sess = doorstep_store::SessionRecord {
        id_hash: "h1".into(),
        account_id: a.id,
        csrf_token: "c".into(),
        ip: None,
        user_agent: None,
        created_at: t0,
        last_seen_at: t0,
    };
    s.sessions().create(&sess).await.unwrap();
    let (got, acc) = s.sessions().find("h1").await.unwrap().unwrap();
    assert_eq!((got.account_id, acc.id), (a.id, a.id));
    assert_eq!(got.created_at, t0);
    // Disabling the account ends its sessions.
    s.accounts()
        .update(a.id, Some(a.version), &ctx(), |cur| {
            Ok(doorstep_store::AccountPatch {
                display_name: cur.display_name.clone(),
                role: cur.role,
                neighbourhood_id: cur.neighbourhood_id,
                partner_unit: None,
                phone: None,
                locale: cur.locale.clone(),
                disabled: true,
            })
        })
        .await
        .unwrap();
    assert!(s.sessions().find("h1").await.unwrap().is_none());
    let tok = s
        .tokens()
        .create(a.id, "ci", "tokhash", &ctx())
        .await
        .unwrap();
    assert!(s.tokens().find("tokhash").await.unwrap().is_some());
    s.tokens().revoke(a.id, tok.id, &ctx()).await.unwrap();
    assert!(s.tokens().find("tokhash").await.unwrap().is_none());
    let page = s
        .accounts()
        .list(&doorstep_store::AccountFilter {
            neighbourhood_id: Some(seed.nb1),
            role: Some(Role::Secretary),
            q: Some("王".into()),
            limit: 10,
            ..doorstep_store::AccountFilter::of(seed.sd)
        })
        .await
        .unwrap();
    assert_eq!(page.total, 1);
}

pub(crate) async fn setup_happens_once(s: Store) {
    let admin = NewAccount {
        username: "admin".into(),
        display_name: "管理员".into(),
        role: Role::Admin,
        neighbourhood_id: None,
        partner_unit: None,
        phone: None,
        locale: "zh-CN".into(),
        password_hash: Some("h".into()),
    };
    let a = s
        .accounts()
        .setup_first_admin("花木街道", Some("310115016"), &admin, &ctx())
        .await
        .unwrap();
    assert_eq!(a.role, Role::Admin);
    assert!(matches!(
        s.accounts()
            .setup_first_admin("x", None, &admin, &ctx())
            .await,
        Err(StoreError::Conflict("already_set_up"))
    ));
    assert_eq!(
        s.places()
            .first_subdistrict()
            .await
            .unwrap()
            .unwrap()
            .title(),
        "花木街道"
    );
}

pub(crate) async fn concurrent_account_changes_are_all_kept(s: Store) {
    // Before: `update` read the account outside its transaction, so of changes made at
    // once (an admin's edit while the account's owner changes her phone) all but one failed
    // with a version conflict nobody had asked for. Now each reads under the row lock.
    let seed = seed(&s).await;
    let new = NewAccount {
        username: "w-race".into(),
        display_name: "张".into(),
        role: Role::Worker,
        neighbourhood_id: Some(seed.nb1),
        partner_unit: None,
        phone: None,
        locale: "zh-CN".into(),
        password_hash: None,
    };
    let a = s.accounts().create(seed.sd, &new, &ctx()).await.unwrap();
    let patch = |cur: &doorstep_store::Account| doorstep_store::AccountPatch {
        display_name: cur.display_name.clone(),
        role: cur.role,
        neighbourhood_id: cur.neighbourhood_id,
        partner_unit: cur.partner_unit.clone(),
        phone: cur.phone.clone(),
        locale: cur.locale.clone(),
        disabled: cur.disabled,
    };
    let mut tasks = Vec::new();
    for i in 0..10 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.accounts()
                .update(a.id, None, &ctx(), |cur| {
                    let mut p = patch(cur);
                    if i % 2 == 0 {
                        p.display_name.push_str(&i.to_string());
                    } else {
                        p.phone = Some(format!("{}{i}", cur.phone.clone().unwrap_or_default()));
                    }
                    Ok(p)
                })
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let end = s.accounts().get(a.id).await.unwrap();
    assert_eq!(end.version, a.version + 10);
    let mut names: Vec<char> = end.display_name.chars().skip(1).collect();
    names.sort();
    assert_eq!(names, vec!['0', '2', '4', '6', '8'], "{}", end.display_name);
    let mut phones: Vec<char> = end.phone.unwrap_or_default().chars().collect();
    phones.sort();
    assert_eq!(phones, vec!['1', '3', '5', '7', '9']);
}
