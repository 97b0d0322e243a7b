package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * What kube-apiserver's admission webhooks and ValidatingAdmissionPolicies decide before any call: which requests a
 * webhook's or policy's rules, selectors and match conditions take in, the AdmissionReview a webhook is sent, and how
 * its answer is read (allowed, the denial's Status, a JSONPatch, warnings). Pure: the API server does the I/O.
 */
public final class AdmissionRules {

  /** Kube never sends its admission configuration itself to admission (a broken webhook could not be removed). */
  public static final String OWN_GROUP = "admissionregistration.k8s.io";

  private AdmissionRules() {
  }

  /**
   * One request as admission sees it: the operation (CREATE, UPDATE, DELETE, CONNECT), the resource, the object
   * (null on DELETE) and the one it replaces (null on CREATE), the user as an AdmissionReview's userInfo, and the
   * options (a CreateOptions, UpdateOptions or DeleteOptions).
   */
  public record Attributes(String operation, ResourceType type, String subresource, String namespace, String name,
                           JsonObject object, JsonObject oldObject, JsonObject userInfo, boolean dryRun,
                           JsonObject options) {

    /** The same request with another object (after a mutating webhook). */
    public Attributes withObject(JsonObject next) {
      return new Attributes(operation, type, subresource, namespace, name, next, oldObject, userInfo, dryRun, options);
    }
  }

  /** Whether admission looks at requests of this resource at all. */
  public static boolean admitted(ResourceType type) {
    return !type.group().equals(OWN_GROUP) && !type.computed();
  }

  /**
   * Whether one of {@code rules} (RuleWithOperations, or a policy's NamedRuleWithOperations with resourceNames)
   * covers the request: operation, group, version, resource with kube's subresource forms ("*", "*&#47;*",
   * "pods&#47;*", "*&#47;status") and scope (Cluster, Namespaced, *).
   */
  public static boolean rulesMatch(JsonArray rules, Attributes a) {
    if (rules == null) return false;
    for (Object o : rules) {
      if (o instanceof JsonObject rule && ruleMatches(rule, a)) return true;
    }
    return false;
  }

  static boolean ruleMatches(JsonObject rule, Attributes a) {
    if (!listed(rule.getJsonArray("operations"), a.operation())) return false;
    if (!listed(rule.getJsonArray("apiGroups"), a.type().group())) return false;
    if (!listed(rule.getJsonArray("apiVersions"), a.type().version())) return false;
    String scope = rule.getString("scope", "*");
    if (scope.equals("Cluster") && a.type().namespaced()) return false;
    if (scope.equals("Namespaced") && !a.type().namespaced()) return false;
    JsonArray names = rule.getJsonArray("resourceNames");
    if (names != null && !names.isEmpty() && !names.contains(a.name() == null ? "" : a.name())) return false;
    String sub = a.subresource() == null ? "" : a.subresource();
    for (Object r : rule.getJsonArray("resources", new JsonArray())) {
      String[] parts = String.valueOf(r).split("/", 2);
      String res = parts[0];
      String rsub = parts.length > 1 ? parts[1] : "";
      boolean resourceOk = res.equals("*") || res.equals(a.type().plural());
      boolean subOk = parts.length == 1 ? sub.isEmpty() : rsub.equals("*") || rsub.equals(sub);
      if (resourceOk && subOk) return true;
    }
    return false;
  }

  private static boolean listed(JsonArray values, String value) {
    return values != null && (values.contains("*") || values.contains(value));
  }

  /** An objectSelector: the new object's labels or the old one's match (an absent or empty selector: everything). */
  public static boolean objectSelected(JsonObject selector, Attributes a) {
    if (selector == null || selector.isEmpty()) return true;
    LabelSelector s = LabelSelector.fromJson(selector);
    return a.object() != null && s.matches(Meta.labels(a.object()))
        || a.oldObject() != null && s.matches(Meta.labels(a.oldObject()));
  }

  /**
   * Whether a namespaceSelector needs the namespace's labels: a namespaced request, or a Namespace itself
   * (whose own labels count). Other cluster-scoped requests match any namespaceSelector, as in kube.
   */
  public static boolean needsNamespace(JsonObject selector, Attributes a) {
    return selector != null && !selector.isEmpty() && (a.type().namespaced() || isNamespace(a.type()));
  }

  /** The namespaceSelector against the namespace's labels ({@code labels} unused when not needed). */
  public static boolean namespaceSelected(JsonObject selector, Attributes a, Map<String, String> labels) {
    if (!needsNamespace(selector, a)) return true;
    return LabelSelector.fromJson(selector).matches(labels);
  }

  /** A Namespace request's own labels stand for its namespace's (the new object's, else the old one's). */
  public static Map<String, String> namespaceOwnLabels(Attributes a) {
    return Meta.labels(a.object() != null ? a.object() : a.oldObject());
  }

  public static boolean isNamespace(ResourceType type) {
    return type.group().isEmpty() && type.plural().equals("namespaces");
  }

  /** The AdmissionReview version to send: v1 when the webhook takes it, else v1beta1; null when it takes neither. */
  public static String reviewVersion(JsonArray accepted) {
    if (accepted == null) return null;
    if (accepted.contains("v1")) return "v1";
    return accepted.contains("v1beta1") ? "v1beta1" : null;
  }

  /**
   * The kind of a subresource's own object, as kube names it in an AdmissionReview (Scale, Eviction, Binding,
   * TokenRequest, the CONNECT options), or null when the subresource's object is the resource's (status...).
   */
  public static JsonObject subresourceKind(String subresource) {
    if (subresource == null) return null;
    String[] gvk = switch (subresource) {
      case "scale" -> new String[] {"autoscaling", "v1", "Scale"};
      case "eviction" -> new String[] {"policy", "v1", "Eviction"};
      case "binding" -> new String[] {"", "v1", "Binding"};
      case "token" -> new String[] {"authentication.k8s.io", "v1", "TokenRequest"};
      case "exec" -> new String[] {"", "v1", "PodExecOptions"};
      case "attach" -> new String[] {"", "v1", "PodAttachOptions"};
      case "portforward" -> new String[] {"", "v1", "PodPortForwardOptions"};
      default -> null;
    };
    return gvk == null ? null : new JsonObject().put("group", gvk[0]).put("version", gvk[1]).put("kind", gvk[2]);
  }

  /** The AdmissionReview sent to a webhook. */
  public static JsonObject review(String version, String uid, Attributes a) {
    ResourceType t = a.type();
    JsonObject own = subresourceKind(a.subresource());
    JsonObject kind = own != null ? own
        : new JsonObject().put("group", t.group()).put("version", t.version()).put("kind", t.kind());
    JsonObject resource = new JsonObject().put("group", t.group()).put("version", t.version())
        .put("resource", t.plural());
    JsonObject request = new JsonObject().put("uid", uid).put("kind", kind).put("resource", resource)
        .put("requestKind", kind.copy()).put("requestResource", resource.copy());
    if (a.subresource() != null && !a.subresource().isEmpty()) {
      request.put("subResource", a.subresource()).put("requestSubResource", a.subresource());
    }
    if (a.name() != null && !a.name().isEmpty()) request.put("name", a.name());
    if (a.namespace() != null && !a.namespace().isEmpty()) request.put("namespace", a.namespace());
    request.put("operation", a.operation()).put("userInfo", a.userInfo() == null ? new JsonObject() : a.userInfo());
    request.put("object", a.object()).put("oldObject", a.oldObject()).put("dryRun", a.dryRun());
    if (a.options() != null) request.put("options", a.options());
    return new JsonObject().put("apiVersion", "admission.k8s.io/" + version).put("kind", "AdmissionReview")
        .put("request", request);
  }

  /** The options object an AdmissionReview carries for an operation. */
  public static JsonObject options(String operation, JsonObject given) {
    String kind = switch (operation) {
      case "CREATE" -> "CreateOptions";
      case "UPDATE" -> "UpdateOptions";
      case "DELETE" -> "DeleteOptions";
      default -> null;
    };
    if (kind == null) return null;
    JsonObject out = given == null ? new JsonObject() : given.copy();
    return out.put("kind", kind).put("apiVersion", "meta.k8s.io/v1");
  }

  /** A webhook's answer, read: allowed or not, the denial's Status, a JSONPatch (or null) and warnings. */
  public record Answer(boolean allowed, JsonObject status, JsonArray patch, List<String> warnings) {}

  /**
   * Reads the AdmissionReview a webhook answered with. Fails (IllegalArgumentException, the message as kube words
   * it) when it is not an AdmissionReview of the version sent, names another uid, or carries a patch that is not a
   * base64 JSONPatch.
   */
  public static Answer answer(String version, String uid, JsonObject review) {
    if (review == null) throw new IllegalArgumentException("the response is not an AdmissionReview");
    String apiVersion = review.getString("apiVersion", "");
    if (!apiVersion.equals("admission.k8s.io/" + version) || !"AdmissionReview".equals(review.getString("kind"))) {
      throw new IllegalArgumentException("expected webhook response of admission.k8s.io/" + version
          + ", Kind=AdmissionReview, got " + apiVersion + ", Kind=" + review.getString("kind", ""));
    }
    if (!(review.getValue("response") instanceof JsonObject response)) {
      throw new IllegalArgumentException("webhook response was absent");
    }
    if (!uid.equals(response.getString("uid"))) {
      throw new IllegalArgumentException("expected response.uid=\"" + uid + "\", got \"" + response.getString("uid", "")
          + "\"");
    }
    JsonArray patch = null;
    String encoded = response.getString("patch");
    if (encoded != null && !encoded.isEmpty()) {
      String type = response.getString("patchType", "");
      if (!type.equals("JSONPatch")) {
        throw new IllegalArgumentException("unsupported patch type \"" + type + "\"");
      }
      try {
        patch = new JsonArray(new String(Base64.getDecoder().decode(encoded), java.nio.charset.StandardCharsets.UTF_8));
      } catch (IllegalArgumentException | io.vertx.core.json.DecodeException e) {
        throw new IllegalArgumentException("the patch is not a base64 JSON Patch: " + e.getMessage());
      }
    }
    List<String> warnings = new ArrayList<>();
    for (Object w : response.getJsonArray("warnings", new JsonArray())) warnings.add(String.valueOf(w));
    return new Answer(response.getBoolean("allowed", false), response.getJsonObject("status"), patch, warnings);
  }

  /**
   * The error a denial answers with, as kube's webhook errors: the webhook's code (at least 400) and reason as given,
   * and "admission webhook "NAME" denied the request: " with its message (or reason, or "without explanation").
   */
  public static ApiError denied(String webhook, JsonObject status) {
    JsonObject s = status == null ? new JsonObject() : status;
    String deniedBy = "admission webhook \"" + webhook + "\" denied the request";
    String message = s.getString("message", "");
    String reason = s.getString("reason", "");
    String text = !message.isEmpty() ? deniedBy + ": " + message
        : !reason.isEmpty() ? deniedBy + ": " + reason : deniedBy + " without explanation";
    return ApiError.given(s.getInteger("code", 0), reason, text, s.getJsonObject("details"));
  }

  /** The 500 kube answers when calling a webhook whose failurePolicy is Fail went wrong. */
  public static ApiError callFailed(String webhook, String why) {
    return new ApiError(ApiError.Reason.InternalError, "Internal error occurred: failed calling webhook \"" + webhook
        + "\": " + why);
  }

  /** Whether a webhook may be called for a dry run (its sideEffects are None or NoneOnDryRun). */
  public static boolean dryRunSafe(JsonObject webhook) {
    String effects = webhook.getString("sideEffects", "");
    return effects.equals("None") || effects.equals("NoneOnDryRun");
  }

  /** The timeout of a webhook call: timeoutSeconds, 10 by default, within 1-30. */
  public static int timeoutSeconds(JsonObject webhook) {
    return Math.max(1, Math.min(30, webhook.getInteger("timeoutSeconds", 10)));
  }
}
