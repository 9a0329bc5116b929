#!/usr/bin/env python3
"""Compares two OpenAPI documents by meaning, not by bytes.

    scripts/openapi-diff.py OLD.json NEW.json      (exit 1 when they differ)
    scripts/openapi-diff.py main                   (git's main:openapi/openapi.json against the file)

Operations are keyed by method and path; parameters by (in, name) with `$ref`s to
components/parameters resolved, so sharing a parameter differently is no change; responses
by status with response and header `$ref`s resolved; schemas by name. Key order and the order
of parameters do not count; everything else (descriptions, examples, security) does.
"""
import json
import subprocess
import sys

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def load(arg):
    if arg.endswith(".json"):
        with open(arg) as f:
            return json.load(f)
    out = subprocess.run(["git", "show", f"{arg}:openapi/openapi.json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def resolve(doc, value, depth=0):
    """Follows `$ref`s into components/parameters, responses and headers (schemas stay refs)."""
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and depth < 20:
            parts = ref.lstrip("#/").split("/")
            if len(parts) == 3 and parts[1] in ("parameters", "responses", "headers"):
                target = doc.get("components", {}).get(parts[1], {}).get(parts[2])
                if target is not None:
                    return resolve(doc, target, depth + 1)
        return {k: resolve(doc, v, depth) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(doc, v, depth) for v in value]
    return value


def facts(doc):
    out = {}
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            op = resolve(doc, op)
            key = f"{method.upper()} {path}"
            params = op.pop("parameters", [])
            for p in params:
                out[(key, "parameter", f"{p.get('in')}:{p.get('name')}")] = p
            for status, response in op.pop("responses", {}).items():
                out[(key, "response", status)] = response
            out[(key, "operation", "")] = op
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        out[("components", "schema", name)] = schema
    for name, scheme in doc.get("components", {}).get("securitySchemes", {}).items():
        out[("components", "securityScheme", name)] = scheme
    for name, hook in doc.get("webhooks", {}).items():
        out[("webhooks", "webhook", name)] = resolve(doc, hook)
    rest = {k: v for k, v in doc.items() if k not in ("paths", "components", "webhooks")}
    out[("document", "top", "")] = rest
    return out


def diff_value(a, b, where=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                yield f"{where}/{k}: added {json.dumps(b[k])[:200]}"
            elif k not in b:
                yield f"{where}/{k}: removed {json.dumps(a[k])[:200]}"
            else:
                yield from diff_value(a[k], b[k], f"{where}/{k}")
    elif a != b:
        yield f"{where}: {json.dumps(a)[:200]} -> {json.dumps(b)[:200]}"


def main():
    args = sys.argv[1:]
    if len(args) == 1:
        args.append("openapi/openapi.json")
    if len(args) != 2:
        sys.exit(__doc__)
    old, new = facts(load(args[0])), facts(load(args[1]))
    changes = 0
    for key in sorted(set(old) | set(new)):
        label = " ".join(k for k in key if k)
        if key not in new:
            print(f"- {label}")
            changes += 1
        elif key not in old:
            print(f"+ {label}")
            changes += 1
        else:
            lines = list(diff_value(old[key], new[key]))
            if lines:
                changes += 1
                print(f"~ {label}")
                for line in lines:
                    print(f"    {line}")
    print(f"{changes} change(s)" if changes else "no change in meaning")
    sys.exit(1 if changes else 0)


if __name__ == "__main__":
    main()
