import io.kvx.api.ManagedFields;
import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Server-side apply's cost (by hand, see ops/bench/apply). Part 1, in-process: microseconds per
 * managedFields computation (an Update entry, an apply merge plus ownership) for a Deployment as
 * kubectl applies it, and the bytes managedFields add to it. Part 2, against a running kvx: ConfigMap
 * writes/s through the HTTP API, side by side: POST create (the anchor: what every write paid before
 * managedFields), apply-patch creating, apply-patch changing, merge-patch changing.
 */
public class ApplyBench {

  static final ResourceType DEPLOYMENTS = Resources.builtIn("apps", "deployments");
  static final JsonObject DEPLOYMENT = new JsonObject("""
      {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default",
        "labels":{"app":"web","tier":"front"}},
       "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"web","image":"nginx:1","ports":[{"containerPort":80},{"containerPort":443}],
          "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"args":["--x","--y"],
          "resources":{"requests":{"cpu":"100m","memory":"64Mi"}}},
         {"name":"side","image":"busybox","volumeMounts":[{"name":"data","mountPath":"/data"}]}],
         "volumes":[{"name":"data","emptyDir":{}}]}}}}""");

  public static void main(String[] args) throws Exception {
    inProcess();
    if (args.length >= 2) http(args[0], args[1], args.length > 2 ? Integer.parseInt(args[2]) : 2000,
        args.length > 3 ? Integer.parseInt(args[3]) : 32);
  }

  static void inProcess() {
    ManagedFields.Context kubectl = new ManagedFields.Context(DEPLOYMENTS, "kubectl", null, "2026-11-23T00:00:00Z");
    JsonObject live = DEPLOYMENT.copy();
    Meta.meta(live).put("managedFields", ManagedFields.apply(kubectl, new JsonObject(), live, DEPLOYMENT, false));
    JsonObject changed = DEPLOYMENT.copy();
    changed.getJsonObject("spec").put("replicas", 3);
    int n = 20_000;
    double update = Double.MAX_VALUE;
    double apply = Double.MAX_VALUE;
    for (int round = 0; round < 6; round++) { // the JIT warms up; the best round counts (the VM is shared)
      // Thread CPU time, not wall time: the VM's other tenants then move the figure less.
      java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
      long t0 = cpu.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        ManagedFields.update(kubectl, live, changed, ManagedFields.fromRequest(null, live, null));
      }
      long t1 = cpu.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        JsonObject merged = ManagedFields.merge(kubectl, live, changed);
        ManagedFields.apply(kubectl, live, merged, changed, false);
      }
      long t2 = cpu.getCurrentThreadCpuTime();
      update = Math.min(update, (t1 - t0) / 1e3 / n);
      apply = Math.min(apply, (t2 - t1) / 1e3 / n);
    }
    int plain = DEPLOYMENT.encode().length();
    int with = live.encode().length();
    System.out.printf("in-process, Deployment of %d B as JSON (2 containers, ports, env, volumes):%n", plain);
    System.out.printf("  managedFields Update entry           %8.1f us CPU/write%n", update);
    System.out.printf("  apply merge + ownership              %8.1f us CPU/apply%n", apply);
    System.out.printf("  managedFields size                   %8d B (+%.0f%%)%n", with - plain,
        100.0 * (with - plain) / plain);
  }

  static void http(String server, String token, int count, int inFlight) throws Exception {
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, new TrustManager[] {new X509TrustManager() {
      public void checkClientTrusted(X509Certificate[] c, String a) { }
      public void checkServerTrusted(X509Certificate[] c, String a) { }
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, null);
    HttpClient client = HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();
    String run = Long.toString(System.currentTimeMillis() % 100000, 36);
    String base = server + "/api/v1/namespaces/default/configmaps";
    String data = "x".repeat(900);
    System.out.printf("HTTP API at %s: %d ConfigMaps of ~1 KiB, %d in flight%n", server, count, inFlight);
    double create = phase(client, token, count, inFlight, i -> HttpRequest.newBuilder(URI.create(base))
        .header("Content-Type", "application/json").POST(body(cm("c" + run + "-" + i, data, "1"))));
    double applyCreate = phase(client, token, count, inFlight, i -> HttpRequest.newBuilder(URI.create(
        base + "/a" + run + "-" + i + "?fieldManager=bench")).header("Content-Type", "application/apply-patch+yaml")
        .method("PATCH", body(cm("a" + run + "-" + i, data, "1"))));
    double applyChange = phase(client, token, count, inFlight, i -> HttpRequest.newBuilder(URI.create(
        base + "/a" + run + "-" + i + "?fieldManager=bench")).header("Content-Type", "application/apply-patch+yaml")
        .method("PATCH", body(cm("a" + run + "-" + i, data, "2"))));
    double mergeChange = phase(client, token, count, inFlight, i -> HttpRequest.newBuilder(URI.create(
        base + "/c" + run + "-" + i)).header("Content-Type", "application/merge-patch+json")
        .method("PATCH", body(new JsonObject().put("data", new JsonObject().put("v", "2")))));
    System.out.printf("  %-34s %10s%n", "", "writes/s");
    System.out.printf("  %-34s %10.0f%n", "POST create (anchor)", create);
    System.out.printf("  %-34s %10.0f%n", "apply-patch, creating", applyCreate);
    System.out.printf("  %-34s %10.0f%n", "apply-patch, changing a key", applyChange);
    System.out.printf("  %-34s %10.0f%n", "merge-patch, changing a key", mergeChange);
  }

  static JsonObject cm(String name, String data, String v) {
    return new JsonObject().put("apiVersion", "v1").put("kind", "ConfigMap")
        .put("metadata", new JsonObject().put("name", name).put("labels", new JsonObject().put("bench", "apply")))
        .put("data", new JsonObject().put("payload", data).put("v", v));
  }

  static HttpRequest.BodyPublisher body(JsonObject o) {
    return HttpRequest.BodyPublishers.ofString(o.encode());
  }

  interface Req {
    HttpRequest.Builder make(int i);
  }

  /** Sends count requests, inFlight at a time; writes/s. A non-2xx reply fails the run. */
  static double phase(HttpClient client, String token, int count, int inFlight, Req req) throws Exception {
    Semaphore slots = new Semaphore(inFlight);
    AtomicInteger failed = new AtomicInteger();
    List<CompletableFuture<?>> all = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < count; i++) {
      slots.acquire();
      HttpRequest r = req.make(i).header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(60)).build();
      all.add(client.sendAsync(r, HttpResponse.BodyHandlers.ofString()).whenComplete((resp, e) -> {
        slots.release();
        if (e != null || resp.statusCode() >= 300) {
          if (failed.getAndIncrement() == 0) {
            System.err.println("failed: " + (e != null ? e : resp.statusCode() + " " + resp.body()));
          }
        }
      }));
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
    double rate = count / ((System.nanoTime() - t0) / 1e9);
    if (failed.get() > 0) throw new IllegalStateException(failed.get() + " requests failed");
    return rate;
  }
}
