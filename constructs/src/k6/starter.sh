#!/bin/sh
# k6-platform starter: starts paused k6 runners together, once every one of them is ready, and (with setup once)
# runs setup() and teardown() once for the whole run through k6's REST API.
# Shipped in the run's ConfigMap by the LoadTest construct (constructs/src/k6/starter.ts) and run with POSIX sh + curl,
# as a second container of runner 0's pod (it exits at once in the other runner pods).
#
# Usage: start-runners.sh BASE_URL...          start the run; the first URL is runner 0 (the starter's own pod)
#        start-runners.sh --stop BASE_URL...   ask every runner to stop (the stop Job of `loadtest run` on Ctrl-C)
#        start-runners.sh --resume BASE_URL... resume every runner at START_AT (the start Job of a multi-cluster run)
# Environment:
#   START_GATE             "external" (a multi-cluster run): wait until every runner is ready (and with SETUP_ONCE
#                          run setup() for this cluster), write `started`, but resume nothing: the start Job does
#   START_AT               --resume: unix time in ms to resume at (the same in every cluster of the run)
#   MAX_LATE_MS            --resume: resume nothing and fail when it is this many ms past START_AT (default 2000);
#                          on success the termination log reads "resumed-at=<unix ms> done-at=<unix ms>"
#   START_TIMEOUT_SECONDS  give up when not every runner is ready after this many seconds (default 300)
#   POLL_INTERVAL_SECONDS  pause between readiness rounds (default 1)
#   RUN_POLL_INTERVAL_SECONDS  pause between "is the run over" rounds with SETUP_ONCE (default 5)
#   STATUS_TIMEOUT_SECONDS how long one GET /v1/status may take (default 5; a runner under load answers late)
#   RUNNER_INDEX           when set and not 0, exit at once (the starter runs beside runner 0 only)
#   SETUP_ONCE             "true": every runner was started with noSetup, noTeardown; runner 0 also with linger.
#                          The starter runs `POST /v1/setup` on runner 0, hands its data to the others with
#                          `PUT /v1/setup`, resumes all, waits until all have finished, runs `POST /v1/teardown` on
#                          runner 0, then ends runner 0's lingering k6 process with SIGTERM (the pod shares its
#                          process namespace; k6 v1.7.1 leaves --linger only on a signal, internal/cmd/run.go).
#   STATE_DIR              writable directory: setup data, and the file `started` the readiness probe looks for
#                          (default /tmp)
#   K6_PROCESS_NAME        process name of k6 in the shared process namespace (default k6)
#   TERMINATION_LOG        where the failure message goes for `kubectl describe` / the CLI (default
#                          /dev/termination-log, written when it exists)
#   ABORT_WATCH_FILE       abortOnFail over all runners (runs started without the CLI): a file of lines
#                          "<delayAbortEval ms or ->\t<threshold>\t<crossed PromQL>\t<observed PromQL>"
#                          (constructs/src/k6/abort-watch-file.ts). From the resume until every runner is over, each
#                          due threshold's crossed expression is evaluated every ABORT_INTERVAL_SECONDS (the push
#                          interval, default 5) at PROMETHEUS_QUERY_URL/api/v1/query, with @K6P_TESTID@ = RUN_TESTID,
#                          @K6P_ELAPSED@ = seconds since the resume and @K6P_WINDOW@ = that + WINDOW_MARGIN_SECONDS
#                          (default 300). A "1" stops every runner; the starter then exits 99 (k6 v1.7.1's code for an
#                          abort by threshold) naming the threshold and its observed value. Credentials, when set:
#                          PROMETHEUS_USERNAME + PROMETHEUS_PASSWORD, or PROMETHEUS_BEARER_TOKEN; PROMETHEUS_HEADERS
#                          (one "Name: value" per line: a backend's tenant); PROMETHEUS_INSECURE=true skips TLS checks.
#
# k6 v1.7.1 REST API (api/v1/*.go): GET /v1/status answers {"data":{"attributes":{"status":N,"running":B,...}}}
# with the execution status of lib/execution.go (4 PausedBeforeRun, 10 Interrupted, 11 MarkedAsFailed); a run is
# over when it was stopped, interrupted or marked failed, or when it has started (status >= 5) and is no longer
# running. PATCH /v1/status {"data":{"type":"status","id":"default","attributes":{"paused":false}}} resumes;
# {"stopped":true} stops. POST /v1/setup answers {"data":{"type":"setupData","id":"default","attributes":{"data":X}}}
# (attributes {} when setup() returned nothing); PUT /v1/setup takes X itself as its body.
set -u

