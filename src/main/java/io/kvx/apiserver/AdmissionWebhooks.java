package io.kvx.apiserver;

import io.kvx.api.AdmissionRules;
import io.kvx.api.AdmissionRules.Attributes;
import io.kvx.api.ApiError;
import io.kvx.api.CelRules;
import io.kvx.api.Meta;
import io.kvx.api.Patches;
import io.kvx.api.Resources;
import io.kvx.api.ResourceType;
import io.kvx.store.Store;
import io.kvx.store.WatchEvent;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;

import java.net.URI;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Logger;

/**
 * kube-apiserver's MutatingAdmissionWebhook and ValidatingAdmissionWebhook, one per JVM. The webhook configurations
 * come from the JVM's watch cache (two watches); a request they match is sent to each webhook as an AdmissionReview
 * over HTTPS: the mutating ones one after another, in the order of their configurations' names, each seeing the
 * patches of those before (and called once more, with reinvocationPolicy IfNeeded, when a later one changed the object),
 * then the validating ones all at once. A webhook is reached at its URL, or through its Service at one ready endpoint
 * (kube-apiserver's endpoint routing), its certificate checked against the caBundle for the Service's DNS name.
 * Without any configuration nothing is looked at per request.
 */
public final class AdmissionWebhooks {

  private static final Logger LOG = Logger.getLogger(AdmissionWebhooks.class.getName());
  private static final Map<Vertx, Future<AdmissionWebhooks>> PER_JVM = new ConcurrentHashMap<>();
  static final ResourceType MUTATING = Resources.builtIn(AdmissionRules.OWN_GROUP, "mutatingwebhookconfigurations");
  static final ResourceType VALIDATING = Resources.builtIn(AdmissionRules.OWN_GROUP, "validatingwebhookconfigurations");
  private static final ResourceType SERVICES = Resources.builtIn("", "services");
  private static final ResourceType ENDPOINTS = Resources.builtIn("", "endpoints");

  private final Vertx vertx;
  private final Store store;
  private final HttpClient client;
  private final NavigableMap<String, JsonObject> mutating = new ConcurrentSkipListMap<>();
  private final NavigableMap<String, JsonObject> validating = new ConcurrentSkipListMap<>();

