"""Active testing: emulators, prober and lab (docs/active-testing.md)."""
