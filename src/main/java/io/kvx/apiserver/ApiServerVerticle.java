package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.kvx.bus.Addresses;
import io.kvx.bus.Services;
import io.kvx.rbac.RequestAttributes;
import io.kvx.rbac.UserInfo;
import io.kvx.store.Store;
import io.kvx.store.Watch;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The API server verticle: HTTPS on the Kubernetes REST paths, health and metrics endpoints, and the
 * same API as request/reply messages on {@link Addresses#API}. Active in every JVM that runs it.
 */
public final class ApiServerVerticle extends VerticleBase {

  private static final Logger LOG = Logger.getLogger(ApiServerVerticle.class.getName());
  /** Who a bus request comes from when it does not say ("userAgent"): its field manager is "kvx". */
  private static final String BUS_USER_AGENT = "kvx";
  /** kube-apiserver's request body limit. */
  private static final long MAX_BODY_BYTES = 3 * 1024 * 1024;
  /** Largest WebSocket frame or message of exec, attach and port-forward (kubectl writes 32 KiB). */
  private static final int STREAM_MESSAGE_BYTES = 1024 * 1024;
  private static void health(io.vertx.ext.web.RoutingContext ctx, HealthChecks checks, String check, int failStatus) {
    HealthChecks.Reply reply = checks.answer(check, ctx.queryParams().contains("verbose"),
        ctx.queryParams().getAll("exclude"), failStatus);
    if (reply == null) {
      HttpApi.fail(ctx, new ApiError(ApiError.Reason.NotFound, "the server could not find the requested resource"));
      return;
    }
    ctx.response().setStatusCode(reply.status()).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
        .putHeader("X-Content-Type-Options", "nosniff").end(reply.body());
  }

  /** What kube's system:public-info-viewer role lets anyone read; /metrics needs a token, as there. */
  private static final Set<String> PUBLIC_PATHS = Set.of("/healthz", "/livez", "/readyz", "/version");
  private static final List<String> SYSTEM_NAMESPACES = List.of("default", "kube-system", "kube-public",
      "kube-node-lease");

  private HttpServer server;
  private ApiService api;
  private HttpApi http;
  private StreamRoutes streams;
  private ProxyRoutes proxies;
  private byte[] adminToken;
  private volatile boolean ready;
  /**
   * Watches delivered as bus messages, by address. Shared by the JVM's API server instances: the bus hands
   * "watch" and "unwatch" to any of them, and the bridge that sees a client leave may be another one.
   */
  private static final Map<io.vertx.core.Vertx, Map<String, Watch>> BUS_WATCHES =
      new java.util.concurrent.ConcurrentHashMap<>();
  private Map<String, Watch> busWatches;
  private EventBusBridge bridge;
  private volatile ServiceAccountTokens tokens;
  /** The JVM's RBAC authorizer (kube-apiserver's --authorization-mode=RBAC). */
  private Authorizer authorizer;
  /** The admin token's user: in system:masters, as the client certificate of kube's admin kubeconfig. */
  static final UserInfo ADMIN = UserInfo.of("kvx-admin", List.of(UserInfo.MASTERS));

  @Override
  public Future<?> start() {
    busWatches = BUS_WATCHES.computeIfAbsent(vertx, v -> new java.util.concurrent.ConcurrentHashMap<>());
    Services services = Services.of(vertx);
    Store store = services.store();
    api = new ApiService(store, new Resources(), new ServiceAllocator(store,
        config().getString("serviceCidr", "10.96.0.0/12")));
    http = new HttpApi(vertx, api, services.metrics());
    streams = new StreamRoutes(vertx, api);
    proxies = new ProxyRoutes(vertx, api);
    JsonObject cfg = config();
    return vertx.executeBlocking(() -> {
          Path pub = Path.of(cfg.getString("serviceAccountPublicKeyFile", "/nonexistent"));
          Path key = Path.of(cfg.getString("serviceAccountKeyFile", "/nonexistent"));
          if (Files.exists(pub) && Files.exists(key)) {
            tokens = new ServiceAccountTokens(vertx, Files.readString(pub), Files.readString(key), api::lookup);
            api.setTokens(tokens);
          }
          return Files.readString(Path.of(cfg.getString("tokenFile"))).trim();
        })
        .compose(token -> {
          adminToken = token.getBytes(StandardCharsets.UTF_8);
          return RbacAuthorizer.of(vertx, store);
        })
        .compose(rbac -> {
          authorizer = rbac;
          return Future.all(AdmissionWebhooks.of(vertx, store), AdmissionPolicies.of(vertx, store));
        })
        .compose(admission -> {
          api.setAdmission(admission.resultAt(0), admission.resultAt(1));
          return bootstrapOnce(cfg.getInteger("port", 6443));
        })
        .compose(v -> watchCustomResourceDefinitions(store))
        // Requests on the bus only once this instance serves the custom resources too.
        .compose(v -> vertx.eventBus().<JsonObject>consumer(Addresses.API, this::onBusRequest).completion())
        .compose(v -> listen(cfg, services.metrics()))
        .compose(s -> {
          int busPort = cfg.getInteger("eventBusPort", cfg.getInteger("port", 6443) + 1000);
          if (busPort <= 0) return Future.succeededFuture(s);
          bridge = new EventBusBridge(vertx, this::authenticateToken, authorizer, this::closeBusWatches);
          return bridge.listen(cfg.getString("host", "0.0.0.0"), busPort).map(s);
        })
        .onSuccess(s -> ready = true);
  }

  private Future<HttpServer> listen(JsonObject cfg, PrometheusMeterRegistry metrics) {
    HttpServerOptions opts = new HttpServerOptions().setHost(cfg.getString("host", "0.0.0.0"))
        .setPort(cfg.getInteger("port", 6443)).setCompressionSupported(true)
        .setWebSocketSubProtocols(StreamRoutes.SUBPROTOCOLS)
        .setMaxWebSocketFrameSize(STREAM_MESSAGE_BYTES).setMaxWebSocketMessageSize(STREAM_MESSAGE_BYTES);
    if (cfg.getBoolean("tls", true)) {
      opts.setSsl(true).setKeyCertOptions(new PemKeyCertOptions().setCertPath(cfg.getString("certFile"))
          .setKeyPath(cfg.getString("keyFile")));
      // Client certificates signed by the cluster CA authenticate (kube-apiserver's --client-ca-file): asked
      // for, not required, so token clients are unaffected.
      java.nio.file.Path clientCa = java.nio.file.Path.of(cfg.getString("certFile")).resolveSibling("ca.crt");
      if (java.nio.file.Files.exists(clientCa)) {
        opts.setClientAuth(io.vertx.core.http.ClientAuth.REQUEST)
            .setTrustOptions(new io.vertx.core.net.PemTrustOptions().addCertPath(clientCa.toString()));
      }
      // BoringSSL through netty-tcnative costs a fraction of the JDK's SSLEngine per request.
      if (cfg.getBoolean("openssl", true) && OpenSSLEngineOptions.isAvailable()) {
        opts.setSslEngineOptions(new OpenSSLEngineOptions());
      }
      http2(opts, cfg.getInteger("http2MaxStreams", 0));
    } else {
      // kube-apiserver serves no cleartext HTTP/2 (h2c): a plaintext listener stays HTTP/1.1.
      opts.setHttp2ClearTextEnabled(false);
    }
    Router router = Router.router(vertx);
    // Vert.x 5.0.7's HTTP/2 compressor switches the whole connection to plain data after one stream goes
    // out uncompressed, while later streams still say "content-encoding: gzip" (eclipse-vertx/vert.x#5896,
    // fixed after 5.0.7): a client mixing requests with and without Accept-Encoding would get bodies it
    // cannot read. Until the upgrade, h2 replies go uncompressed (the header is dropped), HTTP/1.1 as before.
    router.route().handler(ctx -> {
      if (ctx.request().version() == HttpVersion.HTTP_2) {
        ctx.response().putHeader(HttpHeaders.CONTENT_ENCODING, HttpHeaders.IDENTITY);
      }
      ctx.next();
    });
    router.route().handler(this::authenticate);
    router.route().handler(this::authorize);
    // Upgrades (exec, attach, port-forward) are taken before the body handler would read the request.
    router.routeWithRegex(StreamRoutes.PATH_REGEX).handler(streams::handle);
    router.routeWithRegex(ProxyRoutes.PATH_REGEX).handler(proxies::handle);
    router.routeWithRegex(ProxyRoutes.NODE_PATH_REGEX).handler(proxies::handleNode);
    // Watches over WebSocket (fabric8's default) upgrade before the body handler would read the request.
    router.get("/api/v1/*").handler(ctx -> {
      if (isWebSocketWatch(ctx)) http.handle(ctx, "", "v1", rest(ctx, "/api/v1/"));
      else ctx.next();
    });
    router.get("/apis/:group/:version/*").handler(ctx -> {
      if (isWebSocketWatch(ctx)) http.handle(ctx, ctx.pathParam("group"), ctx.pathParam("version"),
          rest(ctx, "/apis/" + ctx.pathParam("group") + "/" + ctx.pathParam("version") + "/"));
      else ctx.next();
    });
    router.route().handler(BodyHandler.create().setBodyLimit(MAX_BODY_BYTES).setHandleFileUploads(false));
    router.routeWithRegex("/apis/rbac\\.authorization\\.k8s\\.io/v1/.+").handler(this::preventEscalation);
    HealthChecks live = new HealthChecks("livez").add("ping", () -> true).add("log", () -> true)
        .add("etcd", () -> true);
    HealthChecks readiness = new HealthChecks("readyz").add("ping", () -> true).add("log", () -> true)
        .add("etcd", () -> true).add("etcd-readiness", () -> ready && api.store().hasWriter())
        .add("informer-sync", () -> ready)
        .add("shutdown", () -> ready);
    HealthChecks healthz = new HealthChecks("healthz").add("ping", () -> true).add("log", () -> true)
        .add("etcd", () -> true);
    for (HealthChecks checks : List.of(live, readiness, healthz)) {
      String base = checks == live ? "/livez" : checks == readiness ? "/readyz" : "/healthz";
      int failStatus = checks == readiness ? 503 : 500;
      router.get(base).handler(ctx -> health(ctx, checks, null, failStatus));
      router.get(base + "/:check").handler(ctx -> health(ctx, checks, ctx.pathParam("check"), failStatus));
    }
    router.get("/metrics").handler(ctx -> ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8").end(metrics.scrape()));
    router.get("/version").handler(ctx -> HttpApi.write(ctx, 200, Discovery.version()));
    router.get("/api").handler(ctx -> {
      if (aggregated(ctx, true)) return;
      HttpApi.write(ctx, 200, Discovery.coreVersions(ctx.request().authority() == null ? ""
          : ctx.request().authority().toString()));
    });
    router.get("/apis").handler(ctx -> {
      if (aggregated(ctx, false)) return;
      HttpApi.write(ctx, 200, Discovery.groups(api.resources()));
    });
    new OpenApiRoutes(vertx, api.resources()).mount(router);
    router.get("/api/v1").handler(ctx -> HttpApi.write(ctx, 200, Discovery.resourceList(api.resources(), "", "v1")));
    router.route("/api/v1/*").handler(ctx -> http.handle(ctx, "", "v1", rest(ctx, "/api/v1/")));
    router.post("/apis/:group/v1/:plural").handler(this::review);
    router.post("/apis/authorization.k8s.io/v1/namespaces/:ns/localsubjectaccessreviews").handler(this::review);
    router.get("/apis/:group").handler(ctx -> {
      Set<String> versions = Discovery.allGroups(api.resources()).get(ctx.pathParam("group"));
      if (versions == null) HttpApi.fail(ctx, notFound());
      else HttpApi.write(ctx, 200, Discovery.group(ctx.pathParam("group"), versions));
    });
    router.get("/apis/:group/:version").handler(ctx -> {
      JsonObject list = Discovery.resourceList(api.resources(), ctx.pathParam("group"), ctx.pathParam("version"));
      if (list.getJsonArray("resources").isEmpty()) HttpApi.fail(ctx, notFound());
      else HttpApi.write(ctx, 200, list);
    });
    router.route("/apis/:group/:version/*").handler(ctx -> http.handle(ctx, ctx.pathParam("group"),
        ctx.pathParam("version"), rest(ctx, "/apis/" + ctx.pathParam("group") + "/" + ctx.pathParam("version") + "/")));
    router.route().last().handler(ctx -> HttpApi.fail(ctx, notFound()));
    router.route().failureHandler(ctx -> {
      if (ctx.statusCode() == 413) {
        HttpApi.fail(ctx, new ApiError(ApiError.Reason.RequestEntityTooLarge, "Request entity too large: limit is "
            + MAX_BODY_BYTES));
      } else {
        HttpApi.fail(ctx, ctx.failure() != null ? ctx.failure() : new ApiError(ApiError.Reason.BadRequest,
            "bad request"));
      }
    });
    server = vertx.createHttpServer(opts).requestHandler(router);
    return server.listen().onSuccess(s -> LOG.info("apiserver: listening on " + (cfg.getBoolean("tls", true)
        ? "https" : "http") + "://" + opts.getHost() + ":" + s.actualPort()
        + (opts.getSslEngineOptions() instanceof OpenSSLEngineOptions ? " (OpenSSL)" : "")
        + (opts.isUseAlpn() ? ", ALPN h2,http/1.1" : ", HTTP/1.1")));
  }

  /** kube-apiserver's per-stream receive window and largest frame it reads: 99% of objects fit in one frame. */
  static final int HTTP2_STREAM_WINDOW_BYTES = 256 * 1024;
  /** kube-apiserver's MaxConcurrentStreams when --http2-max-streams-per-connection is 0 (client-go's initial limit). */
  static final int HTTP2_DEFAULT_MAX_STREAMS = 100;

  /**
   * HTTP/2 as kube-apiserver offers it on its TLS port: ALPN "h2" first, then "http/1.1" (upgrades
   * such as exec, attach, port-forward and WebSocket watches come over HTTP/1.1 connections), with its
   * stream settings: at most {@code maxStreams} concurrent streams per connection (0: 100), 256 KiB
   * stream windows and frames, and a connection window of both multiplied.
   */
  static void http2(HttpServerOptions opts, int maxStreams) {
    int streams = maxStreams > 0 ? maxStreams : HTTP2_DEFAULT_MAX_STREAMS;
    opts.setUseAlpn(true).setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1))
        .setInitialSettings(new Http2Settings().setMaxConcurrentStreams(streams)
            .setInitialWindowSize(HTTP2_STREAM_WINDOW_BYTES).setMaxFrameSize(HTTP2_STREAM_WINDOW_BYTES))
        .setHttp2ConnectionWindowSize((int) Math.min(Integer.MAX_VALUE, (long) HTTP2_STREAM_WINDOW_BYTES * streams));
  }

  /** POST of a review (SelfSubjectAccessReview, TokenReview, ...): answered, never stored. */
  private void review(RoutingContext ctx) {
    String plural = ctx.pathParam("plural") != null ? ctx.pathParam("plural") : "localsubjectaccessreviews";
    ResourceType type = Reviews.find(ctx.pathParam("group") != null ? ctx.pathParam("group") : "authorization.k8s.io",
        plural);
    if (type == null) {
      ctx.next();
      return;
    }
    JsonObject body;
    try {
      String ct = String.valueOf(ctx.request().getHeader(HttpHeaders.CONTENT_TYPE)).toLowerCase();
      body = ct.startsWith("application/vnd.kubernetes.protobuf")
          ? io.kvx.api.Protobuf.decode(ctx.body().buffer().getBytes()) : ctx.body().asJsonObject();
    } catch (ApiError e) {
      HttpApi.fail(ctx, e);
      return;
    } catch (RuntimeException e) {
      HttpApi.fail(ctx, new ApiError(ApiError.Reason.BadRequest, "the body of a " + type.kind() + " must be JSON: "
          + e.getMessage()));
      return;
    }
    Reviews.answer(type, ctx.pathParam("ns"), body, user(ctx), authorizer, this::reviewToken)
        .onSuccess(out -> HttpApi.write(ctx, 201, out)).onFailure(e -> HttpApi.fail(ctx, e));
  }

  /** Answers with aggregated discovery when the client asks for it; false to fall back to plain. */
  private boolean aggregated(RoutingContext ctx, boolean core) {
    if (!Discovery.wantsAggregated(ctx.request().getHeader(HttpHeaders.ACCEPT))) return false;
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, Discovery.AGGREGATED_TYPE)
        .putHeader("Vary", "Accept").end(Discovery.aggregated(api.resources(), core).encode());
    return true;
  }

  private static ApiError notFound() {
    return new ApiError(ApiError.Reason.NotFound, "the server could not find the requested resource");
  }

  private static boolean isWebSocketWatch(RoutingContext ctx) {
    String watch = ctx.request().getParam("watch");
    return ("true".equals(watch) || "1".equals(watch)) && ctx.request().canUpgradeToWebSocket();
  }

  private static String rest(RoutingContext ctx, String prefix) {
    String path = ctx.normalizedPath();
    String r = path.length() > prefix.length() ? path.substring(prefix.length()) : "";
    return r.endsWith("/") ? r.substring(0, r.length() - 1) : r;
  }

  static UserInfo user(RoutingContext ctx) {
    UserInfo u = ctx.get(USER);
    return u == null ? UserInfo.of(UserInfo.ANONYMOUS, List.of()) : u;
  }

  private static final String USER = "kvx.user";
  /** Stream subresources a WebSocket (GET) upgrade also needs create on, as kube 1.35 checks them. */
  private static final Set<String> STREAM_SUBRESOURCES = Set.of("exec", "attach", "portforward");

  /**
   * The authorization step after authentication (kube-apiserver's authorizer chain): the request's attributes
   * as kube's RequestInfo reads them, decided by RBAC; a denial is kube's 403 Status.
   */
  private void authorize(RoutingContext ctx) {
    if (PUBLIC_PATHS.contains(ctx.normalizedPath())) {
      ctx.next();
      return;
    }
    RequestAttributes req = RequestAttributes.fromHttp(user(ctx), ctx.request().method().name(), ctx.normalizedPath(),
        ctx.request().getParam("watch"), ctx.request().getParam("fieldSelector"));
    ApiError denied = check(authorizer, req);
    if (denied == null && req.resourceRequest() && req.verb().equals("get") && req.resource().equals("pods")
        && STREAM_SUBRESOURCES.contains(req.subresource())) {
      denied = check(authorizer, req.withVerb("create"));
    }
    if (denied == null) ctx.next();
    else HttpApi.fail(ctx, denied);
  }

  /** Null when allowed, else kube-apiserver's Forbidden Status for the request. */
  static ApiError check(Authorizer authorizer, RequestAttributes req) {
    Authorizer.Decision d = authorizer.authorize(req);
    return d.allowed() ? null : forbidden(req, d.reason());
  }

  /** kube's 403: "<resource>[ \"name\"] is forbidden: User ... cannot ..." with details group/kind/name. */
  static ApiError forbidden(RequestAttributes req, String reason) {
    String why = req.forbiddenMessage() + (reason == null || reason.isEmpty() ? "" : ": " + reason);
    if (!req.resourceRequest() || req.resource().isEmpty()) {
      return new ApiError(ApiError.Reason.Forbidden, "forbidden: " + why);
    }
    String qualified = req.apiGroup().isEmpty() ? req.resource() : req.resource() + "." + req.apiGroup();
    String message = req.name().isEmpty() ? qualified + " is forbidden: " + why
        : qualified + " \"" + req.name() + "\" is forbidden: " + why;
    return new ApiError(ApiError.Reason.Forbidden, message, req.apiGroup(), req.resource(),
        req.name().isEmpty() ? null : req.name(), List.of());
  }

  /**
   * RBAC's escalation prevention on writes of Roles, ClusterRoles and their bindings: the rules written (a
   * Role's, or the bound role's) must be held by the writer already, unless it may {@code escalate} the role
   * (or {@code bind} it). A ClusterRole with an aggregationRule asks for everything. Create, update and the
   * merge, strategic and apply patches (whose rules replace the whole list) are checked on their body; a JSON
   * patch of rules needs escalate.
   */
  private void preventEscalation(RoutingContext ctx) {
    UserInfo user = user(ctx);
    String method = ctx.request().method().name();
    if (user.in(UserInfo.MASTERS) || !(method.equals("POST") || method.equals("PUT") || method.equals("PATCH"))) {
      ctx.next();
      return;
    }
    RequestAttributes req = RequestAttributes.fromHttp(user, method, ctx.normalizedPath(), null, null);
    if (!req.subresource().isEmpty()) {
      ctx.next();
      return;
    }
    JsonObject body;
    try {
      String ct = String.valueOf(ctx.request().getHeader(HttpHeaders.CONTENT_TYPE)).toLowerCase();
      body = ct.contains("json-patch") ? null : http.decodeBody(ctx, ct, false);
    } catch (RuntimeException e) {
      ctx.next(); // the API answers the bad body
      return;
    }
    ApiError denied = escalation(authorizer, user, method.equals("PATCH"), req.apiGroup(), req.resource(),
        req.namespace(), req.name(), body);
    if (denied == null) ctx.next();
    else HttpApi.fail(ctx, denied);
  }

  /**
   * The escalation check of a write (create, update or {@code patch}) of {@code resource} by {@code user}: null when
   * allowed, else kube's 403. {@code body} is the object or patch written, null for a JSON patch. Used for the
   * HTTPS API and the event-bus bridge alike.
   */
  static ApiError escalation(Authorizer authorizer, UserInfo user, boolean patch, String group, String resource,
                             String ns, String urlName, JsonObject body) {
    if (user.in(UserInfo.MASTERS) || !(authorizer instanceof RbacAuthorizer rbac)
        || !group.equals("rbac.authorization.k8s.io")) {
      return null;
    }
    ns = ns == null ? "" : ns;
    String name = (urlName == null || urlName.isEmpty()) && body != null
        ? body.getJsonObject("metadata", new JsonObject()).getString("name", "") : urlName == null ? "" : urlName;
    JsonArray requested;
    switch (resource) {
      case "roles", "clusterroles" -> {
        ApiError escalate = check(rbac, RequestAttributes.resource(user, "escalate", group, resource, "", ns, name));
        if (escalate == null) return null;
        if (body == null) return escalate;
        requested = body.getJsonObject("aggregationRule") != null ? io.kvx.rbac.Escalation.everything()
            : body.getJsonArray("rules");
        if (requested == null && patch) return null;
      }
      case "rolebindings", "clusterrolebindings" -> {
        JsonObject ref = body == null ? null : body.getJsonObject("roleRef");
        if (ref == null) {
          JsonObject stored = rbac.binding(ns, name);
          ref = stored == null ? null : stored.getJsonObject("roleRef");
        }
        if (ref == null) return null;
        String kind = ref.getString("kind", "");
        // In the binding's namespace, as kube asks (a RoleBinding may be allowed to bind a ClusterRole there).
        ApiError bind = check(rbac, RequestAttributes.resource(user, "bind", group,
            kind.equals("Role") ? "roles" : "clusterroles", "", ns, ref.getString("name", "")));
        if (bind == null) return null;
        JsonObject role = rbac.role(kind, ns, ref.getString("name", ""));
        // kube's validation answers a missing role... only later; nothing is granted by it now
        if (role == null) return null;
        requested = role.getJsonArray("rules");
      }
      default -> {
        return null;
      }
    }
    var missing = io.kvx.rbac.Escalation.notCovered(user, rbac.rules(user, ns), requested);
    if (missing.isEmpty()) return null;
    String qualified = resource + "." + group;
    return new ApiError(ApiError.Reason.Forbidden, qualified + " \"" + name + "\" is forbidden: "
        + io.kvx.rbac.Escalation.message(user, missing), group, resource, name, List.of());
  }

  /** A bearer token's user: the admin token's (system:masters) or a ServiceAccount's. */
  Future<UserInfo> authenticateToken(String token) {
    if (token == null) return Future.failedFuture("no token");
    if (MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), adminToken)) return Future.succeededFuture(ADMIN);
    if (tokens == null) return Future.failedFuture("no service account tokens");
    return tokens.authenticate(token).map(name -> UserInfo.of(name, List.of()));
  }

  /** A TokenReview's check: the admin token holds for any audience; a ServiceAccount token for those it was issued for. */
  private Future<Reviews.TokenUser> reviewToken(String token, List<String> audiences) {
    if (token != null && MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), adminToken)) {
      return Future.succeededFuture(new Reviews.TokenUser(ADMIN, audiences));
    }
    if (tokens == null) return Future.failedFuture("no service account tokens");
    return tokens.authenticate(token, audiences).map(a -> new Reviews.TokenUser(UserInfo.of(a.user(), List.of()),
        a.audiences()));
  }

  /**
   * Bearer-token authentication; health and version stay public, as kube-apiserver's defaults allow. Then
   * impersonation (Impersonate-User, Impersonate-Group, Impersonate-Uid headers), as kube's impersonation filter:
   * the caller needs impersonate on users (serviceaccounts for a ServiceAccount), groups and uids, else 403.
   */
  private void authenticate(RoutingContext ctx) {
    if (PUBLIC_PATHS.contains(ctx.normalizedPath())) {
      ctx.next();
      return;
    }
    String auth = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      byte[] presented = auth.substring(7).trim().getBytes(StandardCharsets.UTF_8);
      if (MessageDigest.isEqual(presented, adminToken)) {
        authenticated(ctx, ADMIN);
        return;
      }
      if (tokens != null) {
        // Checking a JWT is asynchronous: hold the body until the body handler is reached (it resumes).
        ctx.request().pause();
        tokens.authenticate(auth.substring(7).trim()).onComplete(ar -> {
          if (ar.succeeded()) {
            // Stream upgrades never reach the body handler, which would resume the request.
            if (ctx.normalizedPath().matches(StreamRoutes.PATH_REGEX) || isWebSocketWatch(ctx)) {
              ctx.request().resume();
            }
            authenticated(ctx, UserInfo.of(ar.result(), List.of()));
          } else {
            HttpApi.fail(ctx, new ApiError(ApiError.Reason.Unauthorized, "Unauthorized"));
          }
        });
        return;
      }
    }
    UserInfo certified = auth == null ? clientCertificate(ctx) : null;
    if (certified != null) {
      authenticated(ctx, certified);
      return;
    }
    HttpApi.fail(ctx, new ApiError(ApiError.Reason.Unauthorized, "Unauthorized"));
  }

  private void authenticated(RoutingContext ctx, UserInfo user) {
    String as = ctx.request().getHeader("Impersonate-User");
    List<String> asGroups = ctx.request().headers().getAll("Impersonate-Group");
    String asUid = ctx.request().getHeader("Impersonate-Uid");
    if (as == null) {
      if (!asGroups.isEmpty() || asUid != null) {
        HttpApi.fail(ctx, new ApiError(ApiError.Reason.InternalError,
            "requested [" + (asGroups.isEmpty() ? "" : "{Group " + asGroups + "}") + "] without impersonating a user"));
        return;
      }
      ctx.put(USER, user);
      ctx.next();
      return;
    }
    List<RequestAttributes> checks = new java.util.ArrayList<>();
    String[] sa = UserInfo.serviceAccount(as);
    checks.add(sa != null ? RequestAttributes.resource(user, "impersonate", "", "serviceaccounts", "", sa[0], sa[1])
        : RequestAttributes.resource(user, "impersonate", "", "users", "", "", as));
    for (String g : asGroups) checks.add(RequestAttributes.resource(user, "impersonate", "", "groups", "", "", g));
    if (asUid != null) {
      checks.add(RequestAttributes.resource(user, "impersonate", "authentication.k8s.io", "uids", "", "", asUid));
    }
    for (RequestAttributes c : checks) {
      ApiError denied = check(authorizer, c);
      if (denied != null) {
        HttpApi.fail(ctx, denied);
        return;
      }
    }
    ctx.put(USER, UserInfo.of(as, asGroups));
    ctx.next();
  }

  /**
   * x509 client-certificate authentication, as kube-apiserver's: the TLS handshake verified the chain
   * against the cluster CA; the user is the subject's common name and its organizations are the groups.
   */
  private static UserInfo clientCertificate(RoutingContext ctx) {
    if (!ctx.request().isSSL()) return null;
    java.util.List<java.security.cert.Certificate> chain;
    try {
      chain = ctx.request().connection().peerCertificates();
    } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
      return null;
    }
    if (chain == null || chain.isEmpty() || !(chain.get(0) instanceof java.security.cert.X509Certificate cert)) return null;
    var subject = org.bouncycastle.asn1.x500.X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
    String user = io.kvx.api.Certificates.commonName(subject);
    return user.isEmpty() ? null : UserInfo.of(user, io.kvx.api.Certificates.organizations(subject));
  }

  /**
   * The API as messages: {verb, group, version, resource, namespace, name, subresource, body, query}.
   * verb "watch" with an "address" streams events ({type, object}) to that address until "unwatch"
   * (or the bridge client that registered it goes away). See docs/eventbus.md.
   */
  /** Holds an address while its watch is starting (one per request). */
  private static final class Starting implements Watch {
    public long startRevision() {
      return 0;
    }

    public void close() { }
  }

  /** A bridged request's user (the bridge authenticated it), or null for kvx's own components. */
  private static UserInfo busUser(Message<JsonObject> msg) {
    String who = msg.headers().get(EventBusBridge.USER_HEADER);
    if (who == null) return null;
    JsonObject u = new JsonObject(who);
    List<String> groups = new java.util.ArrayList<>();
    u.getJsonArray("groups", new io.vertx.core.json.JsonArray()).forEach(g -> groups.add(String.valueOf(g)));
    return new UserInfo(u.getString("username", ""), groups);
  }

  private void onBusRequest(Message<JsonObject> msg) {
    JsonObject m = msg.body();
    String forbidden = msg.headers().get(EventBusBridge.FORBIDDEN_HEADER);
    if (forbidden != null) {
      msg.fail(403, forbidden);
      return;
    }
    if ("unwatch".equals(m.getString("verb"))) {
      Watch w = busWatches.remove(m.getString("address", ""));
      if (w != null) w.close();
      msg.reply(new JsonObject().put("address", m.getString("address")).put("closed", w != null));
      return;
    }
    try {
      var type = api.resources().require(m.getString("group", ""), m.getString("version", "v1"),
          m.getString("resource"));
      Map<String, String> query = new HashMap<>();
      m.getJsonObject("query", new JsonObject()).forEach(e -> query.put(e.getKey(), String.valueOf(e.getValue())));
      ApiRequest req = new ApiRequest(m.getString("verb"), type, m.getString("namespace"), m.getString("name"),
          m.getString("subresource"), m.getJsonObject("body"), m.getString("patchType"), query)
          .withUserAgent(m.getString("userAgent", BUS_USER_AGENT)).withUser(busUser(msg));
      if ("watch".equals(req.verb())) {
        // A bridge client's events go to its own connection, on this JVM: no consumer elsewhere may take them.
        busWatch(msg, req, m.getString("address"), new io.vertx.core.eventbus.DeliveryOptions()
            .setLocalOnly(msg.headers().contains(EventBusBridge.BRIDGE_HEADER)));
        return;
      }
      api.handle(req).onComplete(ar -> {
        if (ar.succeeded()) msg.reply(ar.result());
        else replyError(msg, ar.cause());
      });
    } catch (RuntimeException e) {
      replyError(msg, e);
    }
  }

  /** A watch delivered as messages to {@code address}; the reply says where, and from which version. */
  private void busWatch(Message<JsonObject> msg, ApiRequest req, String address,
                        io.vertx.core.eventbus.DeliveryOptions delivery) {
    if (address == null || !address.startsWith(Addresses.WATCH_PREFIX)) {
      throw ApiError.badRequest("a watch needs an \"address\" starting with " + Addresses.WATCH_PREFIX);
    }
    // This request's own placeholder while the watch starts: an unwatch, or another watch of the same address
    // after it, must never be mistaken for this one.
    Watch placeholder = new Starting();
    if (busWatches.putIfAbsent(address, placeholder) != null) {
      throw ApiError.badRequest("a watch is already delivered to " + address);
    }
    Watch[] current = {placeholder};
    boolean initial = "true".equals(req.param("sendInitialEvents")) || req.param("resourceVersion") == null;
    Future<Watch> started;
    try {
      started = api.watch(req, initial, ev -> {
        JsonObject object = ev.type().equals("ERROR") ? ev.object() : api.present(req.type(), ev.object());
        vertx.eventBus().send(address, new JsonObject().put("type", ev.type()).put("object", object), delivery);
        if (ev.type().equals("ERROR") && busWatches.remove(address, current[0])) current[0].close();
      });
    } catch (RuntimeException e) {
      busWatches.remove(address, placeholder);
      throw e;
    }
    started.onComplete(ar -> {
      if (ar.failed()) {
        busWatches.remove(address, placeholder);
        replyError(msg, ar.cause());
        return;
      }
      current[0] = ar.result();
      if (!busWatches.replace(address, placeholder, ar.result())) {
        // Unwatched (or its client left, or the watch ended) before it started.
        ar.result().close();
        msg.reply(new JsonObject().put("address", address).put("closed", true));
        return;
      }
      msg.reply(new JsonObject().put("address", address).put("resourceVersion", String.valueOf(api.store().revision())));
    });
  }

  /** Ends the watches a bridge client registered, when it disconnects. */
  void closeBusWatches(java.util.Collection<String> addresses) {
    for (String a : addresses) {
      Watch w = busWatches.remove(a);
      if (w != null) w.close();
    }
  }

  private static void replyError(Message<JsonObject> msg, Throwable t) {
    ApiError e = t instanceof ApiError ae ? ae : new ApiError(ApiError.Reason.InternalError, String.valueOf(t));
    msg.fail(e.code(), e.toStatus().encode());
  }

  /** The bootstrap objects, created by the JVM's first API server instance; the others wait for it. */
  private static final Map<io.vertx.core.Vertx, Future<Void>> BOOTSTRAPS = new java.util.concurrent.ConcurrentHashMap<>();

  /** The JVM's first API server instance, which also does the per-JVM chores. */
  private static final Map<io.vertx.core.Vertx, ApiServerVerticle> BOOTSTRAPPER =
      new java.util.concurrent.ConcurrentHashMap<>();

  private Future<Void> bootstrapOnce(int port) {
    BOOTSTRAPPER.putIfAbsent(vertx, this);
    Future<Void> once = BOOTSTRAPS.computeIfAbsent(vertx, v -> bootstrapNamespaces()
        .compose(x -> bootstrapStorageClass()).compose(x -> bootstrapPriorityClasses()).compose(x -> bootstrapPolicy())
        .compose(x -> bootstrapKubernetesService(port)));
    once.onFailure(e -> BOOTSTRAPS.remove(vertx, once));
    // Continue on this instance's own event loop (the server it then starts is served there), not the first one's.
    io.vertx.core.Context own = vertx.getOrCreateContext();
    Promise<Void> here = Promise.promise();
    once.onComplete(ar -> own.runOnContext(v -> here.handle(ar)));
    return here.future();
  }

  /**
   * kube-apiserver's RBAC bootstrap policy, reconciled as its post-start hook does: a default role or binding is
   * created when missing and, unless annotated rbac.authorization.kubernetes.io/autoupdate: "false", given back
   * what it lacks of the default (user additions stay). A conflict with another JVM doing the same is retried.
   */
  private Future<Void> bootstrapPolicy() {
    Future<Void> chain = Future.succeededFuture();
    ResourceType roles = Resources.builtIn("rbac.authorization.k8s.io", "clusterroles");
    ResourceType bindings = Resources.builtIn("rbac.authorization.k8s.io", "clusterrolebindings");
    for (JsonObject o : io.kvx.rbac.BootstrapPolicy.clusterRoles()) chain = chain.compose(v -> reconcile(roles, o, 3));
    for (JsonObject o : io.kvx.rbac.BootstrapPolicy.clusterRoleBindings()) {
      chain = chain.compose(v -> reconcile(bindings, o, 3));
    }
    return chain;
  }

  private Future<Void> reconcile(ResourceType type, JsonObject wanted, int tries) {
    String name = wanted.getJsonObject("metadata").getString("name");
    return api.handle(new ApiRequest("get", type, null, name, null, null, null, Map.of()))
        .recover(e -> ApiError.is(e, ApiError.Reason.NotFound) ? Future.succeededFuture(null) : Future.failedFuture(e))
        .compose(stored -> {
          JsonObject write = io.kvx.rbac.BootstrapPolicy.reconcile(wanted, stored);
          if (write == null) return Future.<Void>succeededFuture();
          ApiRequest req = stored == null ? new ApiRequest("create", type, null, null, null, write, null, Map.of())
              : new ApiRequest("update", type, null, name, null, write, null, Map.of());
          return api.handle(req).<Void>mapEmpty().recover(e -> tries > 0 && (ApiError.is(e, ApiError.Reason.Conflict)
              || ApiError.is(e, ApiError.Reason.AlreadyExists)) ? reconcile(type, wanted, tries - 1)
              : Future.failedFuture(e));
        });
  }

  private Future<Void> bootstrapNamespaces() {
    Future<Void> chain = Future.succeededFuture();
    for (String ns : SYSTEM_NAMESPACES) {
      JsonObject body = new JsonObject().put("metadata", new JsonObject().put("name", ns));
      ApiRequest req = new ApiRequest("create", Resources.NAMESPACES, null, null, null, body, null, Map.of());
      chain = chain.compose(v -> api.handle(req).<Void>mapEmpty().recover(e -> ApiError.is(e, ApiError.Reason.AlreadyExists)
          ? Future.succeededFuture() : Future.failedFuture(e)));
    }
    return chain;
  }

  /**
   * The default StorageClass "local-path" (as k3s ships one): directories on the node of the claim's first
   * pod, provisioned by the controller manager's volume binder. Created at start when missing.
   */
  private Future<Void> bootstrapStorageClass() {
    JsonObject body = new JsonObject().put("apiVersion", "storage.k8s.io/v1").put("kind", "StorageClass")
        .put("metadata", new JsonObject().put("name", "local-path").put("annotations", new JsonObject()
            .put("storageclass.kubernetes.io/is-default-class", "true")))
        .put("provisioner", "kvx.io/local-path") // io.kvx.controller.volume.VolumeBinder.LOCAL_PATH_PROVISIONER
        .put("reclaimPolicy", "Delete").put("volumeBindingMode", "WaitForFirstConsumer");
    ApiRequest req = new ApiRequest("create", Resources.builtIn("storage.k8s.io", "storageclasses"), null, null, null,
        body, null, Map.of());
    return api.handle(req).<Void>mapEmpty().recover(e -> ApiError.is(e, ApiError.Reason.AlreadyExists)
        ? Future.succeededFuture() : Future.failedFuture(e));
  }

  /** The two PriorityClasses every kube cluster has (kube-apiserver's scheduling post-start hook). */
  private Future<Void> bootstrapPriorityClasses() {
    Future<Void> chain = Future.succeededFuture();
    for (String[] c : new String[][] {
        {"system-node-critical", "2000001000", "Used for system critical pods that must not be moved from their current node."},
        {"system-cluster-critical", "2000000000", "Used for system critical pods that must run in the cluster, but can be "
            + "moved to another node if necessary."}}) {
      JsonObject body = new JsonObject().put("apiVersion", "scheduling.k8s.io/v1").put("kind", "PriorityClass")
          .put("metadata", new JsonObject().put("name", c[0])).put("value", Integer.parseInt(c[1]))
          .put("description", c[2]).put("preemptionPolicy", "PreemptLowerPriority");
      ApiRequest req = new ApiRequest("create", Resources.builtIn("scheduling.k8s.io", "priorityclasses"), null, null,
          null, body, null, Map.of());
      chain = chain.compose(v -> api.handle(req).<Void>mapEmpty().recover(e -> ApiError.is(e,
          ApiError.Reason.AlreadyExists) ? Future.succeededFuture() : Future.failedFuture(e)));
    }
    return chain;
  }

  /** Serves what every CustomResourceDefinition in the store defines, following adds, changes and deletes. */
  private Future<Void> watchCustomResourceDefinitions(Store store) {
    ResourceType crds = Resources.builtIn("apiextensions.k8s.io", "customresourcedefinitions");
    return store.watch(crds.storePrefix(), 0, true, o -> true, ev -> {
      if (ev.type().equals(io.kvx.store.WatchEvent.BOOKMARK)) return;
      if (ev.type().equals("ERROR")) {
        // The watch expired (the store lost a member): start over from a fresh list.
        vertx.setTimer(500, t -> watchCustomResourceDefinitions(store));
        return;
      }
      String name = io.kvx.api.Meta.name(ev.object());
      if (ev.type().equals(io.kvx.store.WatchEvent.DELETED)) {
        api.resources().setCustom(name, List.of());
        deleteCustomResources(store, ev.object());
      } else {
        api.resources().setCustom(name, io.kvx.api.CustomResources.types(ev.object()));
        JsonObject meta = ev.object().getJsonObject("metadata");
        // One loop per definition in this JVM (its bootstrapping instance), started again after a restart.
        if (meta.containsKey("deletionTimestamp") && BOOTSTRAPPER.get(vertx) == this && cleaningUp.add(name)) {
          api.cleanUpDefinition(name).onComplete(ar -> {
            cleaningUp.remove(name);
            if (ar.failed()) LOG.warning("definition " + name + ": cleaning up its objects failed: " + ar.cause());
          });
        }
      }
    }).mapEmpty();
  }

  /** Definitions being deleted whose objects this instance is deleting. */
  private final java.util.Set<String> cleaningUp = new java.util.HashSet<>();

  /**
   * A deleted CustomResourceDefinition takes its objects with it, as kube-apiserver's cleanup finalizer does: a
   * definition created again later starts empty. Every API server does this; a delete another one already made is
   * simply not found.
   */
  private void deleteCustomResources(Store store, JsonObject crd) {
    // One instance per JVM cleans up (every instance follows the definitions).
    if (BOOTSTRAPPER.get(vertx) != this) return;
    List<ResourceType> types = io.kvx.api.CustomResources.types(crd);
    if (types.isEmpty()) return;
    ResourceType type = types.getFirst();
    store.list(type.storePrefix(), o -> true, 0, null).onSuccess(r -> {
      for (JsonObject o : r.items()) {
        store.delete(type.key(io.kvx.api.Meta.namespace(o), io.kvx.api.Meta.name(o)), io.kvx.api.Meta.resourceVersion(o),
            io.kvx.api.Meta.uid(o)).onFailure(e -> LOG.fine("custom resource cleanup: " + e.getMessage()));
      }
    });
  }

  /** The default/kubernetes service on the range's first address, with this API server as its endpoint. */
  private Future<Void> bootstrapKubernetesService(int port) {
    JsonObject svc = new JsonObject().put("metadata", new JsonObject().put("name", "kubernetes")
            .put("labels", new JsonObject().put("component", "apiserver").put("provider", "kubernetes")))
        .put("spec", new JsonObject().put("clusterIP", api.allocator().firstAddress())
            .put("ports", new JsonArray().add(new JsonObject().put("name", "https").put("port", 443)
                .put("protocol", "TCP").put("targetPort", port))));
    ApiRequest create = new ApiRequest("create", Resources.builtIn("", "services"), "default", null, null, svc,
        null, Map.of());
    // Several API servers (instances in this JVM, other JVMs) start at once: the one that loses the race may be
    // told the address is taken rather than that the service exists; either way it is there now.
    ApiRequest get = new ApiRequest("get", Resources.builtIn("", "services"), "default", "kubernetes", null, null,
        null, Map.of());
    return api.handle(create).<Void>mapEmpty()
        .recover(e -> api.handle(get).<Void>mapEmpty().recover(none -> Future.failedFuture(e)))
        .compose(v -> vertx.executeBlocking(ApiServerVerticle::hostAddress))
        .compose(ip -> {
          JsonObject ep = new JsonObject().put("metadata", new JsonObject().put("name", "kubernetes"))
              .put("subsets", new JsonArray().add(new JsonObject()
                  .put("addresses", new JsonArray().add(new JsonObject().put("ip", ip)))
                  .put("ports", new JsonArray().add(new JsonObject().put("name", "https").put("port", port)
                      .put("protocol", "TCP")))));
          ApiRequest put = new ApiRequest("create", Resources.builtIn("", "endpoints"), "default", null, null, ep,
              null, Map.of());
          return api.handle(put).<Void>mapEmpty().recover(e -> Future.succeededFuture());
        });
  }

  /** The first up, non-loopback IPv4 address that is not a kvx bridge: where pods reach this JVM. */
  private static String hostAddress() throws java.net.SocketException {
    for (var nif : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
      if (!nif.isUp() || nif.isLoopback() || nif.getName().startsWith("kvx") || nif.getName().startsWith("veth")) {
        continue;
      }
      for (var addr : java.util.Collections.list(nif.getInetAddresses())) {
        if (addr instanceof java.net.Inet4Address) return addr.getHostAddress();
      }
    }
    return "127.0.0.1";
  }



  @Override
  public Future<?> stop() {
    ready = false;
    // Every instance of the deployment stops together: the first to stop ends all bus watches.
    BUS_WATCHES.remove(vertx);
    BOOTSTRAPS.remove(vertx);
    BOOTSTRAPPER.remove(vertx, this);
    busWatches.keySet().forEach(a -> {
      Watch w = busWatches.remove(a);
      if (w != null) w.close();
    });
    if (bridge != null) bridge.close();
    return server == null ? Future.succeededFuture() : server.close();
  }
}
