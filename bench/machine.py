"""A description of the machine and the software versions, for the results table."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

PACKAGES = ("chromadb", "llama-index-core", "sentence-transformers", "torch", "transformers", "onnxruntime")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe() -> dict[str, str]:
    import psutil

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    try:
        import torch

        threads = str(torch.get_num_threads())
    except ImportError:
        threads = "-"
    load = os.getloadavg()
    return {
        "cpu": cpu_model(),
        "cores": f"{usable} usable ({os.cpu_count()} online), torch threads {threads}",
        "ram": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min, at the start)",
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }
