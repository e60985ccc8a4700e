//! Limits and job claims that several app servers share through the database.

use super::*;

pub(crate) async fn concurrent_attempts_never_pass_a_limit(s: Store) {
    let t0 = ctx().at;
    let since = t0 - chrono::Duration::hours(1);
    // Fifty attempts at once against a limit of five: exactly five are counted.
    let tries: Vec<_> = (0..50)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                s.limits()
                    .take("report", "10.0.0.1", 5, since, t0)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut allowed = 0;
    for t in tries {
        if t.await.unwrap().count < 5 {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5);
    let h = s.limits().hits("report", "10.0.0.1", since).await.unwrap();
    assert_eq!((h.count, h.oldest), (5, Some(t0)));
    // Other keys and buckets have their own counts; old attempts leave the window.
    assert_eq!(
        s.limits()
            .hits("report", "10.0.0.2", since)
            .await
            .unwrap()
            .count,
        0
    );
    assert_eq!(
        s.limits()
            .hits("lookup", "10.0.0.1", since)
            .await
            .unwrap()
            .count,
        0
    );
    s.limits().record("sign_in", "10.0.0.1", t0).await.unwrap();
    // A slot given back is one attempt fewer, even among several at the same instant.
    s.limits().release("report", "10.0.0.1", t0).await.unwrap();
    assert_eq!(
        s.limits()
            .hits("report", "10.0.0.1", since)
            .await
            .unwrap()
            .count,
        4
    );
    s.limits().record("report", "10.0.0.1", t0).await.unwrap();
    let later = t0 + chrono::Duration::hours(2);
    let h = s
        .limits()
        .hits("report", "10.0.0.1", later - chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(h.count, 0);
    assert_eq!(
        s.limits()
            .forget(later - chrono::Duration::hours(1))
            .await
            .unwrap(),
        6
    );
}

pub(crate) async fn a_job_slot_is_claimed_once(s: Store) {
    let t0 = ctx().at;
    let claims: Vec<_> = (0..8)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                s.limits()
                    .claim_job("escalate_overdue", "29410000", &format!("server {i}"), t0)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for c in claims {
        won += usize::from(c.await.unwrap());
    }
    assert_eq!(won, 1);
    assert!(
        s.limits()
            .claim_job("escalate_overdue", "29410001", "server 0", t0)
            .await
            .unwrap()
    );
    assert!(
        s.limits()
            .claim_job("purge_sessions", "29410000", "server 0", t0)
            .await
            .unwrap()
    );
}
