-- wrk script of bench/load.py: POST one JSON chat message per request, users from a plan file.
--
--   wrk -t T -c C -d MAX -s chat.lua URL -- PATH PLAN_PREFIX TAG SECONDS RATE
--
-- PATH         the route to POST to (/v1/chat, /bench/echo, /echo)
-- PLAN_PREFIX  thread n reads PLAN_PREFIX-n.tsv: lines `user_id \t token \t text`, text already
--              JSON-escaped; user_id `-` means a fresh user made up here (no token: the
--              request claims it, as a new visitor's first message does)
-- TAG          message ids are TAG-<thread>-<counter>, unique per request
-- SECONDS      requests start for this long, then no more: run wrk with -d a few seconds longer
--              so the requests in flight get their answers (wrk always runs for all of -d)
-- RATE         requests/s of this thread; 0 = closed loop (next request as soon as the
--              connection is free). RATE > 0 paces the requests through delay(): evenly
--              spaced with +-50% jitter, never catching up (paced closed loop, not open loop)
--
-- done() prints one line `BENCH_JSON {...}` with the counts and latency percentiles.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

-- main state: setup() numbers the threads and keeps them for done() ------------------------

local threads = {}

function setup(thread)
  thread:set("thread_no", #threads)
  table.insert(threads, thread)
end

-- thread state -----------------------------------------------------------------------------

local path, tag, seconds, interval_ms
local plan, position = nil, 1
local deadline, next_at
sent, ok, bad, statuses, first_sent_ms, last_done_ms = 0, 0, 0, "", nil, nil
local status_counts = {}

local function load_plan(file_name)
  local lines = {}
  for line in io.lines(file_name) do
    local user, token, text = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    if user then table.insert(lines, { user = user, token = token, text = text }) end
  end
  assert(#lines > 0, "empty plan " .. file_name)
  return lines
end

function init(args)
  path, tag, seconds = args[1], args[3], tonumber(args[4])
  local rate = tonumber(args[5])
  interval_ms = rate > 0 and 1000 / rate or 0
  plan = load_plan(string.format("%s-%d.tsv", args[2], thread_no))
  math.randomseed(1000 + thread_no)
end

function delay()
  local now = now_ms()
  if deadline == nil then deadline, next_at = now + seconds * 1000, now end
  if now >= deadline then return 24 * 3600 * 1000 end  -- draining: no new requests
  if interval_ms == 0 then return 0 end
  local at = math.max(now, next_at)
  next_at = at + interval_ms * (0.5 + math.random())
  return math.floor(at - now + 0.5)
end

function request()
  if deadline == nil then  -- wrk tries request() once before the threads run (not sent)
    return wrk.format("POST", "/", { ["Content-Type"] = "application/json" }, "{}")
  end
  local line = plan[position]
  position = position % #plan + 1
  sent = sent + 1
  first_sent_ms = first_sent_ms or now_ms()
  local headers = { ["Content-Type"] = "application/json" }
  local user = line.user
  if user == "-" then
    user = string.format("%s-new-%d-%d", tag, thread_no, sent)
  else
    headers["Authorization"] = "Bearer " .. line.token
  end
  local body = string.format('{"user_id":"%s","text":"%s","message_id":"%s-%d-%d"}',
                             user, line.text, tag, thread_no, sent)
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  last_done_ms = now_ms()
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    bad = bad + 1
    status_counts[status] = (status_counts[status] or 0) + 1
    local parts = {}
    for code, count in pairs(status_counts) do table.insert(parts, code .. ":" .. count) end
    statuses = table.concat(parts, ",")
  end
end

-- main state again: sum the threads --------------------------------------------------------

function done(summary, latency, requests)
  local total = { sent = 0, ok = 0, bad = 0 }
  local first, last = math.huge, 0
  local merged = {}
  for _, thread in ipairs(threads) do
    for key in pairs(total) do total[key] = total[key] + thread:get(key) end
    first = math.min(first, thread:get("first_sent_ms") or math.huge)
    last = math.max(last, thread:get("last_done_ms") or 0)
    for code, count in string.gmatch(thread:get("statuses"), "(%d+):(%d+)") do
      merged[code] = (merged[code] or 0) + tonumber(count)
    end
  end
  local status_json = {}
  for code, count in pairs(merged) do table.insert(status_json, string.format('"%s":%d', code, count)) end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"sent":%d,"ok":%d,"non_2xx":%d,"statuses":{%s},"seconds":%.3f,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,' ..
    '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
    total.sent, total.ok, total.bad, table.concat(status_json, ","), math.max(last - first, 1) / 1000,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000,
    errors.connect, errors.read, errors.write, errors.timeout))
end
