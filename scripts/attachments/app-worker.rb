# app-worker.rb: the application's worker. It takes item ids from the Redis list app:work (Kafka is a
# stand-in in this demo), marks each item processed in MariaDB and in Redis (hash app:processed), and sends
# metrics to StatsD (app.worker.items_processed, app.worker.item_ms). Its status endpoint (PORT, default 8081):
#   GET /status    -> {"processed": N, "errors": N, "last_item": ID, "queue": N}
#   GET /items/ID  -> 200 {"id", "processed_at"} once the worker has processed item ID, else 404
require_relative "app-common"

db = App::Database.new
statsd = App::Statsd.new
state = { processed: 0, errors: 0, last_item: nil }
lock = Mutex.new

consumer = Thread.new do
  redis = App.redis(timeout: 10)
  loop do
    begin
      popped = redis.brpop(App::WORK_QUEUE, timeout: 5)
      next unless popped

      id = Integer(popped[1])
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      changed = db.with do |c|
        c.prepare("UPDATE items SET processed_at = CURRENT_TIMESTAMP(3) WHERE id = ?").execute(id)
        c.affected_rows
      end
      raise "item #{id} is not in MariaDB" if changed.zero?

      redis.hset(App::PROCESSED, id.to_s, Time.now.utc.iso8601(3))
      ms = (Process.clock_gettime(Process::CLOCK_MONOTONIC) - started) * 1000
      statsd.count("app.worker.items_processed")
      statsd.timing("app.worker.item_ms", ms)
      lock.synchronize { state[:processed] += 1; state[:last_item] = id }
      App.log.info("processed item #{id} in #{ms.round(1)} ms")
    rescue Redis::BaseError, Mysql2::Error, SystemCallError, RuntimeError, ArgumentError => e
      lock.synchronize { state[:errors] += 1 }
      statsd.count("app.worker.errors")
      App.log.warn("#{e.class}: #{e.message}")
      sleep 1
    end
  end
end
consumer.abort_on_exception = true

status_redis = App.redis
server = App.serve(8081) do |req, res|
  case [req.request_method, req.path]
  in ["GET", "/status" | "/"]
    App.json(res, 200, lock.synchronize { state.dup }.merge(queue: status_redis.llen(App::WORK_QUEUE)))
  in ["GET", %r{\A/items/(\d+)\z}]
    id = Regexp.last_match(1)
    at = status_redis.hget(App::PROCESSED, id)
    if at
      App.json(res, 200, { id: Integer(id), processed_at: at })
    else
      App.json(res, 404, { error: "item #{id} not processed yet" })
    end
  else
    App.json(res, 404, { error: "no route #{req.request_method} #{req.path}" })
  end
end
server.start
