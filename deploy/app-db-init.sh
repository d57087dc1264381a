#!/bin/sh
# The app's least-privilege database role for the compose demo (run by the postgres image on a
# new volume only). The web app and the workers sign in as roi_app; the `migrate` service as the
# owner `roi`, whose migrations grant roi_app SELECT/INSERT/UPDATE/DELETE on ordinary tables and
# only SELECT/INSERT on the audit tables (store/roles.py). On a volume made before this script:
#   docker compose -f deploy/compose.yaml exec app-db \
#     psql -U roi -d roi -c "CREATE ROLE roi_app LOGIN PASSWORD 'roi-app-demo-only'"
#   docker compose -f deploy/compose.yaml run --rm migrate
set -eu
psql -v ON_ERROR_STOP=1 -v app_password="$ROI_APP_DB_PASSWORD" \
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE roi_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'app_password';
SQL
