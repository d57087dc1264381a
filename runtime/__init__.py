"""Process-level plumbing: settings, logging, and the local services the demo starts."""
