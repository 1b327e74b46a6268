-- Replays the requests listed in $WRK_REQUESTS, one per line:
--   METHOD <tab> PATH <tab> COOKIE (or -) <tab> BODY (or -) [<tab> once]
-- Lines are sent in order, round and round. A line marked "once" (or every line, with
-- WRK_ONCE=1) is sent at most once in the whole run, by the one thread it falls to (every
-- Nth line to thread N): post-test submissions and enrollments, each of which must be a real
-- one. When a thread has nothing left to send it sends GET /healthz and counts it as
-- "exhausted", which bench/load.py and bench/soak.py report as a spoiled run.
-- done() prints one JSON line, prefixed "WRKJSON ", with percentiles and error counts.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(fields, field) end
  return fields
end

function init(args)
  local all_once = os.getenv("WRK_ONCE") == "1"
  local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
  reqs = {}
  local index = 0
  for line in io.lines(os.getenv("WRK_REQUESTS")) do
    local f = split(line)
    local once = all_once or f[5] == "once"
    if (not once) or index % nthreads == id then
      local headers = {["Accept-Encoding"] = "gzip, br", ["User-Agent"] = "portal-bench"}
      if f[3] ~= "-" then headers["Cookie"] = f[3] end
      local body = nil
      if f[4] ~= "-" then
        body = f[4]
        headers["Content-Type"] = "application/x-www-form-urlencoded"
      end
      table.insert(reqs, {text = wrk.format(f[1], f[2], headers, body), once = once, used = false})
    end
    index = index + 1
  end
  -- Threads start at different places in shared lists, so they are not in lockstep.
  cursor = (#reqs > 0 and not all_once) and (id * 7919) % #reqs or 0
  exhausted = 0
  spare = wrk.format("GET", "/healthz")
end

function request()
  for _ = 1, #reqs do
    cursor = cursor % #reqs + 1
    local r = reqs[cursor]
    if not r.once then return r.text end
    if not r.used then
      r.used = true
      return r.text
    end
  end
  exhausted = exhausted + 1
  return spare
end

function done(summary, latency, requests)
  local exhausted_total = 0
  for _, thread in ipairs(threads) do
    exhausted_total = exhausted_total + (thread:get("exhausted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"p999_us": %d, "max_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"exhausted": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency:percentile(99.9), latency.max, e.connect, e.read, e.write, e.status,
    e.timeout, exhausted_total))
end