state_dir="${STATE_DIR:-/tmp}"
termination_log="${TERMINATION_LOG:-/dev/termination-log}"
k6_name="${K6_PROCESS_NAME:-k6}"

# fail MESSAGE: says why on stderr and in the termination log, then exits 1.
fail() {
  printf 'starter: FAILED: %s\n' "$1" >&2
  if [ -e "$termination_log" ]; then printf '%s\n' "$1" >"$termination_log" 2>/dev/null || true; fi
  exit 1
}

mode=start
if [ "${1:-}" = "--stop" ]; then
  mode=stop
  shift
elif [ "${1:-}" = "--resume" ]; then
  mode=resume
  shift
fi

if [ "$mode" = start ] && [ -n "${RUNNER_INDEX:-}" ] && [ "${RUNNER_INDEX}" != "0" ]; then
  echo "starter: runner ${RUNNER_INDEX} is not runner 0; nothing to do"
  exit 0
fi
if [ "$#" -eq 0 ]; then
  echo "starter: FAILED: no runner URLs given" >&2
  exit 2
fi

timeout="${START_TIMEOUT_SECONDS:-300}"
interval="${POLL_INTERVAL_SECONDS:-1}"
run_interval="${RUN_POLL_INTERVAL_SECONDS:-5}"
setup_once="${SETUP_ONCE:-false}"
total="$#"
first="$1"
started_at=$(date +%s)
deadline=$((started_at + timeout))

resume='{"data":{"type":"status","id":"default","attributes":{"paused":false}}}'
stop='{"data":{"type":"status","id":"default","attributes":{"stopped":true}}}'
setup_prefix='{"data":{"type":"setupData","id":"default","attributes":{"data":'
setup_suffix='}}}'
all_urls="$*"
released=false

# status_of URL: prints the runner's status attributes without white space; fails with curl's exit code when it does
# not answer (6: the name does not resolve, 7: connection refused, 28: timed out).
status_of() {
  body=$(curl -fsS --max-time "${STATUS_TIMEOUT_SECONDS:-5}" "$1/v1/status" 2>/dev/null) || return $?
  printf '%s' "$body" | tr -d ' \t\r\n'
}

# is_interrupted STATUS: the run of a runner that answered STATUS was stopped, interrupted or marked failed: it will
# never run (again). k6 keeps `running: true` then (internal/execution/scheduler.go), so the status decides.
is_interrupted() {
  case "$1" in *'"stopped":true'* | *'"status":10,'* | *'"status":10}'* | *'"status":11,'* | *'"status":11}'*) return 0 ;; esac
  return 1
}

# is_ready URL: 0 when the runner answers and reports execution status 4 (PausedBeforeRun), 1 when it is not ready
# yet, 3 when its run was stopped before it started.
is_ready() {
  s=$(status_of "$1") || return 1
  if is_interrupted "$s"; then return 3; fi
  case "$s" in *'"status":4,'* | *'"status":4}'*) return 0 ;; esac
  return 1
}

# is_over URL: 0 when the runner's run is over, 1 when it still runs or did not answer in time, 2 when it is gone (its
# name no longer resolves or nothing listens: a finished runner's pod leaves the headless Service).
is_over() {
  s=$(status_of "$1")
  code=$?
  if [ "$code" -eq 6 ] || [ "$code" -eq 7 ]; then return 2; fi
  if [ "$code" -ne 0 ]; then return 1; fi
  if is_interrupted "$s"; then return 0; fi
  case "$s" in *'"status":'[0-4]','* | *'"status":'[0-4]'}'*) return 1 ;; esac
  case "$s" in *'"running":false'*) return 0 ;; esac
  return 1
}

