package io.kvx.apiserver;

/**
 * The authorization step every API request takes after authentication, as kube-apiserver's authorizer
 * chain: who asks to do what to which path, allowed or not. kvx has no RBAC yet, so the API server runs
 * {@link #ALWAYS_ALLOW} (kube-apiserver's AlwaysAllow mode); an RBAC authorizer plugs in here, and the
 * access reviews (SelfSubjectAccessReview, ...) answer with the same decision.
 */
@FunctionalInterface
public interface Authorizer {

  /** The request: the authenticated user, the Kubernetes verb (get, list, watch, create, ...) and the path. */
  record Attributes(String user, String verb, String path) {}

  record Decision(boolean allowed, String reason) {}

  Decision authorize(Attributes request);

  Authorizer ALWAYS_ALLOW = request -> new Decision(true,
      "kvx has no RBAC yet: every authenticated user is allowed everything");

  /** The Kubernetes verb of an HTTP request, as kube-apiserver's request info names it. */
  static String verb(String method, boolean named, boolean watch) {
    return switch (method) {
      case "GET", "HEAD" -> watch ? "watch" : named ? "get" : "list";
      case "POST" -> "create";
      case "PUT" -> "update";
      case "PATCH" -> "patch";
      case "DELETE" -> named ? "delete" : "deletecollection";
      default -> method.toLowerCase(java.util.Locale.ROOT);
    };
  }
}
