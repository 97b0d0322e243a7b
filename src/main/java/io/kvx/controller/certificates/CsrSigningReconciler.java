package io.kvx.controller.certificates;

import io.kvx.api.ApiError;
import io.kvx.api.Certificates;
import io.kvx.api.Meta;
import io.kvx.boot.Pki;
import io.kvx.client.ApiClient;
import io.kvx.controller.Cache;
import io.kvx.controller.Reconciler;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * kube-controller-manager's csrsigning and csrcleaner controllers: an approved request for one of the
 * kubernetes.io signers that kube signs (kube-apiserver-client, kube-apiserver-client-kubelet,
 * kubelet-serving) is signed with the cluster CA, or marked Failed when it breaks that signer's rules;
 * requests are deleted an hour after they were approved, denied or failed, and a day after creation
 * when nobody decided.
 */
public final class CsrSigningReconciler implements Reconciler {

  private static final Logger LOG = Logger.getLogger(CsrSigningReconciler.class.getName());
  static final long DECIDED_TTL_MS = 3_600_000L;
  static final long PENDING_TTL_MS = 24 * 3_600_000L;
  /** kube-controller-manager's --cluster-signing-duration default. */
  static final Duration MAX_DURATION = Duration.ofDays(365);

  /** What to do with a request now. */
  sealed interface Action permits Sign, Fail, Delete, Wait {}

  record Sign(Duration validity) implements Action {}

  record Fail(String message) implements Action {}

  record Delete() implements Action {}

  record Wait(long ms) implements Action {}

  private final Cache csrs;
  private final ApiClient client;
  private final Pki.Pem ca;
  private final LongSupplier clock;

  /** {@code ca} null: this JVM has no CA key; requests are only cleaned up. */
  public CsrSigningReconciler(Cache csrs, ApiClient client, Pki.Pem ca, LongSupplier clock, Consumer<String> enqueue) {
    this.csrs = csrs;
    this.client = client;
    this.ca = ca;
    this.clock = clock;
    csrs.listen(c -> {
      if (c.current() != null) enqueue.accept(Cache.key(c.current()));
    });
  }

  @Override
  public String name() {
    return "csrsigning";
  }

  @Override
  public Future<Result> reconcile(String key) {
    JsonObject csr = csrs.get(key);
    if (csr == null) return Future.succeededFuture(Result.DONE);
    Action action = decide(csr, ca != null, clock.getAsLong());
    return switch (action) {
      case Wait w -> Future.succeededFuture(w.ms() > 0 ? Result.after(w.ms()) : Result.DONE);
      case Delete d -> client.delete(csrs.type(), null, Meta.name(csr), new JsonObject().put("preconditions",
              new JsonObject().put("uid", Meta.uid(csr))))
          .map(x -> Result.DONE)
          .recover(e -> ApiError.is(e, ApiError.Reason.NotFound) ? Future.succeededFuture(Result.DONE) : Future.failedFuture(e));
      case Fail f -> writeStatus(csr, status -> conditions(status).add(condition("Failed", "SignerValidationFailure",
          f.message())));
      // Signing is public-key crypto (about a millisecond of CPU): a worker thread's job, not the event loop's.
      case Sign s -> client.vertx().executeBlocking(() -> {
        PKCS10CertificationRequest req = Certificates.request(csr.getJsonObject("spec").getString("request"));
        return Pki.signRequest(ca, req, usages(csr), s.validity());
      }, false).transform(ar -> {
        if (ar.failed()) {
          String message = ar.cause().getMessage();
          LOG.warning("csrsigning: " + Meta.name(csr) + ": " + message);
          return writeStatus(csr, status -> conditions(status).add(condition("Failed", "SigningError", message)));
        }
        String encoded = Base64.getEncoder().encodeToString(ar.result().getBytes(StandardCharsets.UTF_8));
        return writeStatus(csr, status -> status.put("certificate", encoded));
      });
    };
  }

  private Future<Result> writeStatus(JsonObject csr, Consumer<JsonObject> change) {
    JsonObject next = csr.copy();
    JsonObject status = next.getJsonObject("status", new JsonObject());
    change.accept(status);
    next.put("status", status);
    return client.updateStatus(csrs.type(), null, Meta.name(csr), next).map(x -> Result.DONE);
  }