# local_k6_pid: the pid of this pod's k6 process (setup once: one process namespace for the pod), or nothing.
local_k6_pid() {
  for d in /proc/[0-9]*; do
    if [ "$(cat "$d/comm" 2>/dev/null)" = "$k6_name" ]; then
      echo "${d#/proc/}"
      return 0
    fi
  done
  return 1
}

# send_all BODY URL...: PATCHes BODY to URL/v1/status of every runner at once; prints the URLs it did not reach.
send_all() {
  payload="$1"
  shift
  pids=""
  for url in "$@"; do
    curl -fsS -o /dev/null --max-time 10 -X PATCH -H 'Content-Type: application/json' --data "$payload" "$url/v1/status" 2>/dev/null &
    pids="$pids $!:$url"
  done
  for p in $pids; do
    wait "${p%%:*}" || printf ' %s' "${p#*:}"
  done
}

# release_local_k6: ends the lingering k6 process of this pod (SIGTERM: k6 flushes its outputs and exits 0), waits
# up to 60 s for it to exit.
release_local_k6() {
  released=true
  pid=$(local_k6_pid)
  if [ -z "$pid" ]; then
    echo "starter: no $k6_name process in this pod to release" >&2
    return 1
  fi
  kill -TERM "$pid" 2>/dev/null || return 1
  waited=0
  while [ -d "/proc/$pid" ] && [ "$waited" -lt 60 ]; do
    sleep 1
    waited=$((waited + 1))
  done
  echo "starter: released runner 0 (k6 pid $pid)"
}

# error_detail FILE: the "detail" of k6's JSON error answer, or the answer itself.
error_detail() {
  detail=$(sed -n 's/.*"detail":"\(.*\)"}].*/\1/p' "$1" 2>/dev/null)
  if [ -n "$detail" ]; then printf '%s' "$detail"; else tr -d '\r\n' <"$1" 2>/dev/null; fi
}

# abort_run MESSAGE: ends the run after a failure, whatever state its runners are in: asks every runner to stop
# (paused, initialising or running: k6 then exits 103, and the runner Job's pod failure policy ends the rest), ends
# runner 0's lingering k6 (setup once), and fails with MESSAGE. The starter's own exit fails nothing while k6 runs
# beside it: a pod fails only once all its containers have ended.
abort_run() {
  message="$1"
  not_stopped=$(send_all "$stop" $all_urls)
  if [ "$setup_once" = true ] && [ "$released" = false ]; then release_local_k6 >/dev/null || true; fi
  [ -z "$not_stopped" ] || printf 'starter: could not reach to stop (finished or gone):%s\n' "$not_stopped" >&2
  fail "$message"
}

