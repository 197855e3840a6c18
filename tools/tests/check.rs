//! `preview --check` as an operator runs it: the settings from the environment, and, against moto, the
//! routing document's SSM parameter and the service catalog's owners.

use std::process::Command;

use standins::MotoServer;

/// Runs `preview --check` with only `env` (and PATH) set: whether it passed, and what it printed.
fn check(env: &[(String, String)]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_preview"))
        .arg("--check")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        // Credentials come from the test or from nowhere, never from an instance metadata service.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().cloned())
        .output()
        .expect("run preview --check");
    let printed = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), printed)
}

/// A full set of settings, with `changes` laid over it (an empty value unsets a variable).
fn settings(changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = [
        ("NOTIFICATIONS_PROVIDER", "slack"),
        ("NOTIFICATIONS_TOKEN_PARAMETER", "/rack-notifications/token"),
        ("NOTIFICATIONS_DEFAULT_CHANNEL", "general"),
        (
            "NOTIFICATIONS_CHANNEL_MAPPING",
            "staging=staging-deploys,production=production-deploys",
        ),
        (
            "NOTIFICATIONS_OWNER_MAPPING",
            "web=#web-team,billing=@U0123ABC",
        ),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (name, value) in changes {
        vars.retain(|(k, _)| k != name);
        if !value.is_empty() {
            vars.push((name.to_string(), value.to_string()));
        }
    }
    vars
}

const ROUTES: &str = "routes:
  - {name: oncall, match: {category: alert}, to: ['#oncall']}
  - {name: quiet, match: {type: release:scale}, drop: true}";

#[test]
fn good_settings_pass_with_a_one_line_summary() {
    let (passed, printed) = check(&settings(&[("NOTIFICATIONS_ROUTES", ROUTES)]));
    assert!(passed, "{printed}");
    assert_eq!(printed.lines().count(), 1, "{printed}");
    assert!(printed.starts_with("OK: Slack (main), token in SSM parameter `/rack-notifications/token`; default #general, 2 rack channel(s), 2 owner(s); routing document in NOTIFICATIONS_ROUTES: 2 routes"), "{printed}");
}

#[test]
fn each_bad_setting_fails_naming_its_variable_and_place() {
    let cases = [
        (
            ("NOTIFICATIONS_CHANNEL_MAPPING", "staging=a, production"),
            "✗ NOTIFICATIONS_CHANNEL_MAPPING: item 2 (`production`) has no `=`",
        ),
        (
            ("NOTIFICATIONS_PROVIDER", ""),
            "✗ NOTIFICATIONS_PROVIDER is not set",
        ),
        (
            ("NOTIFICATIONS_OWNER_MAPPING", "web=@bob"),
            "✗ NOTIFICATIONS_OWNER_MAPPING: item 1 (`web=@bob`) `@bob` is not a Slack user id",
        ),
        (
            (
                "NOTIFICATIONS_ROUTES",
                "routes: [{name: oncall, match: {category: alerts}, to: ['#oncall']}]",
            ),
            "✗ NOTIFICATIONS_ROUTES: route 1 (`oncall`): `match.category`: `alerts` is not one of",
        ),
        (
            (
                "NOTIFICATIONS_ROUTES",
                "routes: [{name: d, to: ['discord:#42']}]",
            ),
            "✗ NOTIFICATIONS_ROUTES: route 1 (`d`): `to` item 1: `discord:#42` needs a Discord bot token",
        ),
    ];
    for ((name, value), expected) in cases {
        let (passed, printed) = check(&settings(&[(name, value)]));
        assert!(!passed, "{name}={value} passed:\n{printed}");
        assert!(printed.contains(expected), "{name}={value}:\n{printed}");
        assert!(printed.ends_with("1 problem\n"), "{printed}");
    }
}

#[test]
fn without_aws_the_parameters_are_named_as_not_checked() {
    let (passed, printed) = check(&settings(&[
        (
            "NOTIFICATIONS_ROUTES_PARAMETER",
            "/rack-notifications/routes",
        ),
        ("NOTIFICATIONS_CATALOG_PATH", "/catalog"),
    ]));
    assert!(passed, "{printed}");
    assert!(
        printed.starts_with("– not checked: the routing document in SSM parameter `/rack-notifications/routes` and the service catalog under `/catalog` (AWS is not reachable: no region (AWS_REGION))"),
        "{printed}"
    );
    assert!(printed.contains("\nOK: "), "{printed}");
}

#[tokio::test]
async fn against_ssm_the_routing_document_and_every_owner_are_checked() {
    let moto = MotoServer::start().await;
    let aws: Vec<(String, String)> = moto.function_env();
    let run = |changes: &[(&str, &str)]| {
        let mut env = settings(changes);
        env.extend(aws.iter().cloned());
        check(&env)
    };
    let stack = [
        (
            "NOTIFICATIONS_ROUTES_PARAMETER",
            "/rack-notifications/routes",
        ),
        ("NOTIFICATIONS_CATALOG_PATH", "/catalog"),
    ];

    let (passed, printed) = run(&stack);
    assert!(!passed, "{printed}");
    assert!(
        printed.contains("✗ NOTIFICATIONS_ROUTES_PARAMETER: SSM parameter `/rack-notifications/routes` does not exist"),
        "{printed}"
    );

    moto.put_secure_parameter("/rack-notifications/routes", ROUTES)
        .await;
    moto.put_secure_parameter("/catalog/web/owner-im", "#web-team")
        .await;
    moto.put_secure_parameter("/catalog/api/owner-im", " @U0999 ")
        .await;
    moto.put_secure_parameter("/catalog/cache/owner-im", " ")
        .await;
    // Not an Owner IM: the catalog holds other things under the same path.
    moto.put_secure_parameter("/catalog/api/language", "rust")
        .await;
    let (passed, printed) = run(&stack);
    assert!(passed, "{printed}");
    assert!(
        printed.contains("routing document in SSM parameter `/rack-notifications/routes`: 2 routes; catalog under `/catalog`: 3 owner(s)"),
        "{printed}"
    );

    moto.put_secure_parameter(
        "/rack-notifications/routes",
        "routes: [{name: hooks, to: ['slack-webhook:/elsewhere/hook']}]",
    )
    .await;
    moto.put_secure_parameter("/catalog/api/owner-im", "@bob")
        .await;
    moto.put_secure_parameter("/catalog/web/owner-im", "discord:#42")
        .await;
    let (passed, printed) = run(&[
        stack[0],
        stack[1],
        ("NOTIFICATIONS_WEBHOOK_PATH", "/rack-notifications/webhooks"),
    ]);
    assert!(!passed, "{printed}");
    for expected in [
        "✗ NOTIFICATIONS_ROUTES_PARAMETER: routing document in SSM parameter `/rack-notifications/routes`: route 1 (`hooks`): `to` item 1: `slack-webhook:/elsewhere/hook`: webhook parameters must be under `/rack-notifications/webhooks/`",
        "✗ catalog parameter `/catalog/api/owner-im`: `@bob` is not a Slack user id",
        "✗ catalog parameter `/catalog/web/owner-im`: `discord:#42` is on Discord, and the stack has no Discord bot token",
        "3 problems",
    ] {
        assert!(printed.contains(expected), "{expected}\nnot in:\n{printed}");
    }
}
