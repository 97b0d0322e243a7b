package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.Resources;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntUnaryOperator;

/**
 * pods/proxy and services/proxy, as kube-apiserver serves them: {@code /api/v1/namespaces/NS/pods/
 * [SCHEME:]NAME[:PORT]/proxy/PATH} and the same for services, whose PORT names or numbers a service
 * port. The request (any method, its body streamed) goes to the pod's IP, or to one ready endpoint of
 * the service picked at random, without the client's Authorization header; the answer streams back.
 * nodes/proxy answers the kubelet endpoints people read through it ({@code /healthz}, {@code /pods},
 * {@code /stats/summary}) from the node agent over the bus: kvx's agent has no HTTP server of its own.
 */
final class ProxyRoutes {

  /** Path: node name[:port], the rest. */
  static final String NODE_PATH_REGEX = "^/api/v1/nodes/([^/]+)/proxy(/.*)?$";
  /** Path: namespace, pods|services, [scheme:]name[:port], the rest. */
  static final String PATH_REGEX = "^/api/v1/namespaces/([^/]+)/(pods|services)/([^/]+)/proxy(/.*)?$";
  /** Hop-by-hop headers (RFC 9110 §7.6.1) and the client's credentials stay on this side. */
  private static final Set<String> DROPPED = Set.of("authorization", "connection", "keep-alive", "proxy-authorization",
      "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade", "host");

  /** Where a proxied request goes. */
  record Target(boolean https, String host, int port) {}

  private final Vertx vertx;
  private final ApiService api;
  private final HttpClient client;

  ProxyRoutes(Vertx vertx, ApiService api) {
    this.vertx = vertx;
    this.api = api;
    this.client = vertx.createHttpClient(new HttpClientOptions().setTrustAll(true).setVerifyHost(false)
        .setConnectTimeout(5_000).setKeepAlive(true));
  }