# now_ms: unix time in milliseconds: from date +%s%N (GNU; busybox built with nanoseconds), else from /proc/uptime
# (centiseconds) and the offset calibrate_clock measured, else whole seconds.
clock_offset_cs=""
now_ms() {
  ns=$(date +%s%N 2>/dev/null)
  case "$ns" in
    '' | *[!0-9]*) ;;
    *)
      echo "${ns%??????}"
      return 0
      ;;
  esac
  if [ -n "$clock_offset_cs" ]; then
    read -r up _ </proc/uptime
    echo $(((clock_offset_cs + ${up%.*}${up#*.}) * 10))
  else
    echo "$(date +%s)000"
  fi
}

# calibrate_clock: where date has no %N, the offset between unix time and /proc/uptime, in centiseconds, taken at the
# moment `date +%s` turns to the next second (polled for up to one second).
calibrate_clock() {
  case "$(date +%s%N 2>/dev/null)" in '' | *[!0-9]*) ;; *) return 0 ;; esac
  [ -r /proc/uptime ] || return 0
  s0=$(date +%s)
  while [ "$(date +%s)" = "$s0" ]; do :; done
  read -r up _ </proc/uptime
  clock_offset_cs=$(((s0 + 1) * 100 - ${up%.*}${up#*.}))
}

# wait_until MS: sleeps until unix time MS: whole seconds, then one fractional sleep (GNU and busybox sleep take
# them; a sleep that does not just polls the clock for that last second).
wait_until() {
  while :; do
    rem=$(($1 - $(now_ms)))
    [ "$rem" -gt 0 ] || return 0
    if [ "$rem" -gt 1000 ]; then
      sleep 1
    else
      sleep "0.$(printf '%03d' "$rem")" 2>/dev/null || :
    fi
  done
}

if [ "$mode" = stop ]; then
  not_stopped=$(send_all "$stop" "$@")
  if [ -n "$not_stopped" ]; then
    echo "starter: asked $total runners to stop; not reached (finished or gone):$not_stopped"
  else
    echo "starter: asked $total runners to stop"
  fi
  exit 0
fi

mkdir -p "$state_dir" 2>/dev/null || true
rm -f "$state_dir/started"

# 1. Wait until every runner is paused and ready.
pending="$*"
while :; do
  still=""
  for url in $pending; do
    is_ready "$url"
    case $? in
      0) ;;
      3) abort_run "$url was stopped before the run started; no load was started" ;;
      *) still="$still $url" ;;
    esac
  done
  pending="${still# }"
  if [ -z "$pending" ]; then
    break
  fi
  now=$(date +%s)
  if [ "$now" -ge "$deadline" ]; then
    missing=$(echo "$pending" | wc -w | tr -d ' ')
    abort_run "$missing of $total runners not ready after ${timeout}s: $pending"
  fi
  sleep "$interval"
done
echo "starter: all $total runners ready after $(($(date +%s) - started_at))s"

# 2. With setup once: setup() on runner 0, its data to every other runner.
if [ "$setup_once" = true ]; then
  code=$(curl -sS -o "$state_dir/setup.json" -w '%{http_code}' --max-time 3600 -X POST "$first/v1/setup" 2>"$state_dir/setup.err")
  if [ "$code" != 200 ]; then
    if [ "$code" = 000 ]; then detail=$(tr -d '\r\n' <"$state_dir/setup.err"); else detail=$(error_detail "$state_dir/setup.json"); fi
    abort_run "setup() failed on runner 0 (HTTP $code): $detail; no load was started"
  fi
  answer=$(cat "$state_dir/setup.json")
  data="${answer#"$setup_prefix"}"
  if [ "$data" = "$answer" ]; then
    # attributes {}: setup() returned nothing
    : >"$state_dir/setup-data.json"
  else
    printf '%s' "${data%"$setup_suffix"}" >"$state_dir/setup-data.json"
  fi
  shift
  for url in "$@"; do
    code=$(curl -sS -o "$state_dir/put.json" -w '%{http_code}' --max-time 60 -X PUT -H 'Content-Type: application/json' \
      --data-binary "@$state_dir/setup-data.json" "$url/v1/setup" 2>/dev/null)
    if [ "$code" != 200 ]; then
      abort_run "could not hand setup() data to $url (HTTP $code): $(error_detail "$state_dir/put.json"); no load was started"
    fi
  done
  set -- "$first" "$@"
  echo "starter: setup() ran on runner 0; its data went to $((total - 1)) other runner(s)"
fi

# 3a. A multi-cluster run: the runners are ready; the start Job of each cluster resumes them at the same time.
if [ "$mode" = start ] && [ "${START_GATE:-}" = external ]; then
  : >"$state_dir/started"
  echo "starter: all $total runners ready; waiting for the start Job to resume them"
  [ "$setup_once" = true ] || exit 0
fi

# 3b. --resume: at START_AT, or not at all when that is already more than MAX_LATE_MS ago.
if [ "$mode" = resume ]; then
  start_at="${START_AT:?START_AT (unix ms) is required with --resume}"
  max_late="${MAX_LATE_MS:-2000}"
  calibrate_clock
  wait_until "$start_at"
  t=$(now_ms)
  late=$((t - start_at))
  if [ "$late" -gt "$max_late" ]; then
    fail "could not resume at the start time: ${late} ms past START_AT ${start_at}, more than MAX_LATE_MS ${max_late}; nothing was resumed"
  fi
  not_resumed=$(send_all "$resume" "$@")
  done_at=$(now_ms)
  [ -z "$not_resumed" ] || abort_run "$(echo "$not_resumed" | wc -w | tr -d ' ') of $total runners did not accept the resume request:$not_resumed"
  echo "starter: resumed $total runners at $t (START_AT + ${late} ms; answered after $((done_at - t)) ms)"
  if [ -e "$termination_log" ]; then printf 'resumed-at=%s done-at=%s\n' "$t" "$done_at" >"$termination_log" 2>/dev/null || true; fi
  exit 0
fi

# 3. Resume every runner at the same time (unless the start Job does: step 4 then waits for teardown()).
if [ "${START_GATE:-}" != external ]; then
  not_resumed=$(send_all "$resume" "$@")
  if [ -n "$not_resumed" ]; then
    abort_run "$(echo "$not_resumed" | wc -w | tr -d ' ') of $total runners did not accept the resume request:$not_resumed"
  fi
  : >"$state_dir/started"
  echo "starter: resumed $total runners"
fi
resumed_at=$(date +%s)
watch_file="${ABORT_WATCH_FILE:-}"
if [ -n "$watch_file" ] && [ ! -s "$watch_file" ]; then watch_file=""; fi
[ "$setup_once" = true ] || [ -n "$watch_file" ] || exit 0

abort_interval="${ABORT_INTERVAL_SECONDS:-5}"
tab=$(printf '\t')
aborted=""
watch_errors=0

# Credentials go to curl in a config file of the state directory, not on its command line (which other processes of
# the pod could read); curl's config syntax wants backslashes and double quotes escaped.
prom_auth=""
curl_quote() { printf '%s' "$1" | sed 's/[\\"]/\\&/g'; }
if [ -n "${PROMETHEUS_BEARER_TOKEN:-}" ] || [ -n "${PROMETHEUS_USERNAME:-}" ] || [ -n "${PROMETHEUS_HEADERS:-}" ] ||
  [ "${PROMETHEUS_INSECURE:-}" = true ]; then
  prom_auth="$state_dir/prometheus-auth.curlrc"
  (
    umask 077
    {
      if [ -n "${PROMETHEUS_BEARER_TOKEN:-}" ]; then
        printf 'header = "Authorization: Bearer %s"\n' "$(curl_quote "$PROMETHEUS_BEARER_TOKEN")"
      elif [ -n "${PROMETHEUS_USERNAME:-}" ]; then
        printf 'user = "%s:%s"\n' "$(curl_quote "$PROMETHEUS_USERNAME")" "$(curl_quote "${PROMETHEUS_PASSWORD:-}")"
      fi
      # one "Name: value" per line (a backend's tenant header)
      printf '%s\n' "${PROMETHEUS_HEADERS:-}" | while IFS= read -r h; do
        [ -z "$h" ] || printf 'header = "%s"\n' "$(curl_quote "$h")"
      done
      [ "${PROMETHEUS_INSECURE:-}" != true ] || printf 'insecure\n'
    } >"$prom_auth"
  )
fi

# prom_query PROMQL TIME: the answer of PROMETHEUS_QUERY_URL/api/v1/query without white space; fails when there is none.
prom_query() {
  curl -fsS --max-time "${QUERY_TIMEOUT_SECONDS:-10}" ${prom_auth:+-K "$prom_auth"} -G --data-urlencode "query=$1" \
    --data-urlencode "time=$2" "${PROMETHEUS_QUERY_URL%/}/api/v1/query" 2>&1 | tr -d ' \t\r\n'
}

# check_abort: evaluates every due abortOnFail threshold of the watch file, in order; on the first that crossed, sets
# `aborted` to its name and observed value. An evaluation that fails decides nothing (counted in watch_errors).
check_abort() {
  now=$(date +%s)
  elapsed=$((now - resumed_at))
  [ "$elapsed" -ge 1 ] || elapsed=1
  window=$((elapsed + ${WINDOW_MARGIN_SECONDS:-300}))
  while IFS="$tab" read -r delay name crossed observed; do
    [ -n "$crossed" ] || continue
    # k6 v1.7.1 metrics/thresholds.go runAll: a delayed threshold aborts only once delayAbortEval < time spent
    if [ "$delay" != "-" ] && [ "$delay" -ge $((elapsed * 1000)) ]; then continue; fi
    fill="s/@K6P_TESTID@/${RUN_TESTID:-}/g; s/@K6P_WINDOW@/$window/g; s/@K6P_ELAPSED@/$elapsed/g"
    body=$(prom_query "$(printf '%s' "$crossed" | sed "$fill")" "$now")
    case "$body" in
      *'"status":"success"'*) ;;
      *)
        watch_errors=$((watch_errors + 1))
        printf 'starter: abortOnFail evaluation of %s failed: %s\n' "$name" "$body" >&2
        continue
        ;;
    esac
    case "$body" in *',"1"]'*) ;; *) continue ;; esac
    value=$(prom_query "$(printf '%s' "$observed" | sed "$fill")" "$now" | sed -n 's/.*"value":\[[^],]*,"\([^"]*\)"\].*/\1/p')
    aborted="threshold $name crossed (observed ${value:-unknown}) ${elapsed}s into the run"
    return 0
  done <"$watch_file"
}

