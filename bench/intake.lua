-- wrk script: POST /api/intake/ with a different customer and order in every request.
local counter = 0
local thread_id = 0

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

function init(args)
  counter = 0
  token = os.getenv("BENCH_TOKEN")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Token " .. token
end

local titles = {
  '{"title": "电水壶用了三天就漏水", "description": "智能电水壶 K1 底部漏水，要求换货。订单已签收。", "demand": "replacement"',
  '{"title": "Robot vacuum stops after 5 minutes", "description": "The Robot Vacuum R2 stops and beeps after five minutes of cleaning. I want a refund.", "demand": "refund"',
  '{"title": "快递丢件", "description": "订单显示已签收但我没有收到包裹，请核实并补发。", "demand": "replacement"',
  '{"title": "Charged twice for one order", "description": "My card was charged twice for the same order, please refund the second charge.", "demand": "refund"',
}

function request()
  counter = counter + 1
  local n = tid * 10000000 + counter
  local body = titles[(counter % #titles) + 1]
    .. string.format(', "channel": "api", "name": "Bench %d", "phone": "+86 139%08d", "order_number": "BO%d"}', n, n % 100000000, n)
  return wrk.format(nil, "/api/intake/", nil, body)
end
