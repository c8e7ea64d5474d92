-- mixed.lua — the wrk script of the load test (tests/load/run.sh): a mixed
-- read/write load as a logged-in operator, about 80 % reads and 20 % writes.
--
--   20 %  POST /api/v1/cases              register a case (intake, group commit)
--   20 %  GET  /api/v1/cases?…            case lists (all, open, in a district)
--   15 %  GET  /api/v1/cases/{id}         one case view
--   10 %  GET  /api/v1/stats?group=…      dashboard statistics
--   15 %  GET  /api/v1/geocode?lon=&lat=  point → grid
--   10 %  GET  /api/v1/areas…             the area hierarchy, one area
--   10 %  GET  /api/v1/dashboard/summary  the command screen's tiles
--
-- Input (environment, set by run.sh): LOAD_TOKEN (bearer token), LOAD_IDS
-- (comma-separated case ids), LOAD_POINTS ("lon lat;lon lat;…", points
-- inside the city), LOAD_SEED. Every reply that is not 2xx is counted by
-- status and printed at the end (wrk itself counts only "non-2xx or 3xx");
-- done() prints the figures as LOAD_* lines for run.sh.

local token = os.getenv("LOAD_TOKEN") or ""
local ids, points = {}, {}
local counts = {}        -- per thread: status -> n
local seq = 0

local function split(s, sep)
  local out = {}
  for part in string.gmatch(s or "", "[^" .. sep .. "]+") do
    out[#out + 1] = part
  end
  return out
end

function init(args)
  ids = split(os.getenv("LOAD_IDS"), ",")
  for _, p in ipairs(split(os.getenv("LOAD_POINTS"), ";")) do
    local xy = split(p, " ")
    points[#points + 1] = { xy[1], xy[2] }
  end
  assert(#ids > 0 and #points > 0, "LOAD_IDS and LOAD_POINTS must be set")
  math.randomseed(tonumber(os.getenv("LOAD_SEED") or "1") + (tonumber(tid) or 0))
end

local headers = { ["Authorization"] = "Bearer " .. token }
local post_headers = {
  ["Authorization"] = "Bearer " .. token,
  ["Content-Type"] = "application/json",
}

local lists = {
  "/api/v1/cases?limit=20",
  "/api/v1/cases?state=open&limit=20",
  "/api/v1/cases?area=150102&limit=50",
  "/api/v1/cases?inbox=1&limit=20",
}
local stats = {
  "/api/v1/stats?group=district",
  "/api/v1/stats?group=category",
  "/api/v1/stats?group=day&fill=1",
}
local areas = {
  "/api/v1/areas",
  "/api/v1/areas?level=street&parent=150102",
  "/api/v1/areas/150102",
}

local function pick(t)
  return t[math.random(#t)]
end

local function get(path)
  return wrk.format("GET", path, headers)
end

function request()
  local r = math.random(100)
  if r <= 20 then
    seq = seq + 1
    local p = pick(points)
    local body = string.format(
      '{"description":"压测案件 load test %s-%d：路口占道经营","category":"E0402",' ..
        '"location":{"lon":%s,"lat":%s},"caller":{"name":"压测","phone":"13900000000"}}',
      tid or "?", seq, p[1], p[2])
    return wrk.format("POST", "/api/v1/cases", post_headers, body)
  elseif r <= 40 then
    return get(pick(lists))
  elseif r <= 55 then
    return get("/api/v1/cases/" .. pick(ids))
  elseif r <= 65 then
    return get(pick(stats))
  elseif r <= 80 then
    local p = pick(points)
    return get("/api/v1/geocode?lon=" .. p[1] .. "&lat=" .. p[2])
  elseif r <= 90 then
    return get(pick(areas))
  else
    return get("/api/v1/dashboard/summary")
  end
end

-- Counts every reply that is not 2xx by status (per thread; `bad` is the
-- thread's global that done() reads back through thread:get).
bad = ""
function response(status, hdrs, body)
  if status < 200 or status > 299 then
    counts[status] = (counts[status] or 0) + 1
    local parts = {}
    for k, v in pairs(counts) do
      parts[#parts + 1] = k .. "=" .. v
    end
    bad = table.concat(parts, "|")
  end
end

local threads = {}
local nthreads = 0
function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", tostring(nthreads))
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("bad")
    for part in string.gmatch(s or "", "[^|]+") do
      local k, v = string.match(part, "^(.*)=(%d+)$")
      if k then
        total[k] = (total[k] or 0) + tonumber(v)
      end
    end
  end
  local n = 0
  for k, v in pairs(total) do
    io.write(string.format("LOAD_STATUS %s %d\n", k, v))
    n = n + v
  end
  io.write(string.format("LOAD_NON2XX %d\n", n))
  io.write(string.format("LOAD_P50_MS %.3f\n", latency:percentile(50) / 1000))
  io.write(string.format("LOAD_P99_MS %.3f\n", latency:percentile(99) / 1000))
  io.write(string.format("LOAD_REQUESTS %d\n", summary.requests))
  io.write(string.format("LOAD_RPS %.1f\n", summary.requests / (summary.duration / 1e6)))
  local e = summary.errors
  io.write(string.format("LOAD_SOCKET_ERRORS %d\n", e.connect + e.read + e.write + e.timeout))
  io.write(string.format("LOAD_HTTP_ERRORS %d\n", e.status))
end