  void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    req.pause();
    String ns = ctx.pathParam("param0");
    boolean pod = ctx.pathParam("param1").equals("pods");
    String[] id = splitSchemeNamePort(ctx.pathParam("param2"));
    String rest = ctx.pathParam("param3");
    String path = (rest == null || rest.isEmpty() ? "/" : rest) + (req.query() == null ? "" : "?" + req.query());
    Future<Target> target = pod
        ? api.get(new ApiRequest("get", Resources.PODS, ns, id[1], null, null, null, Map.of()))
            .map(p -> podTarget(p, id[0], id[2]))
        : api.get(new ApiRequest("get", Resources.builtIn("", "services"), ns, id[1], null, null, null, Map.of()))
            .compose(svc -> api.get(new ApiRequest("get", Resources.builtIn("", "endpoints"), ns, id[1], null, null,
                null, Map.of())).recover(e -> ApiError.is(e, ApiError.Reason.NotFound)
                    ? Future.succeededFuture(new JsonObject()) : Future.failedFuture(e))
                .map(eps -> serviceTarget(svc, eps, id[0], id[2], n -> ThreadLocalRandom.current().nextInt(n))));
    target.compose(t -> forward(req, ctx.response(), t, path)).onFailure(e -> {
      req.resume();
      HttpApi.fail(ctx, e);
    });
  }

  void handleNode(RoutingContext ctx) {
    String node = splitSchemeNamePort(ctx.pathParam("param0"))[1];
    String path = ctx.pathParam("param1") == null ? "/" : ctx.pathParam("param1");
    HttpServerResponse resp = ctx.response();
    if (ctx.request().method() != io.vertx.core.http.HttpMethod.GET) {
      HttpApi.fail(ctx, new ApiError(ApiError.Reason.MethodNotAllowed, "the node agent serves GET only"));
      return;
    }
    Future<Void> done = api.get(new ApiRequest("get", Resources.NODES, null, node, null, null, null, Map.of()))
        .compose(n -> switch (path.replaceAll("/+$", "")) {
          case "/healthz" -> stats(node).compose(s -> resp.putHeader("content-type", "text/plain").end("ok"));
          case "/stats/summary" -> stats(node).compose(s -> resp.putHeader("content-type", "application/json")
              .end(summary(node, s, java.time.Instant.now().toString()).encode()));
          case "/pods" -> api.store().list(Resources.PODS.storePrefix(),
                  p -> node.equals(p.getJsonObject("spec", new JsonObject()).getString("nodeName")), 0, null)
              .compose(l -> resp.putHeader("content-type", "application/json").end(new JsonObject()
                  .put("kind", "PodList").put("apiVersion", "v1").put("metadata", new JsonObject())
                  .put("items", new JsonArray(new ArrayList<>(l.items()))).encode()));
          default -> Future.failedFuture(new ApiError(ApiError.Reason.NotFound,
              "the server could not find the requested resource"));
        });
    done.onFailure(e -> HttpApi.fail(ctx, e));
  }

  private Future<JsonObject> stats(String node) {
    return MetricsApi.nodeStats(vertx, node).recover(e -> Future.failedFuture(new ApiError(
        ApiError.Reason.ServiceUnavailable, "error trying to reach the node agent of " + node + ": " + e.getMessage())));
  }

  /**
   * The kubelet's Summary API (stats/summary) from the agent's cgroup readings: node and per-pod,
   * per-container CPU (usageNanoCores) and memory (workingSetBytes). Pure.
   */
  static JsonObject summary(String node, JsonObject stats, String now) {
    JsonArray pods = new JsonArray();
    for (Object o : stats.getJsonArray("pods", new JsonArray())) {
      JsonObject p = (JsonObject) o;
      JsonArray containers = new JsonArray();
      long cpu = 0;
      long memory = 0;
      for (Object c : p.getJsonArray("containers", new JsonArray())) {
        JsonObject cu = (JsonObject) c;
        cpu += cu.getLong("cpu", 0L);
        memory += cu.getLong("memory", 0L);
        containers.add(new JsonObject().put("name", cu.getString("name"))
            .put("cpu", cpuStats(cu.getLong("cpu", 0L), now)).put("memory", memoryStats(cu.getLong("memory", 0L), now)));
      }
      pods.add(new JsonObject().put("podRef", new JsonObject().put("name", p.getString("name"))
              .put("namespace", p.getString("namespace"))).put("containers", containers)
          .put("cpu", cpuStats(cpu, now)).put("memory", memoryStats(memory, now)));
    }
    JsonObject n = stats.getJsonObject("node", new JsonObject());
    return new JsonObject().put("node", new JsonObject().put("nodeName", node)
            .put("cpu", cpuStats(n.getLong("cpu", 0L), now)).put("memory", memoryStats(n.getLong("memory", 0L), now)))
        .put("pods", pods);
  }

  private static JsonObject cpuStats(long nanoCores, String now) {
    return new JsonObject().put("time", now).put("usageNanoCores", nanoCores);
  }

  private static JsonObject memoryStats(long bytes, String now) {
    return new JsonObject().put("time", now).put("workingSetBytes", bytes).put("usageBytes", bytes);
  }

  private Future<Void> forward(HttpServerRequest req, HttpServerResponse resp, Target t, String path) {
    RequestOptions ro = new RequestOptions().setMethod(req.method()).setHost(t.host()).setPort(t.port())
        .setURI(path).setSsl(t.https());
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    req.headers().forEach((k, v) -> {
      // HTTP/2 pseudo-headers (:path, :authority, ...) describe this hop only.
      if (!k.startsWith(":") && !DROPPED.contains(k.toLowerCase(java.util.Locale.ROOT))) headers.add(k, v);
    });
    ro.setHeaders(headers);
    return client.request(ro).recover(e -> Future.failedFuture(new ApiError(ApiError.Reason.ServiceUnavailable,
            "error trying to reach service: " + e.getMessage())))
        .compose(out -> out.send(req).recover(e -> Future.failedFuture(new ApiError(ApiError.Reason.ServiceUnavailable,
              "error trying to reach service: " + e.getMessage()))))
        .compose(in -> relay(in, resp));
  }

  private static Future<Void> relay(HttpClientResponse in, HttpServerResponse resp) {
    resp.setStatusCode(in.statusCode()).setStatusMessage(in.statusMessage());
    // The backend's own encoding replaces the "identity" an h2 reply starts with (see ApiServerVerticle).
    if (in.headers().contains("content-encoding")) resp.headers().remove("content-encoding");
    in.headers().forEach((k, v) -> {
      if (!DROPPED.contains(k.toLowerCase(java.util.Locale.ROOT)) && !k.equalsIgnoreCase("content-length")) {
        resp.headers().add(k, v);
      }
    });
    String length = in.getHeader("content-length");
    if (length != null) resp.putHeader("content-length", length);
    else resp.setChunked(true);
    return in.pipeTo(resp);
  }

  /** "[scheme:]name[:port]" as kube's SplitSchemeNamePort reads it: scheme, name, port ("" when absent). */
  static String[] splitSchemeNamePort(String id) {
    String[] parts = id.split(":", -1);
    return switch (parts.length) {
      case 1 -> new String[] {"", parts[0], ""};
      case 2 -> new String[] {"", parts[0], parts[1]};
      case 3 -> new String[] {parts[0], parts[1], parts[2]};
      default -> throw ApiError.badRequest("invalid service request \"" + id + "\"");
    };
  }

  /**
   * A pod's address: its IP and the port asked for, or the first port its containers declare, or 80.
   * Pure.
   */
  static Target podTarget(JsonObject pod, String scheme, String port) {
    String ip = pod.getJsonObject("status", new JsonObject()).getString("podIP");
    if (ip == null || ip.isEmpty()) {
      throw new ApiError(ApiError.Reason.ServiceUnavailable, "address not allowed: pod " + Meta.name(pod)
          + " has no IP yet");
    }
    int number = 80;
    if (!port.isEmpty()) {
      number = portNumber(port, pod);
    } else {
      for (Object c : pod.getJsonObject("spec").getJsonArray("containers", new JsonArray())) {
        JsonArray ports = ((JsonObject) c).getJsonArray("ports", new JsonArray());
        if (!ports.isEmpty()) {
          number = ports.getJsonObject(0).getInteger("containerPort", 80);
          break;
        }
      }
    }
    return new Target(scheme.equals("https"), ip, number);
  }

  private static int portNumber(String port, JsonObject pod) {
    if (port.matches("\\d{1,5}")) return Integer.parseInt(port);
    Integer named = Meta.namedContainerPort(pod, port);
    if (named == null) throw ApiError.badRequest("invalid port \"" + port + "\" for pod " + Meta.name(pod));
    return named;
  }

  /**
   * One ready endpoint of the service for the port asked for (a service port's name or number; none
   * names the only port, or the unnamed one), chosen by {@code pick}. 503 when there is none, as
   * kube-apiserver says it. Pure.
   */
  static Target serviceTarget(JsonObject svc, JsonObject endpoints, String scheme, String port, IntUnaryOperator pick) {
    String name = Meta.name(svc);
    String portName = null;
    for (Object o : svc.getJsonObject("spec", new JsonObject()).getJsonArray("ports", new JsonArray())) {
      JsonObject sp = (JsonObject) o;
      String spName = sp.getString("name", "");
      if (port.isEmpty() || port.equals(spName) || port.equals(String.valueOf(sp.getInteger("port")))) {
        portName = spName;
        break;
      }
    }
    if (portName == null) {
      throw ApiError.badRequest("no service port \"" + port + "\" found for service \"" + name + "\"");
    }
    List<Target> ready = new ArrayList<>();
    for (Object s : endpoints.getJsonArray("subsets", new JsonArray())) {
      JsonObject subset = (JsonObject) s;
      for (Object p : subset.getJsonArray("ports", new JsonArray())) {
        JsonObject ep = (JsonObject) p;
        if (!portName.equals(ep.getString("name", ""))) continue;
        for (Object a : subset.getJsonArray("addresses", new JsonArray())) {
          ready.add(new Target(scheme.equals("https"), ((JsonObject) a).getString("ip"), ep.getInteger("port")));
        }
      }
    }
    if (ready.isEmpty()) {
      throw new ApiError(ApiError.Reason.ServiceUnavailable, "no endpoints available for service \"" + name + "\"");
    }
    return ready.get(pick.applyAsInt(ready.size()));
  }
}
