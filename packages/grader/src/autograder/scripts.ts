/**
 * The two scripts of a Gradescope autograder. Paths default to Gradescope's layout (/autograder)
 * and follow AUTOGRADER_ROOT when set, so the same scripts can be tried on any machine.
 */

/** setup.sh: runs once, as root, when Gradescope builds the image (network available). */
export function setupScript(labPackage: string): string {
  return `#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image.
set -euo pipefail
ROOT="\${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"

# 1. Node.js 20 (skipped when a new enough node is already there).
if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  apt-get update
  apt-get install -y ca-certificates curl gnupg
  curl -fsSL https://deb.nodesource.com/setup_20.x | bash -
  apt-get install -y nodejs
fi
# prlimit, unshare and setpriv come with util-linux.
command -v prlimit >/dev/null 2>&1 || apt-get install -y util-linux

# 2. The grader, the lab and @introdl/core from the tarballs in introdl/, the rest from npm.
cd "$SRC"
# --ignore-scripts: no package needs its install script here (tfjs-node's would download
# libtensorflow; grading uses the plain JavaScript backend).
npm install --omit=dev --ignore-scripts --no-audit --no-fund \${INTRODL_NPM_FLAGS:-}

# 3. The unprivileged user that runs student code.
id introdl-grader >/dev/null 2>&1 ||
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin introdl-grader

# 4. Student code must not read the reference solution, the rubric or the grader: root-only.
#    The runtime it needs (node_modules, @introdl/core) stays readable.
chmod 711 "$ROOT" "$SRC"
chmod -R go-rwx "$SRC/introdl" "$SRC/config.json" "$SRC/node_modules/@introdl/grader" "$SRC/node_modules/${labPackage}"
mkdir -p "$ROOT/results"
chmod 755 "$ROOT/results"
`;
}

/** run_autograder: runs for each submission. */
export function runScript(): string {
  return `#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes results/results.json.
set -uo pipefail
ROOT="\${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
mkdir -p "$ROOT/results"
exec node "$SRC/node_modules/@introdl/grader/dist/autograder/gradescope-main.js" \\
  --config "$SRC/config.json" \\
  --submission "$ROOT/submission" \\
  --results "$ROOT/results/results.json"
`;
}