  private AdmissionWebhooks(Vertx vertx, Store store) {
    this.vertx = vertx;
    this.store = store;
    this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(10_000).setKeepAlive(true));
  }

  /** The JVM's webhooks, following the store from the first call on. */
  public static Future<AdmissionWebhooks> of(Vertx vertx, Store store) {
    Future<AdmissionWebhooks> f = PER_JVM.computeIfAbsent(vertx, v -> {
      AdmissionWebhooks w = new AdmissionWebhooks(vertx, store);
      return Future.all(follow(store, MUTATING, w.mutating), follow(store, VALIDATING, w.validating)).map(w);
    });
    f.onFailure(e -> PER_JVM.remove(vertx, f));
    return f;
  }

  /** Keeps {@code into} (by name) as the store has the objects of a cluster-scoped type. */
  static Future<?> follow(Store store, ResourceType type, Map<String, JsonObject> into) {
    return store.watch(type.storePrefix(), 0, true, o -> true, ev -> {
      if (ev.type().equals(WatchEvent.BOOKMARK) || ev.object() == null) return;
      if (ev.type().equals(WatchEvent.DELETED)) into.remove(Meta.name(ev.object()));
      else into.put(Meta.name(ev.object()), ev.object());
    });
  }

  /** Whether no webhook is configured. */
  public boolean isEmpty() {
    return mutating.isEmpty() && validating.isEmpty();
  }

  /** One webhook of a configuration. */
  private record Hook(String name, JsonObject spec) {
    boolean failClosed() {
      return !"Ignore".equals(spec.getString("failurePolicy", "Fail"));
    }
  }

  private static List<Hook> hooks(NavigableMap<String, JsonObject> configs) {
    List<Hook> out = new ArrayList<>();
    for (JsonObject config : configs.values()) {
      for (Object o : config.getJsonArray("webhooks", new JsonArray())) {
        if (o instanceof JsonObject w) out.add(new Hook(w.getString("name", ""), w));
      }
    }
    return out;
  }

  /**
   * The mutating webhooks that match, in order; yields the object as they left it ({@code a.object()} itself when
   * none changed it). A denial, or a failed call of a webhook whose failurePolicy is Fail, fails the request.
   */
  public Future<JsonObject> mutate(Attributes a, List<String> warnings) {
    if (mutating.isEmpty() || !AdmissionRules.admitted(a.type())) return Future.succeededFuture(a.object());
    List<Hook> hooks = hooks(mutating);
    // The object each webhook left (null: not called), for reinvocation.
    List<JsonObject> after = new ArrayList<>();
    Future<Attributes> chain = Future.succeededFuture(a);
    for (Hook h : hooks) {
      chain = chain.compose(cur -> mutateOnce(h, cur, warnings).map(next -> {
        after.add(next == null ? null : next.object());
        return next == null ? cur : next;
      }));
    }
    return chain.compose(done -> {
      // Reinvocation: a webhook called once that asks for it sees the object again once a later one changed it.
      Future<Attributes> again = Future.succeededFuture(done);
      for (int i = 0; i < hooks.size(); i++) {
        Hook h = hooks.get(i);
        JsonObject seen = after.get(i);
        if (!"IfNeeded".equals(h.spec().getString("reinvocationPolicy", "Never")) || seen == null
            || seen.equals(done.object())) continue;
        again = again.compose(cur -> mutateOnce(h, cur, warnings).map(next -> next == null ? cur : next));
      }
      return again.map(Attributes::object);
    });
  }

  /** One mutating webhook: the request with the object it patched, or null when it does not match (not called). */
  private Future<Attributes> mutateOnce(Hook h, Attributes cur, List<String> warnings) {
    return matches(h, cur).compose(match -> {
      if (!match) return Future.succeededFuture();
      return call(h, cur, warnings).map(answer -> {
        if (answer == null || answer.patch() == null || cur.object() == null) return cur;
        try {
          return cur.withObject(Patches.jsonPatch(cur.object().copy(), answer.patch()));
        } catch (RuntimeException e) {
          throw AdmissionRules.callFailed(h.name(), "JSON Patch: " + e.getMessage());
        }
      });
    });
  }

  /** The validating webhooks that match, called at once; the first denial (in order) fails the request. */
  public Future<Void> validate(Attributes a, List<String> warnings) {
    if (validating.isEmpty() || !AdmissionRules.admitted(a.type())) return Future.succeededFuture();
    List<Future<AdmissionRules.Answer>> calls = new ArrayList<>();
    for (Hook h : hooks(validating)) {
      calls.add(matches(h, a).compose(match -> match ? call(h, a, warnings) : Future.succeededFuture()));
    }
    return Future.join(calls).transform(ar -> {
      for (Future<AdmissionRules.Answer> c : calls) {
        if (c.failed()) return Future.failedFuture(c.cause());
      }
      return Future.succeededFuture();
    });
  }

  /** Rules, then objectSelector, then namespaceSelector (reading the namespace), then matchConditions. */
  private Future<Boolean> matches(Hook h, Attributes a) {
    JsonObject w = h.spec();
    if (!AdmissionRules.rulesMatch(w.getJsonArray("rules"), a)) return Future.succeededFuture(false);
    if (!AdmissionRules.objectSelected(w.getJsonObject("objectSelector"), a)) return Future.succeededFuture(false);
    JsonObject nsSelector = w.getJsonObject("namespaceSelector");
    Future<Boolean> inNamespace = !AdmissionRules.needsNamespace(nsSelector, a) ? Future.succeededFuture(true)
        : AdmissionRules.isNamespace(a.type())
            ? Future.succeededFuture(AdmissionRules.namespaceSelected(nsSelector, a, AdmissionRules.namespaceOwnLabels(a)))
            : store.getCached(Resources.NAMESPACES.key(null, a.namespace())).map(Meta::labels)
                .recover(e -> ApiError.is(e, ApiError.Reason.NotFound) ? Future.succeededFuture(Map.of())
                    : Future.failedFuture(e))
                .map(labels -> AdmissionRules.namespaceSelected(nsSelector, a, labels));
    return inNamespace.map(in -> in && conditionsHold(h, a));
  }

  /** matchConditions, all true; an error fails closed or skips the webhook, as its failurePolicy says. */
  private static boolean conditionsHold(Hook h, Attributes a) {
    JsonArray conditions = h.spec().getJsonArray("matchConditions");
    if (conditions == null || conditions.isEmpty()) return true;
    Map<String, Object> vars = new java.util.HashMap<>();
    vars.put("object", a.object());
    vars.put("oldObject", a.oldObject());
    vars.put("request", AdmissionRules.review("v1", "", a).getJsonObject("request"));
    for (Object o : conditions) {
      JsonObject c = (JsonObject) o;
      try {
        if (!Boolean.TRUE.equals(CelRules.evalAdmission(c.getString("expression", ""),
            dev.cel.common.types.SimpleType.BOOL, vars))) return false;
      } catch (IllegalArgumentException e) {
        if (!h.failClosed()) return false;
        throw AdmissionRules.callFailed(h.name(), "failed to evaluate match condition \"" + c.getString("name", "")
            + "\": " + e.getMessage());
      }
    }
    return true;
  }

  /**
   * Sends the AdmissionReview and reads the answer: a denial fails with the webhook's Status; a failed call fails
   * with kube's 500 when failurePolicy is Fail and yields null (no opinion) when it is Ignore.
   */
  private Future<AdmissionRules.Answer> call(Hook h, Attributes a, List<String> warnings) {
    JsonObject w = h.spec();
    if (a.dryRun() && !AdmissionRules.dryRunSafe(w)) {
      return Future.failedFuture(ApiError.badRequest("admission webhook \"" + h.name() + "\" does not support dry run"));
    }
    String version = AdmissionRules.reviewVersion(w.getJsonArray("admissionReviewVersions"));
    String uid = UUID.randomUUID().toString();
    Future<AdmissionRules.Answer> answered = version == null
        ? Future.failedFuture(new IllegalArgumentException("webhook does not accept v1 or v1beta1 AdmissionReview"))
        : post(w, AdmissionRules.review(version, uid, a)).map(body -> AdmissionRules.answer(version, uid, body));
    return answered.transform(ar -> {
      if (ar.failed()) {
        if (ar.cause() instanceof ApiError e) return Future.failedFuture(e);
        if (!h.failClosed()) {
          LOG.fine(() -> "webhook " + h.name() + " failed (failurePolicy Ignore): " + ar.cause().getMessage());
          return Future.succeededFuture();
        }
        return Future.failedFuture(AdmissionRules.callFailed(h.name(), ar.cause().getMessage()));
      }
      AdmissionRules.Answer answer = ar.result();
      synchronized (warnings) {
        warnings.addAll(answer.warnings());
      }
      if (!answer.allowed()) return Future.failedFuture(AdmissionRules.denied(h.name(), answer.status()));
      return Future.succeededFuture(answer);
    });
  }

  /** Where a webhook is reached, and the name its certificate must carry. */
  private record Endpoint(String host, String ip, int port, String path) {}

  private Future<JsonObject> post(JsonObject webhook, JsonObject review) {
    JsonObject cc = webhook.getJsonObject("clientConfig", new JsonObject());
    int timeout = AdmissionRules.timeoutSeconds(webhook);
    return endpoint(cc).compose(ep -> {
      String uri = ep.path() + (ep.path().contains("?") ? "&" : "?") + "timeout=" + timeout + "s";
      String shown = "https://" + ep.host() + ":" + ep.port() + uri;
      ClientSSLOptions ssl = new ClientSSLOptions().setHostnameVerificationAlgorithm("HTTPS");
      String ca = cc.getString("caBundle");
      if (ca != null && !ca.isEmpty()) {
        ssl.setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(Base64.getMimeDecoder().decode(ca))));
      }
      RequestOptions ro = new RequestOptions().setMethod(HttpMethod.POST).setHost(ep.host()).setPort(ep.port())
          .setServer(SocketAddress.inetSocketAddress(ep.port(), ep.ip())).setURI(uri).setSsl(true).setSslOptions(ssl)
          .putHeader("content-type", "application/json").putHeader("accept", "application/json");
      Promise<JsonObject> done = Promise.promise();
      long timer = vertx.setTimer(timeout * 1000L, t -> done.tryFail(new IllegalStateException("failed to call webhook: "
          + "Post \"" + shown + "\": context deadline exceeded")));
      client.request(ro).compose(req -> req.send(review.toBuffer())).compose(resp -> resp.body().map(b -> {
        if (resp.statusCode() != 200) {
          String text = b.toString().trim();
          throw new IllegalStateException("failed to call webhook: an error on the server (\""
              + (text.length() > 256 ? text.substring(0, 256) : text) + "\") has prevented the request from succeeding");
        }
        try {
          return b.toJsonObject();
        } catch (RuntimeException e) {
          throw new IllegalStateException("received invalid webhook response: the body is not a JSON object");
        }
      })).onComplete(ar -> {
        vertx.cancelTimer(timer);
        if (ar.succeeded()) done.tryComplete(ar.result());
        else done.tryFail(ar.cause() instanceof IllegalStateException ? ar.cause()
            : new IllegalStateException("failed to call webhook: Post \"" + shown + "\": " + why(ep, ar.cause())));
      });
      return done.future();
    });
  }

  /** A failed call in the words Go's HTTP client uses for the usual causes. */
  private static String why(Endpoint ep, Throwable e) {
    String m = String.valueOf(e.getMessage());
    if (e instanceof java.net.ConnectException || m.contains("Connection refused") || m.contains("error(-111)")) {
      return "dial tcp " + ep.ip() + ":" + ep.port() + ": connect: connection refused";
    }
    if (e instanceof javax.net.ssl.SSLException || m.contains("SSL") || m.contains("certificate")) {
      return "tls: failed to verify certificate: x509: certificate signed by unknown authority (" + m + ")";
    }
    return m;
  }

  /** The URL's host, or the Service's DNS name with one ready endpoint's address (503-style failure when none). */
  private Future<Endpoint> endpoint(JsonObject cc) {
    String url = cc.getString("url");
    if (url != null) {
      URI u = URI.create(url);
      int port = u.getPort() > 0 ? u.getPort() : 443;
      String path = (u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath())
          + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
      return Future.succeededFuture(new Endpoint(u.getHost(), u.getHost(), port, path));
    }
    JsonObject svc = cc.getJsonObject("service", new JsonObject());
    String ns = svc.getString("namespace", "");
    String name = svc.getString("name", "");
    int port = svc.getInteger("port", 443);
    String path = svc.getString("path", "/");
    String host = name + "." + ns + ".svc";
    return store.getCached(SERVICES.key(ns, name))
        .compose(s -> store.getCached(ENDPOINTS.key(ns, name)).recover(e -> Future.succeededFuture(new JsonObject()))
            .map(eps -> ProxyRoutes.serviceTarget(s, eps, "https", String.valueOf(port),
                n -> ThreadLocalRandom.current().nextInt(n))))
        .map(t -> new Endpoint(host, t.host(), t.port(), path.isEmpty() ? "/" : path))
        .recover(e -> Future.failedFuture(new IllegalStateException("failed to call webhook: service " + ns + "/" + name
            + ": " + e.getMessage())));
  }
}
