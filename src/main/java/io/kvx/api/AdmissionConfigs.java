package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Defaults and validation of admission's configuration objects (admissionregistration.k8s.io/v1), as kube-apiserver
 * gives them: MutatingWebhookConfiguration and ValidatingWebhookConfiguration (failurePolicy Fail, matchPolicy
 * Equivalent, empty selectors, 10 s, reinvocationPolicy Never, service port 443, rule scope *; each webhook named as
 * a domain, with sideEffects, admissionReviewVersions and one of url or service), and ValidatingAdmissionPolicy and
 * its binding. Pure.
 */
public final class AdmissionConfigs {

  private static final List<String> OPERATIONS = List.of("*", "CREATE", "UPDATE", "DELETE", "CONNECT");

  private AdmissionConfigs() {
  }

  /** Kube's defaults for a webhook configuration. */
  public static void defaultWebhooks(JsonObject config, boolean mutating) {
    if (!(config.getValue("webhooks") instanceof JsonArray hooks)) return;
    for (Object o : hooks) {
      if (!(o instanceof JsonObject w)) continue;
      putIfAbsent(w, "failurePolicy", "Fail");
      putIfAbsent(w, "matchPolicy", "Equivalent");
      putIfAbsent(w, "namespaceSelector", new JsonObject());
      putIfAbsent(w, "objectSelector", new JsonObject());
      putIfAbsent(w, "timeoutSeconds", 10);
      if (mutating) putIfAbsent(w, "reinvocationPolicy", "Never");
      if (w.getValue("clientConfig") instanceof JsonObject cc && cc.getValue("service") instanceof JsonObject svc) {
        putIfAbsent(svc, "port", 443);
      }
      defaultRules(w.getJsonArray("rules"));
    }
  }

  static void defaultRules(JsonArray rules) {
    if (rules == null) return;
    for (Object r : rules) {
      if (r instanceof JsonObject rule) putIfAbsent(rule, "scope", "*");
    }
  }

  /** Kube's defaults for a ValidatingAdmissionPolicy (failurePolicy Fail, matchPolicy Equivalent, empty selectors). */
  public static void defaultPolicy(JsonObject policy) {
    JsonObject spec = policy.getJsonObject("spec", new JsonObject());
    putIfAbsent(spec, "failurePolicy", "Fail");
    JsonObject match = spec.getJsonObject("matchConstraints");
    if (match != null) defaultMatch(match);
    policy.put("spec", spec);
  }

  /** Kube's defaults for a binding's matchResources. */
  public static void defaultBinding(JsonObject binding) {
    JsonObject spec = binding.getJsonObject("spec", new JsonObject());
    JsonObject match = spec.getJsonObject("matchResources");
    if (match != null) defaultMatch(match);
    binding.put("spec", spec);
  }

  /**
   * A policy's status as kube's policy controller writes it once it has type-checked a generation (kvx's expressions
   * are checked when written: no warnings to report).
   */
  public static JsonObject policyStatus(long generation) {
    return new JsonObject().put("observedGeneration", generation).put("typeChecking", new JsonObject());
  }

  private static void defaultMatch(JsonObject match) {
    putIfAbsent(match, "matchPolicy", "Equivalent");
    putIfAbsent(match, "namespaceSelector", new JsonObject());
    putIfAbsent(match, "objectSelector", new JsonObject());
    defaultRules(match.getJsonArray("resourceRules"));
    defaultRules(match.getJsonArray("excludeResourceRules"));
  }

  private static void putIfAbsent(JsonObject o, String key, Object value) {
    if (o.getValue(key) == null) o.put(key, value);
  }

