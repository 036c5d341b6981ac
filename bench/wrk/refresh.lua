-- POST /auth/refresh, each thread rotating its own refresh-token chain (run with -t N -c N, so
-- each chain is used by one connection, in order: a parallel use would be a reuse).
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
end

function init(args)
  local n = 0
  for line in io.lines(os.getenv("BENCH_REFRESH_TOKENS")) do
    n = n + 1
    if n == id then token = line end
  end
  failures = 0
end

function request()
  return wrk.format("POST", "/auth/refresh", { ["Content-Type"] = "application/json" },
    '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  local rotated = body:match('"refresh_token":"([^"]+)"')
  if status == 200 and rotated then token = rotated else failures = failures + 1 end
end
