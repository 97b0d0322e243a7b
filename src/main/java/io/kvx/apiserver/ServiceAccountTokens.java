package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.time.Instant;
import java.util.List;

/**
 * ServiceAccount tokens: JWTs (ES256, with vertx-auth-jwt) that the serviceaccounts/token
 * subresource issues and that the API server accepts as bearer tokens, with Kubernetes' claims
 * (iss, sub system:serviceaccount:NS:NAME, aud, exp, and the kubernetes.io private claim). A token may be bound
 * to a Pod, Secret or Node (spec.boundObjectRef): it names the object, and, as kube-apiserver's, stops
 * authenticating when that object or its ServiceAccount is gone or was recreated (another uid).
 */
public final class ServiceAccountTokens {

  public static final String ISSUER = "https://kubernetes.default.svc.cluster.local";
  private static final long DEFAULT_SECONDS = 3600;
  private static final long MIN_SECONDS = 600;

  private final JWTAuth jwt;
  /** Reads an object by its store key (failing NotFound when it is not there). */
  private final java.util.function.Function<String, Future<JsonObject>> lookup;

  public ServiceAccountTokens(Vertx vertx, String publicKeyPem, String privateKeyPem,
                              java.util.function.Function<String, Future<JsonObject>> lookup) {
    this.lookup = lookup;
    jwt = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("ES256").setBuffer(publicKeyPem))
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("ES256").setBuffer(privateKeyPem))
        .setJWTOptions(new JWTOptions().setIssuer(ISSUER)));
  }

  /**
   * The TokenRequest reply for a ServiceAccount: the request's spec with status.token filled in; {@code bound} holds
   * the pod, secret and node claims ({name, uid}) of a bound token, empty for an unbound one.
   */
  public JsonObject issue(JsonObject serviceAccount, JsonObject request, JsonObject bound) {
    JsonObject spec = request == null ? new JsonObject() : request.getJsonObject("spec", new JsonObject());
    long seconds = spec.getLong("expirationSeconds", DEFAULT_SECONDS);
    if (seconds < MIN_SECONDS) {
      throw ApiError.invalid("authentication.k8s.io", "TokenRequest", Meta.name(serviceAccount), List.of(
          new ApiError.Cause("spec.expirationSeconds", "FieldValueInvalid", "Invalid value: " + seconds
              + ": may not specify a duration less than 10 minutes")));
    }
    JsonArray audiences = spec.getJsonArray("audiences", new JsonArray());
    if (audiences.isEmpty()) audiences = new JsonArray().add(ISSUER);
    String ns = Meta.namespace(serviceAccount);
    String name = Meta.name(serviceAccount);
    JsonObject claims = new JsonObject()
        .put("sub", "system:serviceaccount:" + ns + ":" + name)
        .put("kubernetes.io", new JsonObject().put("namespace", ns)
            .put("serviceaccount", new JsonObject().put("name", name).put("uid", Meta.uid(serviceAccount))));
    claims.getJsonObject("kubernetes.io").mergeIn(bound);
    // As kube's tokens: the audiences always an array (the JWT library writes one audience as a string), a not-before
    // time and an id of their own.
    claims.put("aud", audiences.copy()).put("nbf", Instant.now().getEpochSecond())
        .put("jti", java.util.UUID.randomUUID().toString());
    String token = jwt.generateToken(claims, new JWTOptions().setAlgorithm("ES256").setIssuer(ISSUER)
        .setExpiresInSeconds((int) seconds));
    Instant expires = Instant.now().plusSeconds(seconds);
    return new JsonObject().put("kind", "TokenRequest").put("apiVersion", "authentication.k8s.io/v1")
        .put("metadata", new JsonObject().put("name", name).put("namespace", ns)
            .put("creationTimestamp", Meta.now()))
        .put("spec", new JsonObject().put("audiences", audiences).put("expirationSeconds", seconds)
            .put("boundObjectRef", spec.getJsonObject("boundObjectRef")))
        .put("status", new JsonObject().put("token", token).put("expirationTimestamp",
            expires.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString()));
  }

  /**
   * The audiences the API server itself accepts, as kube-apiserver's --api-audiences default: its service account
   * issuer. A token requested for another audience (a vault, a cloud's identity federation) is not a credential
   * for the API.
   */
  public static final List<String> API_AUDIENCES = List.of(ISSUER);

  /** A token's user and the audiences, of those asked for, that it was issued for. */
  public record Authenticated(String user, List<String> audiences) {}

  /**
   * The user name a valid token for the API stands for; fails for anything else (bad signature, expired, not ours,
   * issued for other audiences).
   */
  public Future<String> authenticate(String token) {
    return authenticate(token, API_AUDIENCES).map(Authenticated::user);
  }

  /** As {@link #authenticate(String)}, for the audiences a TokenReview names; fails when the token has none of them. */
  public Future<Authenticated> authenticate(String token, List<String> audiences) {
    if (token == null || token.chars().filter(c -> c == '.').count() != 2) {
      return Future.failedFuture(new ApiError(ApiError.Reason.Unauthorized, "Unauthorized"));
    }
    return jwt.authenticate(new TokenCredentials(token)).compose(user -> {
      JsonObject claims = user.principal();
      String sub = claims.getString("sub");
      JsonObject k8s = claims.getJsonObject("kubernetes.io");
      if (sub == null || !sub.startsWith("system:serviceaccount:") || k8s == null) {
        return Future.failedFuture(new ApiError(ApiError.Reason.Unauthorized, "Unauthorized"));
      }
      Object aud = claims.getValue("aud");
      List<String> issuedFor = aud instanceof JsonArray a ? a.stream().map(String::valueOf).toList()
          : aud == null ? List.of() : List.of(String.valueOf(aud));
      List<String> matching = audiences.stream().filter(issuedFor::contains).toList();
      if (matching.isEmpty()) {
        return Future.failedFuture(new ApiError(ApiError.Reason.Unauthorized, "token audiences "
            + quoted(issuedFor) + " is invalid for the target audiences " + quoted(audiences)));
      }
      String ns = k8s.getString("namespace", "");
      List<Future<?>> checks = new java.util.ArrayList<>();
      checks.add(stillThere(io.kvx.api.Resources.builtIn("", "serviceaccounts").key(ns, ""),
          k8s.getJsonObject("serviceaccount")));
      if (k8s.containsKey("pod")) checks.add(stillThere(io.kvx.api.Resources.PODS.key(ns, ""), k8s.getJsonObject("pod")));
      if (k8s.containsKey("secret")) {
        checks.add(stillThere(io.kvx.api.Resources.builtIn("", "secrets").key(ns, ""), k8s.getJsonObject("secret")));
      }
      // a node claim beside a pod claim only says where the pod ran; a token bound to a node holds while it exists
      if (k8s.containsKey("node") && !k8s.containsKey("pod")) {
        checks.add(stillThere(io.kvx.api.Resources.NODES.key(null, ""), k8s.getJsonObject("node")));
      }
      return Future.all(checks).map(v -> new Authenticated(sub, matching))
          .recover(e -> Future.failedFuture(new ApiError(ApiError.Reason.Unauthorized, "Unauthorized")));
    });
  }

  /** Go's %q of a string slice: ["a" "b"]. */
  private static String quoted(List<String> values) {
    return values.stream().map(v -> "\"" + v + "\"").collect(java.util.stream.Collectors.joining(" ", "[", "]"));
  }

  /** Succeeds when the object the claim names ({name, uid}) exists with that uid; {@code prefix} is its kind's key. */
  private Future<Void> stillThere(String prefix, JsonObject claim) {
    if (claim == null) return Future.failedFuture("no claim");
    return lookup.apply(prefix + claim.getString("name", "")).compose(o -> Meta.uid(o).equals(claim.getString("uid"))
        ? Future.<Void>succeededFuture() : Future.failedFuture("recreated"));
  }
}
