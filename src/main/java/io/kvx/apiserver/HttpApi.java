package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.kvx.api.Json;
import io.kvx.api.Meta;
import io.kvx.api.Patches;
import io.kvx.api.Protobuf;
import io.kvx.api.RemoteCommand;
import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.kvx.api.Tables;
import io.kvx.store.Watch;
import io.kvx.store.WatchEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.HashMap;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * The Kubernetes REST surface: parses paths, verbs and media types, calls {@link ApiService}, and
 * writes JSON, YAML or Table replies, watch streams and logs. Errors become Status objects here.
 */
public final class HttpApi {

  private static final Logger LOG = Logger.getLogger(HttpApi.class.getName());
  private static final String TABLE = "as=Table";
  /** What client-go's metadata client asks for: PartialObjectMetadata(List) in meta.k8s.io/v1. */
  private static final String PARTIAL = "as=PartialObjectMetadata";

  /** An object as kube's metadata-only view: its metadata, whole, under kind PartialObjectMetadata. */
  static JsonObject partialObjectMetadata(JsonObject obj) {
    return new JsonObject().put("kind", "PartialObjectMetadata").put("apiVersion", "meta.k8s.io/v1")
        .put("metadata", obj.getJsonObject("metadata", new JsonObject()));
  }

  /** A list as kube's metadata-only view: the list's metadata and each item's. */
  static JsonObject partialObjectMetadataList(JsonObject list) {
    io.vertx.core.json.JsonArray items = new io.vertx.core.json.JsonArray();
    for (Object o : list.getJsonArray("items", new io.vertx.core.json.JsonArray())) {
      items.add(partialObjectMetadata((JsonObject) o));
    }
    return new JsonObject().put("kind", "PartialObjectMetadataList").put("apiVersion", "meta.k8s.io/v1")
        .put("metadata", list.getJsonObject("metadata", new JsonObject())).put("items", items);
  }

  private final Vertx vertx;
  private final ApiService api;
  private final MeterRegistry meters;
  /** Open watches of every API server instance that reports to one registry (the JVM's). */
  private static final Map<MeterRegistry, Map<Labels, AtomicInteger>> WATCH_COUNTS =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final MetricsApi metrics;
  private final ComponentStatuses componentStatuses;
  /**
   * The last watch line encoded, by object identity: the store hands every watcher of a change the
   * same object, one after another on this verticle's event loop, so a change is encoded once for
   * all of them instead of once per watcher.
   */
  private JsonObject lastObject;
  private String lastType;
  private Buffer lastLine;

  /**
   * kube-apiserver's deprecation warning on every request to a deprecated resource (kubectl prints it as "Warning:
   * ..."); ComponentStatus adds its own (ComponentStatuses).
   */
  private static final java.util.Map<ResourceType, String> DEPRECATIONS = java.util.Map.of(
      Resources.builtIn("", "endpoints"), "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice");

  public HttpApi(Vertx vertx, ApiService api, MeterRegistry meters) {
    this.vertx = vertx;
    this.api = api;
    this.meters = meters;
    this.metrics = new MetricsApi(vertx, api.store());
    this.componentStatuses = new ComponentStatuses(api.store());
  }

  /**
   * A new CertificateSigningRequest names who asked, as kube-apiserver fills it in from the
   * authenticated user (whatever the client sent there is replaced).
   */
  private static void requestor(JsonObject csr, io.kvx.rbac.UserInfo user) {
    JsonObject spec = csr.getJsonObject("spec");
    if (spec == null) csr.put("spec", spec = new JsonObject());
    spec.put("username", user.name()).put("groups", new JsonArray(new java.util.ArrayList<>(user.groups())));
    spec.remove("uid");
    spec.remove("extra");
  }

