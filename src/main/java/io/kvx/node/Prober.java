package io.kvx.node;

import io.kvx.node.runtime.ContainerRuntime;
import io.kvx.node.runtime.ContainerSpec;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The kubelet's prober: startup, liveness and readiness probes (httpGet, tcpSocket, exec) with
 * Kubernetes' timing fields (initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold,
 * failureThreshold). Network probes go to the pod's IP without blocking; exec probes run in the
 * container on a worker. Results are per container attempt; a change calls back with the pod uid and
 * what happened ("ready", "unready", "started", "kill: reason", and for every failed run "failed: why").
 */
final class Prober {

  /** One probe's counters for one container attempt. Pure. */
  static final class State {
    long nextAt;
    int successes;
    int failures;
    Boolean result;
    boolean running;

    /** Records an outcome; true when the probe's result flips. */
    boolean record(boolean ok, int successThreshold, int failureThreshold) {
      if (ok) {
        failures = 0;
        successes++;
        if (successes >= successThreshold && !Boolean.TRUE.equals(result)) {
          result = true;
          return true;
        }
      } else {
        successes = 0;
        failures++;
        if (failures >= failureThreshold && !Boolean.FALSE.equals(result)) {
          result = false;
          return true;
        }
      }
      return false;
    }
  }

  private final Vertx vertx;
  private final ContainerRuntime runtime;
  private final BiConsumer<String, String> onChange;
  private final HttpClient http;
  private final NetClient net;
  /** "attempt id/kind" → state. */
  private final Map<String, State> states = new HashMap<>();

