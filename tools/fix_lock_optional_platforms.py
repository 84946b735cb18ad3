#!/usr/bin/env python3
"""npm records an optional dependency in package-lock.json only if the registry
serves it. The registry this project uses carries node-llama-cpp's Linux
binaries but not its macOS/Windows/riscv ones, so `npm install` leaves those
out of the lock, and `npm ci` then refuses the lock as out of sync. This
script adds them as platform-restricted optional entries (what a lock made
against the full registry holds); npm ci skips them on Linux x64 without
fetching. Run after `npm install` whenever package-lock.json is regenerated."""
import json, pathlib

PLATFORMS = {  # package suffix -> (os, cpu)
    "linux-riscv64": ("linux", "riscv64"), "mac-arm64-metal": ("darwin", "arm64"),
    "mac-x64": ("darwin", "x64"), "win-arm64": ("win32", "arm64"), "win-x64": ("win32", "x64"),
    "win-x64-cuda": ("win32", "x64"), "win-x64-cuda-ext": ("win32", "x64"), "win-x64-vulkan": ("win32", "x64"),
}
path = pathlib.Path(__file__).resolve().parent.parent / "package-lock.json"
lock = json.loads(path.read_text())
packages = lock["packages"]
parent = packages["node_modules/node-llama-cpp"]
for name, version in parent.get("optionalDependencies", {}).items():
    key = f"node_modules/{name}"
    suffix = name.split("/", 1)[1]
    if key in packages or suffix not in PLATFORMS:
        continue
    os_name, cpu = PLATFORMS[suffix]
    packages[key] = {"version": version, "cpu": [cpu], "license": "MIT", "optional": True, "os": [os_name]}
lock["packages"] = dict(sorted(packages.items(), key=lambda kv: (kv[0] != "", kv[0])))
path.write_text(json.dumps(lock, indent=2) + "\n")