  private static JsonArray conditions(JsonObject status) {
    JsonArray c = status.getJsonArray("conditions");
    if (c == null) status.put("conditions", c = new JsonArray());
    return c;
  }

  private static JsonObject condition(String type, String reason, String message) {
    String now = Meta.now();
    return new JsonObject().put("type", type).put("status", "True").put("reason", reason).put("message", message)
        .put("lastUpdateTime", now).put("lastTransitionTime", now);
  }

  private static List<String> usages(JsonObject csr) {
    List<String> out = new ArrayList<>();
    csr.getJsonObject("spec").getJsonArray("usages", new JsonArray()).forEach(u -> out.add(String.valueOf(u)));
    return out;
  }

  /** The decision for a request at {@code now} (pure). */
  static Action decide(JsonObject csr, boolean canSign, long now) {
    long created = millis(Meta.meta(csr).getString("creationTimestamp"), now);
    JsonObject decided = Certificates.condition(csr, "Denied");
    if (decided == null) decided = Certificates.condition(csr, "Failed");
    JsonObject approved = Certificates.condition(csr, "Approved");
    if (decided == null && approved != null) {
      String cert = csr.getJsonObject("status", new JsonObject()).getString("certificate");
      if ((cert == null || cert.isEmpty()) && canSign && SIGNERS.contains(signer(csr))) {
        String broken = signerRules(csr);
        if (broken != null) return new Fail(broken);
        Object seconds = csr.getJsonObject("spec").getValue("expirationSeconds");
        Duration validity = seconds instanceof Number n && Duration.ofSeconds(n.longValue()).compareTo(MAX_DURATION) < 0
            ? Duration.ofSeconds(n.longValue()) : MAX_DURATION;
        return new Sign(validity);
      }
      decided = approved;
    }
    long deadline = decided != null
        ? millis(decided.getString("lastUpdateTime", decided.getString("lastTransitionTime")), created) + DECIDED_TTL_MS
        : created + PENDING_TTL_MS;
    return deadline <= now ? new Delete() : new Wait(deadline - now);
  }

  private static final Set<String> SIGNERS = Set.of(Certificates.CLIENT, Certificates.KUBELET_CLIENT,
      Certificates.KUBELET_SERVING);

  private static String signer(JsonObject csr) {
    return csr.getJsonObject("spec", new JsonObject()).getString("signerName", "");
  }

  /** The signer's own rules, as kube's signers check them: null when the request keeps them. */
  static String signerRules(JsonObject csr) {
    PKCS10CertificationRequest req;
    try {
      req = Certificates.request(csr.getJsonObject("spec").getString("request"));
    } catch (IllegalArgumentException e) {
      return "unable to parse csr: " + e.getMessage();
    }
    List<String> usages = usages(csr);
    String signer = signer(csr);
    Set<String> allowed = signer.equals(Certificates.KUBELET_SERVING)
        ? Set.of("digital signature", "key encipherment", "server auth")
        : Set.of("digital signature", "key encipherment", "client auth");
    String required = signer.equals(Certificates.KUBELET_SERVING) ? "server auth" : "client auth";
    for (String u : usages) {
      if (!allowed.contains(u)) return "invalid usage for " + signer + ": " + u;
    }
    if (!usages.contains(required)) return "missing required usage for " + signer + ": " + required;
    if (!signer.equals(Certificates.CLIENT)) {
      // the kubelet signers: a node's identity
      String cn = Certificates.commonName(req.getSubject());
      if (!cn.startsWith("system:node:") || cn.length() == "system:node:".length()) {
        return "subject common name does not begin with system:node:";
      }
      if (!List.of("system:nodes").equals(Certificates.organizations(req.getSubject()))) return "subject organization is not system:nodes";
    }
    return null;
  }

  private static long millis(String time, long fallback) {
    if (time == null) return fallback;
    try {
      return Instant.parse(time).toEpochMilli();
    } catch (RuntimeException e) {
      return fallback;
    }
  }
}
