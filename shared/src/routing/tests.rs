//! Routing: the seed's rules, and a document's order, wildcards, continue, drop and fallback.

use serde_json::json;

use super::*;
use crate::destination::{Place, Provider};

fn event(action: &str, status: &str, data: serde_json::Value) -> RackEvent {
    RackEvent::from_eventbridge(json!({"version": "0", "id": "ev-1", "source": "convox.rack",
        "detail-type": action, "account": "1", "time": "2026-11-22T18:43:48Z", "region": "us-east-1",
        "resources": [], "detail": {"action": action, "status": status, "data": data}}))
    .unwrap()
}

fn slack(channel: &str) -> Destination {
    Destination::new(Provider::Slack, Place::Channel(channel.into()))
}

fn seed() -> SeedRoutes {
    SeedRoutes {
        default: slack("general"),
        environments: HashMap::from([("production".into(), slack("production-deploys"))]),
        owners: HashMap::from([
            ("web".into(), slack("web-team")),
            (
                "billing".into(),
                Destination::new(Provider::Slack, Place::User("U0123ABC".into())),
            ),
        ]),
    }
}

fn document(yaml: &str) -> RoutingDocument {
    let context = Context {
        default_provider: Provider::Slack,
        tokens: vec![Provider::Slack, Provider::Discord],
        webhook_path: Some("/hooks".into()),
    };
    RoutingDocument::parse(yaml, "test", &context).unwrap()
}

/// Destinations and rules, as `#channel (rule)`.
fn routed(event: &RackEvent, document: Option<&RoutingDocument>) -> Vec<String> {
    match route(event, &seed(), document, None) {
        Routed::To(chosen) => chosen
            .iter()
            .map(|c| {
                format!(
                    "{}:{} ({})",
                    c.destination.provider.key(),
                    c.destination,
                    c.rule
                )
            })
            .collect(),
        Routed::Dropped { route } => vec![format!("dropped by {route}")],
    }
}

#[test]
fn the_seed_rules_go_most_specific_first() {
    let to = |app: &str, rack: &str| {
        routed(
            &event(
                "release:promote",
                "success",
                json!({"app": app, "rack": rack}),
            ),
            None,
        )
    };
    assert_eq!(to("web", "production"), ["slack:#web-team (owner)"]);
    assert_eq!(
        to("api", "production"),
        ["slack:#production-deploys (environment)"]
    );
    assert_eq!(to("api", "staging"), ["slack:#general (default)"]);
    let live = slack("platform");
    let by_catalog = route(
        &event("app:create", "success", json!({"name": "web"})),
        &seed(),
        None,
        Some(&live),
    );
    assert!(
        matches!(by_catalog, Routed::To(ref c) if c[0].destination == live && c[0].rule == "owner")
    );
}

#[test]
fn routes_go_in_order_first_match_wins_unless_it_continues() {
    let doc = document(
        "routes:
          - {name: oncall, match: {category: alert}, to: ['#oncall']}
          - {name: failures, match: {status: error, rack: staging}, to: ['#failures'], continue: true}
          - {name: deploys, match: {type: ['release:*', 'app:promote:*']}, to: ['#deploys']}
          - {name: everything, to: ['#firehose']}",
    );
    let go = |action: &str, status: &str, rack: &str| {
        routed(
            &event(action, status, json!({"rack": rack, "app": "api"})),
            Some(&doc),
        )
    };
    assert_eq!(
        go("alert:firing", "success", "production"),
        ["slack:#oncall (route oncall)"]
    );
    assert_eq!(
        go("release:promote", "success", "production"),
        ["slack:#deploys (route deploys)"]
    );
    assert_eq!(
        go("release:promote", "error", "staging"),
        [
            "slack:#failures (route failures)",
            "slack:#deploys (route deploys)"
        ]
    );
    assert_eq!(
        go("app:promote:errored", "success", "staging"),
        ["slack:#deploys (route deploys)"]
    );
    assert_eq!(
        go("resource:create", "success", "staging"),
        ["slack:#firehose (route everything)"]
    );
}

#[test]
fn wildcards_match_any_part_of_a_type_rack_or_app() {
    let doc = document(
        "routes:
          - {name: shutdowns, match: {type: 'app:budget:auto-shutdown:*'}, to: ['#budget']}
          - {name: prod-web, match: {rack: 'prod*', app: ['web', 'web-*']}, to: ['#web']}",
    );
    let go = |action: &str, rack: &str, app: &str| {
        routed(
            &event(action, "success", json!({"rack": rack, "app": app})),
            Some(&doc),
        )
    };
    assert_eq!(
        go("app:budget:auto-shutdown:fired", "x", "x"),
        ["slack:#budget (route shutdowns)"]
    );
    assert_eq!(
        go("app:budget:cap", "production", "web-admin"),
        ["slack:#web (route prod-web)"]
    );
    assert_eq!(
        go("app:budget:cap", "staging", "web"),
        ["slack:#web-team (owner)"],
        "no match: the seed rules"
    );
}

#[test]
fn no_route_matches_means_the_seed_rules_and_the_default_channel() {
    let doc = document("routes: [{match: {category: alert}, to: ['#oncall']}]");
    assert_eq!(
        routed(
            &event(
                "app:create",
                "success",
                json!({"rack": "staging", "name": "api"})
            ),
            Some(&doc)
        ),
        ["slack:#general (default)"]
    );
}

