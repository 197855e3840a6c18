"""What can be checked of template.yaml without deploying it: parameter values CloudFormation refuses (patterns
and Rules), what each set of values makes of the functions (reservation, settings), the exact IAM grants, the
alarms and the dashboard.

The template goes through the SAM transform first (tests/template/cfn.py), so Globals are checked as SAM
merges them into each AWS::Lambda::Function.
"""

from __future__ import annotations

import json
import re

import pytest
from cfn import FUNCTIONS, PSEUDO, ROOT, Refused, Stack, transformed

TEMPLATE = transformed()
SHARED = ROOT / "shared" / "src"
STACK_NAME = PSEUDO["AWS::StackName"]
TABLE_ARN = "DeliveriesTable.Arn"  # what cfn.Stack makes of !GetAtt DeliveriesTable.Arn


def stack(**values: str) -> Stack:
    return Stack(TEMPLATE, **values)


def parameter_arn(name: str) -> str:
    return f"arn:aws:ssm:{PSEUDO['AWS::Region']}:{PSEUDO['AWS::AccountId']}:parameter{name}"


def rust_sources() -> str:
    return "\n".join(path.read_text() for path in sorted(SHARED.rglob("*.rs")))


# --------------------------------------------------------------------------- parameter values

# (parameter, value) that CloudFormation must accept: the defaults, the README's examples, and each form of
# destination the functions read (shared/src/destination.rs).
ACCEPTED = [
    ("DefaultChannel", "general"),
    ("DefaultChannel", "#general"),
    ("DefaultChannel", "deploys"),
    ("DefaultChannel", "staging-deploys"),
    ("DefaultChannel", "C0123ABC"),
    ("DefaultChannel", "@U0123ABC"),
    ("DefaultChannel", "@W0123ABC"),
    ("DefaultChannel", "@person@example.com"),
    ("DefaultChannel", "112233445566778899"),
    ("DefaultChannel", "#112233445566778899"),
    ("DefaultChannel", "@112233445566778899"),
    ("DefaultChannel", "slack:#deploys"),
    ("DefaultChannel", "discord:#112233445566778899"),
    ("DefaultChannel", "slack-webhook:/rack-notifications/webhooks/ops"),
    ("DefaultChannel", "お知らせ"),  # Slack channel names need not be Latin
    ("ChannelMapping", ""),
    ("ChannelMapping", "staging=staging-deploys,production=production-deploys"),
    ("ChannelMapping", "production=998877665544332211"),
    ("ChannelMapping", " staging = staging-deploys , production = #production-deploys "),
    ("ChannelMapping", "staging=deploys,"),  # an empty item is ignored
    ("ChannelMapping", "staging=deploys,,production=prod"),
    ("ChannelMapping", "production=discord:#998877665544332211"),
    ("OwnerMapping", "web=#web-team,billing=@U0123ABC"),
    ("OwnerMapping", "web=@person@example.com"),
    ("OwnerMapping", "api=@112233445566778899"),
    ("OwnerMapping", "web=slack-webhook:/rack-notifications/webhooks/web"),
    ("TokenParameterName", "/rack-notifications/token"),
    ("TokenParameterName", "/rack-notifications/slack/token"),
    ("TokenParameterName", "/a"),
    ("TokenParameterName", "/team_a/bot.token-2"),
    ("TokenParameterName", "/" + "/".join(["l"] * 15)),
    ("CatalogPath", ""),
    ("CatalogPath", "/catalog"),
    ("CatalogPath", "/platform/service-catalog"),
    ("RoutesParameterName", ""),
    ("RoutesParameterName", "/rack-notifications/routes"),
    ("WebhookParameterPath", "/rack-notifications/webhooks"),
    ("WebhookParameterPath", ""),
    ("ParameterKmsKeyArn", "alias/aws/ssm"),
    ("ParameterKmsKeyArn", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("ParameterKmsKeyArn", "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"),
    ("ReservedConcurrency", "0"),
    ("ReservedConcurrency", "1"),
    ("ReservedConcurrency", "2"),
    ("ReservedConcurrency", "50"),
    ("LiveMessages", "true"),
    ("LiveMessages", "false"),
    ("EventBusName", "default"),
    ("EventBusName", "racks"),
    ("EventBusName", "arn:aws:events:us-east-1:123456789012:event-bus/racks"),
    ("EventSource", "convox.rack"),
    ("EventSource", "acme/racks_2-prod"),
    ("AlarmTopicArn", ""),
    ("AlarmTopicArn", "arn:aws:sns:us-east-1:123456789012:ops-alarms"),
]

# (parameter, value) that cannot work on either provider, or at all.
REFUSED = [
    ("DefaultChannel", ""),
    ("DefaultChannel", " "),
    ("DefaultChannel", " general"),
    ("DefaultChannel", "general "),
    ("DefaultChannel", "dev ops"),
    ("DefaultChannel", "#"),
    ("DefaultChannel", "@"),
    ("DefaultChannel", "@bob"),  # Slack cannot message users by name, Discord only by id
    ("DefaultChannel", "@U0123abc"),  # Slack ids are upper case
    ("DefaultChannel", "#dev.ops"),
    ("DefaultChannel", "deploys,ops"),
    ("DefaultChannel", "teams:#deploys"),
    ("DefaultChannel", "slack-webhook:rack-notifications/webhooks/ops"),
    ("DefaultChannel", "slack-webhook:T000/B000/XXXX"),  # the URL itself, not its SSM parameter
    ("DefaultChannel", "x" * 81),
    ("ChannelMapping", " "),
    ("ChannelMapping", ","),
    ("ChannelMapping", "production"),
    ("ChannelMapping", "=deploys"),
    ("ChannelMapping", "production="),
    ("ChannelMapping", "production=production deploys"),
    ("ChannelMapping", "staging=deploys;production=prod"),
    ("OwnerMapping", "billing=@bob"),
    ("OwnerMapping", "web=#web-team,billing=@bob"),
    ("OwnerMapping", "web"),
    ("TokenParameterName", ""),
    ("TokenParameterName", " "),
    ("TokenParameterName", "rack-notifications/token"),
    ("TokenParameterName", "/"),
    ("TokenParameterName", "/rack-notifications/"),
    ("TokenParameterName", "//rack-notifications"),
    ("TokenParameterName", "/rack notifications/token"),
    ("TokenParameterName", "/rack-notifications/token "),
    ("TokenParameterName", "/" + "/".join(["l"] * 16)),
    ("SlackTokenParameterName", " "),
    ("DiscordTokenParameterName", "discord-token"),
    ("CatalogPath", " "),
    ("CatalogPath", "catalog"),
    ("CatalogPath", "/catalog/"),
    ("CatalogPath", "/catalog//apps"),
    ("CatalogPath", "/" + "/".join(["l"] * 14)),  # <path>/<app>/owner-im would pass 15 levels
    ("RoutesParameterName", "routes"),
    ("WebhookParameterPath", "/rack-notifications/webhooks/"),
    ("WebhookParameterPath", " "),
    ("ParameterKmsKeyArn", ""),
    ("ParameterKmsKeyArn", "alias/my-key"),
    ("ParameterKmsKeyArn", "arn:aws:kms:us-east-1:123456789012:alias/my-key"),
    ("ReservedConcurrency", ""),
    ("ReservedConcurrency", "00"),
    ("ReservedConcurrency", "02"),
    ("ReservedConcurrency", "0.0"),
    ("ReservedConcurrency", "-1"),
    ("ReservedConcurrency", "51"),
    ("LiveMessages", "yes"),
    ("LiveMessages", ""),
    ("EventBusName", ""),
    ("EventBusName", "my bus"),
    ("EventSource", ""),
    ("EventSource", " convox.rack"),
    ("EventSource", "acme:rack"),
    ("EventSource", "aws.rack"),
    ("EventSource", "s" * 257),
    ("AlarmTopicArn", "ops-alarms"),
    ("AlarmTopicArn", "arn:aws:sqs:us-east-1:123456789012:ops-alarms"),
]


@pytest.mark.parametrize(("name", "value"), ACCEPTED, ids=[f"{n}={v!r}" for n, v in ACCEPTED])
def test_parameter_value_is_accepted(name, value):
    stack(**{name: value})


@pytest.mark.parametrize(("name", "value"), REFUSED, ids=[f"{n}={v!r}" for n, v in REFUSED])
def test_parameter_value_is_refused(name, value):
    with pytest.raises(Refused, match=name):
        stack(**{name: value})


def test_every_free_text_parameter_is_constrained():
    """A String parameter without AllowedValues or AllowedPattern would let any typo through to a deployment."""
    loose = [
        name
        for name, spec in TEMPLATE["Parameters"].items()
        if spec["Type"] == "String" and not {"AllowedValues", "AllowedPattern"} & set(spec)
    ]
    assert not loose


def top_level_alternatives(pattern: str) -> list[str]:
    """The pattern split at each `|` outside groups and character classes."""
    alternatives, current, depth, in_class, escaped = [], "", 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            alternatives.append(current)
            current = ""
            continue
        current += char
    return [*alternatives, current]


def test_patterns_are_anchored():
    """CloudFormation matches the whole value; anchors on every alternative say so to every reader (and
    keep the meaning where a pattern is used as a search)."""
    for name, spec in TEMPLATE["Parameters"].items():
        if "AllowedPattern" in spec:
            for alternative in top_level_alternatives(spec["AllowedPattern"]):
                assert alternative.startswith("^") and alternative.endswith("$"), (name, alternative)


# --------------------------------------------------------------------------- rules across parameters

RULE_CASES = [
    # (values, refused by the rule named, or None)
    ({"Provider": "slack", "DiscordTokenParameterName": "/rn/discord/token"}, None),
    ({"Provider": "discord", "DefaultChannel": "112233445566778899", "SlackTokenParameterName": "/rn/slack/token"}, None),
    ({"Provider": "slack", "SlackTokenParameterName": "/rn/slack/token"}, "SecondTokenIsTheOtherProvider"),
    (
        {"Provider": "discord", "DefaultChannel": "112233445566778899", "DiscordTokenParameterName": "/rn/discord"},
        "SecondTokenIsTheOtherProvider",
    ),
    (
        {"Provider": "slack", "DiscordTokenParameterName": "/rack-notifications/token"},
        "SecondTokenIsTheOtherProvider",
    ),
    ({"Provider": "discord"}, "DiscordDefaultChannelIsAnId"),
    ({"Provider": "discord", "DefaultChannel": "#general"}, "DiscordDefaultChannelIsAnId"),
    ({"Provider": "discord", "DefaultChannel": "#112233445566778899"}, None),
    ({"Provider": "slack", "DefaultChannel": "general"}, None),
]


@pytest.mark.parametrize(("values", "rule"), RULE_CASES)
def test_rules_refuse_what_depends_on_the_provider(values, rule):
    if rule is None:
        stack(**values)
    else:
        with pytest.raises(Refused, match=f"rule {rule}:"):
            stack(**values)


# --------------------------------------------------------------------------- the functions


def lambda_functions(deployed: Stack) -> dict[str, dict]:
    functions = deployed.resources("AWS::Lambda::Function")
    return {category: functions[logical_id] for category, logical_id in FUNCTIONS.items()}


@pytest.mark.parametrize(("value", "reserved"), [("2", "2"), ("7", "7"), ("0", None)])
def test_reserved_concurrency_zero_means_no_reservation(value, reserved):
    for category, function in lambda_functions(stack(ReservedConcurrency=value)).items():
        assert function.get("ReservedConcurrentExecutions") == reserved, category


def settings(**values: str) -> dict[str, str]:
    """The environment of the six functions, which must be the same for all."""
    environments = [f["Environment"]["Variables"] for f in lambda_functions(stack(**values)).values()]
    assert all(environment == environments[0] for environment in environments)
    return environments[0]


def test_settings_of_a_default_stack():
    assert settings() == {
        "NOTIFICATIONS_PROVIDER": "slack",
        "NOTIFICATIONS_TOKEN_PARAMETER": "/rack-notifications/token",
        "NOTIFICATIONS_DEFAULT_CHANNEL": "general",
        "NOTIFICATIONS_CHANNEL_MAPPING": "",
        "NOTIFICATIONS_OWNER_MAPPING": "",
        "NOTIFICATIONS_WEBHOOK_PATH": "/rack-notifications/webhooks",
        "NOTIFICATIONS_LIVE_MESSAGES": "true",
        "NOTIFICATIONS_DEDUP_TABLE": "DeliveriesTable",
        "NOTIFICATIONS_METRICS_NAMESPACE": f"RackNotifications/{STACK_NAME}",
    }


def test_settings_of_a_stack_with_every_option():
    environment = settings(
        Provider="discord",
        DefaultChannel="112233445566778899",
        SlackTokenParameterName="/rn/slack/token",
        RoutesParameterName="/rn/routes",
        CatalogPath="/catalog",
        WebhookParameterPath="/rn/hooks",
        LiveMessages="false",
    )
    assert environment["NOTIFICATIONS_PROVIDER"] == "discord"
    assert environment["NOTIFICATIONS_SLACK_TOKEN_PARAMETER"] == "/rn/slack/token"
    assert "NOTIFICATIONS_DISCORD_TOKEN_PARAMETER" not in environment
    assert environment["NOTIFICATIONS_ROUTES_PARAMETER"] == "/rn/routes"
    assert environment["NOTIFICATIONS_CATALOG_PATH"] == "/catalog"
    assert environment["NOTIFICATIONS_WEBHOOK_PATH"] == "/rn/hooks"
    assert environment["NOTIFICATIONS_LIVE_MESSAGES"] == "false"


def test_empty_options_are_unset_not_empty():
    """The functions read a second token parameter for the Provider itself as a conflict: an empty option
    must not reach them at all."""
    environment = settings(WebhookParameterPath="")
    for variable in (
        "NOTIFICATIONS_SLACK_TOKEN_PARAMETER",
        "NOTIFICATIONS_DISCORD_TOKEN_PARAMETER",
        "NOTIFICATIONS_ROUTES_PARAMETER",
        "NOTIFICATIONS_CATALOG_PATH",
        "NOTIFICATIONS_WEBHOOK_PATH",
    ):
        assert variable not in environment


def test_every_setting_is_one_the_functions_read():
    """The names are the interface: each variable the template sets is a constant of shared/src."""
    names = set(re.findall(r'pub const [A-Z_]+: &str = "([A-Z_]+)";', rust_sources()))
    environment = settings(
        DiscordTokenParameterName="/rn/discord/token",
        RoutesParameterName="/rn/routes",
        CatalogPath="/catalog",
    )
    assert set(environment) <= names, set(environment) - names


# --------------------------------------------------------------------------- IAM


def grants(deployed: Stack) -> set[tuple[str, str, str]]:
    """(action, resource, condition as JSON) for every statement of the functions' policy."""
    document = deployed.resource("NotifyFunctionsPolicy")["PolicyDocument"]
    found = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        condition = json.dumps(statement.get("Condition", {}), sort_keys=True)
        found |= {(action, resource, condition) for action in actions for resource in resources}
    return found


VIA_SSM = {"StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}}
AWS_MANAGED_KEY = (
    "kms:Decrypt",
    "arn:aws:kms:us-east-1:123456789012:key/*",
    json.dumps({**VIA_SSM, "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/aws/ssm"}}, sort_keys=True),
)


def ledger_grants() -> set[tuple[str, str, str]]:
    return {(action, TABLE_ARN, "{}") for action in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")}


def test_default_stack_grants_exactly_the_token_webhooks_key_and_table():
    assert grants(stack()) == {
        ("ssm:GetParameter", parameter_arn("/rack-notifications/token"), "{}"),
        ("ssm:GetParameter", parameter_arn("/rack-notifications/webhooks/*"), "{}"),
        AWS_MANAGED_KEY,
        *ledger_grants(),
    }


def test_every_option_grants_exactly_its_parameters_and_key():
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert grants(
        stack(
            DiscordTokenParameterName="/rn/discord/token",
            RoutesParameterName="/rn/routes",
            CatalogPath="/catalog",
            WebhookParameterPath="/rn/hooks",
            ParameterKmsKeyArn=key,
        )
    ) == {
        ("ssm:GetParameter", parameter_arn("/rack-notifications/token"), "{}"),
        ("ssm:GetParameter", parameter_arn("/rn/discord/token"), "{}"),
        ("ssm:GetParameter", parameter_arn("/rn/routes"), "{}"),
        ("ssm:GetParameter", parameter_arn("/rn/hooks/*"), "{}"),
        ("ssm:GetParameter", parameter_arn("/catalog/*/owner-im"), "{}"),
        ("kms:Decrypt", key, json.dumps(VIA_SSM, sort_keys=True)),
        *ledger_grants(),
    }


def test_no_webhook_path_grants_no_webhooks():
    assert grants(stack(WebhookParameterPath="")) == {
        ("ssm:GetParameter", parameter_arn("/rack-notifications/token"), "{}"),
        AWS_MANAGED_KEY,
        *ledger_grants(),
    }


def test_slack_token_of_a_discord_stack_is_granted():
    found = grants(stack(Provider="discord", DefaultChannel="112233445566778899", SlackTokenParameterName="/rn/slack"))
    assert ("ssm:GetParameter", parameter_arn("/rn/slack"), "{}") in found


def test_granted_calls_are_the_calls_the_code_makes():
    """DynamoDB and SSM actions are exactly the SDK operations shared/src calls (`.put_item()` → PutItem)."""
    calls = set(re.findall(r"\.(get_item|put_item|update_item|delete_item|query|scan|batch_\w+|transact_\w+|"
                           r"get_parameters?|get_parameters_by_path)\(\)", rust_sources()))
    from_code = {
        ("ssm:" if call.startswith("get_parameter") else "dynamodb:") + call.title().replace("_", "")
        for call in calls
    }
    granted = {action for action, _, _ in grants(stack(CatalogPath="/c", RoutesParameterName="/r"))}
    assert granted - {"kms:Decrypt"} == from_code


def test_no_wildcard_actions_in_the_functions_roles():
    """Each function's role: the basic execution policy, the functions' policy, and SAM's sqs:SendMessage to
    the failure queue for the on-failure destination; no action with a wildcard."""
    deployed = stack(CatalogPath="/c", RoutesParameterName="/r", DiscordTokenParameterName="/d")
    for category, logical_id in FUNCTIONS.items():
        role = deployed.resource(f"{logical_id}Role")
        assert role["ManagedPolicyArns"] == [
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "NotifyFunctionsPolicy",
        ], category
        inline = [s for p in role.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
        assert inline == [{"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": "FailureQueue.Arn"}], category
    actions = {action for action, _, _ in grants(deployed)}
    assert actions and not [action for action in actions if "*" in action]


# --------------------------------------------------------------------------- alarms


ALARMS = {
    "DeadLetterQueueAlarm": "dead-letter-queue-not-empty",
    "FailureQueueAlarm": "failure-queue-not-empty",
    "FunctionErrorsAlarm": "function-errors",
    "FunctionThrottlesAlarm": "function-throttles",
}


@pytest.mark.parametrize(("logical_id", "metric"), [("FunctionErrorsAlarm", "Errors"), ("FunctionThrottlesAlarm", "Throttles")])
def test_function_alarm_sums_the_metric_of_all_seven_functions(logical_id, metric):
    alarm = stack().resource(logical_id)
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    returned = [query for query in alarm["Metrics"] if query.get("ReturnData", True)]
    assert len(returned) == 1
    expression = returned[0]["Expression"]
    functions = set()
    for query_id, query in queries.items():
        if "MetricStat" not in query:
            continue
        stat = query["MetricStat"]
        assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"], stat["Stat"]) == ("AWS/Lambda", metric, "Sum")
        assert re.search(rf"\b{query_id}\b", expression), f"{query_id} is not in {expression}"
        (dimension,) = stat["Metric"]["Dimensions"]
        assert dimension["Name"] == "FunctionName"
        functions.add(dimension["Value"])
    assert functions == set(FUNCTIONS.values()) | {"RackWebhookFunction"}


@pytest.mark.parametrize("topic", ["", "arn:aws:sns:us-east-1:123456789012:ops"])
def test_every_alarm_notifies_the_topic_when_set(topic):
    deployed = stack(AlarmTopicArn=topic)
    alarms = deployed.resources("AWS::CloudWatch::Alarm")
    assert set(ALARMS) <= set(alarms)
    for logical_id, name in ALARMS.items():
        assert alarms[logical_id]["AlarmName"] == f"{STACK_NAME}-{name}"
    for logical_id, alarm in alarms.items():
        for actions in ("AlarmActions", "OKActions"):
            assert alarm.get(actions) == ([topic] if topic else None), (logical_id, actions)


# --------------------------------------------------------------------------- dashboard

EMF_METRICS = ["Delivered", "FellBackToDefault", "RetriedOn429", "Failed", "DuplicateSkipped", "RoutesInvalid"]


def dashboard_metrics() -> list[tuple[str, str, str, str]]:
    """(namespace, metric, dimension value, widget title) of every graph, with the shorthand `.`/`...` of
    dashboard bodies expanded."""
    body = json.loads(stack().resource("Dashboard")["DashboardBody"])
    found = []
    for widget in body["widgets"]:
        previous: list = []
        for line in widget["properties"].get("metrics", []):
            names = [item for item in line if not isinstance(item, dict)]
            if names == ["..."]:
                names = previous
            names = [previous[i] if name == "." else name for i, name in enumerate(names)]
            previous = names
            namespace, metric, _dimension, value = names
            found.append((namespace, metric, value, widget["properties"]["title"]))
    return found


def test_emf_metrics_on_the_dashboard_are_the_ones_the_functions_write():
    written = set(re.findall(r'Self::\w+ => "(\w+)"', (SHARED / "metrics.rs").read_text()))
    assert set(EMF_METRICS) <= written


@pytest.mark.parametrize("category", FUNCTIONS)
def test_dashboard_shows_each_function(category):
    shown = dashboard_metrics()
    emf = {metric for namespace, metric, value, _ in shown
           if namespace == f"RackNotifications/{STACK_NAME}" and value == f"notify-{category}"}
    assert emf == set(EMF_METRICS)
    lambda_metrics = {metric for namespace, metric, value, _ in shown
                      if namespace == "AWS/Lambda" and value == FUNCTIONS[category]}
    assert lambda_metrics == {"Invocations", "Errors", "Throttles", "Duration"}


def test_dashboard_shows_the_receiver():
    shown = dashboard_metrics()
    emf = {metric for namespace, metric, value, _ in shown
           if namespace == f"RackNotifications/{STACK_NAME}" and value == "rack-webhook"}
    assert emf == {"Accepted", "Rejected", "BusFailed", "KeysUnavailable"}
    lambda_metrics = {metric for namespace, metric, value, _ in shown
                      if namespace == "AWS/Lambda" and value == "RackWebhookFunction"}
    assert lambda_metrics == {"Invocations", "Errors", "Throttles", "Duration"}


def test_dashboard_shows_both_queues():
    queues = {value for namespace, metric, value, _ in dashboard_metrics()
              if (namespace, metric) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")}
    assert queues == {"DeadLetterQueue.QueueName", "FailureQueue.QueueName"}
