"""Validates a generated OpenAPI document with openapi-spec-validator.

Usage: python3 validate.py DOCUMENT.json

Write the document with the router's test helper:
    GOLIATH_OPENAPI_DUMP=/tmp/openapi.json \
        cargo test -p goliath-router --lib rest::openapi::tests::dump_for_validator
or fetch it from a running router (`curl -o /tmp/openapi.json .../openapi.json`).
"""

import json
import sys

from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        document = json.load(f)
    validate(document, cls=OpenAPIV31SpecValidator)
    print(f"{sys.argv[1]}: valid OpenAPI {document.get('openapi')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
