package io.kvx.rbac;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * RBAC's escalation check (pure): a user may only put into a Role, or grant through a binding, rules it already
 * holds. Each requested rule is split into its single verb/group/resource/name (or verb/URL) parts; those the
 * holder's rules do not allow are returned.
 */
public final class Escalation {

  private Escalation() {
  }

  /** The parts of {@code requested} that {@code held} does not cover, each as a one-verb rule. */
  public static List<PolicyRule> notCovered(UserInfo user, List<PolicyRule> held, JsonArray requested) {
    List<PolicyRule> missing = new ArrayList<>();
    if (requested == null) return missing;
    for (int i = 0; i < requested.size(); i++) {
      PolicyRule r = PolicyRule.fromJson(requested.getJsonObject(i));
      for (String verb : r.verbs()) {
        if (!r.nonResourceURLs().isEmpty()) {
          for (String url : r.nonResourceURLs()) {
            if (!Policy.allows(held, RequestAttributes.nonResource(user, verb, url))) {
              missing.add(new PolicyRule(List.of(verb), List.of(), List.of(), List.of(), List.of(url)));
            }
          }
          continue;
        }
        for (String group : r.apiGroups()) {
          for (String resource : r.resources()) {
            int slash = resource.indexOf('/');
            String res = slash < 0 ? resource : resource.substring(0, slash);
            String sub = slash < 0 ? "" : resource.substring(slash + 1);
            List<String> names = r.resourceNames().isEmpty() ? List.of("") : r.resourceNames();
            for (String name : names) {
              if (!Policy.allows(held, RequestAttributes.resource(user, verb, group, res, sub, "", name))) {
                missing.add(new PolicyRule(List.of(verb), List.of(group), List.of(resource),
                    name.isEmpty() ? List.of() : List.of(name), List.of()));
              }
            }
          }
        }
      }
    }
    return missing;
  }

  /**
   * kube's words: user "U" (groups=["a" "b"]) is attempting to grant RBAC permissions not currently held:
   * then one line per missing rule, {APIGroups:[""], Resources:["secrets"], Verbs:["get"]}.
   */
  public static String message(UserInfo user, List<PolicyRule> missing) {
    StringBuilder b = new StringBuilder("user \"").append(user.name()).append("\" (groups=[");
    for (int i = 0; i < user.groups().size(); i++) {
      if (i > 0) b.append(' ');
      b.append('"').append(user.groups().get(i)).append('"');
    }
    b.append("]) is attempting to grant RBAC permissions not currently held:");
    for (PolicyRule r : missing) {
      b.append("\n{");
      if (!r.nonResourceURLs().isEmpty()) {
        b.append("NonResourceURLs:").append(quoted(r.nonResourceURLs())).append(", Verbs:").append(quoted(r.verbs()));
      } else {
        b.append("APIGroups:").append(quoted(r.apiGroups())).append(", Resources:").append(quoted(r.resources()));
        if (!r.resourceNames().isEmpty()) b.append(", ResourceNames:").append(quoted(r.resourceNames()));
        b.append(", Verbs:").append(quoted(r.verbs()));
      }
      b.append('}');
    }
    return b.toString();
  }

  private static String quoted(List<String> values) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < values.size(); i++) {
      if (i > 0) b.append(' ');
      b.append('"').append(values.get(i)).append('"');
    }
    return b.append(']').toString();
  }

  /** The rules a ClusterRole with an aggregationRule stands for: everything (kube asks for full authority). */
  public static JsonArray everything() {
    return new JsonArray().add(new JsonObject().put("verbs", new JsonArray().add("*"))
        .put("apiGroups", new JsonArray().add("*")).put("resources", new JsonArray().add("*")))
        .add(new JsonObject().put("verbs", new JsonArray().add("*")).put("nonResourceURLs", new JsonArray().add("*")));
  }
}