# 4. Wait, in rounds over the runners still running, until every runner is over (a runner other than 0 exits when
#    done: its name stops resolving or nothing listens). With the watch file, each round first evaluates its
#    thresholds, and the first crossing stops every runner. With setup once, then teardown() once on
#    runner 0 (k6 v1.7.1 internal/execution/scheduler.go runs teardown() after an abort by threshold too), then
#    release runner 0. A runner that does not answer in time is asked again in the next round.
pending="$*"
round="$run_interval"
[ -z "$watch_file" ] || round="$abort_interval"
while [ -n "$pending" ]; do
  if [ -n "$watch_file" ] && [ -z "$aborted" ]; then
    check_abort
    if [ -n "$aborted" ]; then
      echo "starter: aborting: $aborted"
      not_stopped=$(send_all "$stop" $all_urls)
      [ -z "$not_stopped" ] || printf 'starter: could not reach to stop (finished or gone):%s\n' "$not_stopped" >&2
    fi
  fi
  still=""
  for url in $pending; do
    is_over "$url"
    r=$?
    if [ "$r" -eq 0 ]; then continue; fi
    if [ "$r" -eq 2 ] && { [ "$setup_once" != true ] || [ "$url" != "$first" ]; }; then continue; fi
    if [ "$setup_once" = true ] && [ "$url" = "$first" ] && [ -z "$(local_k6_pid)" ]; then abort_run "runner 0 ended before teardown() could run"; fi
    still="$still $url"
  done
  pending="${still# }"
  # One round per push interval while watching: a sample that crosses is seen within one interval plus the round's
  # own queries (a runner's samples reach Prometheus only once per push, so rounds more often would re-read them).
  if [ -n "$pending" ]; then sleep "$round"; fi
