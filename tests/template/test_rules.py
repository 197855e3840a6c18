"""The EventBridge rules of template.yaml, checked with moto's event pattern engine.

Every function's `EventBridgeRule` pattern is read from the template itself (EventSource replaced by its
default), and each event type is checked to reach exactly the expected function, or none at all.

Run: .ci/setup && .venv/bin/pytest tests/template
"""

from __future__ import annotations

import json
import pathlib
import re
import uuid

import boto3
import pytest
from cfn import FUNCTIONS, ROOT, load_template
from moto import mock_aws
from moto.events.models import EventPattern

EVENTS_DIR = ROOT / "events"

# --------------------------------------------------------------------------- reading the template


def resolve_parameters(node, defaults: dict):
    """Replaces {"Ref": <parameter>} by the parameter's default; fails on any other intrinsic."""
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in defaults:
            return defaults[node["Ref"]]
        intrinsics = [key for key in node if key == "Ref" or key.startswith("Fn::")]
        assert not intrinsics, f"unexpected intrinsic in an event pattern: {node}"
        return {key: resolve_parameters(value, defaults) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve_parameters(item, defaults) for item in node]
    return node


def rule_events(template: dict, logical_id: str) -> list[dict]:
    events = template["Resources"][logical_id]["Properties"].get("Events", {})
    return [event for event in events.values() if event["Type"] == "EventBridgeRule"]


TEMPLATE_DOC = load_template()
PARAMETER_DEFAULTS = {name: spec.get("Default") for name, spec in TEMPLATE_DOC["Parameters"].items()}
SOURCE = PARAMETER_DEFAULTS["EventSource"]
PATTERNS = {
    category: resolve_parameters(rule_events(TEMPLATE_DOC, logical_id)[0]["Properties"]["Pattern"], PARAMETER_DEFAULTS)
    for category, logical_id in FUNCTIONS.items()
}
MATCHERS = {category: EventPattern.load(json.dumps(pattern)) for category, pattern in PATTERNS.items()}


def envelope(detail_type: str, status: str | None = "success", source: str = SOURCE, **data: str) -> dict:
    detail = {
        "action": detail_type,
        "data": {"rack": "staging", "app": "web", **data},
        "timestamp": "2026-11-22T18:43:48Z",
    }
    if status is not None:
        detail["status"] = status
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2026-11-22T18:43:48Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def reached(event: dict) -> set[str]:
    return {category for category, matcher in MATCHERS.items() if matcher.matches_event(event)}


# --------------------------------------------------------------------------- the expectations

# The seed's event table (mirrors EVENT_TYPES in shared/src/category.rs), with the category that owns each.
SEED_TABLE = {
    "app:create": "app",
    "app:delete": "app",
    "build:create": "release",  # "Build failed"; a successful one only as a step of its release (below)
    "release:create": "release",
    "release:promote": "release",
    "release:finish": "release",
    "release:scale": "release",
    "app:promote:completed": "release",
    "app:promote:errored": "release",
    "app:promote:cancelled": "release",
    "resource:create": "infrastructure",
    "resource:delete": "infrastructure",
    "system:update": "infrastructure",
    "rack:update": "infrastructure",
    "workflow:complete": "workflow",
    "alert:firing": "alert",
    "alert:resolved": "alert",
    "app:budget:threshold": "budget",
    "app:budget:cap": "budget",
    "app:budget:auto-shutdown:armed": "budget",
    "app:budget:auto-shutdown:fired": "budget",
    "app:budget:auto-shutdown:cancelled": "budget",
    "app:budget:auto-shutdown:restored": "budget",
    "app:budget:auto-shutdown:expired": "budget",
    "app:budget:auto-shutdown:flap-suppressed": "budget",
    "app:budget:auto-shutdown:failed": "budget",
    "app:budget:auto-shutdown:simulated": "budget",
}

AUDIT_ONLY = [
    "app:budget:set",
    "app:budget:clear",
    "app:budget:reset",
    "app:triggers-override:toggled",
    "app:triggers-override:threshold-set",
    "app:scale-override:toggled",
    "app:scale-override:honored",
    "app:triggers-override:something-new",
    "app:scale-override:something-new",
]

# Unknown types inside a namespace go to the namespace's function.
UNKNOWN_IN_NAMESPACE = {
    "release:autoscale-disabled": "release",
    "build:import-image:done": "release",
    "app:promote:something-new": "release",
    "app:restart": "app",
    "app:pause": "app",  # starts like app:promote:
    "app:backup": "app",  # starts like app:budget:
    "app:budget": "app",  # no trailing colon: not in the app:budget:* namespace
    "app:scale": "app",  # starts like app:scale-override:
    "app:triggers": "app",  # starts like app:triggers-override:
    "app:env:set": "app",
    "app:1password-sync": "app",
    "resource:update": "infrastructure",
    "system:scale": "infrastructure",
    "workflow:started": "workflow",
    "alert:silenced": "alert",
    "app:budget:something-new": "budget",
    "app:budget:auto-shutdown:something-new": "budget",
}

