"""The real template.yaml and samconfig.toml, read the way CloudFormation and the SAM CLI read them.

Nothing here needs AWS, Docker or the functions' code: the template is decoded with cfn-lint's YAML
loader (which understands !Ref, !Sub, !GetAtt) and checked for what a deployment relies on.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from tests.operations import OPERATIONS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
SAMCONFIG_PATH = ROOT / "samconfig.toml"
SCHEMA_PATH = ROOT / "schema.graphql"

#: GraphQL field of type Query -> its function's folder under functions/.
#: Layer logical id -> its source folder.
LAYERS: dict[str, str] = {"TrackedBedrockLayer": "layer/", "CvDomainLayer": "domain/"}
#: Environment variables every function needs, and where their values come from.
SETTINGS_FROM_PARAMETERS: dict[str, str] = {
    "MODEL_ID": "ModelId",
    "POSTHOG_API_KEY": "PosthogApiKey",
    "POSTHOG_HOST": "PosthogHost",
    "POSTHOG_PRIVACY_MODE": "PosthogPrivacyMode",
}
FIXED_SETTINGS = ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "BEDROCK_READ_TIMEOUT")
APPSYNC_TIMEOUT_SECONDS = 30
INFERENCE_PROFILE_ARN = "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:inference-profile/${ModelId}"
FOUNDATION_MODEL_ARN = "arn:${AWS::Partition}:bedrock:*::foundation-model/${FoundationModelId}"
#: Resolver properties that would turn a direct Lambda resolver into a VTL or JavaScript one.
RESOLVER_CODE_PROPERTIES = (
    "Code",
    "CodeS3Location",
    "Runtime",
    "PipelineConfig",
    "RequestMappingTemplate",
    "RequestMappingTemplateS3Location",
    "ResponseMappingTemplate",
    "ResponseMappingTemplateS3Location",
)

Node = dict[str, Any]


def pascal(field: str) -> str:
    return field[0].upper() + field[1:]


def function_id(field: str) -> str:
    return f"{pascal(field)}Function"


def ref(name: str) -> Node:
    return {"Ref": name}


def get_att(logical_id: str, attribute: str) -> Node:
    return {"Fn::GetAtt": [logical_id, attribute]}


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def template() -> Node:
    loaded: Node = cfn_yaml.load(str(TEMPLATE_PATH))
    return loaded


def resources_of_type(template: Node, resource_type: str) -> dict[str, Node]:
    return {rid: res for rid, res in template["Resources"].items() if res["Type"] == resource_type}


def merge_globals(globals_: Any, own: Any) -> Any:
    """SAM's Globals merge: maps merge key by key, lists add up, the function's scalars win."""
    if isinstance(globals_, dict) and isinstance(own, dict):
        return {key: merge_globals(globals_.get(key), own.get(key)) for key in {*globals_, *own}}
    if isinstance(globals_, list) and isinstance(own, list):
        return [*globals_, *own]
    return globals_ if own is None else own


def effective_function_properties(template: Node, logical_id: str) -> Node:
    """A function's properties once SAM has merged the template's Globals into them."""
    merged: Node = merge_globals(
        template.get("Globals", {}).get("Function", {}), template["Resources"][logical_id]["Properties"]
    )
    return merged


def role_statements(template: Node, role_arn: Node) -> list[Node]:
    """Every statement of the inline policies of the role that `role_arn` (a !GetAtt) names."""
    role_id, attribute = role_arn["Fn::GetAtt"]
    assert attribute == "Arn"
    role = template["Resources"][role_id]
    assert role["Type"] == "AWS::IAM::Role"
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in as_list(policy["PolicyDocument"]["Statement"])
    ]


# ------------------------------------------------------------------------------------------ functions


def test_each_query_field_has_its_own_function_in_its_folder(template: Node) -> None:
    functions = resources_of_type(template, "AWS::Serverless::Function")

    assert set(functions) == {function_id(field) for field in OPERATIONS}
    for field, folder in OPERATIONS.items():
        assert functions[function_id(field)]["Properties"]["CodeUri"] == f"functions/{folder}/"


def test_functions_run_python_3_13_handlers_named_like_sam_init(template: Node) -> None:
    for field in OPERATIONS:
        properties = effective_function_properties(template, function_id(field))
        assert properties["Runtime"] == "python3.13"
        assert properties["Handler"] == "app.lambda_handler"
        assert properties["Tracing"] == "Active"


@pytest.mark.parametrize("field", OPERATIONS)
def test_every_function_gets_both_layers_exactly_once(template: Node, field: str) -> None:
    layers = effective_function_properties(template, function_id(field))["Layers"]

    # A layer listed twice (Globals and the function) is rejected by cfn-lint (E3037) and by Lambda.
    assert sorted(layers, key=str) == sorted((ref(layer) for layer in LAYERS), key=str)


def test_layers_are_built_by_sam_for_the_functions_runtime_and_architecture(template: Node) -> None:
    globals_ = template["Globals"]["Function"]
    runtime, architectures = globals_["Runtime"], globals_["Architectures"]

    assert set(resources_of_type(template, "AWS::Serverless::LayerVersion")) == set(LAYERS)
    for layer_id, folder in LAYERS.items():
        layer = template["Resources"][layer_id]
        assert layer["Properties"]["ContentUri"] == folder
        assert layer["Properties"]["CompatibleRuntimes"] == [runtime]
        assert layer["Properties"]["CompatibleArchitectures"] == architectures
        # The layers' Makefiles install the functions' platform and ship bytecode (BuildMethod python3.13 ships none).
        assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": architectures[0]}
        makefile = (ROOT / folder / "Makefile").read_text()
        assert f"build-{layer_id}:" in makefile
        assert "--invalidation-mode unchecked-hash" in makefile


@pytest.mark.parametrize("field", OPERATIONS)
def test_every_function_gets_the_settings_environment(template: Node, field: str) -> None:
    variables = effective_function_properties(template, function_id(field))["Environment"]["Variables"]

    for variable, parameter in SETTINGS_FROM_PARAMETERS.items():
        assert variables[variable] == ref(parameter), variable
    for variable in FIXED_SETTINGS:
        assert str(variables[variable]).strip(), variable


def test_timeouts_leave_room_inside_appsyncs_30_seconds(template: Node) -> None:
    globals_ = template["Globals"]["Function"]
    read_timeout = float(globals_["Environment"]["Variables"]["BEDROCK_READ_TIMEOUT"])

    for field in OPERATIONS:
        assert effective_function_properties(template, function_id(field))["Timeout"] < APPSYNC_TIMEOUT_SECONDS
    assert read_timeout < globals_["Timeout"]


def test_template_settings_are_ones_the_layer_reads_and_accepts(template: Node) -> None:
    settings_module = pytest.importorskip("tracked_bedrock.settings", reason="the layer is not written yet")
    settings_class = getattr(settings_module, "Settings", None)
    if settings_class is None:
        pytest.skip("tracked_bedrock.settings has no Settings class")
    aliases = {info.alias for info in settings_class.model_fields.values()}
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    parameters = template["Parameters"]

    ours = {name for name in variables if not name.startswith("POWERTOOLS_")}
    assert ours <= aliases, f"set in template.yaml but not read by the layer: {sorted(ours - aliases)}"

    # The values a default deployment gives the functions must pass the layer's own validation.
    environment = {
        name: str(parameters[value["Ref"]]["Default"]) if isinstance(value, dict) else str(value)
        for name, value in variables.items()
    }
    settings = settings_class.from_env(environment)
    assert settings.bedrock_read_timeout < template["Globals"]["Function"]["Timeout"]
    assert not settings.analytics_enabled


# ------------------------------------------------------------------------------------------ IAM


def function_role_statements(template: Node) -> list[Node]:
    roles = {str(effective_function_properties(template, function_id(f))["Role"]) for f in OPERATIONS}
    assert len(roles) == 1, "the twelve functions need the same permissions: one role"
    return role_statements(template, effective_function_properties(template, function_id("parseCvText"))["Role"])


def test_functions_may_invoke_exactly_the_configured_model(template: Node) -> None:
    bedrock = [
        statement
        for statement in function_role_statements(template)
        if any(str(action).startswith("bedrock:") for action in as_list(statement["Action"]))
    ]

    assert len(bedrock) == 1
    (statement,) = bedrock
    assert statement["Effect"] == "Allow"
    # InvokeModel authorises both InvokeModel and Converse; nothing else (no streaming, no admin).
    assert as_list(statement["Action"]) == ["bedrock:InvokeModel"]
    assert sorted(as_list(statement["Resource"]), key=str) == sorted(
        ({"Fn::Sub": INFERENCE_PROFILE_ARN}, {"Fn::Sub": FOUNDATION_MODEL_ARN}), key=str
    )
    assert "Condition" not in statement
    assert "NotResource" not in statement
    assert "NotAction" not in statement


def test_model_parameters_agree_by_default(template: Node) -> None:
    parameters = template["Parameters"]
    model_id = parameters["ModelId"]["Default"]
    foundation_model_id = parameters["FoundationModelId"]["Default"]

    assert model_id == "eu.amazon.nova-micro-v1:0"
    assert model_id.split(".", 1)[1] == foundation_model_id
    for name in ("ModelId", "FoundationModelId"):
        pattern = parameters[name]["AllowedPattern"]
        assert re.fullmatch(pattern, parameters[name]["Default"])
        # An ARN would produce a nonsense resource ARN in the policy.
        assert not re.fullmatch(pattern, "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/x.y")


def test_no_role_grants_a_wildcard_action(template: Node) -> None:
    for role_id in resources_of_type(template, "AWS::IAM::Role"):
        for statement in role_statements(template, get_att(role_id, "Arn")):
            actions = [str(action) for action in as_list(statement["Action"])]
            assert all("*" not in action for action in actions), (role_id, actions)
            if "*" in as_list(statement["Resource"]):
                # X-Ray's write actions have no resource-level permissions: "*" is the only form.
                assert set(actions) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, role_id


def test_logs_go_to_one_log_group_with_retention(template: Node) -> None:
    log_group_ref = template["Globals"]["Function"]["LoggingConfig"]["LogGroup"]
    log_group_id = log_group_ref["Ref"]
    log_group = template["Resources"][log_group_id]

    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == ref("LogRetentionDays")
    assert (
        template["Parameters"]["LogRetentionDays"]["Default"]
        in (template["Parameters"]["LogRetentionDays"]["AllowedValues"])
    )
    for field in OPERATIONS:
        assert effective_function_properties(template, function_id(field))["LoggingConfig"] == {
            "LogGroup": log_group_ref
        }
    logs = [s for s in function_role_statements(template) if str(as_list(s["Action"])[0]).startswith("logs:")]
    assert logs == [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": get_att(log_group_id, "Arn"),
        }
    ]


def test_posthog_api_key_is_no_echo_and_optional(template: Node) -> None:
    key = template["Parameters"]["PosthogApiKey"]

    assert key["NoEcho"] is True
    assert key["Default"] == ""


# ------------------------------------------------------------------------------------------ AppSync


def test_appsync_resources_exist_only_when_the_api_is_created(template: Node) -> None:
    assert template["Conditions"]["CreateApi"] == {"Fn::Equals": [ref("CreateGraphQLApi"), "true"]}
    appsync = {rid: res for rid, res in template["Resources"].items() if res["Type"].startswith("AWS::AppSync::")}

    assert appsync
    for resource_id, resource in appsync.items():
        assert resource.get("Condition") in {"CreateApi", "CreateApiKey"}, resource_id
    assert template["Resources"]["GraphQLApi"]["Properties"]["AuthenticationType"] == ref("ApiAuthMode")
    api_keys = resources_of_type(template, "AWS::AppSync::ApiKey")
    assert all(res["Condition"] == "CreateApiKey" for res in api_keys.values())


def test_cognito_auth_cannot_be_deployed_without_a_user_pool(template: Node) -> None:
    (rule,) = template["Rules"].values()
    user_pool_config = template["Resources"]["GraphQLApi"]["Properties"]["UserPoolConfig"]

    assert rule["RuleCondition"] == {"Fn::Equals": [ref("ApiAuthMode"), "AMAZON_COGNITO_USER_POOLS"]}
    assert [a["Assert"] for a in rule["Assertions"]] == [{"Fn::Not": [{"Fn::Equals": [ref("UserPoolId"), ""]}]}]
    assert user_pool_config["Fn::If"][0] == "UseCognitoAuth"
    assert user_pool_config["Fn::If"][1]["UserPoolId"] == ref("UserPoolId")
    assert template["Conditions"]["UseCognitoAuth"] == rule["RuleCondition"]


@pytest.mark.parametrize("field", OPERATIONS)
def test_every_query_field_has_a_direct_lambda_resolver_on_its_function(template: Node, field: str) -> None:
    resolvers = [
        res
        for res in resources_of_type(template, "AWS::AppSync::Resolver").values()
        if res["Properties"]["TypeName"] == "Query" and res["Properties"]["FieldName"] == field
    ]

    assert len(resolvers) == 1
    (resolver,) = resolvers
    properties = resolver["Properties"]
    assert properties["Kind"] == "UNIT"
    assert not set(RESOLVER_CODE_PROPERTIES) & set(properties), "code makes it a VTL/JS resolver"
    assert resolver["DependsOn"] == "GraphQLSchema"
    data_source_id, attribute = properties["DataSourceName"]["Fn::GetAtt"]
    assert attribute == "Name"
    data_source = template["Resources"][data_source_id]
    assert data_source["Type"] == "AWS::AppSync::DataSource"
    assert data_source["Properties"]["Type"] == "AWS_LAMBDA"
    assert data_source["Properties"]["LambdaConfig"] == {"LambdaFunctionArn": get_att(function_id(field), "Arn")}
    assert data_source["Properties"]["ServiceRoleArn"] == get_att("AppSyncServiceRole", "Arn")


def test_resolvers_cover_exactly_the_twelve_query_fields(template: Node) -> None:
    fields = [
        (res["Properties"]["TypeName"], res["Properties"]["FieldName"])
        for res in resources_of_type(template, "AWS::AppSync::Resolver").values()
    ]

    assert sorted(fields) == sorted(("Query", field) for field in OPERATIONS)


def test_appsync_may_invoke_exactly_the_twelve_functions(template: Node) -> None:
    statements = role_statements(template, get_att("AppSyncServiceRole", "Arn"))
    trust = template["Resources"]["AppSyncServiceRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]

    assert statements == [
        {
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": [get_att(function_id(field), "Arn") for field in OPERATIONS],
        }
    ]
    assert [s["Principal"] for s in trust] == [{"Service": "appsync.amazonaws.com"}]


def test_schema_is_uploaded_from_the_repository_root(template: Node) -> None:
    schema = template["Resources"]["GraphQLSchema"]

    assert schema["Properties"]["DefinitionS3Location"] == "schema.graphql"


def test_schema_query_fields_are_the_twelve_operations() -> None:
    graphql = pytest.importorskip("graphql", reason="graphql-core is not installed")
    if not SCHEMA_PATH.exists():
        pytest.skip("schema.graphql is not written yet")
    # parse, not build_schema: AppSync's scalars and directives (AWSJSON, @aws_iam) are not declared.
    document = graphql.parse(SCHEMA_PATH.read_text(encoding="utf-8"))
    query_fields = [
        field.name.value
        for definition in document.definitions
        if isinstance(definition, graphql.ObjectTypeDefinitionNode | graphql.ObjectTypeExtensionNode)
        and definition.name.value == "Query"
        for field in definition.fields or ()
    ]

    assert sorted(query_fields) == sorted(OPERATIONS)


# ------------------------------------------------------------------------------------------ outputs


def test_outputs_export_every_function_arn_and_name_the_api_and_layers(template: Node) -> None:
    outputs = template["Outputs"]

    for field in OPERATIONS:
        output = outputs[f"{function_id(field)}Arn"]
        assert output["Value"] == get_att(function_id(field), "Arn")
        assert output["Export"] == {"Name": {"Fn::Sub": f"${{AWS::StackName}}-{function_id(field)}Arn"}}
    assert outputs["GraphQLApiUrl"] == {
        "Condition": "CreateApi",
        "Description": outputs["GraphQLApiUrl"]["Description"],
        "Value": get_att("GraphQLApi", "GraphQLUrl"),
    }
    assert outputs["GraphQLApiId"]["Value"] == get_att("GraphQLApi", "ApiId")
    assert outputs["GraphQLApiId"]["Condition"] == "CreateApi"
    for layer_id in LAYERS:
        assert outputs[f"{layer_id}Arn"]["Value"] == ref(layer_id)


# ------------------------------------------------------------------------------------------ samconfig


@pytest.fixture(scope="module")
def samconfig() -> Node:
    with SAMCONFIG_PATH.open("rb") as file:
        return tomllib.load(file)


def parameter_overrides(samconfig: Node, environment: str) -> dict[str, str]:
    text = samconfig[environment]["deploy"]["parameters"].get("parameter_overrides", "")
    return dict(item.split("=", 1) for item in shlex.split(text))


def test_samconfig_holds_no_bucket_account_or_secret() -> None:
    text = SAMCONFIG_PATH.read_text(encoding="utf-8")

    assert "s3_bucket" not in text
    assert "PosthogApiKey" not in re.sub(r"(?m)^#.*$", "", text), "secrets are passed at deploy time"
    assert not re.search(r"\b\d{12}\b", text), "an account id"
    assert "/home/" not in text
    assert "/Users/" not in text


def test_samconfig_environments_deploy_with_sam_managed_buckets(samconfig: Node) -> None:
    assert samconfig["version"] == 0.1
    assert samconfig["default"]["global"]["parameters"]["stack_name"]
    assert samconfig["default"]["build"]["parameters"] == {"cached": True, "parallel": True}
    for environment in ("default", "dev", "prod"):
        deploy = samconfig[environment]["deploy"]["parameters"]
        assert deploy["resolve_s3"] is True
        assert deploy["capabilities"] == "CAPABILITY_IAM"
        assert deploy["region"]
    assert (
        samconfig["dev"]["global"]["parameters"]["stack_name"]
        != (samconfig["prod"]["global"]["parameters"]["stack_name"])
    )


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_samconfig_overrides_are_valid_template_parameters(template: Node, samconfig: Node, environment: str) -> None:
    parameters = template["Parameters"]

    for name, value in parameter_overrides(samconfig, environment).items():
        assert name in parameters, name
        allowed = parameters[name].get("AllowedValues")
        if allowed is not None:
            assert value in [str(option) for option in allowed], (name, value)


def test_prod_keeps_cv_text_out_of_posthog_and_logs_longer(samconfig: Node) -> None:
    dev, prod = parameter_overrides(samconfig, "dev"), parameter_overrides(samconfig, "prod")

    assert prod["PosthogPrivacyMode"] == "true"
    assert int(prod["LogRetentionDays"]) > int(dev["LogRetentionDays"])
    assert prod.get("ApiAuthMode") != "API_KEY"


# ------------------------------------------------------------------------------------------ cfn-lint


def test_cfn_lint_accepts_the_template() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    if not cfn_lint.exists():
        pytest.fail(f"cfn-lint is not installed next to {sys.executable}: run `make venv`")

    result = subprocess.run(
        [str(cfn_lint), str(TEMPLATE_PATH)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
