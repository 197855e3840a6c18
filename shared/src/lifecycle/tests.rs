//! Lifecycles: which events belong together, and a root that only moves forward whatever the order.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn event(action: &str, status: &str, at: &str, data: Value) -> RackEvent {
    RackEvent::from_eventbridge(
        json!({"version": "0", "id": format!("ev-{action}-{status}"),
        "source": "convox.rack", "detail-type": action, "account": "1", "time": at,
        "region": "us-east-1", "resources": [],
        "detail": {"action": action, "status": status, "timestamp": at, "data": data}}),
    )
    .unwrap()
}

/// A release's six events, in the order a rack sends them.
fn release() -> Vec<RackEvent> {
    let data = |extra: Value| {
        let mut data = json!({"rack": "production", "app": "web", "id": "R1", "actor": "carol"});
        data.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        data
    };
    vec![
        event(
            "build:create",
            "success",
            "2026-11-22T18:38:47Z",
            data(json!({"id": "B1", "release_id": "R1"})),
        ),
        event(
            "release:create",
            "success",
            "2026-11-22T18:38:49Z",
            data(json!({})),
        ),
        event(
            "release:promote",
            "start",
            "2026-11-22T18:40:02Z",
            data(json!({})),
        ),
        event(
            "release:promote",
            "success",
            "2026-11-22T18:43:48Z",
            data(json!({})),
        ),
        event(
            "release:finish",
            "success",
            "2026-11-22T18:47:30Z",
            data(json!({})),
        ),
        event(
            "app:promote:completed",
            "success",
            "2026-11-22T18:47:31Z",
            data(json!({})),
        ),
    ]
}

fn step(event: &RackEvent) -> Step {
    let lifecycle = Lifecycle::of(event).expect("a lifecycle");
    Step::of(
        lifecycle.kind,
        event,
        event.key().unwrap(),
        &Notification::from_event(event),
    )
}

#[test]
fn a_release_is_one_lifecycle_from_build_to_completion() {
    let ids: Vec<String> = release()
        .iter()
        .map(|e| Lifecycle::of(e).unwrap().id)
        .collect();
    assert!(
        ids.iter().all(|id| id == "release:production:web:R1"),
        "{ids:?}"
    );
    let scale = event(
        "release:scale",
        "success",
        "2026-11-22T18:50:00Z",
        json!({"app": "web", "id": "R1"}),
    );
    assert_eq!(Lifecycle::of(&scale), None, "a scale stands alone");
    let failed_build = event(
        "build:create",
        "error",
        "2026-11-22T18:50:00Z",
        json!({"app": "web", "id": "B2"}),
    );
    assert_eq!(
        Lifecycle::of(&failed_build),
        None,
        "a failed build makes no release"
    );
    let simulated = event(
        "app:budget:auto-shutdown:simulated",
        "success",
        "2026-11-22T18:50:00Z",
        json!({"app": "web"}),
    );
    assert_eq!(Lifecycle::of(&simulated), None);
}

#[test]
fn a_late_event_never_moves_the_root_back() {
    let events = release();
    let mut state = State::default();
    for event in events.iter().rev() {
        assert_eq!(state.merge(step(event)), Merged::Added);
    }
    assert_eq!(
        state.current().unwrap().headline,
        "Release deployment completed successfully"
    );
    assert_eq!(state.merge(step(&events[2])), Merged::Known);
    let lines: Vec<&str> = state.steps.iter().map(|s| s.headline.as_str()).collect();
    assert_eq!(lines[0], "Build succeeded");
    assert_eq!(lines.len(), 6);
}

#[test]
fn a_failure_shows_with_its_text_and_wins_over_success() {
    let mut state = State::default();
    for event in &release()[..4] {
        state.merge(step(event));
    }
    let rollback = event(
        "release:promote",
        "error",
        "2026-11-22T18:45:00Z",
        json!({"rack": "production", "app": "web", "id": "R1", "message": "rollback"}),
    );
    state.merge(step(&rollback));
    let lifecycle = Lifecycle::of(&rollback).unwrap();
    let root = state.root_note(&lifecycle, &Notification::from_event(&rollback));
    assert_eq!(root.tone, Tone::Failure);
    assert_eq!(root.message.as_deref(), Some("rollback"));
    assert_eq!(root.steps.len(), 5);
    assert_eq!(root.fields[1].value, "R1");
}

#[test]
fn an_alert_resolves_and_fires_again_as_a_new_lifecycle() {
    let data = json!({"rack": "production", "app": "api", "alert": "5xx"});
    let firing = event(
        "alert:firing",
        "success",
        "2026-11-22T21:14:00Z",
        data.clone(),
    );
    let resolved = event(
        "alert:resolved",
        "success",
        "2026-11-22T21:29:00Z",
        data.clone(),
    );
    let mut state = State::default();
    state.merge(step(&resolved));
    state.merge(step(&firing));
    let lifecycle = Lifecycle::of(&firing).unwrap();
    let root = state.root_note(&lifecycle, &Notification::from_event(&resolved));
    assert_eq!(root.headline, "Alert has resolved (fired for 15 minutes)");
    let again = event("alert:firing", "success", "2026-11-22T22:00:00Z", data);
    state.root = Some(Root {
        channel: "C1".into(),
        message_id: "1".into(),
        thread: None,
    });
    assert_eq!(state.merge(step(&again)), Merged::Restarted);
    assert_eq!(state.root, None);
    assert_eq!(state.steps.len(), 1);
}

#[test]
fn the_state_survives_a_round_trip_through_json() {
    let mut state = State::default();
    state.merge(step(&release()[0]));
    state.root = Some(Root {
        channel: "C1".into(),
        message_id: "1.2".into(),
        thread: Some("9".into()),
    });
    let text = serde_json::to_string(&state).unwrap();
    assert_eq!(serde_json::from_str::<State>(&text).unwrap(), state);
}

proptest! {
    /// In any order, with any repeats, a release's events end in the same root.
    #[test]
    fn any_order_and_any_repeats_end_in_the_same_state(
        order in Just((0..6).collect::<Vec<usize>>()).prop_shuffle(),
        repeats in proptest::collection::vec(0usize..6, 0..6),
    ) {
        let events = release();
        let mut expected = State::default();
        events.iter().for_each(|e| { expected.merge(step(e)); });
        let mut state = State::default();
        for i in order.iter().chain(&repeats) {
            state.merge(step(&events[*i]));
        }
        prop_assert_eq!(state, expected);
    }
}
