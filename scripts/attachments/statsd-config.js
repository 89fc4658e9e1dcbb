// StatsD's configuration in both versions of the demo (written by statsd-install.sh): UDP 8125,
// admin TCP 8126, flushing every 10 s to carbon's plaintext port on the same host.
{
  graphiteHost: "127.0.0.1",
  graphitePort: 2003,
  port: 8125,
  mgmt_port: 8126,
  flushInterval: 10000,
  deleteIdleStats: false,
  backends: ["./backends/graphite"]
}
