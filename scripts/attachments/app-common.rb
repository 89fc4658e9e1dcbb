# app-common.rb: what the API (app-api.rb) and the worker (app-worker.rb) share - settings from the
# environment, connections to MariaDB and Redis, StatsD metrics and a small JSON HTTP server.
# Only Debian's packages: ruby, ruby-mysql2, ruby-redis, ruby-webrick (no gem is fetched at run time).
require "json"
require "logger"
require "socket"
require "mysql2"
require "redis"
require "webrick"

$stdout.sync = true
$stderr.sync = true

module App
  WORK_QUEUE = "app:work"      # Redis list of item ids the worker consumes (Kafka is a stand-in here)
  PROCESSED = "app:processed"  # Redis hash: item id -> when the worker processed it

  def self.log
    @log ||= Logger.new($stdout, progname: File.basename($PROGRAM_NAME, ".rb"))
  end

  def self.setting(name, default)
    value = ENV[name]
    value.nil? || value.empty? ? default : value
  end

  # A new MariaDB connection (the caller serialises its use: Mysql2 clients are not thread-safe).
  def self.mysql
    Mysql2::Client.new(host: setting("MARIADB_HOST", "127.0.0.1"), port: Integer(setting("MARIADB_PORT", "3306")),
                       username: setting("MARIADB_USER", "app"), password: ENV.fetch("MARIADB_PASSWORD", ""),
                       database: setting("MARIADB_DATABASE", "app"), connect_timeout: 5, read_timeout: 10,
                       write_timeout: 10)
  end

  def self.redis(timeout: 5)
    Redis.new(url: setting("REDIS_URL", "redis://127.0.0.1:6379/0"), timeout: timeout)
  end

  # Runs the block with a MariaDB connection made on first use (and again after an error); the items table
  # is created once.
  class Database
    SCHEMA = <<~SQL.freeze
      CREATE TABLE IF NOT EXISTS items (
        id BIGINT AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(200) NOT NULL,
        created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        processed_at TIMESTAMP(3) NULL
      )
    SQL

    def initialize
      @lock = Mutex.new
      @client = nil
    end

    def with
      @lock.synchronize do
        begin
          unless @client
            @client = App.mysql
            @client.query(SCHEMA)
          end
          yield @client
        rescue Mysql2::Error
          @client&.close rescue nil
          @client = nil
          raise
        end
      end
    end
  end

  # StatsD over UDP: counters (|c) and timers (|ms); a lost datagram is not an error.
  class Statsd
    def initialize
      @host = App.setting("STATSD_HOST", "127.0.0.1")
      @port = Integer(App.setting("STATSD_PORT", "8125"))
      @socket = UDPSocket.new
    end

    def count(name, value = 1) = send_line("#{name}:#{value}|c")
    def timing(name, ms) = send_line("#{name}:#{ms.round}|ms")

    private

    def send_line(line)
      @socket.send(line, 0, @host, @port)
    rescue SystemCallError, SocketError => e
      App.log.warn("statsd #{@host}:#{@port}: #{e.message}")
    end
  end

  def self.json(res, status, body)
    res.status = status
    res["Content-Type"] = "application/json"
    res.body = JSON.generate(body) + "\n"
  end

  # Serves HTTP on PORT; the block gets (request, response) and answers with App.json. Errors become
  # JSON with status 503 (a service unreachable) or 500.
  def self.serve(default_port)
    port = Integer(setting("PORT", default_port.to_s))
    server = WEBrick::HTTPServer.new(BindAddress: "0.0.0.0", Port: port, Logger: WEBrick::Log.new($stdout, WEBrick::Log::WARN),
                                     AccessLog: [[$stdout, WEBrick::AccessLog::COMMON_LOG_FORMAT]])
    server.mount_proc("/") do |req, res|
      yield req, res
    rescue Mysql2::Error, Redis::BaseError, SystemCallError => e
      json(res, 503, { error: "#{e.class}: #{e.message}" })
    rescue StandardError => e
      log.error("#{e.class}: #{e.message}")
      json(res, 500, { error: "#{e.class}: #{e.message}" })
    end
    %w[INT TERM].each { |signal| trap(signal) { server.shutdown } }
    log.info("listening on port #{port}")
    server
  end
end
