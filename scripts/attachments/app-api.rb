# app-api.rb: the application's HTTP API (PORT, default 8080). Items are stored in MariaDB (table items)
# and in Redis (app:item:ID), and queued for the worker on the Redis list app:work.
#   POST /items {"name": "..."}  -> 201 {"id", "name"}
#   GET  /items/ID               -> {"id", "name", "mariadb": {...}, "redis": {...}}: the item as each store holds it
#   GET  /items                  -> the 20 newest items (MariaDB)
#   GET  /health                 -> 200 when MariaDB and Redis answer, else 503
require_relative "app-common"

db = App::Database.new
redis = App.redis
statsd = App::Statsd.new

def item_from_redis(redis, id)
  raw = redis.get("app:item:#{id}")
  raw && JSON.parse(raw).merge("processed_at" => redis.hget(App::PROCESSED, id.to_s))
end

def row_json(row)
  row && { "id" => row["id"], "name" => row["name"], "created_at" => row["created_at"]&.utc&.iso8601(3),
           "processed_at" => row["processed_at"]&.utc&.iso8601(3) }
end

server = App.serve(8080) do |req, res|
  started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  case [req.request_method, req.path]
  in ["GET", "/health"]
    db.with { |c| c.query("SELECT 1") }
    App.json(res, 200, { mariadb: "ok", redis: redis.ping })
  in ["POST", "/items"]
    body = begin
      JSON.parse(req.body || "")
    rescue JSON::ParserError
      nil
    end
    name = body.is_a?(Hash) ? body["name"] : nil
    if !name.is_a?(String) || name.empty? || name.size > 200
      App.json(res, 400, { error: 'send {"name": "..."} (1 to 200 characters)' })
    else
      id = db.with do |c|
        c.prepare("INSERT INTO items (name) VALUES (?)").execute(name)
        c.last_id
      end
      redis.set("app:item:#{id}", JSON.generate({ "id" => id, "name" => name, "created_at" => Time.now.utc.iso8601(3) }))
      redis.lpush(App::WORK_QUEUE, id.to_s)
      statsd.count("app.api.items_created")
      App.json(res, 201, { id: id, name: name })
    end
  in ["GET", %r{\A/items/(\d+)\z}]
    id = Integer(Regexp.last_match(1))
    row = db.with { |c| c.prepare("SELECT * FROM items WHERE id = ?").execute(id).first }
    if row
      App.json(res, 200, { id: id, name: row["name"], mariadb: row_json(row), redis: item_from_redis(redis, id) })
    else
      App.json(res, 404, { error: "no item #{id}" })
    end
  in ["GET", "/items"]
    rows = db.with { |c| c.query("SELECT * FROM items ORDER BY id DESC LIMIT 20").to_a }
    App.json(res, 200, { items: rows.map { |r| row_json(r) } })
  else
    App.json(res, 404, { error: "no route #{req.request_method} #{req.path}" })
  end
  statsd.timing("app.api.request_ms", (Process.clock_gettime(Process::CLOCK_MONOTONIC) - started) * 1000)
end
server.start
