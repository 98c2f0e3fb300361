"""The self-verifying journal supplement: ``trialreport bundle`` and ``trialreport verify``."""

from trialreport.supplement.bundle import BundleError, BundleResult, build_supplement
from trialreport.supplement.manifest import ManifestEntry, check_tree, parse_manifest
from trialreport.supplement.safe_unpack import Limits, UnsafeArchiveError, safe_extract
from trialreport.supplement.verify import (
    VerifyReport,
    VerifyUsageError,
    compare_results,
    verify_supplement,
)

__all__ = ["BundleError", "BundleResult", "Limits", "ManifestEntry", "UnsafeArchiveError",
           "VerifyReport", "VerifyUsageError", "build_supplement", "check_tree",
           "compare_results", "parse_manifest", "safe_extract", "verify_supplement"]
