"""Run the real handlers in-process the way Lambda does: the function's folder is the task root, the layers'
packages are on the path (as under /opt/python), and the environment comes from ``template.yaml``.

The template decides: each ``AWS::Serverless::Function``'s CodeUri is its folder, and its variables are the
Globals' plus its own, with ``!Ref`` resolved to the parameter's default unless the same variable is already
set in the environment (that is how a user points a run at real Bedrock and a real PostHog project).
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
LAYER_DIRS = (ROOT / "layer", ROOT / "domain")

Handler = Callable[[dict[str, Any], Any], Any]


def snake_case(field_name: str) -> str:
    """``generateCv`` -> ``generate_cv``: the folder of a GraphQL field's function."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", field_name).lower()


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the template."""

    logical_id: str
    folder: Path
    handler: str
    environment: dict[str, str]

    @property
    def name(self) -> str:
        return self.folder.name


def _load_template(path: Path) -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml  # understands !Ref, !Sub, !GetAtt

    template: dict[str, Any] = cfn_yaml.load(str(path))
    return template


def _resolve(value: Any, parameters: Mapping[str, Any]) -> str:
    if isinstance(value, Mapping) and set(value) == {"Ref"}:
        return str(parameters.get(value["Ref"], {}).get("Default", ""))
    if isinstance(value, str | int | float | bool):
        return str(value).lower() if isinstance(value, bool) else str(value)
    raise ValueError(f"cannot resolve {value!r} outside CloudFormation")


def read_functions(template_path: Path = TEMPLATE) -> dict[str, FunctionSpec]:
    """The template's functions by folder name (``generate_cv``)."""
    template = _load_template(template_path)
    parameters = template.get("Parameters", {})
    globals_fn = template.get("Globals", {}).get("Function", {})
    shared_env = globals_fn.get("Environment", {}).get("Variables", {})
    specs: dict[str, FunctionSpec] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        own_env = props.get("Environment", {}).get("Variables", {})
        variables = {k: _resolve(v, parameters) for k, v in {**shared_env, **own_env}.items()}
        folder = (template_path.parent / props["CodeUri"]).resolve()
        handler = props.get("Handler") or globals_fn.get("Handler", "app.lambda_handler")
        specs[folder.name] = FunctionSpec(logical_id, folder, handler, variables)
    return specs


def lambda_environment(spec: FunctionSpec, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The function's variables, where the caller's environment wins for any variable it sets."""
    environ = os.environ if environ is None else environ
    env = {k: environ.get(k, v) for k, v in spec.environment.items()}
    env.setdefault("AWS_LAMBDA_FUNCTION_NAME", spec.logical_id)
    return env


def loopback_environment(*, bedrock_url: str | None = None, posthog_host: str | None = None) -> dict[str, str]:
    """The variables that point a process at the stand-ins: throwaway credentials, a region and the endpoint for
    the Bedrock stand-in; a throwaway project key and the host for the PostHog stand-in."""
    env: dict[str, str] = {}
    if bedrock_url is not None:
        region = os.environ.get("AWS_REGION", "eu-west-1")
        env.update(
            {
                "AWS_ACCESS_KEY_ID": "loopback",
                "AWS_SECRET_ACCESS_KEY": "loopback",
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock_url,
            }
        )
    if posthog_host is not None:
        env.update({"POSTHOG_API_KEY": "phc_loopback", "POSTHOG_HOST": posthog_host})
    return env


def load_module(spec: FunctionSpec) -> ModuleType:
    """Import the function's handler module from its task root (once per process).

    Each function's module is ``app``; a unique module name lets twelve of them live in one process.
    """
    for path in (spec.folder, *LAYER_DIRS):
        if str(path) not in sys.path:
            sys.path.append(str(path))
    module_name = spec.handler.rpartition(".")[0]
    unique = f"lambda_{spec.name}_{module_name}"
    module: ModuleType | None = sys.modules.get(unique)
    if module is None:
        source = spec.folder / f"{module_name.replace('.', '/')}.py"
        loader_spec = importlib.util.spec_from_file_location(unique, source)
        if loader_spec is None or loader_spec.loader is None:
            raise ImportError(f"cannot load {source}")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[unique] = module
        loader_spec.loader.exec_module(module)
    return module


def load_handler(spec: FunctionSpec) -> Handler:
    """The function's handler, e.g. ``app.lambda_handler``."""
    handler: Handler = getattr(load_module(spec), spec.handler.rpartition(".")[2])
    return handler
