package io.kvx.apiserver;

import io.kvx.rbac.RequestAttributes;

/**
 * The authorization step every API request takes after authentication, as kube-apiserver's authorizer
 * chain: who asks to do what to which resource or path, allowed or not. The API server runs
 * {@link RbacAuthorizer}; the access reviews (SelfSubjectAccessReview, ...) answer with the same decision.
 */
@FunctionalInterface
public interface Authorizer {

  /** {@code reason} says why (allowed) or what went wrong finding the rules (denied; often empty, as kube's). */
  record Decision(boolean allowed, String reason) {}

  Decision authorize(RequestAttributes request);

  /** The rules that apply to the user in the namespace ("" for cluster scope), for SelfSubjectRulesReview. */
  default java.util.List<io.kvx.rbac.PolicyRule> rules(io.kvx.rbac.UserInfo user, String namespace) {
    return java.util.List.of();
  }

  /** What went wrong finding those rules (a bound role missing), "" when nothing. */
  default String rulesError(io.kvx.rbac.UserInfo user, String namespace) {
    return "";
  }

  /** kube-apiserver's AlwaysAllow mode (tests of other parts). */
  Authorizer ALWAYS_ALLOW = request -> new Decision(true, "");
}
