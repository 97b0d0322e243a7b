import io.kvx.node.image.ImageStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Pod start-up latency on one real node (runc, CNI, overlayfs), after Kubernetes' pod startup SLI:
 * N pods of the local busybox image created at QPS pods/s (0: all at once), each timed from the
 * moment its create is sent to the moment a watch sees it Running. Beside it, from the same run and
 * the same machine state, the time of a raw {@code runc run -d} of a bundle the node agent wrote for one
 * of these pods (its config.json, a fresh overlayfs rootfs from the same image), so kvx's added time per
 * pod can be read off. Prints p50/p90/p99/max.
 * Usage: PodStartupBench API_URL TOKEN KVX_HOME NODE PODS QPS RAW_RUNS
 */
public class PodStartupBench {

  public static void main(String[] a) throws Exception {
    String api = a[0];
    String token = a[1];
    Path home = Path.of(a[2]);
    String node = a[3];
    int pods = Integer.parseInt(a[4]);
    double qps = Double.parseDouble(a[5]);
    int rawRuns = Integer.parseInt(a[6]);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, new TrustManager[]{new X509TrustManager() {
      public void checkClientTrusted(X509Certificate[] c, String s) { }
      public void checkServerTrusted(X509Certificate[] c, String s) { }
      public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
    }}, null);
    HttpClient http = HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_1_1).build();
    String ns = "podstartup-" + Long.toString(System.currentTimeMillis(), 36);
    // Other work on the machine moves these figures a lot: say how busy it was.
    String loadBefore = load();
    send(http, api, token, "POST", "/api/v1/namespaces", new JsonObject().put("metadata", new JsonObject().put("name", ns)));
    // The namespace's default ServiceAccount comes from a controller; pods wait for it in admission.
    for (int i = 0; i < 100 && send(http, api, token, "GET", "/api/v1/namespaces/" + ns + "/serviceaccounts/default", null)
        .statusCode() != 200; i++) {
      Thread.sleep(100);
    }

    Map<String, Long> created = new ConcurrentHashMap<>();
    Map<String, Long> running = new ConcurrentHashMap<>();
    Map<String, String> uids = new ConcurrentHashMap<>();
    CountDownLatch done = new CountDownLatch(pods);
    CountDownLatch watching = new CountDownLatch(1);
    Thread.ofPlatform().daemon().start(() -> {
      try {
        HttpResponse<java.io.InputStream> r = http.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/namespaces/"
            + ns + "/pods?watch=true")).header("Authorization", "Bearer " + token).build(),
            HttpResponse.BodyHandlers.ofInputStream());
        watching.countDown();
        BufferedReader in = new BufferedReader(new InputStreamReader(r.body()));
        for (String line; (line = in.readLine()) != null; ) {
          long now = System.nanoTime();
          JsonObject o = new JsonObject(line).getJsonObject("object");
          if (o == null || o.getJsonObject("status") == null) continue;
          String name = o.getJsonObject("metadata").getString("name");
          uids.put(name, o.getJsonObject("metadata").getString("uid"));
          if ("Running".equals(o.getJsonObject("status").getString("phase")) && running.putIfAbsent(name, now) == null) {
            done.countDown();
          }
        }
      } catch (Exception e) {
        e.printStackTrace();
      }
    });
    watching.await();
    Thread.sleep(300);
    long t0 = System.nanoTime();
    for (int i = 0; i < pods; i++) {
      if (qps > 0) {
        long due = t0 + (long) (i * 1e9 / qps);
        long wait = due - System.nanoTime();
        if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
      }
      String name = "p" + i;
      created.put(name, System.nanoTime());
      http.sendAsync(HttpRequest.newBuilder(URI.create(api + "/api/v1/namespaces/" + ns + "/pods"))
          .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(pod(name, node).encode())).build(), HttpResponse.BodyHandlers.ofString())
          .thenAccept(r -> {
            if (r.statusCode() >= 300) System.err.println("create " + name + ": " + r.statusCode() + " " + r.body());
          });
    }
    if (!done.await(600, TimeUnit.SECONDS)) System.out.println("timed out: " + running.size() + " of " + pods + " Running");
    double wall = (Collections.max(running.values()) - t0) / 1e9;
    List<Double> lat = new ArrayList<>();
    running.forEach((n, at) -> lat.add((at - created.get(n)) / 1e6));
    Collections.sort(lat);
    System.out.printf("kvx: %d pods on node %s, created at %s: create -> Running (watch) p50 %.0f ms, p90 %.0f ms, "
            + "p99 %.0f ms, max %.0f ms; all Running %.1f s after the first create%n", lat.size(), node,
        qps > 0 ? qps + " pods/s" : "once (burst)", pct(lat, 50), pct(lat, 90), pct(lat, 99), lat.getLast(), wall);

    // The same bundle, run by runc alone: a pod's config.json on a fresh overlay of the same image.
    Path bundle = home.resolve("node").resolve(node).resolve("pods").resolve(uids.get("p0")).resolve("c-0");
    JsonObject config = new JsonObject(Files.readString(bundle.resolve("config.json")));
    Path rootfs = new ImageStore(home.resolve("images")).find("busybox").rootfs();
    List<Double> raw = new ArrayList<>();
    Path work = Files.createTempDirectory("kvx-bench-raw");
    for (int i = 0; i < rawRuns; i++) {
      Path b = work.resolve("b" + i);
      for (String d : List.of("rootfs", "upper", "work")) Files.createDirectories(b.resolve(d));
      JsonObject c = config.copy();
      c.getJsonObject("linux").put("cgroupsPath", "/kvx-bench/raw-" + i);
      // runc alone: without the hook that holds a pod's first container until the agent's CNI ADD is done.
      c.remove("hooks");
      // A fresh network namespace of its own (the pod's belongs to the pod).
      JsonArray nss = new JsonArray();
      for (Object o : c.getJsonObject("linux").getJsonArray("namespaces")) {
        JsonObject n = ((JsonObject) o).copy();
        n.remove("path");
        nss.add(n);
      }
      c.getJsonObject("linux").put("namespaces", nss);
      Files.writeString(b.resolve("config.json"), c.encode());
      String id = "kvx-bench-raw-" + i;
      long s = System.nanoTime();
      exec("mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + rootfs + ",upperdir=" + b.resolve("upper")
          + ",workdir=" + b.resolve("work"), b.resolve("rootfs").toString());
      exec("runc", "--root", "/run/kvx-bench", "run", "-d", "--bundle", b.toString(), id);
      raw.add((System.nanoTime() - s) / 1e6);
      exec("runc", "--root", "/run/kvx-bench", "kill", id, "KILL");
      for (int k = 0; k < 50; k++) {
        if (!execOk("runc", "--root", "/run/kvx-bench", "state", id).contains("running")) break;
        Thread.sleep(20);
      }
      exec("runc", "--root", "/run/kvx-bench", "delete", "--force", id);
      exec("umount", b.resolve("rootfs").toString());
    }
    try (Stream<Path> s = Files.walk(work)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
    // runc removes each run's cgroup, not the parent it made for them.
    try (Stream<Path> controllers = Files.list(Path.of("/sys/fs/cgroup"))) {
      controllers.forEach(c -> c.resolve("kvx-bench").toFile().delete());
    }
    Collections.sort(raw);
    System.out.printf("raw runc: %d x (overlay mount + runc run -d) of p0's bundle: p50 %.0f ms, p99 %.0f ms, max %.0f ms%n",
        raw.size(), pct(raw, 50), pct(raw, 99), raw.getLast());
    double added = pct(lat, 50) - pct(raw, 50);
    System.out.printf("kvx added time per pod (p50 - raw p50): %.0f ms = %.1fx raw runc (target <= 2x); p99 %.0f ms "
        + "(target <= 1000 ms)%n", added, added / pct(raw, 50), pct(lat, 99));
    System.out.printf("load average (1/5/15 min) before the pods: %s, after the raw runs: %s%n", loadBefore, load());
    send(http, api, token, "DELETE", "/api/v1/namespaces/" + ns, null);
  }

  static String load() throws java.io.IOException {
    String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
    return f[0] + " " + f[1] + " " + f[2];
  }

  static double pct(List<Double> sorted, int p) {
    int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
  }

  static JsonObject pod(String name, String node) {
    return new JsonObject().put("apiVersion", "v1").put("kind", "Pod")
        .put("metadata", new JsonObject().put("name", name))
        .put("spec", new JsonObject().put("nodeName", node).put("terminationGracePeriodSeconds", 0)
            .put("automountServiceAccountToken", false)
            .put("containers", new JsonArray().add(new JsonObject().put("name", "c").put("image", "busybox")
                .put("imagePullPolicy", "IfNotPresent").put("command", new JsonArray().add("sleep").add("3600")))));
  }

  static HttpResponse<String> send(HttpClient http, String api, String token, String method, String path, JsonObject body)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/json");
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body.encode()));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Runs a command with its output in a file: a detached container keeps the stdio it was given open. */
  static void exec(String... cmd) throws Exception {
    java.io.File out = java.io.File.createTempFile("kvx-bench", ".out");
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      if (p.waitFor() != 0) throw new IllegalStateException(String.join(" ", cmd) + ": " + Files.readString(out.toPath()));
    } finally {
      out.delete();
    }
  }

  static String execOk(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return out;
  }
}
