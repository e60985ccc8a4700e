//! Room bookings: all occurrences or none, never two holding a room at once.

use super::*;
use doorstep_domain::RoomId;
use doorstep_domain::bookings::{BookingState, Stretch};

pub(crate) async fn a_room_is_held_by_one_booking_at_a_time(s: Store) {
    let seed = seed(&s).await;
    let room = s
        .places()
        .create(Entity::Room, &vals(Entity::Room, json!({"station_id": seed.station, "name": "综合活动室", "kind": "activity", "area_m2": 80})), &ctx())
        .await
        .unwrap();
    let worker = doorstep_store::NewAccount {
        username: "mudan7-w1".into(),
        display_name: "李社工".into(),
        role: Role::Worker,
        neighbourhood_id: Some(seed.nb1),
        partner_unit: None,
        phone: None,
        locale: "zh-CN".into(),
        password_hash: None,
    };
    let worker = s
        .accounts()
        .create(seed.sd, &worker, &ctx())
        .await
        .unwrap()
        .id;
    let at = |h: i64| ctx().at + chrono::Duration::hours(h);
    let new = |from: i64, to: i64, purpose: &str| doorstep_store::NewBooking {
        room_id: RoomId(room.id),
        stretches: vec![
            Stretch {
                start: at(from),
                end: at(to),
            },
            Stretch {
                start: at(from + 168),
                end: at(to + 168),
            },
        ],
        recurrence: None,
        purpose: purpose.into(),
        attendance: Some(12),
        for_whom: None,
        booked_by: worker,
        state: BookingState::Confirmed,
    };
    let booked = s
        .bookings()
        .book(&new(0, 2, "书法班"), &ctx())
        .await
        .unwrap();
    assert_eq!(booked.len(), 2);
    assert_eq!(booked[0].station_id, seed.station);
    // The second week of another series meets the first one's: nothing of it is kept.
    let mut clash = new(-24, -23, "会议");
    clash.stretches[1] = Stretch {
        start: at(169),
        end: at(170),
    };
    match s.bookings().book(&clash, &ctx()).await {
        Err(StoreError::Overlap(b)) => assert_eq!(b.id, booked[1].id),
        other => panic!("{other:?}"),
    }
    let all = s
        .bookings()
        .in_room(RoomId(room.id), at(-48), at(400))
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "all or nothing");
    // Cancelled, its time is free; back to back is fine.
    let b = s
        .bookings()
        .set_state(booked[0].id, 1, BookingState::Cancelled, &ctx())
        .await
        .unwrap();
    assert_eq!((b.state, b.version), (BookingState::Cancelled, 2));
    assert!(
        s.bookings().book(&new(1, 2, "演练"), &ctx()).await.is_err(),
        "the second week is still held"
    );
    let mut once = new(1, 2, "演练");
    once.stretches.truncate(1);
    s.bookings().book(&once, &ctx()).await.unwrap();
    once.stretches[0] = Stretch {
        start: at(2),
        end: at(3),
    };
    s.bookings().book(&once, &ctx()).await.unwrap();
    assert!(matches!(
        s.bookings()
            .set_state(booked[1].id, 7, BookingState::Cancelled, &ctx())
            .await,
        Err(StoreError::VersionConflict { current: 1 })
    ));
}
