"""Pure rules of release-of-information work: types, policy tables, validation. No I/O."""
