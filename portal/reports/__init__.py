"""Reports for administrators and providers: completions, pre/post growth, item analysis."""
