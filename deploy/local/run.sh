#!/usr/bin/env bash
# THE run command (README): makes .venv/, starts the local stack, then runs the demo
# (`mailbox demo`: the platform simulator and the four services on the local stack).
#
#   bash deploy/local/run.sh [demo options…]
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "$MAILBOX_LOCAL_DIR/bootstrap.sh"
bash "$MAILBOX_LOCAL_DIR/stack.sh" up
# shellcheck source=deploy/local/env.sh
source "$MAILBOX_LOCAL_DIR/env.sh"
cd "$MAILBOX_REPO_ROOT"

mailbox="$MAILBOX_REPO_ROOT/.venv/bin/mailbox"
if "$mailbox" demo --help >/dev/null 2>&1; then
    exec "$mailbox" demo "$@"
fi

cat >&2 <<EOF
This build of the mailbox has no \`mailbox demo\` command, so there is nothing to run yet.
The local stack is up and stays up:
  MAILBOX_MONGO_URL=$MAILBOX_MONGO_URL
  MAILBOX_AMQP_URL=$MAILBOX_AMQP_URL
  MAILBOX_REDIS_URL=$MAILBOX_REDIS_URL
The commands this build has: $mailbox --help
Stop the stack with: bash deploy/local/stack.sh down
EOF
exit 3
