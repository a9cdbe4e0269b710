"""A deterministic set of configurations across every field of the contract,
for the parity run in Pyodide, the benchmarks and the semantic diff."""

from __future__ import annotations

import random

from checker import load_matrix


def field_values(spec: dict) -> list:
    ids = [v["id"] for v in spec["values"]]
    if spec["type"] == "boolean":
        return [True, False]
    if spec["type"] == "multi":
        return [[i] for i in ids] + [ids]
    return ids


def generate(count: int = 10_000, seed: int = 20221013) -> list[dict]:
    """`count` valid configurations; every deployment and email system appears,
    each optional field is stated about a third of the time."""
    rng = random.Random(seed)
    fields = load_matrix().fields
    deployments = field_values(fields["deployment"])
    systems = field_values(fields["email_system"])
    out = [{"deployment": d, "email_system": s} for d in deployments for s in systems]
    while len(out) < count:
        config = {"deployment": rng.choice(deployments), "email_system": rng.choice(systems)}
        for name, spec in fields.items():
            if not spec["required"] and rng.random() < 0.33:
                config[name] = rng.choice(field_values(spec))
        out.append(consistent(config))
    return out[:count]


def consistent(config: dict) -> dict:
    """The configuration without a stated value that contradicts the answer it
    is implied by (a mailbox location the email system rules out, a protocol the
    server profile rules out): the engine refuses such a pair as an input error."""
    matrix = load_matrix()
    out = {}
    # In field order, each value kept only if it fits what is kept so far (a
    # protocol the profile rules out goes; the required answers always stay).
    for name in matrix.fields:
        if name in config and (matrix.fields[name]["required"] or not matrix._conflicts(name, config[name], out)):
            out[name] = config[name]
    return {name: out[name] for name in config if name in out}