  /** Handles /api/v1/... (group "") and /apis/{group}/{version}/... ; {@code rest} is the path after the version. */
  public void handle(RoutingContext ctx, String group, String version, String rest) {
    long start = System.nanoTime();
    String[] seg = rest.isEmpty() ? new String[0] : rest.split("/");
    Labels labels = new Labels(ctx.request().method().name(), group, version, "", "", "");
    try {
      Parsed p = parse(group, version, seg, ctx.request().method().name(), ctx.queryParams());
      Labels l = labels = Labels.of(p, ctx);
      String deprecated = DEPRECATIONS.get(p.type);
      if (deprecated != null) ctx.response().headers().add("Warning", "299 - \"" + deprecated + "\"");
      if (p.verb.equals("watch") && !p.type.computed()) {
        watch(ctx, p.request(this, ctx), l);
        count(l, 200, start);
        return;
      }
      if ("log".equals(p.subresource)) {
        logs(ctx, p.request(this, ctx)).onComplete(ar -> count(l, ar.succeeded() ? 200 : code(ar.cause()), start));
        return;
      }
      ApiRequest req = p.request(this, ctx);
      if (req.verb().equals("create") && req.type().kind().equals("CertificateSigningRequest") && req.body() != null) {
        requestor(req.body(), ApiServerVerticle.user(ctx));
      }
      Future<JsonObject> result = !req.type().computed() ? api.handle(req)
          : req.type().group().equals(Resources.METRICS_GROUP) ? metrics.handle(req) : componentStatuses.handle(req);
      result.onComplete(ar -> {
        warn(ctx, req.warnings());
        if (ar.succeeded()) {
          int status = req.verb().equals("create") || req.created().get() ? 201 : 200;
          writeObject(ctx, status, req, ar.result());
          count(l, status, start);
        } else {
          fail(ctx, ar.cause());
          count(l, code(ar.cause()), start);
        }
      });
    } catch (ApiError e) {
      fail(ctx, e);
      count(labels, e.code(), start);
    } catch (RuntimeException e) {
      fail(ctx, e);
      count(labels, 500, start);
    }
  }

  /** At most 4 KiB of warnings, as kube-apiserver sends them. */
  private static final int WARNINGS_LIMIT = 4096;
  private static final int WARNING_TRUNCATED = 256;