#[test]
fn owner_routes_add_or_replace_as_the_operator_writes_them() {
    let doc = document("routes: [{name: both, to: [owner, environment]}]");
    let go = |app: &str| {
        routed(
            &event(
                "release:create",
                "success",
                json!({"rack": "production", "app": app}),
            ),
            Some(&doc),
        )
    };
    assert_eq!(
        go("web"),
        [
            "slack:#web-team (route both)",
            "slack:#production-deploys (route both)"
        ]
    );
    assert_eq!(
        go("api"),
        ["slack:#production-deploys (route both)"],
        "no owner: only what is known"
    );
    let owner_only = document("routes: [{to: [owner]}, {to: [default]}]");
    assert_eq!(
        routed(
            &event("release:create", "success", json!({"app": "api"})),
            Some(&owner_only)
        ),
        ["slack:#general (route #2)"],
        "a route with no destination for this event is passed over"
    );
}

#[test]
fn drop_keeps_noise_out_and_each_destination_gets_an_event_once() {
    let doc = document(
        "routes:
          - {name: quiet, match: {type: release:scale}, drop: true}
          - {name: a, to: ['#deploys', 'discord:#42'], mention: ['@U0123'], continue: true}
          - {name: b, to: ['#deploys', 'discord:#42'], mention: ['@S0ONCALL', 'discord:@&7']}",
    );
    assert_eq!(
        routed(&event("release:scale", "success", json!({})), Some(&doc)),
        ["dropped by quiet"]
    );
    let Routed::To(chosen) = route(
        &event("release:create", "success", json!({})),
        &seed(),
        Some(&doc),
        None,
    ) else {
        panic!("routed nowhere")
    };
    assert_eq!(chosen.len(), 2);
    assert_eq!(
        chosen[0].mentions,
        [
            Mention::SlackUser("U0123".into()),
            Mention::SlackGroup("S0ONCALL".into())
        ]
    );
    assert_eq!(chosen[1].mentions, [Mention::DiscordRole("7".into())]);
}

#[test]
fn a_document_names_the_route_and_field_that_is_wrong() {
    let context = Context {
        default_provider: Provider::Slack,
        tokens: vec![Provider::Slack],
        webhook_path: Some("/hooks".into()),
    };
    let error = |yaml: &str| {
        RoutingDocument::parse(yaml, "test", &context)
            .unwrap_err()
            .problem
    };
    assert_eq!(
        error("routes: [{name: a, to: ['#x']}, {name: a, to: ['#y']}]"),
        "route 2 (`a`): repeats the name of an earlier route"
    );
    assert_eq!(
        error("routes: [{name: a, drop: true, to: ['#x']}]"),
        "route 1 (`a`): `drop` and `to` exclude each other"
    );
    assert_eq!(
        error("routes: [{name: a}]"),
        "route 1 (`a`): has no `to`: name where it sends, or `drop: true`"
    );
    assert!(
        error("routes: [{name: a, to: ['slack-webhook:/other/x']}]")
            .contains("must be under `/hooks/`")
    );
    assert!(
        error("routes: [{name: a, to: ['#x'], mention: ['discord:@1']}]")
            .contains("the route sends nothing there")
    );
    assert!(
        error("routes: [{name: a, to: ['#x'], match: {status: broken}}]")
            .contains("`match.status`: `broken` is not one of")
    );
    assert!(
        error("routes: [{name: a, to: ['#x'], matches: {}}]").contains("unknown field `matches`")
    );
    assert!(error("routes: [{name: a, to: ['@bob']}]").contains("cannot message users by name"));
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    const ACTIONS: &[&str] = &[
        "release:promote",
        "release:scale",
        "alert:firing",
        "app:create",
        "app:budget:cap",
    ];

    proptest! {
        /// Whatever the document, every event goes somewhere (or is dropped by a route that says so), and
        /// never twice to one destination.
        #[test]
        fn every_event_is_routed_and_each_destination_once(
            action in proptest::sample::select(ACTIONS),
            status in proptest::sample::select(&["success", "error", "start"][..]),
            routes in proptest::collection::vec((0usize..4, 0usize..3, any::<bool>(), any::<bool>()), 0..6),
        ) {
            let patterns = ["'*'", "'release:*'", "alert:firing", "'app:*'"];
            let channels = ["'#a'", "'#b'", "owner"];
            let yaml: String = routes.iter().enumerate().map(|(i, (p, c, cont, drop))| {
                let to = if *drop { "drop: true".to_owned() } else { format!("to: [{}]", channels[*c]) };
                format!("  - {{name: r{i}, match: {{type: {}}}, {to}, continue: {cont}}}\n", patterns[*p])
            }).collect();
            let doc = (!routes.is_empty()).then(|| document(&format!("routes:\n{yaml}")));
            let event = event(action, status, json!({"app": "api", "rack": "staging"}));
            match route(&event, &seed(), doc.as_ref(), None) {
                Routed::To(chosen) => {
                    prop_assert!(!chosen.is_empty());
                    let mut seen: Vec<_> = chosen.iter().map(|c| c.destination.clone()).collect();
                    seen.sort();
                    seen.dedup();
                    prop_assert_eq!(seen.len(), chosen.len());
                }
                Routed::Dropped { route } => {
                    let index: usize = route[1..].parse().unwrap();
                    prop_assert!(routes[index].3);
                }
            }
        }
    }
}
