"""Renders infra/template.yaml into a deployable template.

The state machines' ASL lives in its own files (a resource's ``Metadata.AslFile``) so that the
deployed and the local stack run the very same definition: this module inlines it as
``Definition``. The modules' tables are written once, in infra/tables.py: this module adds them.
Used by ``make package`` and by the devstack; never deployed.

    python -m infra.render [--out build/infra.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from infra.tables import add_tables

INFRA_DIR = Path(__file__).resolve().parent
TEMPLATE = INFRA_DIR / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that understands CloudFormation's short tags (!Ref, !Sub, !GetAtt...)."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.YAMLError(f"!{suffix}: a tag on a node that is not a scalar, a sequence or a mapping")
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    template: dict[str, Any] = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    return template


def asl_definition(resource: dict[str, Any]) -> dict[str, Any]:
    """The ASL document of a state machine resource, read from its ``Metadata.AslFile``."""
    definition: dict[str, Any] = json.loads((INFRA_DIR / resource["Metadata"]["AslFile"]).read_text(encoding="utf-8"))
    return definition


def state_machines(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
    }


def render(template: dict[str, Any] | None = None) -> dict[str, Any]:
    """The template with every state machine's ASL inlined and the modules' tables added."""
    template = json.loads(json.dumps(template or load_template()))
    add_tables(template)
    for resource in state_machines(template).values():
        resource["Properties"]["Definition"] = asl_definition(resource)
    return template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/infra.json"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(render(), indent=2), encoding="utf-8")
    print(args.out)


if __name__ == "__main__":
    main()
