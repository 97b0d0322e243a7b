import io.kvx.api.Resources;
import io.kvx.apiserver.ApiRequest;
import io.kvx.apiserver.ApiService;
import io.kvx.apiserver.ServiceAllocator;
import io.kvx.boot.KvxOptions;
import io.kvx.boot.Main;
import io.kvx.bus.Services;
import io.kvx.store.Store;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * The API server's write path in-process (ApiService over the real store: one JVM, sequencer role,
 * SQLite), without HTTP: Deployment writes/s and the JVM's CPU milliseconds per write, for creates,
 * apply-patch creates, apply-patch changes and merge-patch changes. Written against API that the
 * commit before managedFields has too, so ops/bench/apply-ab runs it on both jars side by side.
 * <pre>ApiServiceBench COUNT IN_FLIGHT CLUSTER_PORT</pre>
 */
public class ApiServiceBench {

  static final String DEPLOYMENT = """
      {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"NAME","labels":{"app":"web","tier":"front"}},
       "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"web","image":"nginx:1","ports":[{"containerPort":80},{"containerPort":443}],
          "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"args":["--x","--y"],
          "resources":{"requests":{"cpu":"100m","memory":"64Mi"}}},
         {"name":"side","image":"busybox","volumeMounts":[{"name":"data","mountPath":"/data"}]}],
         "volumes":[{"name":"data","emptyDir":{}}]}}}}""";

  public static void main(String[] args) throws Exception {
    int count = Integer.parseInt(args[0]);
    int inFlight = Integer.parseInt(args[1]);
    KvxOptions o = KvxOptions.parse(new String[] {"server", "--home",
        Files.createTempDirectory("kvx-apibench").toString(), "--cluster-port", args[2], "--secret", "ssa-bench"});
    o.roles = List.of("sequencer");
    Vertx vertx = Main.run(o);
    Store store = Services.of(vertx).store();
    ApiService api = new ApiService(store, new Resources(), new ServiceAllocator(store, "10.96.0.0/12"));
    var deployments = Resources.builtIn("apps", "deployments");
    var namespaces = Resources.builtIn("", "namespaces");
    await(vertx, () -> api.handle(new ApiRequest("create", namespaces, null, null, null,
        new JsonObject().put("metadata", new JsonObject().put("name", "default")), null, Map.of())));
    IntFunction<JsonObject> deploy = i -> new JsonObject(DEPLOYMENT.replace("NAME", "d" + i));
    run(vertx, "warm-up creates", count / 2, inFlight, i -> api.handle(new ApiRequest("create", deployments,
        "default", null, null, deploy.apply(i + 1_000_000), null, Map.of())));
    System.out.printf("%-32s %10s %14s%n", count + " Deployments, " + inFlight + " in flight", "writes/s", "CPU ms/write");
    run(vertx, "POST create", count, inFlight, i -> api.handle(new ApiRequest("create", deployments, "default", null,
        null, deploy.apply(i), null, Map.of())));
    run(vertx, "apply-patch, creating", count, inFlight, i -> api.handle(new ApiRequest("patch", deployments,
        "default", "a" + i, null, deploy.apply(i).put("metadata", new JsonObject().put("name", "a" + i)),
        "application/apply-patch+yaml", Map.of("fieldManager", "bench"))));
    run(vertx, "apply-patch, changing replicas", count, inFlight, i -> {
      JsonObject changed = deploy.apply(i).put("metadata", new JsonObject().put("name", "a" + i));
      changed.getJsonObject("spec").put("replicas", 3);
      return api.handle(new ApiRequest("patch", deployments, "default", "a" + i, null, changed,
          "application/apply-patch+yaml", Map.of("fieldManager", "bench")));
    });
    run(vertx, "merge-patch, changing replicas", count, inFlight, i -> api.handle(new ApiRequest("patch",
        deployments, "default", "d" + i, null, new JsonObject("{\"spec\":{\"replicas\":3}}"),
        "application/merge-patch+json", Map.of())));
    vertx.close();
    System.exit(0);
  }

  interface Call {
    Future<JsonObject> call(int i);
  }

  static void await(Vertx vertx, java.util.function.Supplier<Future<JsonObject>> f) throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    vertx.runOnContext(v -> f.get().onComplete(ar -> done.countDown()));
    done.await();
  }

  /** count calls, inFlight at a time, on a Vert.x context (as the API server runs them). */
  static void run(Vertx vertx, String name, int count, int inFlight, Call call) throws Exception {
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    CountDownLatch done = new CountDownLatch(count);
    AtomicInteger next = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    long cpu0 = os.getProcessCpuTime();
    long t0 = System.nanoTime();
    vertx.runOnContext(v -> {
      for (int k = 0; k < inFlight; k++) step(call, next, count, failed, done);
    });
    done.await();
    double secs = (System.nanoTime() - t0) / 1e9;
    double cpuMs = (os.getProcessCpuTime() - cpu0) / 1e6 / count;
    if (!name.startsWith("warm")) System.out.printf("%-32s %10.0f %14.2f%n", name, count / secs, cpuMs);
    if (failed.get() > 0) System.out.println("  " + failed.get() + " failed");
  }

  static void step(Call call, AtomicInteger next, int count, AtomicInteger failed, CountDownLatch done) {
    int i = next.getAndIncrement();
    if (i >= count) return;
    Future<JsonObject> f;
    try {
      f = call.call(i);
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    f.onComplete(ar -> {
      if (ar.failed() && failed.getAndIncrement() == 0) System.out.println("  first failure: " + ar.cause());
      done.countDown();
      step(call, next, count, failed, done);
    });
  }
}
