"""docs/deploy.md against template.yaml: every parameter is in its table, and every alarm's description
points to a section of it that exists and names the alarm."""

from __future__ import annotations

import re

from cfn import PSEUDO, ROOT, Stack, transformed

TEMPLATE = transformed()
DEPLOY_DOC = (ROOT / "docs" / "deploy.md").read_text()
STACK_NAME = PSEUDO["AWS::StackName"]


def test_deploy_doc_describes_every_parameter():
    rows = set(re.findall(r"^\| `?(\w+)`? \|", DEPLOY_DOC, re.M))
    missing = set(TEMPLATE["Parameters"]) - rows
    assert not missing


def test_alarm_descriptions_point_to_sections_of_the_deploy_doc():
    headings = re.findall(r"^#+ (.+)$", DEPLOY_DOC, re.M)
    alarms = Stack(TEMPLATE).resources("AWS::CloudWatch::Alarm")
    assert alarms
    for logical_id, alarm in alarms.items():
        match = re.search(r'see docs/deploy\.md, "([^"]+)", ([\w-]+)\.$', alarm["AlarmDescription"])
        assert match, f"{logical_id}: {alarm['AlarmDescription']}"
        section, name = match.groups()
        assert section in headings, f"{logical_id}: docs/deploy.md has no section {section!r}"
        assert alarm["AlarmName"] == f"{STACK_NAME}-{name}", logical_id
        assert [h for h in headings if h.endswith(f"-{name}`")], f"docs/deploy.md has no heading for {name}"
