"""The webhook receiver's block of template.yaml: a public Function URL, its settings, and a role that may
put events on the one bus and read the one parameter of signing keys, nothing else.

Run: .ci/setup && .venv/bin/pytest tests/template
"""

from __future__ import annotations

from test_rules import TEMPLATE_DOC

RESOURCES = TEMPLATE_DOC["Resources"]
FUNCTION = RESOURCES["RackWebhookFunction"]
PROPERTIES = FUNCTION["Properties"]


def test_the_receiver_is_a_public_function_url_built_from_its_binary():
    assert FUNCTION["Metadata"] == {"BuildMethod": "rust-cargolambda", "BuildProperties": {"Binary": "rack-webhook"}}
    assert PROPERTIES["FunctionUrlConfig"] == {"AuthType": "NONE"}
    outputs = TEMPLATE_DOC["Outputs"]
    assert outputs["RackWebhookUrl"]["Value"] == {"Fn::GetAtt": ["RackWebhookFunctionUrl", "FunctionUrl"]}


def test_it_puts_on_the_rules_bus_with_their_source():
    variables = PROPERTIES["Environment"]["Variables"]
    assert variables["RACK_EVENT_BUS"] == {"Ref": "EventBusName"}
    assert variables["RACK_EVENT_SOURCE"] == {"Ref": "EventSource"}
    assert variables["RACK_SIGNING_KEYS_PARAMETER"] == {"Ref": "SigningKeysParameterName"}
    assert variables["RACK_ALLOW_UNSIGNED"] == {"Ref": "AllowUnsigned"}
    assert TEMPLATE_DOC["Parameters"]["AllowUnsigned"]["Default"] == "false"
    # The notify functions' settings from Globals are removed, the metrics' namespace is the alarms'.
    notify = TEMPLATE_DOC["Globals"]["Function"]["Environment"]["Variables"]
    assert all(
        variables[name] == {"Ref": "AWS::NoValue"} for name in notify if name != "NOTIFICATIONS_METRICS_NAMESPACE"
    )
    namespace = variables["NOTIFICATIONS_METRICS_NAMESPACE"]
    for alarm in ("RackWebhookBusFailedAlarm", "RackWebhookKeysUnavailableAlarm"):
        assert RESOURCES[alarm]["Properties"]["Namespace"] == namespace
        assert RESOURCES[alarm]["Properties"]["Dimensions"] == [{"Name": "Function", "Value": "rack-webhook"}]


def test_no_concurrency_is_reserved_and_no_asynchronous_destination_is_granted():
    assert PROPERTIES["ReservedConcurrentExecutions"] == {"Ref": "AWS::NoValue"}
    assert PROPERTIES["EventInvokeConfig"] == {"Ref": "AWS::NoValue"}


def test_its_role_may_put_on_the_one_bus_and_read_the_one_parameter_only():
    assert PROPERTIES["Policies"] == [{"Ref": "RackWebhookPolicy"}]
    # A statement under a condition (the parameters' key) counts with both its branches.
    statements = [
        branch
        for s in RESOURCES["RackWebhookPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        for branch in (s["Fn::If"][1:] if "Fn::If" in s else [s])
    ]
    # A resource under a condition (the bus, by name or ARN) counts with both its branches too.
    granted = {
        (s["Action"], branch.get("Fn::Sub") or branch.get("Ref"))
        for s in statements
        for branch in (s["Resource"]["Fn::If"][1:] if "Fn::If" in s["Resource"] else [s["Resource"]])
    }
    assert granted == {
        ("events:PutEvents", "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}"),
        ("events:PutEvents", "EventBusName"),
        (
            "ssm:GetParameter",
            "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SigningKeysParameterName}",
        ),
        ("kms:Decrypt", "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"),
        ("kms:Decrypt", "ParameterKmsKeyArn"),
    }
    for decrypt in (s for s in statements if s["Action"] == "kms:Decrypt"):
        assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == {
            "Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"
        }
    assert all(s["Effect"] == "Allow" for s in statements)


def test_a_bus_given_by_its_arn_is_the_policys_resource_as_it_is():
    condition = TEMPLATE_DOC["Conditions"]["EventBusIsArn"]
    assert condition == {"Fn::Equals": [{"Fn::Select": [0, {"Fn::Split": [":", {"Ref": "EventBusName"}]}]}, "arn"]}
    put = next(
        s
        for s in RESOURCES["RackWebhookPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Action") == "events:PutEvents"
    )
    assert put["Resource"]["Fn::If"][:2] == ["EventBusIsArn", {"Ref": "EventBusName"}]
