#!/usr/bin/env bash
# Starts the Celery side of the app.
#   ./start_celery.sh          worker and beat together (one host)
#   ./start_celery.sh worker   the worker alone (run as many hosts as you like)
#   ./start_celery.sh beat     the beat scheduler alone (run exactly one)
# CELERY_CONCURRENCY (default 1) sets how many batches one worker sends at once; CELERY_POOL
# (default threads: sending is I/O-bound, and a threads pool stops cleanly under a process runner).
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/celery ] && PATH="$PWD/.venv/bin:$PATH"

INSTANCE="${INSTANCE_PATH:-$PWD/instance}"
mkdir -p "$INSTANCE"
WORKER_ARGS=(--loglevel="${CELERY_LOGLEVEL:-info}" --pool="${CELERY_POOL:-threads}"
             --concurrency="${CELERY_CONCURRENCY:-1}" --prefetch-multiplier=1)
BEAT_ARGS=(--schedule="$INSTANCE/celerybeat-schedule")

case "${1:-all}" in
  worker) exec celery -A celery_worker worker "${WORKER_ARGS[@]}" ;;
  beat)   exec celery -A celery_worker beat --loglevel="${CELERY_LOGLEVEL:-info}" "${BEAT_ARGS[@]}" ;;
  all)    exec celery -A celery_worker worker --beat "${WORKER_ARGS[@]}" "${BEAT_ARGS[@]}" ;;
  *)      echo "usage: $0 [worker|beat|all]" >&2; exit 2 ;;
esac