  /**
   * The request's warnings as Warning headers, as kube-apiserver's recorder keeps them: each once; when they would
   * exceed 4 KiB in all, each is cut to 256 characters and those that still do not fit are dropped.
   */
  static void warn(RoutingContext ctx, List<String> warnings) {
    if (warnings.isEmpty()) return;
    java.util.LinkedHashSet<String> unique = new java.util.LinkedHashSet<>(warnings);
    int total = 0;
    for (String w : unique) total += w.length();
    boolean truncate = total > WARNINGS_LIMIT;
    int sent = 0;
    for (String w : unique) {
      String text = truncate && w.length() > WARNING_TRUNCATED ? w.substring(0, WARNING_TRUNCATED) : w;
      if (sent + text.length() > WARNINGS_LIMIT) break;
      sent += text.length();
      ctx.response().headers().add("Warning", "299 - \"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
    }
  }

  /**
   * A request's labels as kube-apiserver reports them: the HTTP verb with GET split into GET/LIST/WATCH and an
   * apply patch as APPLY, the group, version, resource and subresource, and the scope (resource, namespace, cluster).
   */
  record Labels(String verb, String group, String version, String resource, String subresource, String scope) {
    static Labels of(Parsed p, RoutingContext ctx) {
      String method = ctx.request().method().name();
      String verb = switch (p.verb) {
        case "list" -> "LIST";
        case "watch" -> "WATCH";
        case "get" -> "GET";
        default -> "PATCH".equals(method) && String.valueOf(ctx.request().getHeader(HttpHeaders.CONTENT_TYPE))
            .startsWith("application/apply-patch") ? "APPLY" : method;
      };
      String scope = p.name != null ? "resource" : p.namespace != null ? "namespace" : "cluster";
      return new Labels(verb, p.type.group(), p.type.version(), p.type.plural(),
          p.subresource == null ? "" : p.subresource, scope);
    }

    List<io.micrometer.core.instrument.Tag> tags() {
      return List.of(io.micrometer.core.instrument.Tag.of("verb", verb),
          io.micrometer.core.instrument.Tag.of("group", group), io.micrometer.core.instrument.Tag.of("version", version),
          io.micrometer.core.instrument.Tag.of("resource", resource),
          io.micrometer.core.instrument.Tag.of("subresource", subresource),
          io.micrometer.core.instrument.Tag.of("scope", scope),
          io.micrometer.core.instrument.Tag.of("component", "apiserver"));
    }
  }

  private void count(Labels labels, int code, long startNanos) {
    // The registry's lookup builds and hashes a tagged id per call; the pair is found once per labels and code.
    RequestMeters m = requestMeters.computeIfAbsent(new MeterKey(labels, code), k -> {
      List<io.micrometer.core.instrument.Tag> tags = labels.tags();
      return new RequestMeters(Counter.builder("apiserver_request_total").tags(tags).tag("code", String.valueOf(code))
          .register(meters), Timer.builder("apiserver_request_duration_seconds").tags(tags)
          .publishPercentileHistogram().register(meters));
    });
    m.total().increment();
    m.duration().record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  private record MeterKey(Labels labels, int code) { }

  /** The gauge of open watches with these labels (one per registry: every API server instance of a JVM adds to it). */
  private AtomicInteger watchGauge(Labels labels) {
    return WATCH_COUNTS.computeIfAbsent(meters, m -> new java.util.concurrent.ConcurrentHashMap<>())
        .computeIfAbsent(labels, l -> meters.gauge("apiserver_longrunning_requests", l.tags(), new AtomicInteger()));
  }

  private record RequestMeters(Counter total, Timer duration) { }

  /** This instance's meters by labels and code. */
  private final Map<MeterKey, RequestMeters> requestMeters = new java.util.concurrent.ConcurrentHashMap<>();

  private static int code(Throwable t) {
    return t instanceof ApiError e ? e.code() : 500;
  }

  /** What a path and method mean: resource, namespace, name, subresource and verb. */
  private record Parsed(ResourceType type, String namespace, String name, String subresource, String verb) {
    ApiRequest request(HttpApi http, RoutingContext ctx) {
      Map<String, String> query = new HashMap<>();
      ctx.queryParams().forEach(e -> query.putIfAbsent(e.getKey(), e.getValue()));
      JsonObject body = null;
      String patchType = null;
      if (verb.equals("create") || verb.equals("update") || verb.equals("patch") || verb.startsWith("delete")) {
        String ct = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
        // the media type is checked before the body is read, so a patch of the wrong type is a 415, not a 400
        patchType = verb.equals("patch") ? Patches.patchType(ct, type.isCustom()) : null;
        body = http.decodeBody(ctx, ct, verb.equals("patch") && ct != null && ct.startsWith("application/json-patch"));
        if (body == null && (verb.equals("create") || verb.equals("update") || verb.equals("patch"))) {
          throw ApiError.badRequest("the request body is empty; an object is required");
        }
      }
      return new ApiRequest(verb, type, namespace, name, subresource, body, patchType, query)
          .withUserAgent(ctx.request().getHeader(HttpHeaders.USER_AGENT)).withUser(ApiServerVerticle.user(ctx));
    }
  }

  private Parsed parse(String group, String version, String[] seg, String method, MultiMap query) {
    Resources resources = api.resources();
    String namespace = null;
    int i = 0;
    if (seg.length >= 3 && seg[0].equals("namespaces") && resources.find(group, version, seg[2]).isPresent()
        && !(seg.length == 3 && (seg[2].equals("status") || seg[2].equals("finalize")))) {
      namespace = seg[1];
      i = 2;
    }
    if (seg.length <= i) throw new ApiError(ApiError.Reason.NotFound, "the server could not find the requested resource");
    ResourceType type = resources.require(group, version, seg[i]);
    String name = seg.length > i + 1 ? seg[i + 1] : null;
    String sub = seg.length > i + 2 ? seg[i + 2] : null;
    if (seg.length > i + 3 || (sub != null && !type.subresources().contains(sub))) {
      throw new ApiError(ApiError.Reason.NotFound, "the server could not find the requested resource");
    }
    if (type.namespaced() && namespace == null && name != null) {
      throw new ApiError(ApiError.Reason.NotFound, "the server could not find the requested resource");
    }
    if (!type.namespaced() && namespace != null) {
      throw new ApiError(ApiError.Reason.NotFound, "the server could not find the requested resource");
    }
    boolean watch = "true".equals(query.get("watch")) || "1".equals(query.get("watch"));
    String verb = switch (method) {
      case "GET" -> name == null ? (watch ? "watch" : "list") : "get";
      case "POST" -> {
        if (name != null && !"binding".equals(sub) && !"eviction".equals(sub) && !"token".equals(sub)) {
          throw ApiError.methodNotAllowed();
        }
        yield "create";
      }
      case "PUT" -> "update";
      case "PATCH" -> "patch";
      case "DELETE" -> name == null ? "deletecollection" : "delete";
      default -> throw ApiError.methodNotAllowed();
    };
    if ((verb.equals("update") || verb.equals("patch")) && name == null || type.createOnly() && !verb.equals("create")) {
      throw ApiError.methodNotAllowed();
    }
    if (verb.equals("create") && type.namespaced() && namespace == null) {
      throw new ApiError(ApiError.Reason.NotFound, "the server could not find the requested resource");
    }
    return new Parsed(type, namespace, name, sub, verb);
  }

  /** JSON, YAML or (for json-patch) a JSON array wrapped as {"patch": [...]}. Protobuf is not decoded yet. */
  JsonObject decodeBody(RoutingContext ctx, String contentType, boolean jsonPatch) {
    Buffer bytes = ctx.body() == null ? null : ctx.body().buffer();
    if (bytes == null || isBlank(bytes)) return null;
    String ct = contentType == null ? "application/json" : contentType.toLowerCase();
    try {
      if (ct.startsWith("application/vnd.kubernetes.protobuf")) return Protobuf.decode(bytes.getBytes());
      if (jsonPatch) return new JsonObject().put("patch", new JsonArray(ctx.body().asString()));
      if (ct.contains("yaml")) return Json.fromYaml(ctx.body().asString());
      // Parsed from the UTF-8 bytes as they came, not through a String first.
      return new JsonObject(bytes);
    } catch (DecodeException e) {
      throw ApiError.badRequest("the request body is not valid JSON: " + e.getMessage());
    } catch (ClassCastException e) {
      throw ApiError.badRequest("the request body is not a JSON object");
    }
  }

  private static boolean isBlank(Buffer b) {
    for (int i = 0; i < b.length(); i++) {
      byte c = b.getByte(i);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
    }
    return true;
  }

  private void writeObject(RoutingContext ctx, int status, ApiRequest req, JsonObject obj) {
    String accept = ctx.request().getHeader(HttpHeaders.ACCEPT);
    if (accept != null && accept.contains(TABLE) && (req.verb().equals("get") || req.verb().equals("list"))) {
      List<JsonObject> items = new ArrayList<>();
      String rv = null;
      String cont = null;
      if (req.verb().equals("list")) {
        obj.getJsonArray("items").forEach(o -> items.add((JsonObject) o));
        rv = obj.getJsonObject("metadata").getString("resourceVersion");
        cont = obj.getJsonObject("metadata").getString("continue");
      } else {
        items.add(obj);
      }
      obj = Tables.table(req.type(), items, rv, cont, req.param("includeObject"));
    } else if (accept != null && accept.contains(PARTIAL) && (req.verb().equals("get") || req.verb().equals("list"))) {
      boolean list = req.verb().equals("list");
      if (list != accept.contains(PARTIAL + "List")) {
        fail(ctx, new ApiError(ApiError.Reason.NotAcceptable, "only the following media types are accepted: "
            + "application/json;as=" + (list ? "PartialObjectMetadataList" : "PartialObjectMetadata") + ";g=meta.k8s.io;v=v1"));
        return;
      }
      obj = list ? partialObjectMetadataList(obj) : partialObjectMetadata(obj);
    } else if (!req.type().isCustom() && acceptsOnlyProtobuf(ctx) && writeProtobuf(ctx, status, obj)) {
      return;
    }
    write(ctx, status, obj);
  }

  /** A client that takes nothing but protobuf (client-java's ProtoClient); kubectl also accepts JSON and gets it. */
  private static boolean acceptsOnlyProtobuf(RoutingContext ctx) {
    String accept = ctx.request().getHeader(HttpHeaders.ACCEPT);
    return accept != null && accept.contains(Protobuf.MEDIA_TYPE) && !accept.contains("json") && !accept.contains("yaml")
        && !accept.contains("*/*");
  }

  /** Writes the object in protobuf; false (nothing written) for a kind that has no protobuf message. */
  private static boolean writeProtobuf(RoutingContext ctx, int status, JsonObject obj) {
    byte[] bytes;
    try {
      bytes = Protobuf.encode(obj);
    } catch (ApiError e) {
      return false;
    }
    ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, Protobuf.MEDIA_TYPE)
        .end(io.vertx.core.buffer.Buffer.buffer(bytes));
    return true;
  }

  public static void write(RoutingContext ctx, int status, JsonObject obj) {
    String accept = ctx.request().getHeader(HttpHeaders.ACCEPT);
    HttpServerResponse resp = ctx.response().setStatusCode(status);
    if (accept != null && accept.startsWith("application/yaml")) {
      resp.putHeader(HttpHeaders.CONTENT_TYPE, "application/yaml").end(Json.toYaml(obj));
    } else {
      // A store object's text as the store encoded it when committing it, else encoded straight into bytes.
      String encoded = io.kvx.api.EncodedJson.of(obj);
      resp.putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .end(encoded != null ? Buffer.buffer(encoded) : obj.toBuffer());
    }
  }

  public static void fail(RoutingContext ctx, Throwable t) {
    ApiError e = t instanceof ApiError ae ? ae
        : new ApiError(ApiError.Reason.InternalError, "Internal error occurred: " + t.getMessage());
    if (!(t instanceof ApiError)) {
      LOG.log(java.util.logging.Level.WARNING, "internal error on " + ctx.request().uri(), t);
    }
    if (ctx.response().headWritten()) {
      ctx.response().reset();
      return;
    }
    // As kube: Retry-After when the Status asks for a retry (a PodDisruptionBudget's 429 does not: drain reports it).
    if (e.retryAfterSeconds() > 0) {
      ctx.response().putHeader("Retry-After", String.valueOf(e.retryAfterSeconds()));
    } else if (e.reason() == ApiError.Reason.ServiceUnavailable) {
      ctx.response().putHeader("Retry-After", "1");
    }
    if (acceptsOnlyProtobuf(ctx) && writeProtobuf(ctx, e.code(), e.toStatus())) return;
    ctx.response().setStatusCode(e.code()).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(e.toStatus().encode());
  }

  /**
   * Where watch events go: a chunked HTTP response of newline-delimited events (DESIGN §2.4), or, when the
   * client asks to upgrade (fabric8 does, before it falls back to HTTP), one WebSocket text message per event,
   * as kube-apiserver serves them.
   */
  private interface WatchSink {
    /** One event line; the same buffer may go to many watchers. */
    void write(Buffer line);

    default void write(String line) {
      write(Buffer.buffer(line));
    }

    /** The watch started: the reply's head may go out. */
    void started();

    /** A failure before the watch started; a too-old resourceVersion is reported in the stream. */
    void failed(Throwable t);

    void end();

    boolean done();

    void onClose(Runnable r);
  }

  private static WatchSink httpSink(RoutingContext ctx) {
    HttpServerResponse resp = ctx.response();
    resp.setChunked(true).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    return new WatchSink() {
      public void write(Buffer line) {
        resp.write(line);
      }

      public void started() {
        // Initial events may already have gone out (and with them the 200 head).
        if (!resp.headWritten()) resp.setStatusCode(200).write("");
      }

      public void failed(Throwable t) {
        if (resp.headWritten()) return;
        // A too-old resourceVersion is reported in the stream, as kube-apiserver does.
        if (t instanceof ApiError ae && ae.code() == 410) {
          resp.setStatusCode(200);
          resp.end(new JsonObject().put("type", "ERROR").put("object", ae.toStatus()).encode() + "\n");
        } else {
          fail(ctx, t);
        }
      }

      public void end() {
        if (!resp.ended()) resp.end();
      }

      public boolean done() {
        return resp.closed() || resp.ended();
      }

      public void onClose(Runnable r) {
        resp.closeHandler(v -> r.run());
      }
    };
  }

  private static WatchSink webSocketSink(ServerWebSocket ws) {
    return new WatchSink() {
      public void write(Buffer line) {
        ws.writeTextMessage(line.toString(StandardCharsets.UTF_8));
      }

      public void started() { }

      public void failed(Throwable t) {
        ApiError e = t instanceof ApiError ae ? ae
            : new ApiError(ApiError.Reason.InternalError, "Internal error occurred: " + t.getMessage());
        ws.writeTextMessage(new JsonObject().put("type", "ERROR").put("object", e.toStatus()).encode() + "\n");
        ws.close();
      }

      public void end() {
        if (!ws.isClosed()) ws.close();
      }

      public boolean done() {
        return ws.isClosed();
      }

      public void onClose(Runnable r) {
        ws.closeHandler(v -> r.run());
      }
    };
  }

  private void watch(RoutingContext ctx, ApiRequest req, Labels labels) {
    checkWatchOptions(req);
    if (ctx.request().canUpgradeToWebSocket()) {
      ctx.request().toWebSocket().onSuccess(ws -> watch(webSocketSink(ws), ctx, req, labels))
          .onFailure(e -> LOG.fine("watch WebSocket upgrade failed: " + e));
    } else {
      watch(httpSink(ctx), ctx, req, labels);
    }
  }

  /** kube's ListOptions validation for a watch: 422 naming the field; a timeout that is no number is a 400. */
  private static void checkWatchOptions(ApiRequest req) {
    List<ApiError.Cause> causes = new ArrayList<>();
    String initial = req.param("sendInitialEvents");
    String match = req.param("resourceVersionMatch");
    boolean matched = match != null && !match.isEmpty();
    if (initial != null && !"NotOlderThan".equals(match)) {
      causes.add(ApiService.forbidden("resourceVersionMatch",
          "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
    }
    if (matched && initial == null) {
      causes.add(ApiService.forbidden("resourceVersionMatch",
          "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"));
    }
    if (matched && !match.equals("NotOlderThan")) {
      causes.add(new ApiError.Cause("resourceVersionMatch", "FieldValueNotSupported",
          "Unsupported value: \"" + match + "\": supported values: \"NotOlderThan\""));
    }
    if (matched && req.param("continue") != null && !req.param("continue").isEmpty()) {
      causes.add(ApiService.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"));
    }
    if (!causes.isEmpty()) throw ApiError.invalid("meta.k8s.io", "ListOptions", "", causes);
    String timeout = req.param("timeoutSeconds");
    if (timeout != null) {
      try {
        Long.parseLong(timeout);
      } catch (NumberFormatException e) {
        throw ApiError.badRequest("invalid value for timeoutSeconds: \"" + timeout + "\"");
      }
    }
  }

  private void watch(WatchSink out, RoutingContext ctx, ApiRequest req, Labels labels) {
    AtomicInteger watches = watchGauge(labels);
    boolean sendInitial = "true".equals(req.param("sendInitialEvents"));
    String rv = req.param("resourceVersion");
    // Without sendInitialEvents, a watch from no version (or "0") starts with the objects as ADDED events; with
    // sendInitialEvents=false it starts at the newest revision without them.
    boolean legacyInitial = req.param("sendInitialEvents") == null && (rv == null || rv.isEmpty() || rv.equals("0"));
    boolean bookmarks = "true".equals(req.param("allowWatchBookmarks"));
    boolean table = accepts(ctx, TABLE);
    boolean partial = !table && accepts(ctx, PARTIAL);
    boolean initial = sendInitial || legacyInitial;
    ApiRequest effective = initial ? withoutResourceVersion(req) : req;
    // -1: no timer (0 is a valid timer id, and cancelling it would stop someone else's timer)
    long[] timers = {-1, -1};
    Watch[] handle = new Watch[1];
    java.util.concurrent.atomic.AtomicBoolean open = new java.util.concurrent.atomic.AtomicBoolean();
    Runnable finish = () -> {
      // a watch ends by its timeout, an error or the client going away: whichever comes first leaves the gauge
      if (open.compareAndSet(true, false)) watches.decrementAndGet();
      if (handle[0] != null) handle[0].close();
      for (long t : timers) vertx.cancelTimer(t);
    };
    api.watch(effective, initial, ev -> {
      if (out.done()) return;
      JsonObject object = ev.object();
      if (ev.type().equals("ERROR")) {
        out.write(new JsonObject().put("type", "ERROR").put("object", object).encode() + "\n");
        out.end();
        finish.run();
        return;
      }
      if (ApiService.presents(req.type()) && !ev.type().equals(WatchEvent.BOOKMARK)) object = api.present(req.type(), object);
      if (table) {
        object = Tables.table(req.type(), List.of(object), null, null, req.param("includeObject"));
      } else if (partial) {
        object = partialObjectMetadata(object);
      }
      if (table || partial) out.write(new JsonObject().put("type", ev.type()).put("object", object).encode() + "\n");
      else out.write(eventLine(ev.type(), object));
    }).onComplete(ar -> {
      if (ar.failed()) {
        out.failed(ar.cause());
        return;
      }
      handle[0] = ar.result();
      if (!out.done()) {
        watches.incrementAndGet();
        open.set(true);
      }
      out.started();
      if (sendInitial) {
        vertx.runOnContext(v -> out.write(bookmark(req.type(), handle[0].startRevision(), true).encode() + "\n"));
      }
      if (bookmarks) {
        timers[0] = vertx.setPeriodic(60_000, t -> out.write(bookmark(req.type(), api.store().revision(), false)
            .encode() + "\n"));
      }
      // As kube-apiserver: no timeoutSeconds, or 0, is its own limit, a random 30-60 minutes (watches spread out).
      long asked = req.param("timeoutSeconds") == null ? 0 : Long.parseLong(req.param("timeoutSeconds"));
      long timeout = asked > 0 ? asked : 1800 + java.util.concurrent.ThreadLocalRandom.current().nextLong(1800);
      timers[1] = vertx.setTimer(timeout * 1000, t -> {
        out.end();
        finish.run();
      });
      out.onClose(finish);
    });
  }

  private Buffer eventLine(String type, JsonObject object) {
    if (object != lastObject || !type.equals(lastType)) {
      String encoded = io.kvx.api.EncodedJson.of(object);
      lastLine = encoded == null
          ? new JsonObject().put("type", type).put("object", object).toBuffer().appendByte((byte) '\n')
          // The store's text of the object (see EncodedJson); the type is one of the watch event types.
          : Buffer.buffer(encoded.length() + 40).appendString("{\"type\":\"").appendString(type)
              .appendString("\",\"object\":").appendString(encoded).appendString("}\n");
      lastObject = object;
      lastType = type;
    }
    return lastLine;
  }

  private static ApiRequest withoutResourceVersion(ApiRequest r) {
    Map<String, String> q = new HashMap<>(r.query());
    q.remove("resourceVersion");
    return new ApiRequest(r.verb(), r.type(), r.namespace(), r.name(), r.subresource(), r.body(), r.patchType(), q,
        r.warnings(), r.userAgent());
  }

  private static JsonObject bookmark(ResourceType type, long revision, boolean initialEnd) {
    JsonObject meta = new JsonObject().put("resourceVersion", String.valueOf(revision));
    if (initialEnd) meta.put("annotations", new JsonObject().put("k8s.io/initial-events-end", "true"));
    return new JsonObject().put("type", WatchEvent.BOOKMARK).put("object", new JsonObject()
        .put("kind", type.kind()).put("apiVersion", type.apiVersion()).put("metadata", meta));
  }

  private static boolean accepts(RoutingContext ctx, String what) {
    String accept = ctx.request().getHeader(HttpHeaders.ACCEPT);
    return accept != null && accept.contains(what);
  }

  /**
   * pods/log: a log session with the pod's node agent, written out as chunked text/plain as it comes
   * (with follow, until the container ends or the client goes away).
   */
  private Future<Void> logs(RoutingContext ctx, ApiRequest req) {
    HttpServerResponse resp = ctx.response();
    for (String k : List.of("tailLines", "sinceSeconds", "limitBytes")) {
      String v = req.param(k);
      if (v == null) continue;
      if (!v.matches("-?\\d{1,18}")) throw ApiError.badRequest(k + ": invalid value \"" + v + "\"");
      // kube's PodLogOptions validation: a count from 0, durations and sizes from 1.
      long n = Long.parseLong(v);
      long least = k.equals("tailLines") ? 0 : 1;
      if (n < least) {
        throw ApiError.invalid("", "PodLogOptions", req.name(), List.of(new ApiError.Cause(k, "FieldValueInvalid",
            "Invalid value: " + n + ": must be greater than " + (least == 0 ? "or equal to 0" : "0"))));
      }
    }
    if (req.param("sinceSeconds") != null && req.param("sinceTime") != null) {
      throw ApiError.badRequest("at most one of `sinceTime` or `sinceSeconds` may be specified");
    }
    return api.get(req).compose(pod -> {
      String node = pod.getJsonObject("spec").getString("nodeName");
      JsonArray containers = pod.getJsonObject("spec").getJsonArray("containers", new JsonArray());
      String container = req.param("container");
      if (container == null) {
        container = StreamRoutes.defaultContainer(pod, containers);
        if (container == null) {
          throw ApiError.badRequest("a container name must be specified for pod " + req.name() + ", choose one of: "
              + StreamRoutes.names(containers));
        }
      } else if (!StreamRoutes.anyContainer(pod).contains(container)) {
        throw ApiError.badRequest("container " + container + " is not valid for pod " + req.name());
      }
      if (node == null) {
        throw ApiError.badRequest("container \"" + container + "\" in pod \"" + req.name() + "\" is waiting to start: "
            + "ContainerCreating");
      }
      String refusal = io.kvx.api.PodLogs.refusal(pod, container, "true".equals(req.param("previous")));
      if (refusal != null) throw ApiError.badRequest(refusal);
      JsonObject q = new JsonObject().put("kind", "log").put("namespace", req.namespace()).put("name", req.name())
          .put("uid", Meta.uid(pod)).put("container", container)
          .put("terminated", io.kvx.api.PodLogs.hasTerminated(pod, container));
      for (String k : List.of("tailLines", "sinceSeconds", "sinceTime", "timestamps", "previous", "limitBytes",
          "follow")) {
        if (req.param(k) != null) q.put(k, req.param(k));
      }
      io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
      return NodeStream.open(vertx, node, q, frame -> {
        if (RemoteCommand.channel(frame) == (RemoteCommand.END & 0xff)) {
          if (!resp.ended()) {
            if (!resp.headWritten()) resp.putHeader(HttpHeaders.CONTENT_TYPE, "text/plain");
            resp.end();
          }
          done.tryComplete();
          return Future.succeededFuture();
        }
        if (RemoteCommand.channel(frame) != RemoteCommand.STDOUT || resp.closed() || resp.ended()) {
          return Future.succeededFuture();
        }
        if (!resp.headWritten()) resp.setChunked(true).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain");
        return resp.write(RemoteCommand.payload(frame));
      }).compose(stream -> {
        if (!resp.headWritten()) resp.setChunked(true).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain");
        resp.closeHandler(v -> {
          stream.close();
          done.tryComplete();
        });
        if (!resp.headWritten() && !resp.ended()) resp.setStatusCode(200).write("");
        return done.future();
      });
    }).onFailure(e -> fail(ctx, e));
  }
}
