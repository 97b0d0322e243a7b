package io.kvx.rbac;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * RBAC's resolution over one set of Roles, ClusterRoles and their bindings (pure: the caller keeps the objects):
 * the rules that apply to a user in a namespace are those of every ClusterRoleBinding naming it, and, for a
 * namespaced request, of every RoleBinding in that namespace naming it (its Role in the namespace or a
 * ClusterRole). A binding whose role is missing contributes nothing and an error, as kube reports it.
 */
public final class Policy {

  private final Map<String, JsonObject> clusterRoles;
  private final Map<String, JsonObject> roles;
  private final Collection<JsonObject> clusterRoleBindings;
  private final Map<String, ? extends Collection<JsonObject>> roleBindings;

  /**
   * @param clusterRoles by name
   * @param roles by "namespace/name"
   * @param clusterRoleBindings all of them
   * @param roleBindings by namespace
   */
  public Policy(Map<String, JsonObject> clusterRoles, Map<String, JsonObject> roles,
                Collection<JsonObject> clusterRoleBindings, Map<String, ? extends Collection<JsonObject>> roleBindings) {
    this.clusterRoles = clusterRoles;
    this.roles = roles;
    this.clusterRoleBindings = clusterRoleBindings;
    this.roleBindings = roleBindings;
  }

  /**
   * A rule with where it comes from, in kube's words: ClusterRoleBinding "b" of ClusterRole "r" to Group "g", or
   * RoleBinding "b/ns" of Role "r" to ServiceAccount "sa/ns".
   */
  public record Grant(PolicyRule rule, String source) {}

  /** The rules that apply; {@code errors} collects why a binding gave none (its role is missing). */
  public List<PolicyRule> rulesFor(UserInfo user, String namespace, List<String> errors) {
    return grantsFor(user, namespace, errors).stream().map(Grant::rule).toList();
  }

  /** As {@link #rulesFor}, each rule with its source. */
  public List<Grant> grantsFor(UserInfo user, String namespace, List<String> errors) {
    List<Grant> out = new ArrayList<>();
    for (JsonObject b : clusterRoleBindings) {
      JsonObject subject = subjectFor(b, user, "");
      if (subject != null) addRules(b, "", subject, out, errors);
    }
    if (namespace != null && !namespace.isEmpty()) {
      Collection<JsonObject> bindings = roleBindings.get(namespace);
      if (bindings != null) {
        for (JsonObject b : bindings) {
          JsonObject subject = subjectFor(b, user, namespace);
          if (subject != null) addRules(b, namespace, subject, out, errors);
        }
      }
    }
    return out;
  }

  private static String describe(JsonObject binding, String namespace, JsonObject subject) {
    JsonObject ref = binding.getJsonObject("roleRef", new JsonObject());
    String name = binding.getJsonObject("metadata", new JsonObject()).getString("name", "");
    String kind = subject.getString("kind", "");
    String who = subject.getString("name", "");
    if (kind.equals("ServiceAccount")) {
      String ns = subject.getString("namespace", "");
      who = who + "/" + (ns.isEmpty() ? namespace : ns);
    }
    return (namespace.isEmpty() ? "ClusterRoleBinding \"" + name : "RoleBinding \"" + name + "/" + namespace)
        + "\" of " + ref.getString("kind", "") + " \"" + ref.getString("name", "") + "\" to " + kind + " \"" + who + "\"";
  }

  private void addRules(JsonObject binding, String namespace, JsonObject subject, List<Grant> out,
                        List<String> errors) {
    JsonObject ref = binding.getJsonObject("roleRef", new JsonObject());
    String kind = ref.getString("kind", "");
    String name = ref.getString("name", "");
    JsonObject role = switch (kind) {
      case "ClusterRole" -> clusterRoles.get(name);
      case "Role" -> namespace.isEmpty() ? null : roles.get(namespace + "/" + name);
      default -> null;
    };
    if (role == null) {
      if (errors != null) {
        errors.add(kind.equals("Role") ? "role.rbac.authorization.k8s.io \"" + name + "\" not found"
            : "clusterrole.rbac.authorization.k8s.io \"" + name + "\" not found");
      }
      return;
    }
    JsonArray rules = role.getJsonArray("rules");
    if (rules == null) return;
    String source = describe(binding, namespace, subject);
    for (int i = 0; i < rules.size(); i++) out.add(new Grant(PolicyRule.fromJson(rules.getJsonObject(i)), source));
  }

  /** Whether a binding (in {@code namespace}, "" for a ClusterRoleBinding) names the user or one of its groups. */
  public static boolean bindsUser(JsonObject binding, UserInfo user, String namespace) {
    return subjectFor(binding, user, namespace) != null;
  }

  /** The binding's first subject that names the user or one of its groups, or null. */
  static JsonObject subjectFor(JsonObject binding, UserInfo user, String namespace) {
    JsonArray subjects = binding.getJsonArray("subjects");
    if (subjects == null) return null;
    for (int i = 0; i < subjects.size(); i++) {
      if (appliesTo(subjects.getJsonObject(i), user, namespace)) return subjects.getJsonObject(i);
    }
    return null;
  }

  static boolean appliesTo(JsonObject subject, UserInfo user, String bindingNamespace) {
    String name = subject.getString("name", "");
    switch (subject.getString("kind", "")) {
      case "User" -> {
        return user.name().equals(name);
      }
      case "Group" -> {
        return user.in(name);
      }
      case "ServiceAccount" -> {
        String ns = subject.getString("namespace", "");
        if (ns.isEmpty()) ns = bindingNamespace;
        if (ns.isEmpty() || name.isEmpty()) return false;
        return user.name().equals(UserInfo.SERVICE_ACCOUNT_PREFIX + ns + ":" + name);
      }
      default -> {
        return false;
      }
    }
  }

  /** Whether any rule allows the request. */
  public static boolean allows(List<PolicyRule> rules, RequestAttributes request) {
    for (PolicyRule r : rules) {
      if (r.allows(request)) return true;
    }
    return false;
  }
}
