package io.kvx.api;

import dev.cel.common.types.SimpleType;
import io.kvx.api.AdmissionRules.Attributes;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A ValidatingAdmissionPolicy and one of its bindings applied to a request, as kube-apiserver's admission plugin does:
 * whether they match (the policy's matchConstraints, then the binding's matchResources: rules with resourceNames,
 * exclusions, namespace and object selectors), the policy's matchConditions, its variables, then each validation (a
 * CEL expression over object, oldObject, request, params, namespaceObject and variables). A validation that is false
 * fails with its message (messageExpression, message, or the expression) and reason (Invalid by default); one that
 * cannot be evaluated fails when failurePolicy is Fail and is skipped when Ignore. The binding's validationActions say
 * what a failure does: Deny (the request's error), Warn (a warning), Audit (nothing here: kvx has no audit log). Pure.
 */
public final class PolicyDecisions {

  private PolicyDecisions() {
  }

  /** What one policy and binding decided: the denial (or null) and warnings. */
  public record Decision(ApiError denial, List<String> warnings) {
    static final Decision ADMIT = new Decision(null, List.of());
  }

  /** Whether a request falls within matchConstraints or matchResources (namespace labels given when needed). */
  public static boolean matches(JsonObject match, Attributes a, Map<String, String> namespaceLabels) {
    if (match == null) return true;
    JsonArray rules = match.getJsonArray("resourceRules");
    if (rules != null && !AdmissionRules.rulesMatch(rules, a)) return false;
    JsonArray excluded = match.getJsonArray("excludeResourceRules");
    if (excluded != null && AdmissionRules.rulesMatch(excluded, a)) return false;
    if (!AdmissionRules.objectSelected(match.getJsonObject("objectSelector"), a)) return false;
    return AdmissionRules.namespaceSelected(match.getJsonObject("namespaceSelector"), a, namespaceLabels);
  }

  /** Whether either match needs the namespace's labels. */
  public static boolean needsNamespace(JsonObject policy, JsonObject binding, Attributes a) {
    JsonObject m1 = spec(policy).getJsonObject("matchConstraints");
    JsonObject m2 = spec(binding).getJsonObject("matchResources");
    return m1 != null && AdmissionRules.needsNamespace(m1.getJsonObject("namespaceSelector"), a)
        || m2 != null && AdmissionRules.needsNamespace(m2.getJsonObject("namespaceSelector"), a);
  }

  static JsonObject spec(JsonObject o) {
    return o.getJsonObject("spec", new JsonObject());
  }

  /**
   * Evaluates the policy for the request with one params object (null when the policy has no paramKind).
   * {@code namespace} is the request's namespace object (null for cluster-scoped requests).
   */
  public static Decision evaluate(JsonObject policy, JsonObject binding, Attributes a, JsonObject params,
                                  JsonObject namespace) {
    JsonObject spec = spec(policy);
    boolean failClosed = !"Ignore".equals(spec.getString("failurePolicy", "Fail"));
    Map<String, Object> vars = new java.util.HashMap<>();
    vars.put("object", a.object());
    vars.put("oldObject", a.oldObject());
    vars.put("request", AdmissionRules.review("v1", "", a).getJsonObject("request"));
    vars.put("params", params);
    vars.put("namespaceObject", namespace);
    Map<String, Object> variables = new LinkedHashMap<>();
    vars.put("variables", variables);
    List<String> failures = new ArrayList<>();
    List<String> reasons = new ArrayList<>();
    try {
      for (Object o : spec.getJsonArray("matchConditions", new JsonArray())) {
        JsonObject c = (JsonObject) o;
        if (!Boolean.TRUE.equals(CelRules.evalAdmission(c.getString("expression", ""), SimpleType.BOOL, vars))) {
          return Decision.ADMIT;
        }
      }
    } catch (IllegalArgumentException e) {
      if (!failClosed) return Decision.ADMIT;
      return decide(policy, binding, a, List.of("failed to evaluate match conditions: " + e.getMessage()), "Invalid");
    }
    for (Object o : spec.getJsonArray("variables", new JsonArray())) {
      JsonObject v = (JsonObject) o;
      try {
        variables.put(v.getString("name", ""), CelRules.evalAdmission(v.getString("expression", ""), SimpleType.DYN,
            vars));
      } catch (IllegalArgumentException e) {
        // A variable that cannot be evaluated fails the validations that use it.
      }
    }
    for (Object o : spec.getJsonArray("validations", new JsonArray())) {
      JsonObject v = (JsonObject) o;
      String expression = v.getString("expression", "");
      try {
        if (Boolean.TRUE.equals(CelRules.evalAdmission(expression, SimpleType.BOOL, vars))) continue;
        failures.add(message(v, vars));
        reasons.add(v.getString("reason", "Invalid"));
      } catch (IllegalArgumentException e) {
        if (failClosed) {
          failures.add("expression '" + expression + "' resulted in error: " + e.getMessage());
          reasons.add("Invalid");
        }
      }
    }
    return failures.isEmpty() ? Decision.ADMIT : decide(policy, binding, a, failures, reasons.get(0));
  }

  /** A binding whose params cannot be found: denied (parameterNotFoundAction Deny, the default) or allowed. */
  public static Decision paramsMissing(JsonObject policy, JsonObject binding, Attributes a) {
    JsonObject ref = spec(binding).getJsonObject("paramRef", new JsonObject());
    if ("Allow".equals(ref.getString("parameterNotFoundAction"))) return Decision.ADMIT;
    return decide(policy, binding, a, List.of("failed to configure binding: no params found for policy binding "
        + "with `Deny` parameterNotFoundAction"), "Invalid");
  }

  /**
   * A policy whose paramKind names no served resource: denied when failurePolicy is Fail (kube's "failed to find
   * resource referenced by paramKind"), no opinion when Ignore.
   */
  public static Decision paramKindMissing(JsonObject policy, JsonObject binding, Attributes a) {
    if ("Ignore".equals(spec(policy).getString("failurePolicy", "Fail"))) return Decision.ADMIT;
    JsonObject kind = spec(policy).getJsonObject("paramKind", new JsonObject());
    return decide(policy, binding, a, List.of("failed to configure policy: failed to find resource referenced by "
        + "paramKind: '" + kind.getString("apiVersion", "") + ", Kind=" + kind.getString("kind", "") + "'"), "Invalid");
  }

  private static String message(JsonObject validation, Map<String, Object> vars) {
    String expression = validation.getString("messageExpression");
    if (expression != null && !expression.isEmpty()) {
      try {
        if (CelRules.evalAdmission(expression, SimpleType.STRING, vars) instanceof String s && !s.isBlank()
            && !s.contains("\n")) return s;
      } catch (IllegalArgumentException e) {
        // kube falls back to message
      }
    }
    String message = validation.getString("message", "");
    return !message.isEmpty() ? message : "failed expression: " + validation.getString("expression", "");
  }

  private static Decision decide(JsonObject policy, JsonObject binding, Attributes a, List<String> failures,
                                 String reason) {
    String p = Meta.name(policy);
    String b = Meta.name(binding);
    JsonArray actions = spec(binding).getJsonArray("validationActions", new JsonArray());
    List<String> warnings = new ArrayList<>();
    if (actions.contains("Warn")) {
      for (String f : failures) {
        warnings.add("Validation failed for ValidatingAdmissionPolicy '" + p + "' with binding '" + b + "': " + f);
      }
    }
    ApiError denial = null;
    if (actions.contains("Deny")) {
      String message = "ValidatingAdmissionPolicy '" + p + "' with binding '" + b + "' denied request: " + failures.get(0);
      String resource = a.type().group().isEmpty() ? a.type().plural() : a.type().plural() + "." + a.type().group();
      String name = a.name() == null ? "" : a.name();
      ApiError.Reason r = switch (reason) {
        case "Unauthorized" -> ApiError.Reason.Unauthorized;
        case "Forbidden" -> ApiError.Reason.Forbidden;
        case "RequestEntityTooLarge" -> ApiError.Reason.RequestEntityTooLarge;
        default -> ApiError.Reason.Invalid;
      };
      denial = new ApiError(r, resource + " \"" + name + "\" is forbidden: " + message, a.type().group(),
          a.type().plural(), name, List.of(new ApiError.Cause(null, null, message)));
    }
    return new Decision(denial, warnings);
  }

  /** Validation of a policy: validations present, expressions that compile, known failurePolicy and reasons. */
  public static void validatePolicy(JsonObject policy, List<ApiError.Cause> causes) {
    JsonObject spec = spec(policy);
    JsonArray validations = spec.getJsonArray("validations", new JsonArray());
    JsonArray audits = spec.getJsonArray("auditAnnotations", new JsonArray());
    if (validations.isEmpty() && audits.isEmpty()) {
      causes.add(Causes.required("spec.validations", "validations or auditAnnotations must contain at least one item"));
    }
    String fp = spec.getString("failurePolicy");
    if (fp != null && !fp.equals("Fail") && !fp.equals("Ignore")) {
      causes.add(Causes.notSupported("spec.failurePolicy", fp, "Fail", "Ignore"));
    }
    JsonObject match = spec.getJsonObject("matchConstraints");
    if (match == null) {
      causes.add(Causes.required("spec.matchConstraints", null));
    } else if (match.getJsonArray("resourceRules", new JsonArray()).isEmpty()) {
      causes.add(Causes.required("spec.matchConstraints.resourceRules", null));
    } else {
      AdmissionConfigs.validateRules(match.getJsonArray("resourceRules"), "spec.matchConstraints.resourceRules", true,
          causes);
      for (String sel : List.of("namespaceSelector", "objectSelector")) {
        if (match.getValue(sel) instanceof JsonObject o) {
          Validation.validateLabelSelector(o, "spec.matchConstraints." + sel, causes);
        }
      }
    }
    for (int i = 0; i < validations.size(); i++) {
      JsonObject v = validations.getJsonObject(i);
      String at = "spec.validations[" + i + "]";
      AdmissionConfigs.checkExpression(v.getString("expression", ""), at + ".expression", SimpleType.BOOL, causes);
      String me = v.getString("messageExpression");
      if (me != null) AdmissionConfigs.checkExpression(me, at + ".messageExpression", SimpleType.STRING, causes);
      String reason = v.getString("reason");
      if (reason != null && !List.of("Unauthorized", "Forbidden", "Invalid", "RequestEntityTooLarge").contains(reason)) {
        causes.add(Causes.notSupported(at + ".reason", reason, "Unauthorized", "Forbidden", "Invalid",
            "RequestEntityTooLarge"));
      }
    }
    JsonObject paramKind = spec.getJsonObject("paramKind");
    if (paramKind != null) {
      if (paramKind.getString("apiVersion", "").isEmpty()) causes.add(Causes.required("spec.paramKind.apiVersion", null));
      if (paramKind.getString("kind", "").isEmpty()) causes.add(Causes.required("spec.paramKind.kind", null));
    }
    JsonArray variables = spec.getJsonArray("variables", new JsonArray());
    for (int i = 0; i < variables.size(); i++) {
      JsonObject v = variables.getJsonObject(i);
      String name = v.getString("name", "");
      if (name.isEmpty()) {
        causes.add(Causes.required("spec.variables[" + i + "].name", null));
      } else if (!name.matches("[_a-zA-Z][_a-zA-Z0-9]*")) {
        causes.add(Causes.invalid("spec.variables[" + i + "].name", name, "name is not a valid CEL identifier"));
      }
      AdmissionConfigs.checkExpression(v.getString("expression", ""), "spec.variables[" + i + "].expression",
          SimpleType.DYN, causes);
    }
    AdmissionConfigs.validateMatchConditions(spec.getJsonArray("matchConditions"), "spec.matchConditions", causes);
    JsonArray annotations = spec.getJsonArray("auditAnnotations", new JsonArray());
    for (int i = 0; i < annotations.size(); i++) {
      JsonObject an = annotations.getJsonObject(i);
      String key = an.getString("key", "");
      String at = "spec.auditAnnotations[" + i + "]";
      if (key.isEmpty()) {
        causes.add(Causes.required(at + ".key", null));
      } else if (!Validation.isQualifiedName(key.contains("/") ? key : "x/" + key) || key.length() > 63) {
        causes.add(Causes.invalid(at + ".key", key, "must be a valid annotation key part: alphanumeric characters, "
            + "'-', '_' or '.', starting and ending with an alphanumeric character"));
      }
      AdmissionConfigs.checkExpression(an.getString("valueExpression", ""), at + ".valueExpression", SimpleType.STRING,
          causes);
    }
  }

  /** Validation of a binding: the policy named, validationActions given and known. */
  public static void validateBinding(JsonObject binding, List<ApiError.Cause> causes) {
    JsonObject spec = spec(binding);
    if (spec.getString("policyName", "").isEmpty()) {
      causes.add(Causes.required("spec.policyName", null));
    }
    JsonArray actions = spec.getJsonArray("validationActions", new JsonArray());
    if (actions.isEmpty()) {
      causes.add(Causes.required("spec.validationActions", null));
    }
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < actions.size(); i++) {
      String action = String.valueOf(actions.getValue(i));
      if (!seen.add(action)) causes.add(Causes.duplicate("spec.validationActions[" + i + "]", action));
      if (!List.of("Deny", "Warn", "Audit").contains(action)) {
        causes.add(Causes.notSupported("spec.validationActions[" + i + "]", action, "Audit", "Deny", "Warn"));
      }
    }
    if (actions.contains("Deny") && actions.contains("Warn")) {
      causes.add(new ApiError.Cause("spec.validationActions", "FieldValueInvalid",
          "Invalid value: " + actions.encode() + ": must not contain both Deny and Warn (repeating the same validation "
              + "failure information in the API response and headers serves no purpose)"));
    }
    JsonObject ref = spec.getJsonObject("paramRef");
    if (ref != null) {
      String action = ref.getString("parameterNotFoundAction");
      if (action == null) {
        causes.add(Causes.required("spec.paramRef.parameterNotFoundAction", null));
      } else if (!action.equals("Allow") && !action.equals("Deny")) {
        causes.add(Causes.notSupported("spec.paramRef.parameterNotFoundAction", action, "Allow", "Deny"));
      }
      if (ref.getString("name") != null && ref.getJsonObject("selector") != null) {
        causes.add(Causes.forbidden("spec.paramRef.name", "name and selector are mutually exclusive"));
      }
    }
  }
}