  Prober(Vertx vertx, ContainerRuntime runtime, BiConsumer<String, String> onChange) {
    this.vertx = vertx;
    this.runtime = runtime;
    this.onChange = onChange;
    this.http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false).setTrustAll(true)
        .setVerifyHost(false));
    this.net = vertx.createNetClient(new NetClientOptions().setConnectTimeout(1000));
  }

  /** Readiness of a running container attempt: its startup probe passed and its readiness probe says so. */
  boolean ready(JsonObject container, ContainerSpec spec) {
    if (!started(container, spec)) return false;
    if (!container.containsKey("readinessProbe")) return true;
    State s = states.get(spec.id() + "/readiness");
    return s != null && Boolean.TRUE.equals(s.result);
  }

  boolean started(JsonObject container, ContainerSpec spec) {
    if (!container.containsKey("startupProbe")) return true;
    State s = states.get(spec.id() + "/startup");
    return s != null && Boolean.TRUE.equals(s.result);
  }

  /** Runs whichever probes of this running container are due. */
  void tick(String podUid, String podIp, JsonObject container, ContainerSpec spec, long startedAtMs) {
    long now = System.currentTimeMillis();
    boolean started = started(container, spec);
    if (!started) probe("startup", podUid, podIp, container, spec, startedAtMs, now);
    if (started) {
      probe("liveness", podUid, podIp, container, spec, startedAtMs, now);
      probe("readiness", podUid, podIp, container, spec, startedAtMs, now);
    }
  }

  void forget(String attemptId) {
    states.keySet().removeIf(k -> k.startsWith(attemptId + "/"));
  }

  private void probe(String kind, String podUid, String podIp, JsonObject container, ContainerSpec spec,
                     long startedAtMs, long now) {
    JsonObject p = container.getJsonObject(kind + "Probe");
    if (p == null) return;
    State s = states.computeIfAbsent(spec.id() + "/" + kind, k -> new State());
    if (s.running) return;
    if (s.nextAt == 0) s.nextAt = startedAtMs + p.getInteger("initialDelaySeconds", 0) * 1000L;
    if (now < s.nextAt) return;
    s.nextAt = now + p.getInteger("periodSeconds", 10) * 1000L;
    s.running = true;
    long timeoutMs = p.getInteger("timeoutSeconds", 1) * 1000L;
    int successThreshold = kind.equals("readiness") ? p.getInteger("successThreshold", 1) : 1;
    int failureThreshold = p.getInteger("failureThreshold", 3);
    check(p, podIp, container, spec, timeoutMs).onComplete(ar -> {
      s.running = false;
      boolean ok = ar.succeeded() && ar.result() == null;
      if (!ok) {
        // Every failure is reported, with why, as the kubelet's Unhealthy event (repeats are counted).
        String why = ar.succeeded() ? ar.result() : String.valueOf(ar.cause().getMessage());
        onChange.accept(podUid, container.getString("name") + " failed: "
            + Character.toUpperCase(kind.charAt(0)) + kind.substring(1) + " probe failed: " + why);
      }
      if (!s.record(ok, successThreshold, failureThreshold)) return;
      String what = switch (kind) {
        case "readiness" -> ok ? "ready" : "unready";
        case "startup" -> ok ? "started" : "kill: Startup probe failed";
        default -> ok ? "live" : "kill: Liveness probe failed";
      };
      if (!what.equals("live")) onChange.accept(podUid, container.getString("name") + " " + what);
    });
  }

  /** Runs one probe: null when it passed, else why it failed (in the kubelet's words where they are known). */
  private Future<String> check(JsonObject p, String podIp, JsonObject container, ContainerSpec spec, long timeoutMs) {
    if (p.containsKey("httpGet")) {
      JsonObject g = p.getJsonObject("httpGet");
      Integer port = port(g.getValue("port"), container);
      if (port == null) return Future.succeededFuture("port " + g.getValue("port") + " not found");
      String scheme = "HTTPS".equals(g.getString("scheme")) ? "https" : "http";
      String host = g.getString("host", podIp);
      String url = scheme + "://" + host + ":" + port + g.getString("path", "/");
      RequestOptions ro = new RequestOptions().setMethod(HttpMethod.GET).setHost(host)
          .setPort(port).setURI(g.getString("path", "/")).setSsl(scheme.equals("https"))
          .setTimeout(timeoutMs).setConnectTimeout(timeoutMs);
      for (Object h : g.getJsonArray("httpHeaders", new JsonArray())) {
        JsonObject header = (JsonObject) h;
        ro.addHeader(header.getString("name"), header.getString("value", ""));
      }
      ro.putHeader("User-Agent", "kube-probe/1.35");
      return http.request(ro).compose(req -> req.send()).compose(resp -> resp.body()
          .map(b -> resp.statusCode() >= 200 && resp.statusCode() < 400 ? (String) null
              : "HTTP probe failed with statuscode: " + resp.statusCode()))
          .otherwise(e -> "Get \"" + url + "\": " + dialError(host, port, e));
    }
    if (p.containsKey("tcpSocket")) {
      JsonObject t = p.getJsonObject("tcpSocket");
      Integer port = port(t.getValue("port"), container);
      if (port == null) return Future.succeededFuture("port " + t.getValue("port") + " not found");
      String host = t.getString("host", podIp);
      return net.connect(new ConnectOptions().setHost(host).setPort(port)
          .setTimeout((int) timeoutMs)).map(sock -> {
        sock.close();
        return (String) null;
      }).otherwise(e -> dialError(host, port, e));
    }
    if (p.containsKey("exec")) {
      List<String> command = p.getJsonObject("exec").getJsonArray("command", new JsonArray()).stream()
          .map(String::valueOf).toList();
      return vertx.executeBlocking(() -> {
        Process proc = runtime.exec(spec, command, false);
        proc.getOutputStream().close();
        // Read beside the wait: a command that keeps its output open must still time out. Its output (its first
        // 10 KiB) is why it failed, as the kubelet reports it.
        java.io.ByteArrayOutputStream output = new java.io.ByteArrayOutputStream();
        Thread reader = collect(proc.getInputStream(), output);
        Thread errors = collect(proc.getErrorStream(), output);
        if (!proc.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
          proc.destroyForcibly();
          return "command " + command + " timed out";
        }
        if (proc.exitValue() == 0) return null;
        reader.join(100);
        errors.join(100);
        String out;
        synchronized (output) {
          out = output.toString(java.nio.charset.StandardCharsets.UTF_8).strip();
        }
        return out.isEmpty() ? "command " + command + " exited with " + proc.exitValue() : out;
      }, false);
    }
    if (p.containsKey("grpc")) return Future.succeededFuture("gRPC probes are not supported by this node");
    return Future.succeededFuture(null);
  }

  /** Copies a stream of an exec probe into {@code output} (its first 10 KiB) on a virtual thread. */
  private static Thread collect(java.io.InputStream in, java.io.ByteArrayOutputStream output) {
    return Thread.ofVirtual().start(() -> {
      try (in) {
        byte[] buf = new byte[4096];
        for (int n; (n = in.read(buf)) > 0; ) {
          synchronized (output) {
            if (output.size() < 10240) output.write(buf, 0, Math.min(n, 10240 - output.size()));
          }
        }
      } catch (java.io.IOException ignored) {
        // the process is gone
      }
    });
  }

  /** A failed connection in the words of Go's dialer, as the kubelet's probe events show it. */
  static String dialError(String host, int port, Throwable e) {
    String message = String.valueOf(e.getMessage());
    String lower = message.toLowerCase(java.util.Locale.ROOT);
    String why = lower.contains("refused") ? "connect: connection refused"
        : lower.contains("timed out") || lower.contains("timeout") ? "i/o timeout"
        : lower.contains("no route") ? "connect: no route to host" : message;
    return "dial tcp " + host + ":" + port + ": " + why;
  }

  /** A probe's port: a number, or the name of one of the container's ports. */
  static Integer port(Object value, JsonObject container) {
    if (value instanceof Number n) return n.intValue();
    if (value instanceof String s) {
      if (s.matches("\\d+")) return Integer.valueOf(s);
      for (Object o : container.getJsonArray("ports", new JsonArray())) {
        JsonObject port = (JsonObject) o;
        if (s.equals(port.getString("name"))) return port.getInteger("containerPort");
      }
    }
    return null;
  }
}
