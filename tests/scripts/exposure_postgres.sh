#!/usr/bin/env bash
# exposure.sh on a real PostgreSQL 15 (lib/pg.sh): the same fleet, built
# through the API, the same answers from the oracle, the same refusals.
here=$(cd "$(dirname "$0")" && pwd)
PW_EXPOSURE_DB=postgres exec bash "$here/exposure.sh"
