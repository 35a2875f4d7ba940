-- wrk script: GET /auth/nginx as nginx's auth_http sends it, cycling through the
-- credentials in the file named by CREDS (one "login password" per line).
local creds = {}
local path = os.getenv("CREDS")
local protocol = os.getenv("PROTOCOL") or "imap"
for line in io.lines(path) do
  local login, pass = line:match("^(%S+) (.+)$")
  if login then
    creds[#creds + 1] = { login, (pass:gsub(" ", "%%20")) }
  end
end
local i = 0
request = function()
  i = i % #creds + 1
  local c = creds[i]
  return wrk.format("GET", "/auth/nginx", {
    ["Auth-Method"] = "plain",
    ["Auth-User"] = c[1],
    ["Auth-Pass"] = c[2],
    ["Auth-Protocol"] = protocol,
    ["Auth-Login-Attempt"] = "1",
    ["Client-IP"] = "127.0.0.1",
  })
end
-- Count every answer that is not OK, so a broken set-up cannot pass as fast.
local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
end
refused = 0
response = function(status, headers, body)
  if headers["Auth-Status"] ~= "OK" then
    refused = refused + 1
  end
end
done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do
    total = total + t:get("refused")
  end
  io.write(string.format("not-ok: %d\n", total))
  io.write(string.format("p99-ms: %.3f\n", latency:percentile(99) / 1000))
end
