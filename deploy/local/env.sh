# shellcheck shell=bash
# Source me (`source deploy/local/env.sh`): exports the URLs of the local stack that
# deploy/local/stack.sh starts. The services read them through the common `MAILBOX_`
# prefix, the tests directly. A URL already set wins, so a run can point at another
# server (a real mongod, say) without editing anything.
export MAILBOX_AMQP_PORT="${MAILBOX_AMQP_PORT:-5672}"
export MAILBOX_REDIS_PORT="${MAILBOX_REDIS_PORT:-6379}"
export MAILBOX_MONGO_PORT="${MAILBOX_MONGO_PORT:-27017}"
export MAILBOX_MONGO_URL="${MAILBOX_MONGO_URL:-mongodb://127.0.0.1:${MAILBOX_MONGO_PORT}/}"
export MAILBOX_AMQP_URL="${MAILBOX_AMQP_URL:-amqp://guest:guest@127.0.0.1:${MAILBOX_AMQP_PORT}/}"
export MAILBOX_REDIS_URL="${MAILBOX_REDIS_URL:-redis://127.0.0.1:${MAILBOX_REDIS_PORT}/0}"
