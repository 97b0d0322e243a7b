package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.rbac.PolicyRule;
import io.kvx.rbac.RequestAttributes;
import io.kvx.rbac.UserInfo;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * The create-only review APIs: authorization.k8s.io/v1 SelfSubjectAccessReview, SubjectAccessReview,
 * LocalSubjectAccessReview, SelfSubjectRulesReview, and authentication.k8s.io/v1 TokenReview and
 * SelfSubjectReview (`kubectl auth can-i`, `kubectl auth whoami`, webhooks and operators that check access).
 * Nothing is stored: each request is answered from the body and the caller with the API server's RBAC
 * decision; token reviews check the token as the API server's own authentication does.
 */
public final class Reviews {

  private static final Set<String> NONE = Set.of();

  /** The review kinds, for discovery (create is their only verb). */
  public static final List<ResourceType> TYPES = List.of(
      type("authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews", false,
          io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview.class),
      type("authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews", false,
          io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview.class),
      type("authorization.k8s.io", "SubjectAccessReview", "subjectaccessreviews", false,
          io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview.class),
      type("authorization.k8s.io", "LocalSubjectAccessReview", "localsubjectaccessreviews", true,
          io.fabric8.kubernetes.api.model.authorization.v1.LocalSubjectAccessReview.class),
      type("authentication.k8s.io", "TokenReview", "tokenreviews", false,
          io.fabric8.kubernetes.api.model.authentication.TokenReview.class),
      type("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews", false,
          io.fabric8.kubernetes.api.model.authentication.SelfSubjectReview.class));


  private Reviews() {
  }

  private static ResourceType type(String group, String kind, String plural, boolean namespaced, Class<?> model) {
    return new ResourceType(group, "v1", kind, plural, namespaced, List.of(), NONE, List.of(), model);
  }

  public static ResourceType find(String group, String plural) {
    return TYPES.stream().filter(t -> t.group().equals(group) && t.plural().equals(plural)).findFirst().orElse(null);
  }

  /** A TokenReview's answer: the token's user and the audiences it holds of those the review named. */
  public record TokenUser(UserInfo user, List<String> audiences) {}

  /** A user as the reviews name it: username and groups. */
  static JsonObject userInfo(UserInfo user) {
    return new JsonObject().put("username", user.name()).put("groups", new JsonArray(user.groups()));
  }