# (test id, detail-type, detail.status or None when absent, source, expected category or None)
CASES: list[tuple[str, str, str | None, str, str | None]] = []
for detail_type, category in SEED_TABLE.items():
    status = "error" if detail_type == "build:create" else "success"
    CASES.append((f"seed:{detail_type}:{status}", detail_type, status, SOURCE, category))
for status in ("start", "success", "error", "cancelled"):
    CASES.append((f"status:release:promote:{status}", "release:promote", status, SOURCE, "release"))
for status, category in {
    "success": None,
    None: None,
    "": None,
    "error": "release",
    "failed": "release",
    "skipped": "release",
}.items():
    CASES.append((f"status:build:create:{status if status is not None else 'absent'}", "build:create", status, SOURCE, category))
# A successful build:create (status "success", "" or absent) reaches the release function only with a
# release_id, as a step of that release's live message; a failed one always.
BUILDS: list[tuple[str, str | None, str | None, str | None]] = [
    # (test id, detail.status or None when absent, data.release_id or None when absent, expected category)
    ("success:with-release", "success", "RJHGFDSAQW", "release"),
    ("empty-status:with-release", "", "RJHGFDSAQW", "release"),
    ("absent-status:with-release", None, "RJHGFDSAQW", "release"),
    ("success:no-release", "success", None, None),
    ("empty-status:no-release", "", None, None),
    ("absent-status:no-release", None, None, None),
    ("success:empty-release", "success", "", None),
    ("absent-status:empty-release", None, "", None),
    ("error:with-release", "error", "RJHGFDSAQW", "release"),
    ("skipped:no-release", "skipped", None, "release"),
]
for detail_type in ("app:create", "release:promote", "app:budget:cap"):
    CASES.append((f"status-absent:{detail_type}", detail_type, None, SOURCE, SEED_TABLE[detail_type]))
for detail_type in AUDIT_ONLY:
    CASES.append((f"audit-only:{detail_type}", detail_type, "success", SOURCE, None))
for detail_type, category in UNKNOWN_IN_NAMESPACE.items():
    CASES.append((f"unknown:{detail_type}", detail_type, "success", SOURCE, category))
for detail_type in ("service:restart", "apps:create", "application:create", "rack", "releases:create", "budget:cap"):
    CASES.append((f"no-namespace:{detail_type}", detail_type, "success", SOURCE, None))
for source in ("aws.ec2", "convox.rack.other", "Convox.Rack", "custom.rack"):
    for detail_type in ("release:promote", "app:create", "app:budget:cap", "alert:firing"):
        CASES.append((f"other-source:{source}:{detail_type}", detail_type, "success", source, None))

# events/ samples -> the category function that must receive them (None: no function).
SAMPLES = {
    "app-create.json": "app",
    "app-delete.json": "app",
    "build-create-error.json": "release",
    "build-create-success.json": "release",  # carries data.release_id: a step of that release
    "release-create.json": "release",
    "release-promote-start.json": "release",
    "release-promote-success.json": "release",
    "release-promote-error.json": "release",
    "release-finish.json": "release",
    "release-scale.json": "release",
    "app-promote-completed.json": "release",
    "app-promote-errored.json": "release",
    "app-promote-cancelled.json": "release",
    "resource-create.json": "infrastructure",
    "resource-delete.json": "infrastructure",
    "rack-update.json": "infrastructure",
    "system-update.json": "infrastructure",
    "workflow-complete.json": "workflow",
    "alert-firing.json": "alert",
    "alert-resolved.json": "alert",
    "app-budget-threshold.json": "budget",
    "app-budget-cap.json": "budget",
    "app-budget-auto-shutdown-armed.json": "budget",
    "app-budget-auto-shutdown-fired.json": "budget",
    "app-budget-auto-shutdown-cancelled.json": "budget",
    "app-budget-auto-shutdown-restored.json": "budget",
    "app-budget-auto-shutdown-expired.json": "budget",
    "app-budget-auto-shutdown-flap-suppressed.json": "budget",
    "app-budget-auto-shutdown-failed.json": "budget",
    "app-budget-auto-shutdown-simulated.json": "budget",
    "audit-app-budget-set.json": None,
    "release-autoscale-disabled.json": "release",
    "build-import-image-done.json": "release",
}


# --------------------------------------------------------------------------- routing


