"""The journal supplement: ``trialreport bundle`` and ``trialreport verify`` (which runs
nothing from the supplement).

The public names are loaded on first use, so the command line can read the unpack limits
without importing the bundling and verification machinery.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BundleError": "bundle", "BundleResult": "bundle", "build_supplement": "bundle",
    "ManifestEntry": "manifest", "check_tree": "manifest", "parse_manifest": "manifest",
    "Limits": "safe_unpack", "UnsafeArchiveError": "safe_unpack", "safe_extract": "safe_unpack",
    "VerifyReport": "verify", "VerifyUsageError": "verify", "recompute_ard": "verify",
    "verify_supplement": "verify", "compare_results": "compare",
    "ToolPinError": "toolpin", "tool_wheel": "toolpin", "runtime_lock": "toolpin",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
