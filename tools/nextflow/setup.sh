#!/usr/bin/env bash
# Make a `nextflow` command available and print its path on stdout.
#
# A `nextflow` already on PATH wins (users have their own, with their own plugins and settings).
# Otherwise the runtime jars are fetched once from Maven Central into tools/nextflow/lib/ (pom.xml beside
# this script) and tools/nextflow/nextflow runs them. Rerunning is cheap: the jars are fetched only when
# the folder does not hold exactly the pinned release.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ "${VIRNUCPRO_BUNDLED_NEXTFLOW:-0}" != 1 ]] && command -v nextflow >/dev/null 2>&1 \
    && [[ "$(command -v nextflow)" != "$here/nextflow" ]]; then
    command -v nextflow
    exit 0
fi

version="$(sed -n 's:.*<nextflow.version>\(.*\)</nextflow.version>.*:\1:p' "$here/pom.xml")"
if [[ ! -f "$here/lib/nextflow-$version.jar" ]]; then
    if ! command -v mvn >/dev/null 2>&1 && [[ -n "${CI:-}" && "$(id -u)" == 0 ]]; then
        # CI machines are Debian and we are root there: Maven (and a JRE) come from Debian's packages.
        apt-get update -qq >&2 && apt-get install -y -qq maven >&2
    fi
    command -v mvn >/dev/null 2>&1 || { echo "setup: neither nextflow nor mvn (Maven) is on PATH" >&2; exit 1; }
    command -v java >/dev/null 2>&1 || { echo "setup: Java 17 or later is needed to run Nextflow" >&2; exit 1; }
    echo "setup: fetching Nextflow $version from Maven Central into $here/lib" >&2
    rm -rf "$here/lib"
    # -U: retry artifacts whose earlier download failed instead of trusting Maven's cached failure.
    mvn -q -B -U -f "$here/pom.xml" dependency:copy-dependencies >&2
fi
"$here/nextflow" -version >/dev/null
echo "$here/nextflow"