@pytest.mark.parametrize(
    ("detail_type", "status", "source", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_event_reaches_exactly_its_function(detail_type, status, source, expected):
    want = {expected} if expected else set()
    assert reached(envelope(detail_type, status, source)) == want


@pytest.mark.parametrize(
    ("status", "release_id", "expected"), [case[1:] for case in BUILDS], ids=[case[0] for case in BUILDS]
)
def test_build_create_reaches_release_when_failed_or_part_of_a_release(status, release_id, expected):
    data = {} if release_id is None else {"release_id": release_id}
    want = {expected} if expected else set()
    assert reached(envelope("build:create", status, **data)) == want


def test_audit_only_events_match_nothing_even_with_a_release():
    """An audit-only event carrying a release_id must not slip through the successful-build branches."""
    for detail_type in AUDIT_ONLY:
        assert reached(envelope(detail_type, "success", release_id="RJHGFDSAQW")) == set(), detail_type


@pytest.mark.parametrize("name", sorted(p.name for p in EVENTS_DIR.glob("*.json")))
def test_sample_event_reaches_exactly_its_function(name):
    assert name in SAMPLES, f"events/{name} has no expected function in SAMPLES"
    event = json.loads((EVENTS_DIR / name).read_text())
    want = {SAMPLES[name]} if SAMPLES[name] else set()
    assert reached(event) == want


def test_every_listed_sample_exists():
    missing = sorted(name for name in SAMPLES if not (EVENTS_DIR / name).is_file())
    assert not missing


def test_seed_table_matches_the_rust_event_table():
    """SEED_TABLE must list exactly the event types of the Rust EVENT_TYPES table (shared/src), so that a type
    added there gets its routing checked here."""
    sources = sorted((ROOT / "shared" / "src").rglob("*.rs"))
    if not sources:
        pytest.skip("shared/src not present")
    blocks = [
        match.group(1)
        for path in sources
        for match in re.finditer(r"const EVENT_TYPES[^=]*=\s*&\[(.*?)\n\];", path.read_text(), re.S)
    ]
    assert len(blocks) == 1, "expected one `const EVENT_TYPES` table under shared/src"
    rust_types = set(re.findall(r'\(\s*"([^"]+)"\s*,', blocks[0]))
    assert rust_types == set(SEED_TABLE)


# --------------------------------------------------------------------------- the rules' shape


@pytest.mark.parametrize("category", FUNCTIONS)
def test_rule_is_restricted_to_the_source_and_bus(category):
    logical_id = FUNCTIONS[category]
    events = rule_events(TEMPLATE_DOC, logical_id)
    assert len(events) == 1, f"{logical_id} must have exactly one EventBridgeRule event"
    props = events[0]["Properties"]
    assert props["Pattern"]["source"] == [{"Ref": "EventSource"}]
    assert props["EventBusName"] == {"Ref": "EventBusName"}
    assert {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"} <= set(props["RetryPolicy"])
    assert "Arn" in props["DeadLetterConfig"]


@pytest.mark.parametrize("category", FUNCTIONS)
def test_function_builds_its_own_binary(category):
    resource = TEMPLATE_DOC["Resources"][FUNCTIONS[category]]
    binary = resource["Metadata"]["BuildProperties"]["Binary"]
    assert binary == f"notify-{category}"
    assert resource["Metadata"]["BuildMethod"] == "rust-cargolambda"
    assert (ROOT / "functions" / binary / "Cargo.toml").is_file()


# --------------------------------------------------------------------------- through moto's EventBridge API


@mock_aws
def test_samples_through_moto_eventbridge_to_queues():
    """The same patterns installed as rules on moto's default bus, with one SQS target per function."""
    region = "us-east-1"
    events = boto3.client("events", region_name=region)
    sqs = boto3.client("sqs", region_name=region)
    queues = {}
    for category, pattern in PATTERNS.items():
        url = sqs.create_queue(QueueName=f"notify-{category}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=f"notify-{category}", EventPattern=json.dumps(pattern), State="ENABLED")
        events.put_targets(Rule=f"notify-{category}", Targets=[{"Id": "queue", "Arn": arn}])
        queues[category] = url

    names = sorted(SAMPLES)
    entries = []
    for name in names:
        event = json.loads((EVENTS_DIR / name).read_text())
        entries.append(
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
                "EventBusName": "default",
            }
        )
    for start in range(0, len(entries), 10):
        result = events.put_events(Entries=entries[start : start + 10])
        assert result["FailedEntryCount"] == 0

    received: dict[str, list[str]] = {}
    for category, url in queues.items():
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            for message in messages:
                body = json.loads(message["Body"])
                received.setdefault(category, []).append(body["detail-type"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    expected: dict[str, list[str]] = {}
    for name in names:
        if SAMPLES[name]:
            event = json.loads((EVENTS_DIR / name).read_text())
            expected.setdefault(SAMPLES[name], []).append(event["detail-type"])
    assert {k: sorted(v) for k, v in received.items()} == {k: sorted(v) for k, v in expected.items()}


# --------------------------------------------------------------------------- the samples themselves


def _samples() -> list[pathlib.Path]:
    return sorted(EVENTS_DIR.glob("*.json"))


@pytest.mark.parametrize("path", _samples(), ids=lambda p: p.name)
def test_sample_is_a_full_eventbridge_envelope(path):
    event = json.loads(path.read_text())
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert event["version"] == "0"
    assert str(uuid.UUID(event["id"])) == event["id"]
    assert event["source"] == SOURCE
    assert event["resources"] == []
    detail = event["detail"]
    assert detail["action"] == event["detail-type"]
    assert isinstance(detail["data"], dict) and detail["data"]
    assert all(isinstance(value, str) for value in detail["data"].values())
    assert detail["data"]["rack"] in ("staging", "production")
    if detail.get("status") == "error":
        assert detail["data"].get("message"), "failures carry their error text in data.message"


def test_sample_ids_are_unique():
    ids = [json.loads(path.read_text())["id"] for path in _samples()]
    assert len(ids) == len(set(ids))