done
[ "$watch_errors" -eq 0 ] || echo "starter: $watch_errors abortOnFail evaluations failed (see above); they decided nothing" >&2
if [ "$setup_once" = true ]; then
  echo "starter: all $total runners finished; running teardown() on runner 0"
  code=$(curl -sS -o "$state_dir/teardown.json" -w '%{http_code}' --max-time 3600 -X POST "$first/v1/teardown" 2>/dev/null)
  teardown_failed=""
  if [ "$code" != 200 ]; then teardown_failed="teardown() failed on runner 0 (HTTP $code): $(error_detail "$state_dir/teardown.json")"; fi
  release_local_k6 || teardown_failed="${teardown_failed:-could not release runner 0}"
  [ -z "$teardown_failed" ] || fail "$teardown_failed${aborted:+; the run was aborted: $aborted}"
  echo "starter: teardown() done"
fi
if [ -n "$aborted" ]; then
  printf 'starter: ABORTED: %s\n' "$aborted" >&2
  if [ -e "$termination_log" ]; then printf 'aborted by threshold: %s\n' "$aborted" >"$termination_log" 2>/dev/null || true; fi
  # k6 v1.7.1 errext/exitcodes/codes.go ThresholdsHaveFailed: an abort by threshold exits 99 (internal/metrics/engine)
  exit 99
fi
[ "$setup_once" = true ] || echo "starter: all $total runners finished"
