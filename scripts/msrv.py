"""Checks the minimum supported Rust version that Cargo.toml declares (`rust-version`) against what
the code needs: every crate the library builds on (normal dependencies, every feature, from
`cargo metadata`) declares its own minimum, and ours can be no lower than the highest of them.
Clippy's `incompatible_msrv` lint (on under `-D warnings`) checks our own use of the standard
library against the same declaration. The release workflow also builds with that toolchain.

Exit 0 when the declaration holds, 1 (naming the crates) when it is too low."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path


def version(text: str) -> tuple[int, ...]:
    parts = [int(x) for x in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    declared = tomllib.loads((root / "Cargo.toml").read_text())["package"]["rust-version"]
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--all-features", "--locked"],
        cwd=root, check=True, capture_output=True, text=True).stdout)
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    # Crates reached from ours through normal (not dev or build-only) dependencies.
    seen, todo = set(), [meta["resolve"]["root"]]
    while todo:
        node = nodes[todo.pop()]
        for dep in node["deps"]:
            if any(k["kind"] is None for k in dep["dep_kinds"]) and dep["pkg"] not in seen:
                seen.add(dep["pkg"])
                todo.append(dep["pkg"])
    needs = sorted(
        ((version(packages[i]["rust_version"]), packages[i]["name"]) for i in seen if packages[i].get("rust_version")),
        reverse=True,
    )
    highest = needs[0][0] if needs else (0,)
    if version(declared) < highest:
        names = ", ".join(f"{n} ({'.'.join(map(str, v))})" for v, n in needs if v > version(declared))
        print(f"rust-version {declared} is too low: {names} need more", file=sys.stderr)
        return 1
    top = ", ".join(n for v, n in needs if v == highest)
    print(f"rust-version {declared} holds: the highest a dependency needs is {'.'.join(map(str, highest))} ({top})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
