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
 * (iss, sub system:serviceaccount:NS:NAME, aud, exp, and the kubernetes.io private claim).
 */
public final class ServiceAccountTokens {

  public static final String ISSUER = "https://kubernetes.default.svc.cluster.local";
  private static final long DEFAULT_SECONDS = 3600;
  private static final long MIN_SECONDS = 600;

  private final JWTAuth jwt;

  public ServiceAccountTokens(Vertx vertx, String publicKeyPem, String privateKeyPem) {
    jwt = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("ES256").setBuffer(publicKeyPem))
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("ES256").setBuffer(privateKeyPem))
        .setJWTOptions(new JWTOptions().setIssuer(ISSUER)));
  }

  /** The TokenRequest reply for a ServiceAccount: the request's spec with status.token filled in. */
  public JsonObject issue(JsonObject serviceAccount, JsonObject request) {
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
    List<String> aud = audiences.stream().map(String::valueOf).toList();
    String token = jwt.generateToken(claims, new JWTOptions().setAlgorithm("ES256").setIssuer(ISSUER)
        .setAudience(aud).setExpiresInSeconds((int) seconds));
    Instant expires = Instant.now().plusSeconds(seconds);
    return new JsonObject().put("kind", "TokenRequest").put("apiVersion", "authentication.k8s.io/v1")
        .put("metadata", new JsonObject().put("name", name).put("namespace", ns)
            .put("creationTimestamp", Meta.now()))
        .put("spec", new JsonObject().put("audiences", audiences).put("expirationSeconds", seconds))
        .put("status", new JsonObject().put("token", token).put("expirationTimestamp",
            expires.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString()));
  }

  /** The user name a valid token stands for; fails for anything else (bad signature, expired, not ours). */
  public Future<String> authenticate(String token) {
    if (token == null || token.chars().filter(c -> c == '.').count() != 2) {
      return Future.failedFuture(new ApiError(ApiError.Reason.Unauthorized, "Unauthorized"));
    }
    return jwt.authenticate(new TokenCredentials(token)).map(user -> {
      String sub = user.principal().getString("sub");
      if (sub == null || !sub.startsWith("system:serviceaccount:")) {
        throw new ApiError(ApiError.Reason.Unauthorized, "Unauthorized");
      }
      return sub;
    });
  }
}