  /**
   * Answers a review: the body with status filled in (and metadata.creationTimestamp, as the API server
   * returns it). Access reviews answer with RBAC's decision (a SubjectAccessReview for exactly the user and groups
   * it names, as kube); a SelfSubjectRulesReview lists the caller's rules in the namespace. {@code tokens} checks
   * a TokenReview's token and yields its user.
   */
  public static Future<JsonObject> answer(ResourceType type, String namespace, JsonObject body, UserInfo caller,
                                          Authorizer authorizer,
                                          BiFunction<String, List<String>, Future<TokenUser>> tokens) {
    if (body == null || !body.containsKey("spec") && !type.kind().equals("SelfSubjectReview")) {
      return Future.failedFuture(invalid(type, "spec", "Required value"));
    }
    JsonObject out = body.copy().put("apiVersion", type.apiVersion()).put("kind", type.kind());
    Meta.meta(out).put("creationTimestamp", null);
    JsonObject spec = out.getJsonObject("spec", new JsonObject());
    switch (type.kind()) {
      case "SelfSubjectAccessReview", "SubjectAccessReview", "LocalSubjectAccessReview" -> {
        if (!spec.containsKey("resourceAttributes") && !spec.containsKey("nonResourceAttributes")) {
          return Future.failedFuture(invalid(type, "spec.resourceAttributes",
              "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified"));
        }
        if (!type.kind().equals("SelfSubjectAccessReview") && spec.getString("user") == null
            && spec.getJsonArray("groups") == null) {
          return Future.failedFuture(invalid(type, "spec.user", "Invalid value: \"\": at least one of user or group "
              + "must be specified"));
        }
        if (type.kind().equals("LocalSubjectAccessReview")) {
          String ns = spec.getJsonObject("resourceAttributes", new JsonObject()).getString("namespace", "");
          if (!ns.equals(namespace)) {
            return Future.failedFuture(invalid(type, "spec.resourceAttributes.namespace", "Invalid value: \"" + ns
                + "\": must match metadata.namespace"));
          }
        }
        UserInfo who = caller;
        if (!type.kind().equals("SelfSubjectAccessReview")) {
          List<String> groups = spec.getJsonArray("groups", new JsonArray()).stream().map(String::valueOf).toList();
          who = new UserInfo(spec.getString("user", ""), groups);
        }
        RequestAttributes req;
        JsonObject ra = spec.getJsonObject("resourceAttributes");
        if (ra != null) {
          req = RequestAttributes.resource(who, ra.getString("verb", ""), ra.getString("group", ""),
              ra.getString("resource", ""), ra.getString("subresource", ""), ra.getString("namespace", ""),
              ra.getString("name", ""));
        } else {
          JsonObject nra = spec.getJsonObject("nonResourceAttributes");
          req = RequestAttributes.nonResource(who, nra.getString("verb", ""), nra.getString("path", ""));
        }
        Authorizer.Decision d = authorizer.authorize(req);
        JsonObject status = new JsonObject().put("allowed", d.allowed());
        if (d.reason() != null && !d.reason().isEmpty()) status.put("reason", d.reason());
        return Future.succeededFuture(out.put("status", status));
      }
      case "SelfSubjectRulesReview" -> {
        String ns = spec.getString("namespace", "");
        JsonArray resourceRules = new JsonArray();
        JsonArray nonResourceRules = new JsonArray();
        for (PolicyRule r : authorizer.rules(caller, ns)) {
          JsonObject o = r.toJson();
          if (r.nonResourceURLs().isEmpty()) {
            resourceRules.add(o.put("apiGroups", new JsonArray(r.apiGroups()))
                .put("resources", new JsonArray(r.resources())));
          } else {
            nonResourceRules.add(new JsonObject().put("verbs", new JsonArray(r.verbs()))
                .put("nonResourceURLs", new JsonArray(r.nonResourceURLs())));
          }
        }
        JsonObject status = new JsonObject().put("resourceRules", resourceRules)
            .put("nonResourceRules", nonResourceRules);
        String error = authorizer.rulesError(caller, ns);
        // kube: incomplete when a bound role could not be found, with the reason.
        status.put("incomplete", !error.isEmpty());
        if (!error.isEmpty()) status.put("evaluationError", error);
        return Future.succeededFuture(out.put("status", status));
      }
      case "SelfSubjectReview" -> {
        return Future.succeededFuture(out.put("status", new JsonObject().put("userInfo", userInfo(caller))));
      }
      case "TokenReview" -> {
        String token = spec.getString("token");
        if (token == null || token.isEmpty()) return Future.failedFuture(invalid(type, "spec.token", "Required value"));
        // No audiences named: the API server's own, as kube's TokenReview; the status says which of them the token has.
        JsonArray asked = spec.getJsonArray("audiences", new JsonArray());
        List<String> audiences = asked.isEmpty() ? ServiceAccountTokens.API_AUDIENCES
            : asked.stream().map(String::valueOf).toList();
        return tokens.apply(token, audiences).transform(ar -> Future.succeededFuture(out.put("status", ar.succeeded()
            ? new JsonObject().put("authenticated", true).put("user", userInfo(ar.result().user()))
                .put("audiences", new JsonArray(ar.result().audiences()))
            : new JsonObject().put("authenticated", false).put("error", ar.cause() instanceof ApiError e
                && e.getMessage().startsWith("token audiences") ? "[invalid bearer token, " + e.getMessage() + "]"
                : "invalid bearer token"))));
      }
      default -> {
        return Future.failedFuture(new ApiError(ApiError.Reason.NotFound,
            "the server could not find the requested resource"));
      }
    }
  }

  private static ApiError invalid(ResourceType type, String field, String detail) {
    String reason = detail.startsWith("Required") ? "FieldValueRequired" : "FieldValueInvalid";
    return ApiError.invalid(type.group(), type.kind(), "", List.of(new ApiError.Cause(field, reason, detail)));
  }
}
