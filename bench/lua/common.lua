-- The part of every bench script that is not the request itself. bench/wrk.py writes a
-- table `P` (this measurement's parameters) above it, and a request file below it.
--
-- It sets the static request (method, path, headers, body); numbers the requests of scripts
-- that build each one, so that no two requests of a run, or of two runs, get the same number
-- (a write must be unique: a new patient, a free time slot); counts the statuses of scripts
-- that look at responses; and makes done() print one line for the harness, with what
-- --latency leaves out (the 95th percentile) and what the threads counted.

wrk.method = P.method
wrk.path = P.path
wrk.headers["Accept"] = "application/json"
if P.token ~= nil then
  wrk.headers["Authorization"] = "Bearer " .. P.token
end
if P.method == "POST" then
  wrk.headers["Content-Type"] = "application/json"
end
if P.body ~= nil then
  wrk.body = P.body
end

-- setup() runs in the main Lua state once per thread, before the thread's own init().
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

-- Globals of each thread's state, so that done() can read them with thread:get().
last_n = -1       -- the highest request number this thread used
statuses = {}     -- status code (as text) -> responses, for scripts with response()
samples = {}      -- the first few answers that were not 2xx, for the failure report

local sequence = 0

-- Thread i of T uses first + i, first + i + T, first + i + 2T, ...: never the same number.
function next_n()
  local n = P.first + thread_index + sequence * P.threads
  sequence = sequence + 1
  last_n = n
  return n
end

-- For the scripts that define response(): wrk parses answers only when it exists.
function count_response(status, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if (status < 200 or status > 299) and #samples < 3 then
    samples[#samples + 1] = key .. " " .. string.sub(body or "", 1, 300)
  end
end

local function json_string(text)
  local escaped = string.gsub(text, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. escaped .. '"'
end

function done(summary, latency, requests)
  local last, counted, sampled = -1, {}, {}
  for _, thread in ipairs(threads) do
    last = math.max(last, thread:get("last_n"))
    for key, count in pairs(thread:get("statuses")) do
      counted[key] = (counted[key] or 0) + count
    end
    for _, sample in ipairs(thread:get("samples")) do
      if #sampled < 3 then sampled[#sampled + 1] = json_string(sample) end
    end
  end
  local status_items = {}
  for key, count in pairs(counted) do
    status_items[#status_items + 1] = string.format('"%s": %d', key, count)
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH-DONE {"requests": %d, "duration_us": %d, "p50_us": %.1f, "p90_us": %.1f, '
    .. '"p95_us": %.1f, "p99_us": %.1f, "max_us": %.1f, "status_errors": %d, '
    .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, '
    .. '"last_n": %d, "statuses": {%s}, "samples": [%s]}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max, errors.status,
    errors.connect, errors.read, errors.write, errors.timeout,
    last, table.concat(status_items, ", "), table.concat(sampled, ", ")))
end
