#!/usr/bin/env bash
# Starts the Celery side of the app.
#   ./start_celery.sh          worker and beat together (one host)
#   ./start_celery.sh worker   the worker alone (run as many hosts as you like)
#   ./start_celery.sh beat     the beat scheduler alone (run exactly one)
# A worker sends for every account handed to it at once, each at its own pace (one asyncio sender per
# process, docs/engine.md). CELERY_CONCURRENCY (default 2) is how many threads take tasks
# (beat's ticks, hand-offs), not how many accounts send; CELERY_POOL (default threads: a threads pool
# stops cleanly under a process runner, and the sender lives in the worker's own process).
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/celery ] && PATH="$PWD/.venv/bin:$PATH"

INSTANCE="${INSTANCE_PATH:-$PWD/instance}"
mkdir -p "$INSTANCE"
WORKER_ARGS=(--loglevel="${CELERY_LOGLEVEL:-info}" --pool="${CELERY_POOL:-threads}"
             --concurrency="${CELERY_CONCURRENCY:-2}" --prefetch-multiplier=1)
BEAT_ARGS=(--schedule="$INSTANCE/celerybeat-schedule")

case "${1:-all}" in
  worker) exec celery -A celery_worker worker "${WORKER_ARGS[@]}" ;;
  beat)   exec celery -A celery_worker beat --loglevel="${CELERY_LOGLEVEL:-info}" "${BEAT_ARGS[@]}" ;;
  all)    exec celery -A celery_worker worker --beat "${WORKER_ARGS[@]}" "${BEAT_ARGS[@]}" ;;
  *)      echo "usage: $0 [worker|beat|all]" >&2; exit 2 ;;
esac
