package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Validation as Kubernetes does it: object names, labels, and per-kind rules. Pure. */
public final class Validation {

  private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern DNS1123_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern QUALIFIED_NAME = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
  private static final Pattern LABEL_VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
  private static final Pattern PORT_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])*");
  /** Kubernetes' quantity syntax: a number and an optional binary, decimal or exponent suffix. */
  static final Pattern QUANTITY =
      Pattern.compile("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?");

  private Validation() {
  }

  public static boolean isDns1123Label(String s) {
    return s != null && s.length() <= 63 && DNS1123_LABEL.matcher(s).matches();
  }

  public static boolean isDns1123Subdomain(String s) {
    return s != null && s.length() <= 253 && DNS1123_SUBDOMAIN.matcher(s).matches();
  }

  public static boolean isQualifiedName(String s) {
    if (s == null || s.isEmpty()) return false;
    String name = s;
    int slash = s.indexOf('/');
    if (slash >= 0) {
      if (!isDns1123Subdomain(s.substring(0, slash))) return false;
      name = s.substring(slash + 1);
    }
    return name.length() <= 63 && QUALIFIED_NAME.matcher(name).matches();
  }

  public static boolean isLabelValue(String s) {
    return s != null && s.length() <= 63 && LABEL_VALUE.matcher(s).matches();
  }

  /** Validates metadata and the kind-specific rules; a non-empty result means 422 and no write. */
  public static List<ApiError.Cause> validate(ResourceType type, JsonObject obj) {
    List<ApiError.Cause> causes = new ArrayList<>();
    JsonObject meta = obj.getJsonObject("metadata", new JsonObject());
    String name = meta.getString("name");
    if (name == null || name.isEmpty()) {
      causes.add(required("metadata.name", "name or generateName is required"));
    } else if (type.group().equals("rbac.authorization.k8s.io")) {
      // RBAC names are path segments (system:discovery, ...), as kube's ValidateRBACName.
      String bad = name.equals(".") ? "may not be '.'" : name.equals("..") ? "may not be '..'"
          : name.contains("/") ? "may not contain '/'" : name.contains("%") ? "may not contain '%'" : null;
      if (bad != null) causes.add(invalidValue("metadata.name", name, bad));
    } else {
      boolean ok = switch (type.kind()) {
        case "Namespace", "Service" -> isDns1123Label(name);
        default -> isDns1123Subdomain(name);
      };
      if (!ok) {
        String rule = type.kind().equals("Namespace") || type.kind().equals("Service")
            ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
              + "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc')"
            : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
              + "and must start and end with an alphanumeric character (e.g. 'example.com')";
        causes.add(invalidValue("metadata.name", name, rule));
      }
    }
    validateStringMap(meta.getJsonObject("labels"), "metadata.labels", true, causes);
    validateStringMap(meta.getJsonObject("annotations"), "metadata.annotations", false, causes);
    switch (type.kind()) {
      case "Pod" -> validatePodSpec(obj.getJsonObject("spec"), "spec", causes);
      case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "ReplicationController" ->
          validateWorkload(obj, causes);
      case "Job" -> validateJob(obj.getJsonObject("spec"), "spec", true, causes);
      case "CronJob" -> validateCronJob(obj, causes);
      case "Service" -> validateService(obj, causes);
      case "CertificateSigningRequest" -> Certificates.validate(obj, causes);
      case "ConfigMap" -> validateKeys(obj, List.of("data", "binaryData"), causes);
      case "Secret" -> validateSecret(obj, causes);
      case "Role", "ClusterRole" -> validateRules(obj, causes);
      case "RoleBinding", "ClusterRoleBinding" -> validateBinding(obj, type.kind().equals("ClusterRoleBinding"), causes);
      case "PersistentVolumeClaim" -> validateClaimSpec(obj.getJsonObject("spec", new JsonObject()), "spec", causes);
      case "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration" -> {
        if (type.group().equals(AdmissionRules.OWN_GROUP)) {
          AdmissionConfigs.validateWebhooks(obj, type.kind().startsWith("Mutating"), causes);
        }
      }
      case "Ingress" -> {
        if (type.group().equals("networking.k8s.io")) NetworkingValidation.validateIngress(obj, causes);
      }
      case "IngressClass" -> {
        if (type.group().equals("networking.k8s.io")) NetworkingValidation.validateIngressClass(obj, causes);
      }
      case "NetworkPolicy" -> {
        if (type.group().equals("networking.k8s.io")) NetworkingValidation.validateNetworkPolicy(obj, causes);
      }
      case "ValidatingAdmissionPolicy" -> {
        if (type.group().equals(AdmissionRules.OWN_GROUP)) PolicyDecisions.validatePolicy(obj, causes);
      }
      case "ValidatingAdmissionPolicyBinding" -> {
        if (type.group().equals(AdmissionRules.OWN_GROUP)) PolicyDecisions.validateBinding(obj, causes);
      }
      default -> { }
    }
    return causes;
  }

  /** A role's rules each name their verbs (a ClusterRole's aggregationRule fills its rules in instead). */
  private static void validateRules(JsonObject obj, List<ApiError.Cause> causes) {
    JsonArray rules = obj.getValue("rules") instanceof JsonArray a ? a : new JsonArray();
    for (int i = 0; i < rules.size(); i++) {
      if (!(rules.getValue(i) instanceof JsonObject rule)) continue;
      if (rule.getJsonArray("verbs", new JsonArray()).isEmpty()) {
        causes.add(required("rules[" + i + "].verbs", "Required value: verbs must contain at least one value"));
      }
    }
  }

  /** A binding's roleRef (a Role or ClusterRole, by name) and subjects (a kind kube knows, by name), as kube's. */
  private static void validateBinding(JsonObject obj, boolean cluster, List<ApiError.Cause> causes) {
    JsonObject ref = obj.getValue("roleRef") instanceof JsonObject r ? r : new JsonObject();
    List<String> kinds = cluster ? List.of("ClusterRole") : List.of("Role", "ClusterRole");
    String kind = ref.getString("kind", "");
    if (!kinds.contains(kind)) {
      causes.add(new ApiError.Cause("roleRef.kind", "FieldValueNotSupported", "Unsupported value: \"" + kind
          + "\": supported values: " + String.join(", ", kinds.stream().map(k -> "\"" + k + "\"").toList())));
    }
    if (ref.getString("name", "").isEmpty()) causes.add(required("roleRef.name", "Required value"));
    JsonArray subjects = obj.getValue("subjects") instanceof JsonArray a ? a : new JsonArray();
    for (int i = 0; i < subjects.size(); i++) {
      if (!(subjects.getValue(i) instanceof JsonObject subject)) continue;
      String p = "subjects[" + i + "]";
      if (subject.getString("name", "").isEmpty()) causes.add(required(p + ".name", "Required value"));
      String subjectKind = subject.getString("kind", "");
      if (!List.of("ServiceAccount", "User", "Group").contains(subjectKind)) {
        causes.add(new ApiError.Cause(p + ".kind", "FieldValueNotSupported", "Unsupported value: \"" + subjectKind
            + "\": supported values: \"ServiceAccount\", \"User\", \"Group\""));
      } else if (cluster && subjectKind.equals("ServiceAccount") && subject.getString("namespace", "").isEmpty()) {
        causes.add(required(p + ".namespace", "Required value"));
      }
    }
  }

  /** A claim asks for its storage and at least one access mode. */
  private static void validateClaimSpec(JsonObject spec, String path, List<ApiError.Cause> causes) {
    if (spec.getJsonArray("accessModes", new JsonArray()).isEmpty()) {
      causes.add(required(path + ".accessModes", "Required value: at least 1 access mode is required"));
    }
    JsonObject requests = spec.getJsonObject("resources", new JsonObject()).getJsonObject("requests", new JsonObject());
    if (!requests.containsKey("storage")) causes.add(required(path + ".resources[storage]", "Required value"));
  }

  private static final java.util.regex.Pattern CONFIG_KEY = java.util.regex.Pattern.compile("[-._a-zA-Z0-9]+");

  /** ConfigMap and Secret keys: file names in a volume, as kube's IsConfigMapKey. */
  private static void validateKeys(JsonObject obj, List<String> fields, List<ApiError.Cause> causes) {
    for (String field : fields) {
      if (!(obj.getValue(field) instanceof JsonObject data)) continue;
      for (String key : data.fieldNames()) {
        String why = key.length() > 253 ? "must be no more than 253 characters"
            : !CONFIG_KEY.matcher(key).matches() ? "a valid config key must consist of alphanumeric characters, '-', "
              + "'_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
              + "'[-._a-zA-Z0-9]+')"
            : key.equals(".") || key.equals("..") ? "must not be '" + key + "'"
            : key.startsWith("..") ? "must not start with '..'" : null;
        if (why != null) causes.add(invalidValue(field + "[" + key + "]", key, why));
      }
    }
  }

  /**
   * A Secret: its keys, its data base64 (else the 400 kube's decoder answers: nothing undecodable is stored), and
   * the keys its type requires.
   */
  private static void validateSecret(JsonObject obj, List<ApiError.Cause> causes) {
    validateKeys(obj, List.of("data", "stringData"), causes);
    JsonObject data = obj.getValue("data") instanceof JsonObject d ? d : new JsonObject();
    for (Map.Entry<String, Object> e : data) {
      try {
        java.util.Base64.getDecoder().decode(String.valueOf(e.getValue()));
      } catch (IllegalArgumentException bad) {
        throw ApiError.badRequest("Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data in "
            + "data[" + e.getKey() + "]: " + bad.getMessage());
      }
    }
    JsonObject stringData = obj.getValue("stringData") instanceof JsonObject sd ? sd : new JsonObject();
    List<String> required = switch (obj.getString("type", "Opaque")) {
      case "kubernetes.io/tls" -> List.of("tls.crt", "tls.key");
      case "kubernetes.io/dockerconfigjson" -> List.of(".dockerconfigjson");
      case "kubernetes.io/dockercfg" -> List.of(".dockercfg");
      case "kubernetes.io/ssh-auth" -> List.of("ssh-privatekey");
      default -> List.of();
    };
    for (String key : required) {
      if (!data.containsKey(key) && !stringData.containsKey(key)) causes.add(required("data[" + key + "]", "Required value"));
    }
  }

  private static void validateStringMap(JsonObject map, String path, boolean labels, List<ApiError.Cause> causes) {
    if (map == null) return;
    for (Map.Entry<String, Object> e : map) {
      if (!isQualifiedName(e.getKey())) {
        causes.add(invalidValue(path, e.getKey(), "name part must consist of alphanumeric characters, '-', '_' "
            + "or '.', and must start and end with an alphanumeric character"));
      }
      if (labels && (!(e.getValue() instanceof String v) || !isLabelValue(v))) {
        causes.add(invalidValue(path, String.valueOf(e.getValue()), "a valid label must be an empty string or "
            + "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
            + "character"));
      }
    }
  }

  /**
   * A label selector as kube's metav1 validation checks it: matchLabels keys and values, and each
   * matchExpressions' key, operator (In, NotIn with values; Exists, DoesNotExist without) and values.
   */
  public static void validateLabelSelector(JsonObject selector, String path, List<ApiError.Cause> causes) {
    if (selector == null) return;
    if (selector.getValue("matchLabels") instanceof JsonObject labels) {
      validateStringMap(labels, path + ".matchLabels", true, causes);
    }
    JsonArray expressions = selector.getValue("matchExpressions") instanceof JsonArray a ? a : new JsonArray();
    for (int i = 0; i < expressions.size(); i++) {
      if (!(expressions.getValue(i) instanceof JsonObject e)) continue;
      String at = path + ".matchExpressions[" + i + "]";
      String key = e.getString("key", "");
      if (!isQualifiedName(key)) {
        causes.add(invalidValue(at + ".key", key, "name part must consist of alphanumeric characters, '-', '_' or "
            + "'.', and must start and end with an alphanumeric character"));
      }
      JsonArray values = e.getValue("values") instanceof JsonArray v ? v : new JsonArray();
      String op = e.getString("operator", "");
      switch (op) {
        case "In", "NotIn" -> {
          if (values.isEmpty()) {
            causes.add(required(at + ".values", "Required value: must be specified when `operator` is 'In' or 'NotIn'"));
          }
        }
        case "Exists", "DoesNotExist" -> {
          if (!values.isEmpty()) {
            causes.add(new ApiError.Cause(at + ".values", "FieldValueForbidden",
                "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
          }
        }
        default -> causes.add(invalidValue(at + ".operator", op, "not a valid selector operator"));
      }
      for (int j = 0; j < values.size(); j++) {
        String v = String.valueOf(values.getValue(j));
        if (!isLabelValue(v)) {
          causes.add(invalidValue(at + ".values[" + j + "]", v, "a valid label must be an empty string or consist of "
              + "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
        }
      }
    }
  }

  private static void validatePodSpec(JsonObject spec, String path, List<ApiError.Cause> causes) {
    validatePodSpec(spec, path, Set.of(), causes);
  }

  /** {@code claimVolumes}: names the containers may mount besides the pod's volumes (a StatefulSet's claims). */
  private static void validatePodSpec(JsonObject spec, String path, Set<String> claimVolumes,
                                      List<ApiError.Cause> causes) {
    if (spec == null) {
      causes.add(required(path + ".containers", "Required value"));
      return;
    }
    JsonArray containers = spec.getJsonArray("containers");
    if (containers == null || containers.isEmpty()) {
      causes.add(required(path + ".containers", "Required value"));
      return;
    }
    Set<String> names = new HashSet<>();
    validateContainers(spec.getJsonArray("initContainers", new JsonArray()), path + ".initContainers", names, causes);
    validateContainers(containers, path + ".containers", names, causes);
    JsonArray ephemeral = spec.getValue("ephemeralContainers") instanceof JsonArray a ? a : new JsonArray();
    validateContainers(ephemeral, path + ".ephemeralContainers", names, causes);
    for (int i = 0; i < ephemeral.size(); i++) {
      // What an ephemeral container may not have, in kube's words.
      for (String f : List.of("ports", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "resources",
          "restartPolicy")) {
        Object v = ephemeral.getJsonObject(i).getValue(f);
        boolean set = v instanceof JsonArray a ? !a.isEmpty() : v instanceof JsonObject o ? !o.isEmpty() : v != null;
        if (set) {
          causes.add(new ApiError.Cause(path + ".ephemeralContainers[" + i + "]." + f, "FieldValueForbidden",
              "Forbidden: cannot be set for an Ephemeral Container"));
        }
      }
    }
    Set<String> volumes = validateVolumes(spec.getJsonArray("volumes", new JsonArray()), path + ".volumes", causes);
    volumes.addAll(claimVolumes);
    for (String kind : List.of("initContainers", "containers")) {
      JsonArray list = spec.getValue(kind) instanceof JsonArray a ? a : new JsonArray();
      for (int i = 0; i < list.size(); i++) {
        if (list.getValue(i) instanceof JsonObject c) {
          validateEnvAndMounts(c, path + "." + kind + "[" + i + "]", volumes, causes);
        }
      }
    }
    String policy = spec.getString("restartPolicy");
    if (policy != null && !Set.of("Always", "OnFailure", "Never").contains(policy)) {
      causes.add(new ApiError.Cause(path + ".restartPolicy", "FieldValueNotSupported",
          "Unsupported value: \"" + policy + "\": supported values: \"Always\", \"OnFailure\", \"Never\""));
    }
  }

  private static final Set<String> VOLUME_SOURCES = Set.of("hostPath", "emptyDir", "gcePersistentDisk",
      "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi", "glusterfs", "persistentVolumeClaim", "rbd",
      "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume",
      "quobyte", "azureDisk", "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi",
      "ephemeral", "image");

  /** A pod's volumes: unique names, exactly one source each (kube's messages). The names, for the mounts. */
  private static Set<String> validateVolumes(JsonArray list, String path, List<ApiError.Cause> causes) {
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String p = path + "[" + i + "]";
      if (!(list.getValue(i) instanceof JsonObject v)) continue;
      uniqueLabelName(v.getString("name"), p + ".name", names, causes);
      long sources = v.fieldNames().stream().filter(VOLUME_SOURCES::contains).count();
      if (sources == 0) {
        causes.add(required(p, "Required value: must specify a volume type"));
      } else if (sources > 1) {
        causes.add(new ApiError.Cause(p, "FieldValueForbidden", "Forbidden: may not specify more than 1 volume type"));
      }
      requireName(v.getValue("configMap"), "name", p + ".configMap", causes);
      requireName(v.getValue("secret"), "secretName", p + ".secret", causes);
      if (v.getValue("projected") instanceof JsonObject projected
          && projected.getValue("sources") instanceof JsonArray projectedSources) {
        for (int j = 0; j < projectedSources.size(); j++) {
          if (!(projectedSources.getValue(j) instanceof JsonObject source)) continue;
          String sp = p + ".projected.sources[" + j + "]";
          requireName(source.getValue("configMap"), "name", sp + ".configMap", causes);
          requireName(source.getValue("secret"), "name", sp + ".secret", causes);
        }
      }
    }
    return names;
  }

  /** A reference to a ConfigMap or Secret names it (kube: "Required value"; the node could not find it else). */
  private static void requireName(Object ref, String field, String path, List<ApiError.Cause> causes) {
    if (ref instanceof JsonObject o && o.getString(field, "").isEmpty()) {
      causes.add(required(path + "." + field, "Required value"));
    }
  }

  private static final Set<String> ENV_FIELD_PATHS = Set.of("metadata.name", "metadata.namespace", "metadata.uid",
      "metadata.labels", "metadata.annotations", "spec.nodeName", "spec.serviceAccountName", "status.hostIP",
      "status.hostIPs", "status.podIP", "status.podIPs");

  /** A container's env (names, one source) and volume mounts (of a volume the pod has, at distinct paths). */
  private static void validateEnvAndMounts(JsonObject c, String path, Set<String> volumes, List<ApiError.Cause> causes) {
    JsonArray env = c.getValue("env") instanceof JsonArray a ? a : new JsonArray();
    for (int i = 0; i < env.size(); i++) {
      if (!(env.getValue(i) instanceof JsonObject e)) continue;
      String p = path + ".env[" + i + "]";
      if (e.getString("name", "").isEmpty()) causes.add(required(p + ".name", "Required value"));
      if (e.getValue("valueFrom") instanceof JsonObject from) {
        if (!e.getString("value", "").isEmpty()) {
          causes.add(invalidValue(p + ".valueFrom", "", "may not be specified when `value` is not empty"));
        }
        requireName(from.getValue("configMapKeyRef"), "name", p + ".valueFrom.configMapKeyRef", causes);
        requireName(from.getValue("secretKeyRef"), "name", p + ".valueFrom.secretKeyRef", causes);
        if (from.getValue("fieldRef") instanceof JsonObject ref) {
          String fieldPath = ref.getString("fieldPath", "");
          boolean labelOrAnnotation = fieldPath.matches("metadata\\.(labels|annotations)\\['[^']+'\\]");
          if (!ENV_FIELD_PATHS.contains(fieldPath) && !labelOrAnnotation) {
            causes.add(new ApiError.Cause(p + ".valueFrom.fieldRef.fieldPath", "FieldValueNotSupported",
                "Unsupported value: \"" + fieldPath + "\": supported values: " + String.join(", ",
                    ENV_FIELD_PATHS.stream().sorted().map(f -> "\"" + f + "\"").toList())));
          }
        }
      }
    }
    JsonArray envFrom = c.getValue("envFrom") instanceof JsonArray a ? a : new JsonArray();
    for (int i = 0; i < envFrom.size(); i++) {
      if (!(envFrom.getValue(i) instanceof JsonObject e)) continue;
      requireName(e.getValue("configMapRef"), "name", path + ".envFrom[" + i + "].configMapRef", causes);
      requireName(e.getValue("secretRef"), "name", path + ".envFrom[" + i + "].secretRef", causes);
    }
    JsonArray mounts = c.getValue("volumeMounts") instanceof JsonArray a ? a : new JsonArray();
    Set<String> paths = new HashSet<>();
    for (int i = 0; i < mounts.size(); i++) {
      if (!(mounts.getValue(i) instanceof JsonObject m)) continue;
      String p = path + ".volumeMounts[" + i + "]";
      String name = m.getString("name", "");
      if (name.isEmpty()) {
        causes.add(required(p + ".name", "Required value"));
      } else if (!volumes.contains(name)) {
        causes.add(new ApiError.Cause(p + ".name", "FieldValueNotFound", "Not found: \"" + name + "\""));
      }
      String mountPath = m.getString("mountPath", "");
      if (mountPath.isEmpty()) {
        causes.add(required(p + ".mountPath", "Required value"));
      } else if (!paths.add(mountPath)) {
        causes.add(invalidValue(p + ".mountPath", mountPath, "must be unique"));
      }
    }
  }

  /** Deployments, ReplicaSets, StatefulSets, DaemonSets and RCs: a selector that selects the template. */
  private static void validateWorkload(JsonObject obj, List<ApiError.Cause> causes) {
    JsonObject spec = obj.getJsonObject("spec");
    if (spec == null) {
      causes.add(required("spec.selector", "Required value"));
      return;
    }
    Integer replicas = spec.getValue("replicas") instanceof Number n ? n.intValue() : null;
    if (replicas != null && replicas < 0) {
      causes.add(invalidNumber("spec.replicas", replicas, "must be greater than or equal to 0"));
    }
    if ("Deployment".equals(obj.getString("kind")) && spec.getValue("strategy") instanceof JsonObject strategy) {
      String type = strategy.getString("type", "");
      if (type.equals("Recreate") && strategy.getValue("rollingUpdate") != null) {
        causes.add(new ApiError.Cause("spec.strategy.rollingUpdate", "FieldValueForbidden",
            "Forbidden: may not be specified when strategy `type` is 'Recreate'"));
      } else if (!type.equals("Recreate") && !type.equals("RollingUpdate")) {
        causes.add(new ApiError.Cause("spec.strategy.type", "FieldValueNotSupported",
            "Unsupported value: \"" + type + "\": supported values: \"Recreate\", \"RollingUpdate\""));
      }
    }
    JsonObject template = spec.getJsonObject("template");
    JsonObject labels = template == null ? null
        : template.getJsonObject("metadata", new JsonObject()).getJsonObject("labels");
    boolean rc = obj.getString("kind", "").equals("ReplicationController");
    Object selectorValue = spec.getValue("selector");
    if (selectorValue == null) {
      causes.add(required("spec.selector", "Required value"));
    } else if (template != null) {
      LabelSelector selector = rc ? LabelSelector.fromMatchLabels((JsonObject) selectorValue)
          : LabelSelector.fromJson((JsonObject) selectorValue);
      if (selector.isEmpty()) {
        causes.add(invalidValue("spec.selector", "null", "empty selector is invalid for deployment"));
      } else if (!selector.matches(labels == null ? Map.of() : Meta.stringMap(labels))) {
        causes.add(invalidValue("spec.template.metadata.labels", labels == null ? "null" : labels.encode(),
            "`selector` does not match template `labels`"));
      }
    }
    if (template == null) {
      if (!rc) causes.add(required("spec.template", "Required value"));
    } else {
      if (labels != null) validateStringMap(labels, "spec.template.metadata.labels", true, causes);
      // A StatefulSet's containers also mount its volumeClaimTemplates by name.
      Set<String> claims = new HashSet<>();
      JsonArray claimTemplates = obj.getJsonObject("spec", new JsonObject()).getJsonArray("volumeClaimTemplates",
          new JsonArray());
      for (int i = 0; i < claimTemplates.size(); i++) {
        if (!(claimTemplates.getValue(i) instanceof JsonObject c)) continue;
        claims.add(Meta.name(c));
        validateClaimSpec(c.getJsonObject("spec", new JsonObject()), "spec.volumeClaimTemplates[" + i + "].spec",
            causes);
      }
      validatePodSpec(template.getJsonObject("spec"), "spec.template.spec", claims, causes);
      String policy = template.getJsonObject("spec", new JsonObject()).getString("restartPolicy", "Always");
      if (!policy.equals("Always")) {
        causes.add(new ApiError.Cause("spec.template.spec.restartPolicy", "FieldValueNotSupported",
            "Unsupported value: \"" + policy + "\": supported values: \"Always\""));
      }
    }
  }

  /**
   * A Job needs a selector (generated unless spec.manualSelector) and, generated or not, it must select
   * the template's pods, or the Job controller would release every pod it creates; a CronJob's
   * jobTemplate gets its selector when its Jobs are made.
   */
  private static void validateJob(JsonObject spec, String path, boolean requireSelector, List<ApiError.Cause> causes) {
    if (spec == null || spec.getJsonObject("template") == null) {
      causes.add(required(path + ".template", "Required value"));
      return;
    }
    Object selector = spec.getValue("selector");
    if (selector == null && requireSelector) {
      causes.add(required(path + ".selector", "Required value"));
    } else if (selector instanceof JsonObject sel) {
      JsonObject labels = spec.getJsonObject("template").getJsonObject("metadata", new JsonObject())
          .getJsonObject("labels");
      if (!LabelSelector.fromJson(sel).matches(labels == null ? Map.of() : Meta.stringMap(labels))) {
        causes.add(invalidValue(path + ".template.metadata.labels", labels == null ? "null" : labels.encode(),
            "`selector` does not match template `labels`"));
      }
    }
    for (String f : List.of("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds")) {
      if (spec.getValue(f) instanceof Number n && n.longValue() < 0) {
        causes.add(invalidValue(path + "." + f, n.toString(), "must be greater than or equal to 0"));
      }
    }
    JsonObject podSpec = spec.getJsonObject("template").getJsonObject("spec");
    validatePodSpec(podSpec, path + ".template.spec", causes);
    String policy = podSpec == null ? null : podSpec.getString("restartPolicy");
    if (policy == null) {
      causes.add(required(path + ".template.spec.restartPolicy", "Required value: valid values: \"OnFailure\", "
          + "\"Never\""));
    } else if (!policy.equals("OnFailure") && !policy.equals("Never")) {
      causes.add(new ApiError.Cause(path + ".template.spec.restartPolicy", "FieldValueNotSupported",
          "Unsupported value: \"" + policy + "\": supported values: \"OnFailure\", \"Never\""));
    }
  }

  private static void validateCronJob(JsonObject obj, List<ApiError.Cause> causes) {
    JsonObject spec = obj.getJsonObject("spec", new JsonObject());
    String schedule = spec.getString("schedule");
    if (schedule == null || schedule.isBlank()) {
      causes.add(required("spec.schedule", "Required value"));
    } else if (!CronSchedule.isValid(schedule)) {
      causes.add(invalidValue("spec.schedule", schedule, "unparseable cron expression"));
    }
    JsonObject jt = spec.getJsonObject("jobTemplate");
    validateJob(jt == null ? null : jt.getJsonObject("spec"), "spec.jobTemplate.spec", false, causes);
  }

  private static final Set<String> SERVICE_TYPES = Set.of("ClusterIP", "NodePort", "LoadBalancer", "ExternalName");

  private static void validateService(JsonObject obj, List<ApiError.Cause> causes) {
    JsonObject spec = obj.getJsonObject("spec", new JsonObject());
    String type = spec.getString("type", "ClusterIP");
    if (!SERVICE_TYPES.contains(type)) {
      causes.add(new ApiError.Cause("spec.type", "FieldValueNotSupported", "Unsupported value: \"" + type
          + "\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""));
    }
    JsonArray ports = spec.getJsonArray("ports", new JsonArray());
    boolean headless = "None".equals(spec.getString("clusterIP"));
    if (ports.isEmpty() && !headless && !type.equals("ExternalName")) {
      causes.add(required("spec.ports", "Required value"));
    }
    if (spec.getValue("selector") instanceof JsonObject selector) validateStringMap(selector, "spec.selector", true, causes);
    Set<String> names = new HashSet<>();
    Set<String> portsSeen = new HashSet<>();
    for (int i = 0; i < ports.size(); i++) {
      String p = "spec.ports[" + i + "]";
      if (!(ports.getValue(i) instanceof JsonObject port)) {
        causes.add(invalidValue(p, String.valueOf(ports.getValue(i)), "must be an object"));
        continue;
      }
      Object pv = port.getValue("port");
      if (!(pv instanceof Number n) || n.intValue() < 1 || n.intValue() > 65535) {
        if (pv == null || pv instanceof Number) {
          causes.add(invalidNumber(p + ".port", pv == null ? 0 : ((Number) pv).longValue(), "must be between 1 and 65535, inclusive"));
        } else {
          causes.add(invalidValue(p + ".port", String.valueOf(pv), "must be between 1 and 65535, inclusive"));
        }
      }
      String proto = port.getString("protocol", "TCP");
      if (!portsSeen.add(pv + "/" + proto)) {
        causes.add(new ApiError.Cause(p, "FieldValueDuplicate", "Duplicate value: {\"port\":" + pv + ",\"protocol\":\""
            + proto + "\"}"));
      }
      if (port.getValue("targetPort") instanceof String target && !target.matches("\\d+")
          && (target.length() > 15 || !PORT_NAME.matcher(target).matches())) {
        causes.add(invalidValue(p + ".targetPort", target, "must be no more than 15 characters and an IANA_SVC_NAME"));
      }
      if (!Set.of("TCP", "UDP", "SCTP").contains(proto)) {
        causes.add(new ApiError.Cause(p + ".protocol", "FieldValueNotSupported", "Unsupported value: \"" + proto
            + "\": supported values: \"SCTP\", \"TCP\", \"UDP\""));
      }
      String name = port.getString("name");
      if (ports.size() > 1 && (name == null || name.isEmpty())) causes.add(required(p + ".name", "Required value"));
      if (name != null && !name.isEmpty() && !names.add(name)) {
        causes.add(new ApiError.Cause(p + ".name", "FieldValueDuplicate", "Duplicate value: \"" + name + "\""));
      }
      if (port.getValue("nodePort") instanceof Number np && np.intValue() != 0
          && (np.intValue() < 30000 || np.intValue() > 32767)) {
        causes.add(invalidValue(p + ".nodePort", np.toString(), "provided port is not in the valid range. The "
            + "range of valid ports is 30000-32767"));
      }
    }
  }

  private static void validateContainers(JsonArray list, String path, Set<String> names,
                                         List<ApiError.Cause> causes) {
    for (int i = 0; i < list.size(); i++) {
      String p = path + "[" + i + "]";
      JsonObject c = list.getJsonObject(i);
      uniqueLabelName(c.getString("name"), p + ".name", names, causes);
      JsonObject resources = c.getJsonObject("resources", new JsonObject());
      for (String kind : new String[] {"limits", "requests"}) {
        for (Map.Entry<String, Object> q : resources.getJsonObject(kind, new JsonObject())) {
          String v = String.valueOf(q.getValue());
          if (!QUANTITY.matcher(v).matches()) {
            causes.add(invalidValue(p + ".resources." + kind + "[" + q.getKey() + "]", v,
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTPE]*[-+]?[0-9]*)$'"));
          }
        }
      }
      validateRequestsWithinLimits(resources, p + ".resources.requests", causes);
      String image = c.getString("image");
      if (image == null || image.isBlank()) causes.add(required(p + ".image", "Required value"));
      JsonArray ports = c.getJsonArray("ports", new JsonArray());
      for (int j = 0; j < ports.size(); j++) {
        JsonObject port = ports.getJsonObject(j);
        Integer cp = port.getInteger("containerPort");
        String pp = p + ".ports[" + j + "]";
        if (cp == null || cp < 1 || cp > 65535) {
          causes.add(invalidNumber(pp + ".containerPort", cp == null ? 0 : cp, "must be between 1 and 65535, inclusive"));
        }
        String pname = port.getString("name");
        if (pname != null && (pname.length() > 15 || !PORT_NAME.matcher(pname).matches())) {
          causes.add(invalidValue(pp + ".name", pname, "must be no more than 15 characters and an IANA_SVC_NAME"));
        }
      }
    }
  }

  /** A container's or volume's name: present, an RFC 1123 label, not taken yet among {@code names}. */
  private static void uniqueLabelName(String name, String field, Set<String> names, List<ApiError.Cause> causes) {
    if (name == null || name.isEmpty()) {
      causes.add(required(field, "Required value"));
    } else if (!isDns1123Label(name)) {
      causes.add(invalidValue(field, name, "a lowercase RFC 1123 label must consist of lower case "
          + "alphanumeric characters or '-', and must start and end with an alphanumeric character"));
    } else if (!names.add(name)) {
      causes.add(new ApiError.Cause(field, "FieldValueDuplicate", "Duplicate value: \"" + name + "\""));
    }
  }

  private static ApiError.Cause required(String field, String message) {
    return new ApiError.Cause(field, "FieldValueRequired", message);
  }

  /**
   * A request may not exceed its limit; for resources that cannot be overcommitted (extended resources such
   * as example.com/gpu, hugepages) it must equal it, in kube's words.
   */
  private static void validateRequestsWithinLimits(JsonObject resources, String path, List<ApiError.Cause> causes) {
    JsonObject limits = resources.getValue("limits") instanceof JsonObject l ? l : new JsonObject();
    JsonObject requests = resources.getValue("requests") instanceof JsonObject r ? r : new JsonObject();
    for (Map.Entry<String, Object> q : requests) {
      Object limit = limits.getValue(q.getKey());
      String request = String.valueOf(q.getValue());
      if (limit == null || !QUANTITY.matcher(request).matches() || !QUANTITY.matcher(String.valueOf(limit)).matches()) {
        continue;
      }
      int cmp;
      try {
        cmp = io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(new io.fabric8.kubernetes.api.model.Quantity(request))
            .compareTo(io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(
                new io.fabric8.kubernetes.api.model.Quantity(String.valueOf(limit))));
      } catch (RuntimeException e) {
        continue;
      }
      String name = q.getKey();
      boolean nativeResource = !name.contains("/") || name.contains("kubernetes.io/");
      boolean overcommit = nativeResource && !name.startsWith("hugepages-");
      if (cmp != 0 && !overcommit) {
        causes.add(invalidValue(path, request, "must be equal to " + name + " limit of " + limit));
      } else if (cmp > 0) {
        causes.add(invalidValue(path, request, "must be less than or equal to " + name + " limit of " + limit));
      }
    }
  }

  /**
   * What an update may not change, as kube-apiserver's update validation: a workload's selector; a Job's
   * selector, completions, completionMode and (unless suspended) template; a StatefulSet's spec beyond
   * replicas, ordinals, template, updateStrategy, revisionHistoryLimit, persistentVolumeClaimRetentionPolicy
   * and minReadySeconds;
   * the data of a ConfigMap or Secret marked immutable, and that mark.
   */
  public static List<ApiError.Cause> immutable(ResourceType type, JsonObject old, JsonObject next) {
    List<ApiError.Cause> causes = new java.util.ArrayList<>();
    JsonObject before = old.getValue("spec") instanceof JsonObject o ? o : new JsonObject();
    JsonObject after = next.getValue("spec") instanceof JsonObject o ? o : new JsonObject();
    switch (type.group() + "/" + type.kind()) {
      case "apps/Deployment", "apps/ReplicaSet", "apps/DaemonSet" -> sameField(before, after, "selector", causes);
      case "apps/StatefulSet" -> {
        sameField(before, after, "selector", causes);
        JsonObject a = before.copy();
        JsonObject b = after.copy();
        for (String f : List.of("replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit",
            "persistentVolumeClaimRetentionPolicy", "minReadySeconds", "selector")) {
          a.remove(f);
          b.remove(f);
        }
        if (!a.equals(b)) {
          causes.add(new ApiError.Cause("spec", "FieldValueForbidden", "Forbidden: updates to statefulset spec for "
              + "fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', "
              + "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
        }
      }
      case "batch/Job" -> {
        sameField(before, after, "selector", causes);
        sameField(before, after, "completions", causes);
        sameField(before, after, "completionMode", causes);
        if (!before.getBoolean("suspend", false)) sameField(before, after, "template", causes);
      }
      case "/ConfigMap", "/Secret" -> {
        if (type.kind().equals("Secret")
            && !old.getString("type", "Opaque").equals(next.getString("type", "Opaque"))) {
          causes.add(invalidValue("type", next.getString("type", "Opaque"), "field is immutable"));
        }
        if (old.getBoolean("immutable", false)) {
          if (!Boolean.TRUE.equals(next.getValue("immutable"))) {
            causes.add(new ApiError.Cause("immutable", "FieldValueForbidden",
                "Forbidden: field is immutable when `immutable` is set"));
          }
          for (String f : List.of("data", "binaryData")) {
            if (!java.util.Objects.equals(old.getValue(f), next.getValue(f))) {
              causes.add(new ApiError.Cause(f, "FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set"));
            }
          }
        }
      }
      default -> {
      }
    }
    return causes;
  }

  private static void sameField(JsonObject before, JsonObject after, String field, List<ApiError.Cause> causes) {
    Object was = before.getValue(field);
    Object now = after.getValue(field);
    if (!java.util.Objects.equals(was, now)) {
      String shown = now instanceof JsonObject o ? o.encode() : now instanceof JsonArray a ? a.encode() : String.valueOf(now);
      causes.add(new ApiError.Cause("spec." + field, "FieldValueInvalid",
          "Invalid value: " + (now instanceof String ? "\"" + shown + "\"" : shown) + ": field is immutable"));
    }
  }

  /** As Kubernetes prints a number it refuses: unquoted (a missing one is its zero value). */
  private static ApiError.Cause invalidNumber(String field, long value, String message) {
    return Causes.invalidNumber(field, value, message);
  }

  private static ApiError.Cause invalidValue(String field, String value, String message) {
    return Causes.invalid(field, value, message);
  }
}
