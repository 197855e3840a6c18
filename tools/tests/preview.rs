//! `preview` end to end: the example routing document runs and sends each sample where its routes say,
//! the live messages are listed as they end, and the HTML picture shows event text only as text.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tools/ sits in the workspace")
}

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("preview-test-{}-{name}", std::process::id()))
}

/// Runs `preview` from the workspace root; what it printed, after checking that it succeeded.
fn preview(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_preview"))
        .current_dir(workspace())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run preview");
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    printed
}

/// What a sample's invocation reported, one line per destination, without the parts that change from
/// run to run (where exactly it landed, the message ids).
fn outcome<'a>(printed: &'a str, file: &str) -> Vec<&'a str> {
    let header = format!("{file} → ");
    printed
        .lines()
        .skip_while(|line| !line.starts_with(&header))
        .skip(1)
        .take_while(|line| line.starts_with("  ✓") || line.starts_with("  –"))
        .map(|line| {
            let line = line.trim();
            let line = line.split(" → ").next().unwrap_or(line);
            line.split(", message ").next().unwrap_or(line)
        })
        .collect()
}

#[test]
fn the_example_routing_document_runs_and_sends_each_event_where_its_routes_say() {
    let html = scratch("routes.html");
    let printed = preview(&[
        "--routes",
        "docs/examples/routes.yaml",
        "--html",
        html.to_str().unwrap(),
    ]);
    let expected: [(&str, &[&str]); 8] = [
        ("release-scale.json", &["– dropped by route no-scaling"]),
        (
            "alert-firing.json",
            &[
                "✓ Slack #oncall by route oncall",
                "✓ Discord #888888888888888888 by route oncall",
            ],
        ),
        (
            "release-create.json",
            &[
                "✓ Slack #web-team by route owner",
                "✓ Slack #deploys by route deploys",
                "✓ Discord webhook /rack-notifications/webhooks/deploys by route deploys",
            ],
        ),
        (
            "workflow-complete.json",
            &[
                "✓ Slack #web-team by route owner",
                "✓ Slack #production-deploys by route environment",
            ],
        ),
        (
            "app-promote-errored.json",
            &[
                "✓ Slack @U0123ABC by route owner",
                "✓ Slack #staging-deploys by route staging-failures",
            ],
        ),
        (
            "app-budget-auto-shutdown-armed.json",
            &["✓ Slack @U0123ABC by route owner"],
        ),
        ("app-create.json", &["– dropped by route staging-quiet"]),
        (
            "audit-app-budget-set.json",
            &["– skipped: audit-only event"],
        ),
    ];
    for (file, destinations) in expected {
        assert_eq!(outcome(&printed, file), destinations, "{file}:\n{printed}");
    }
    assert!(
        printed.contains("Slack stack: 24 delivered, 9 skipped, 0 failed"),
        "{printed}"
    );
    let live = printed
        .split("── live messages as they end ──")
        .nth(1)
        .expect("the live messages");
    let root = |place: &str, edited: &str| {
        live.lines().any(|line| {
            line.starts_with(&format!("  {place}  (message ")) && line.ends_with(edited)
        })
    };
    assert!(root("Slack #deploys", "edited 5 times)"), "{live}");
    assert!(root("Slack #web-team", "edited 5 times)"), "{live}");
    assert!(
        root("Discord #888888888888888888", "edited once)"),
        "{live}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    std::fs::remove_file(&html).unwrap();
    for column in [
        "#deploys",
        "#oncall",
        "#888888888888888888",
        "DM billing owner",
    ] {
        assert!(page.contains(&format!("</span>{column}</h3>")), "{column}");
    }
}

#[test]
fn the_picture_shows_event_text_as_text() {
    let mut event: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("events/alert-firing.json")).unwrap(),
    )
    .unwrap();
    let hostile = "<script>alert(1)</script> <img src=x onerror=alert(2)> \"quoted\" *bold* `code`";
    event["detail"]["data"]["message"] = hostile.into();
    event["detail"]["data"]["app"] = "<b>api</b>".into();
    let sample = scratch("hostile.json");
    std::fs::write(&sample, event.to_string()).unwrap();
    let html = scratch("hostile.html");
    preview(&["--html", html.to_str().unwrap(), sample.to_str().unwrap()]);
    let page = std::fs::read_to_string(&html).unwrap();
    std::fs::remove_file(&html).unwrap();
    std::fs::remove_file(&sample).unwrap();
    assert!(
        !page.contains("<script") && !page.contains("<img") && !page.contains("<b>api"),
        "{page}"
    );
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(page.contains("&lt;b&gt;api&lt;/b&gt;"), "{page}");
}
