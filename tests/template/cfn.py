"""template.yaml as CloudFormation sees it: read with its short-form tags, turned into plain CloudFormation by
the SAM transform (offline), and a stack of it under chosen parameter values, with the values checked as
CloudFormation checks them before a deployment (AllowedValues, AllowedPattern, Rules), its conditions evaluated
and its intrinsic functions resolved."""

from __future__ import annotations

import copy
import functools
import pathlib
import re

import boto3
import yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

# category -> logical id of its function in template.yaml
FUNCTIONS = {
    "app": "NotifyAppFunction",
    "release": "NotifyReleaseFunction",
    "infrastructure": "NotifyInfrastructureFunction",
    "workflow": "NotifyWorkflowFunction",
    "alert": "NotifyAlertFunction",
    "budget": "NotifyBudgetFunction",
}

# Pseudo parameters of the stack the tests deploy in their heads.
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "rack-notifications",
}


class CloudFormationLoader(yaml.SafeLoader):
    """A SafeLoader that turns CloudFormation's short-form tags into their long form."""


def _intrinsic(loader: yaml.Loader, tag_suffix: str, node: yaml.Node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template() -> dict:
    return yaml.load(TEMPLATE.read_text(), Loader=CloudFormationLoader)


@functools.cache
def _transformed() -> dict:
    sam = load_template()
    # As `sam package` leaves it: the SAM transform wants code in S3.
    sam["Globals"]["Function"]["CodeUri"] = "s3://bucket/key"
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name=PSEUDO["AWS::Region"]))
    return translator.translate(sam, parameter_values={}, get_managed_policy_map=lambda: {})


def transformed() -> dict:
    """The template after the SAM transform: AWS::Lambda::Function, AWS::IAM::Role and AWS::Events::Rule
    resources instead of AWS::Serverless::Function, Globals merged into each function."""
    return copy.deepcopy(_transformed())


class NoValue:
    """AWS::NoValue: the property or list item disappears."""


NO_VALUE = NoValue()


class Refused(Exception):
    """CloudFormation would refuse the parameter values before creating anything."""


class Stack:
    def __init__(self, template: dict, **values: str):
        self.template = template
        parameters = template["Parameters"]
        unknown = sorted(set(values) - set(parameters))
        if unknown:
            raise KeyError(f"not parameters of the template: {unknown}")
        self.values = {name: str(values.get(name, spec.get("Default"))) for name, spec in parameters.items()}
        problems = [problem for name in parameters for problem in self.parameter_problems(name)]
        problems += self.rule_problems()
        if problems:
            raise Refused("; ".join(problems))

    def parameter_problems(self, name: str) -> list[str]:
        spec, value = self.template["Parameters"][name], self.values[name]
        problems = []
        if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
            problems.append(f"{name}: {value!r} is not one of {spec['AllowedValues']}")
        # CloudFormation's patterns are Java regular expressions matching the whole value; the template's use
        # only what Python's `re` reads the same way.
        if len(value) < int(spec.get("MinLength", 0)):
            problems.append(f"{name}: {value!r} is shorter than {spec['MinLength']}")
        if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
            problems.append(f"{name}: {value!r} does not match AllowedPattern")
        if spec["Type"] == "Number":
            number = float(value)
            if "MinValue" in spec and number < spec["MinValue"] or "MaxValue" in spec and number > spec["MaxValue"]:
                problems.append(f"{name}: {value} is out of range")
        return problems

    def rule_problems(self) -> list[str]:
        problems = []
        for name, rule in self.template.get("Rules", {}).items():
            if "RuleCondition" in rule and not self.resolve(rule["RuleCondition"]):
                continue
            for assertion in rule["Assertions"]:
                if not self.resolve(assertion["Assert"]):
                    problems.append(f"rule {name}: {assertion['AssertDescription']}")
        return problems

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resource(self, logical_id: str) -> dict:
        """A resource's properties, resolved; {} when its condition is false."""
        resource = self.template["Resources"][logical_id]
        if "Condition" in resource and not self.condition(resource["Condition"]):
            return {}
        return self.resolve(resource.get("Properties", {}))

    def resources(self, kind: str) -> dict[str, dict]:
        return {
            logical_id: self.resource(logical_id)
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == kind
        }

    def _ref(self, name: str):
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.values:
            return self.values[name]
        if name in self.template["Resources"]:
            # A resource's Ref stands for its physical name or id, which only a deployment knows.
            return name
        raise KeyError(f"Ref to an unknown name: {name}")

    def _sub(self, text: str, variables: dict) -> str:
        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.template["Resources"]:
                return name
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def resolve(self, node):
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::GetAtt":
                return ".".join(arg)
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
                return self._sub(text, variables)
            if key == "Fn::If":
                name, then, otherwise = arg
                return self.resolve(then if self.condition(name) else otherwise)
            if key == "Fn::Equals":
                left, right = (self.resolve(side) for side in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(item) for item in arg)
            if key == "Fn::Or":
                return any(self.resolve(item) for item in arg)
            if key == "Fn::Contains":
                values, value = self.resolve(arg[0]), self.resolve(arg[1])
                return value in values
            if key == "Fn::Join":
                return arg[0].join(str(item) for item in self.resolve(arg[1]))
            if key.startswith("Fn::"):
                raise NotImplementedError(f"{key} is not resolved by tests/template/cfn.py")
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}
