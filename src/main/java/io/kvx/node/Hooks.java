package io.kvx.node;

import io.kvx.node.runtime.ContainerRuntime;
import io.kvx.node.runtime.ContainerSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Container lifecycle hooks (postStart, preStop) as the kubelet runs them: {@code exec} in the
 * container, {@code httpGet} to the pod's IP (or host), {@code sleep}. A hook has a deadline (for
 * preStop, what is left of the grace period); the result is null on success, else the kubelet's kind of
 * message. Blocking: called on worker threads.
 */
final class Hooks {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private Hooks() {
  }

  /** Runs the handler; null when it succeeded, else why it failed. */
  static String run(JsonObject handler, ContainerRuntime runtime, ContainerSpec spec, String podIp,
                    JsonObject container, long timeoutMs) {
    try {
      if (handler.containsKey("exec")) {
        List<String> cmd = handler.getJsonObject("exec").getJsonArray("command", new JsonArray()).stream()
            .map(String::valueOf).toList();
        Process p = runtime.exec(spec, cmd, false);
        p.getOutputStream().close();
        Thread.ofVirtual().start(() -> drain(p.getErrorStream()));
        byte[] out = p.getInputStream().readNBytes(4096);
        if (!p.waitFor(Math.max(1, timeoutMs), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly();
          return "command '" + String.join(" ", cmd) + "' timed out";
        }
        if (p.exitValue() != 0) {
          return "command '" + String.join(" ", cmd) + "' exited with " + p.exitValue() + ": "
              + new String(out, StandardCharsets.UTF_8).trim();
        }
        return null;
      }
      if (handler.containsKey("httpGet")) {
        JsonObject g = handler.getJsonObject("httpGet");
        Integer port = Prober.port(g.getValue("port"), container);
        if (port == null) return "invalid port " + g.getValue("port");
        String scheme = "HTTPS".equals(g.getString("scheme")) ? "https" : "http";
        String path = g.getString("path", "/");
        URI uri = URI.create(scheme + "://" + g.getString("host", podIp) + ":" + port
            + (path.startsWith("/") ? path : "/" + path));
        HttpRequest.Builder req = HttpRequest.newBuilder(uri).timeout(Duration.ofMillis(Math.max(1, timeoutMs)))
            .header("User-Agent", "kube-lifecycle/1.35");
        for (Object h : g.getJsonArray("httpHeaders", new JsonArray())) {
          JsonObject header = (JsonObject) h;
          req.header(header.getString("name"), header.getString("value", ""));
        }
        HttpResponse<Void> resp = HTTP.send(req.build(), HttpResponse.BodyHandlers.discarding());
        if (resp.statusCode() < 200 || resp.statusCode() >= 400) {
          return "HTTP lifecycle hook (" + path + ") for Container \"" + container.getString("name")
              + "\" failed - error: Get \"" + uri + "\": bad status code " + resp.statusCode();
        }
        return null;
      }
      if (handler.containsKey("sleep")) {
        long ms = handler.getJsonObject("sleep").getLong("seconds", 0L) * 1000;
        Thread.sleep(Math.min(ms, Math.max(0, timeoutMs)));
        return null;
      }
      return "no handler in the hook";
    } catch (IOException e) {
      return String.valueOf(e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static void drain(java.io.InputStream in) {
    try {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    } catch (IOException ignored) {
      // the process ended
    }
  }
}
