#!/bin/sh
# k6-platform starter: resumes paused k6 runners together, once every one of them is ready.
# Shipped in the run's ConfigMap by the LoadTest construct (constructs/src/starter.ts) and run with POSIX sh + curl.
#
# Usage: start-runners.sh BASE_URL...        (e.g. http://run-runner-0.run.k6:6565)
# Environment:
#   START_TIMEOUT_SECONDS  give up when not every runner is ready after this many seconds (default 300)
#   POLL_INTERVAL_SECONDS  pause between readiness rounds (default 1)
#   RUNNER_INDEX           when set and not 0, exit at once (the starter runs beside runner 0 only)
#
# A runner is ready when GET /v1/status answers with k6's execution status 4 (PausedBeforeRun): its VUs are
# initialised and it waits to be resumed. Once all are ready, every runner gets
#   PATCH /v1/status {"data":{"type":"status","id":"default","attributes":{"paused":false}}}
# at the same time (one background request each). When the timeout passes first, the ready runners are stopped
# (so the run ends instead of idling until its deadline) and the starter exits 1 with the runners still missing.
set -u

if [ -n "${RUNNER_INDEX:-}" ] && [ "${RUNNER_INDEX}" != "0" ]; then
  echo "starter: runner ${RUNNER_INDEX} is not runner 0; nothing to do"
  exit 0
fi
if [ "$#" -eq 0 ]; then
  echo "starter: FAILED: no runner URLs given" >&2
  exit 2
fi

timeout="${START_TIMEOUT_SECONDS:-300}"
interval="${POLL_INTERVAL_SECONDS:-1}"
total="$#"
started_at=$(date +%s)
deadline=$((started_at + timeout))

resume='{"data":{"type":"status","id":"default","attributes":{"paused":false}}}'
stop='{"data":{"type":"status","id":"default","attributes":{"stopped":true}}}'

# is_ready URL: true when the runner answers and reports execution status 4 (PausedBeforeRun).
is_ready() {
  body=$(curl -fsS --max-time 5 "$1/v1/status" 2>/dev/null) || return 1
  printf '%s' "$body" | tr -d ' \t\r\n' | grep -q '"status":4[,}]'
}

# patch_all BODY URL...: sends BODY to every URL at once; fails when any request fails.
patch_all() {
  payload="$1"
  shift
  pids=""
  for url in "$@"; do
    curl -fsS -o /dev/null --max-time 10 -X PATCH -H 'Content-Type: application/json' --data "$payload" "$url/v1/status" &
    pids="$pids $!"
  done
  failed=0
  for pid in $pids; do
    wait "$pid" || failed=$((failed + 1))
  done
  return "$failed"
}

pending="$*"
while :; do
  still=""
  for url in $pending; do
    is_ready "$url" || still="$still $url"
  done
  pending="${still# }"
  if [ -z "$pending" ]; then
    break
  fi
  now=$(date +%s)
  if [ "$now" -ge "$deadline" ]; then
    missing=$(echo "$pending" | wc -w | tr -d ' ')
    echo "starter: FAILED: $missing of $total runners not ready after ${timeout}s: $pending" >&2
    ready=""
    for url in "$@"; do
      case " $pending " in *" $url "*) ;; *) ready="$ready $url" ;; esac
    done
    if [ -n "$ready" ]; then
      # shellcheck disable=SC2086 # word splitting of the URL list is intended
      patch_all "$stop" $ready || true
      echo "starter: stopped the runners that were ready:$ready" >&2
    fi
    exit 1
  fi
  sleep "$interval"
done

echo "starter: all $total runners ready after $(($(date +%s) - started_at))s; resuming them together"
if ! patch_all "$resume" "$@"; then
  echo "starter: FAILED: $failed of $total runners did not accept the resume request" >&2
  exit 1
fi
echo "starter: resumed $total runners"