  /** A webhook configuration's webhooks as kube's validation checks them. */
  public static void validateWebhooks(JsonObject config, boolean mutating, List<ApiError.Cause> causes) {
    JsonArray hooks = config.getValue("webhooks") instanceof JsonArray a ? a : new JsonArray();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < hooks.size(); i++) {
      String at = "webhooks[" + i + "]";
      if (!(hooks.getValue(i) instanceof JsonObject w)) continue;
      String name = w.getString("name", "");
      if (name.isEmpty()) {
        causes.add(Causes.required(at + ".name", null));
      } else if (name.split("\\.", -1).length < 3 || !name.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")) {
        causes.add(Causes.invalid(at + ".name", name, "should be a domain with at least three segments separated by dots"));
      } else if (!names.add(name)) {
        causes.add(Causes.duplicate(at + ".name", name));
      }
      String effects = w.getString("sideEffects");
      if (effects == null) {
        causes.add(Causes.required(at + ".sideEffects", "must specify one of None, NoneOnDryRun"));
      } else if (!effects.equals("None") && !effects.equals("NoneOnDryRun")) {
        causes.add(Causes.notSupported(at + ".sideEffects", effects, "None", "NoneOnDryRun"));
      }
      JsonArray versions = w.getJsonArray("admissionReviewVersions");
      if (versions == null || versions.isEmpty()) {
        causes.add(Causes.required(at + ".admissionReviewVersions", "must specify one of v1, v1beta1"));
      } else if (AdmissionRules.reviewVersion(versions) == null) {
        causes.add(Causes.invalid(at + ".admissionReviewVersions", versions.encode(), "must include at least one of v1, v1beta1"));
      }
      oneOf(w, "failurePolicy", at, causes, "Fail", "Ignore");
      oneOf(w, "matchPolicy", at, causes, "Exact", "Equivalent");
      if (mutating) oneOf(w, "reinvocationPolicy", at, causes, "Never", "IfNeeded");
      Integer timeout = w.getInteger("timeoutSeconds");
      if (timeout != null && (timeout < 1 || timeout > 30)) {
        causes.add(Causes.invalidNumber(at + ".timeoutSeconds", timeout, "the timeout value must be between 1 and 30 seconds"));
      }
      validateClientConfig(w.getJsonObject("clientConfig"), at + ".clientConfig", causes);
      validateRules(w.getJsonArray("rules"), at + ".rules", false, causes);
      validateSelector(w, "namespaceSelector", at, causes);
      validateSelector(w, "objectSelector", at, causes);
      validateMatchConditions(w.getJsonArray("matchConditions"), at + ".matchConditions", causes);
    }
  }

  private static void validateClientConfig(JsonObject cc, String at, List<ApiError.Cause> causes) {
    String url = cc == null ? null : cc.getString("url");
    JsonObject svc = cc == null ? null : cc.getJsonObject("service");
    if ((url == null) == (svc == null)) {
      causes.add(Causes.required(at, "exactly one of url or service is required"));
      return;
    }
    if (url != null) {
      try {
        java.net.URI u = new java.net.URI(url);
        if (!"https".equals(u.getScheme())) {
          causes.add(Causes.invalid(at + ".url", url, "'https' is the only allowed URL scheme"));
        } else if (u.getHost() == null || u.getHost().isEmpty()) {
          causes.add(Causes.invalid(at + ".url", url, "host must be specified"));
        } else if (u.getRawFragment() != null) {
          causes.add(Causes.invalid(at + ".url", url, "fragments are not permitted"));
        } else if (u.getRawUserInfo() != null) {
          causes.add(Causes.invalid(at + ".url", url, "user information is not permitted in the URL"));
        } else if (u.getRawQuery() != null) {
          causes.add(Causes.invalid(at + ".url", url, "query parameters are not allowed"));
        }
      } catch (java.net.URISyntaxException e) {
        causes.add(Causes.invalid(at + ".url", url, "url must be a valid URL: " + e.getMessage()));
      }
      return;
    }
    if (svc.getString("name", "").isEmpty()) {
      causes.add(Causes.required(at + ".service.name", "service name is required"));
    }
    if (svc.getString("namespace", "").isEmpty()) {
      causes.add(Causes.required(at + ".service.namespace", "service namespace is required"));
    }
    Integer port = svc.getInteger("port");
    if (port != null && (port < 1 || port > 65535)) {
      causes.add(Causes.invalid(at + ".service.port", String.valueOf(port), "port is not valid: must be between 1 and 65535, inclusive"));
    }
    String path = svc.getString("path");
    if (path != null && !path.startsWith("/")) {
      causes.add(Causes.invalid(at + ".service.path", path, "must start with a '/'"));
    }
  }

  /** Rules (webhooks') or resourceRules (policies'): operations, apiGroups, apiVersions and resources each given. */
  static void validateRules(JsonArray rules, String at, boolean named, List<ApiError.Cause> causes) {
    if (rules == null) return;
    for (int i = 0; i < rules.size(); i++) {
      if (!(rules.getValue(i) instanceof JsonObject rule)) continue;
      String r = at + "[" + i + "]";
      for (String f : List.of("operations", "apiGroups", "apiVersions", "resources")) {
        JsonArray values = rule.getJsonArray(f);
        if (values == null || values.isEmpty()) {
          causes.add(Causes.required(r + "." + f, null));
        }
      }
      JsonArray ops = rule.getJsonArray("operations", new JsonArray());
      for (int j = 0; j < ops.size(); j++) {
        if (!OPERATIONS.contains(String.valueOf(ops.getValue(j)))) {
          causes.add(Causes.notSupported(r + ".operations[" + j + "]", String.valueOf(ops.getValue(j)),
              OPERATIONS.toArray(String[]::new)));
        }
      }
      oneOf(rule, "scope", r, causes, "Cluster", "Namespaced", "*");
    }
  }

  private static void validateSelector(JsonObject owner, String field, String at, List<ApiError.Cause> causes) {
    if (owner.getValue(field) instanceof JsonObject sel) Validation.validateLabelSelector(sel, at + "." + field, causes);
  }

  /** matchConditions: named, unique, with an expression that compiles to a bool. */
  static void validateMatchConditions(JsonArray conditions, String at, List<ApiError.Cause> causes) {
    if (conditions == null) return;
    Set<String> names = new HashSet<>();
    for (int i = 0; i < conditions.size(); i++) {
      if (!(conditions.getValue(i) instanceof JsonObject c)) continue;
      String name = c.getString("name", "");
      if (name.isEmpty()) causes.add(Causes.required(at + "[" + i + "].name", null));
      else if (!Validation.isQualifiedName(name)) {
        causes.add(Causes.invalid(at + "[" + i + "].name", name, "name part must consist of alphanumeric characters, "
            + "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
            + "or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
      } else if (!names.add(name)) {
        causes.add(Causes.duplicate(at + "[" + i + "].name", name));
      }
      checkExpression(c.getString("expression", ""), at + "[" + i + "].expression", dev.cel.common.types.SimpleType.BOOL,
          causes);
    }
  }

  /** An expression that is required and compiles (with kube's admission variables). */
  static void checkExpression(String expression, String at, dev.cel.common.types.CelType type,
                              List<ApiError.Cause> causes) {
    if (expression.isEmpty()) {
      causes.add(Causes.required(at, null));
      return;
    }
    String error = CelRules.compileError(expression, type);
    if (error != null) causes.add(Causes.invalid(at, expression, "compilation failed: " + error));
  }

  private static void oneOf(JsonObject o, String field, String at, List<ApiError.Cause> causes, String... allowed) {
    String v = o.getString(field);
    if (v != null && !List.of(allowed).contains(v)) causes.add(Causes.notSupported(at + "." + field, v, allowed));
  }
}
