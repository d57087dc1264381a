"""Application services shared by the CLI and the web app: intake, staff actions, queries."""
