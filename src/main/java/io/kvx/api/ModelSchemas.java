package io.kvx.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * OpenAPI 3 schemas of fabric8's model classes, named as Kubernetes names its Go types
 * ({@code io.k8s.api.core.v1.Pod}, {@code io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta}), with the
 * strategic-merge and list extensions kubectl and server-side apply read. Built by reflection over the
 * fields fabric8 annotates with {@code @JsonProperty}. Pure; one schema per class, cached.
 */
public final class ModelSchemas {

  public static final String REF_PREFIX = "#/components/schemas/";
  public static final String META = "io.k8s.apimachinery.pkg.apis.meta.v1.";
  public static final String OBJECT_META = META + "ObjectMeta";
  public static final String QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";
  public static final String INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
  public static final String TIME = META + "Time";
  public static final String MICRO_TIME = META + "MicroTime";

  private static final String FABRIC8 = "io.fabric8.kubernetes.api.model.";

  /** fabric8 keeps apimachinery's meta/v1 types in its core package; these names belong to meta/v1. */
  private static final Set<String> META_TYPES = Set.of("ObjectMeta", "ListMeta", "LabelSelector",
      "LabelSelectorRequirement", "OwnerReference", "ManagedFieldsEntry", "FieldsV1", "Condition", "Status",
      "StatusDetails", "StatusCause", "DeleteOptions", "Preconditions", "APIResource", "APIResourceList",
      "APIGroup", "APIGroupList", "APIVersions", "GroupVersionForDiscovery", "ServerAddressByClientCIDR",
      "WatchEvent", "Duration", "MicroTime", "Time", "Patch", "GetOptions", "ListOptions", "CreateOptions",
      "UpdateOptions", "PatchOptions", "RootPaths", "TypeMeta");

  /** Types whose JSON is not the shape of their Java fields (custom (de)serializers): any value. */
  private static final Set<String> FREE_FORM = Set.of("JSONSchemaPropsOrArray", "JSONSchemaPropsOrBool",
      "JSONSchemaPropsOrStringArray", "JSON", "RawExtension", "FieldsV1");

  /** Structs Kubernetes marks atomic (x-kubernetes-map-type): server-side apply owns them whole. */
  private static final Set<String> ATOMIC_STRUCTS = Set.of("LabelSelector", "LocalObjectReference", "ObjectReference",
      "TypedLocalObjectReference", "ConfigMapKeySelector", "SecretKeySelector", "ObjectFieldSelector",
      "ResourceFieldSelector", "NodeSelector", "SecretReference");

  /** Patch strategy, merge key, list type and map keys of a field ("Type.field"), as Kubernetes declares them. */
  private record ListRule(String strategy, String mergeKey, String listType, List<String> mapKeys) {}

  private static final Map<String, ListRule> LISTS = Map.ofEntries(
      Map.entry("PodSpec.containers", named("merge")),
      Map.entry("PodSpec.initContainers", named("merge")),
      Map.entry("PodSpec.ephemeralContainers", named("merge")),
      Map.entry("PodSpec.volumes", named("merge,retainKeys")),
      Map.entry("PodSpec.imagePullSecrets", named("merge")),
      Map.entry("PodSpec.schedulingGates", named("merge")),
      Map.entry("PodSpec.resourceClaims", named("merge,retainKeys")),
      Map.entry("PodSpec.hostAliases", new ListRule("merge", "ip", "map", List.of("ip"))),
      Map.entry("PodSpec.topologySpreadConstraints", new ListRule("merge", "topologyKey", "map",
          List.of("topologyKey", "whenUnsatisfiable"))),
      Map.entry("PodSpec.tolerations", atomic()),
      Map.entry("PodSpec.readinessGates", atomic()),
      Map.entry("Container.ports", new ListRule("merge", "containerPort", "map", List.of("containerPort", "protocol"))),
      Map.entry("Container.env", named("merge")),
      Map.entry("Container.volumeMounts", new ListRule("merge", "mountPath", "map", List.of("mountPath"))),
      Map.entry("Container.volumeDevices", new ListRule("merge", "devicePath", "map", List.of("devicePath"))),
      Map.entry("Container.envFrom", atomic()),
      Map.entry("Container.args", atomic()),
      Map.entry("Container.command", atomic()),
      Map.entry("EphemeralContainer.ports", new ListRule("merge", "containerPort", "map",
          List.of("containerPort", "protocol"))),
      Map.entry("EphemeralContainer.env", named("merge")),
      Map.entry("EphemeralContainer.volumeMounts", new ListRule("merge", "mountPath", "map", List.of("mountPath"))),
      Map.entry("EphemeralContainer.volumeDevices", new ListRule("merge", "devicePath", "map",
          List.of("devicePath"))),
      Map.entry("PodStatus.podIPs", new ListRule("merge", "ip", "map", List.of("ip"))),
      Map.entry("PodStatus.hostIPs", new ListRule("merge", "ip", "map", List.of("ip"))),
      Map.entry("PodStatus.containerStatuses", atomic()),
      Map.entry("PodStatus.initContainerStatuses", atomic()),
      Map.entry("PodStatus.resourceClaimStatuses", named("merge,retainKeys")),
      Map.entry("ResourceRequirements.claims", new ListRule(null, null, "map", List.of("name"))),
      Map.entry("ObjectMeta.finalizers", new ListRule("merge", null, "set", null)),
      Map.entry("ObjectMeta.ownerReferences", new ListRule("merge", "uid", "map", List.of("uid"))),
      Map.entry("ObjectMeta.managedFields", atomic()),
      Map.entry("ServiceSpec.ports", new ListRule("merge", "port", "map", List.of("port", "protocol"))),
      Map.entry("ServiceSpec.clusterIPs", atomic()),
      Map.entry("ServiceSpec.externalIPs", atomic()),
      Map.entry("ServiceSpec.ipFamilies", atomic()),
      Map.entry("NodeSpec.podCIDRs", new ListRule("merge", null, "set", null)),
      Map.entry("NodeSpec.taints", atomic()),
      Map.entry("NodeStatus.addresses", new ListRule("merge", "type", "map", List.of("type"))),
      Map.entry("ServiceAccount.secrets", named("merge")),
      Map.entry("JobStatus.conditions", new ListRule("merge", "type", "atomic", null)),
      Map.entry("LabelSelector.matchExpressions", atomic()),
      Map.entry("NodeSelectorTerm.matchExpressions", atomic()),
      Map.entry("NodeSelectorTerm.matchFields", atomic()),
      Map.entry("PolicyRule.verbs", atomic()),
      Map.entry("ClusterRole.rules", atomic()),
      Map.entry("Role.rules", atomic()),
      Map.entry("RoleBinding.subjects", atomic()),
      Map.entry("ClusterRoleBinding.subjects", atomic()),
      Map.entry("EndpointSlice.endpoints", atomic()),
      Map.entry("EndpointSlice.ports", atomic()),
      Map.entry("IngressSpec.rules", atomic()),
      Map.entry("IngressSpec.tls", atomic()),
      Map.entry("CustomResourceDefinitionSpec.versions", atomic()),
      Map.entry("MutatingWebhookConfiguration.webhooks", named("merge")),
      Map.entry("ValidatingWebhookConfiguration.webhooks", named("merge")));

  /**
   * Struct fields with a patch strategy: a Deployment's strategy keeps only the keys a patch's $retainKeys
   * names (kubectl sends it when the type changes, so RollingUpdate's parameters go with Recreate).
   */
  private static final Map<String, String> STRUCT_STRATEGIES = Map.of("DeploymentSpec.strategy", "retainKeys");

  /** Fields a type requires, as Kubernetes' schemas mark them. */
  private static final Map<String, List<String>> REQUIRED = Map.ofEntries(
      Map.entry("PodSpec", List.of("containers")),
      Map.entry("Container", List.of("name")),
      Map.entry("EphemeralContainer", List.of("name")),
      Map.entry("ContainerPort", List.of("containerPort")),
      Map.entry("EnvVar", List.of("name")),
      Map.entry("Volume", List.of("name")),
      Map.entry("VolumeMount", List.of("name", "mountPath")),
      Map.entry("VolumeDevice", List.of("name", "devicePath")),
      Map.entry("KeyToPath", List.of("key", "path")),
      Map.entry("ConfigMapKeySelector", List.of("key")),
      Map.entry("SecretKeySelector", List.of("key")),
      Map.entry("ObjectFieldSelector", List.of("fieldPath")),
      Map.entry("ResourceFieldSelector", List.of("resource")),
      Map.entry("HTTPGetAction", List.of("port")),
      Map.entry("TCPSocketAction", List.of("port")),
      Map.entry("GRPCAction", List.of("port")),
      Map.entry("ServicePort", List.of("port")),
      Map.entry("Taint", List.of("key", "effect")),
      Map.entry("NodeSelector", List.of("nodeSelectorTerms")),
      Map.entry("NodeSelectorRequirement", List.of("key", "operator")),
      Map.entry("PodAffinityTerm", List.of("topologyKey")),
      Map.entry("WeightedPodAffinityTerm", List.of("weight", "podAffinityTerm")),
      Map.entry("PreferredSchedulingTerm", List.of("weight", "preference")),
      Map.entry("TopologySpreadConstraint", List.of("maxSkew", "topologyKey", "whenUnsatisfiable")),
      Map.entry("OwnerReference", List.of("apiVersion", "kind", "name", "uid")),
      Map.entry("LabelSelectorRequirement", List.of("key", "operator")),
      Map.entry("Condition", List.of("type", "status", "lastTransitionTime", "reason", "message")),
      Map.entry("DeploymentSpec", List.of("selector", "template")),
      Map.entry("ReplicaSetSpec", List.of("selector")),
      Map.entry("StatefulSetSpec", List.of("selector", "template")),
      Map.entry("DaemonSetSpec", List.of("selector", "template")),
      Map.entry("JobSpec", List.of("template")),
      Map.entry("CronJobSpec", List.of("schedule", "jobTemplate")),
      Map.entry("CrossVersionObjectReference", List.of("kind", "name")),
      Map.entry("HorizontalPodAutoscalerSpec", List.of("scaleTargetRef", "maxReplicas")),
      Map.entry("PolicyRule", List.of("verbs")),
      Map.entry("Subject", List.of("kind", "name")),
      Map.entry("RoleRef", List.of("apiGroup", "kind", "name")),
      Map.entry("RoleBinding", List.of("roleRef")),
      Map.entry("ClusterRoleBinding", List.of("roleRef")),
      Map.entry("PriorityClass", List.of("value")),
      Map.entry("EndpointSlice", List.of("addressType", "endpoints")),
      Map.entry("Endpoint", List.of("addresses")),
      Map.entry("StorageClass", List.of("provisioner")),
      Map.entry("CustomResourceDefinitionSpec", List.of("group", "names", "scope", "versions")),
      Map.entry("CustomResourceDefinitionNames", List.of("plural", "kind")),
      Map.entry("CustomResourceDefinitionVersion", List.of("name", "served", "storage")));

  private static final Map<Class<?>, JsonObject> CACHE = new ConcurrentHashMap<>();

  private ModelSchemas() {
  }

  private static ListRule named(String strategy) {
    return new ListRule(strategy, "name", "map", List.of("name"));
  }

  private static ListRule atomic() {
    return new ListRule(null, null, "atomic", null);
  }

  /** The Kubernetes name of a fabric8 model class. */
  public static String name(Class<?> c) {
    String simple = c.getSimpleName();
    switch (simple) {
      case "Quantity" -> {
        return QUANTITY;
      }
      case "IntOrString" -> {
        return INT_OR_STRING;
      }
      case "RawExtension" -> {
        return "io.k8s.apimachinery.pkg.runtime.RawExtension";
      }
      default -> {
      }
    }
    String pkg = c.getPackageName();
    if (pkg.equals(FABRIC8.substring(0, FABRIC8.length() - 1))) {
      return (META_TYPES.contains(simple) ? META : "io.k8s.api.core.v1.") + simple;
    }
    String rest = pkg.startsWith(FABRIC8) ? pkg.substring(FABRIC8.length()) : pkg;
    if (!rest.matches(".*\\.v\\d+((alpha|beta)\\d+)?$")) rest = rest + ".v1";
    if (rest.startsWith("apiextensions.")) return "io.k8s.apiextensions-apiserver.pkg.apis." + rest + "." + simple;
    return "io.k8s.api." + rest + "." + simple;
  }

  public static JsonObject ref(String name) {
    return new JsonObject().put("$ref", REF_PREFIX + name);
  }

  /**
   * Adds the schema of {@code model} and of every type it references to {@code out} (name → schema),
   * and returns the model's name.
   */
  public static String collect(Class<?> model, Map<String, JsonObject> out) {
    String name = name(model);
    if (out.containsKey(name)) return name;
    JsonObject schema = schema(model);
    out.put(name, schema);
    String encoded = schema.encode();
    // fabric8 models timestamps as strings; Kubernetes names their type.
    if (encoded.contains(REF_PREFIX + TIME + "\"")) out.putIfAbsent(TIME, timeSchema());
    if (encoded.contains(REF_PREFIX + MICRO_TIME + "\"")) out.putIfAbsent(MICRO_TIME, timeSchema());
    for (Class<?> c : references(model)) collect(c, out);
    return name;
  }

  /** Every schema of the given models and what they reference, by name. */
  public static Map<String, JsonObject> closure(Iterable<Class<?>> models) {
    Map<String, JsonObject> out = new TreeMap<>();
    for (Class<?> c : models) collect(c, out);
    return out;
  }

  /** The schema of one class (a copy: callers may add to it). */
  public static JsonObject schema(Class<?> model) {
    return CACHE.computeIfAbsent(model, ModelSchemas::build).copy();
  }

  private static JsonObject build(Class<?> model) {
    String simple = model.getSimpleName();
    switch (simple) {
      case "Quantity" -> {
        return new JsonObject().put("format", "quantity").put("oneOf",
            new JsonArray().add(type("string")).add(type("number")));
      }
      case "IntOrString" -> {
        return new JsonObject().put("format", "int-or-string").put("oneOf",
            new JsonArray().add(type("integer")).add(type("string")));
      }
      case "MicroTime" -> {
        return timeSchema();
      }
      case "Duration" -> {
        return type("string");
      }
      default -> {
      }
    }
    if (FREE_FORM.contains(simple)) {
      return new JsonObject().put("x-kubernetes-preserve-unknown-fields", true);
    }
    Map<String, JsonObject> sorted = new TreeMap<>();
    for (Field f : fields(model)) {
      String prop = f.getAnnotation(JsonProperty.class).value();
      JsonObject s = property(prop, f.getGenericType());
      ListRule rule = LISTS.get(simple + "." + prop);
      if (rule == null && prop.equals("conditions") && "array".equals(s.getString("type"))) {
        rule = new ListRule("merge", "type", "map", List.of("type"));
      }
      String structStrategy = STRUCT_STRATEGIES.get(simple + "." + prop);
      if (structStrategy != null && s.containsKey("$ref")) {
        // As Kubernetes' OpenAPI v3 carries a strategy beside a reference: the reference wrapped in allOf.
        s = new JsonObject().put("allOf", new JsonArray().add(s)).put("x-kubernetes-patch-strategy", structStrategy);
      }
      if (rule != null && "array".equals(s.getString("type"))) {
        if (rule.strategy != null) s.put("x-kubernetes-patch-strategy", rule.strategy);
        if (rule.mergeKey != null) s.put("x-kubernetes-patch-merge-key", rule.mergeKey);
        s.put("x-kubernetes-list-type", rule.listType);
        if (rule.mapKeys != null) s.put("x-kubernetes-list-map-keys", new JsonArray(rule.mapKeys));
      }
      sorted.put(prop, s);
    }
    JsonObject props = new JsonObject();
    sorted.forEach(props::put);
    JsonObject schema = type("object");
    if (props.isEmpty()) return schema;
    schema.put("properties", props);
    if (ATOMIC_STRUCTS.contains(simple)) schema.put("x-kubernetes-map-type", "atomic");
    List<String> required = REQUIRED.get(simple);
    if (required != null) {
      JsonArray req = new JsonArray();
      required.stream().filter(props::containsKey).forEach(req::add);
      if (!req.isEmpty()) schema.put("required", req);
    }
    return schema;
  }

  private static List<Field> fields(Class<?> model) {
    List<Field> out = new java.util.ArrayList<>();
    for (Class<?> c = model; c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers()) || f.getAnnotation(JsonProperty.class) == null) continue;
        String prop = f.getAnnotation(JsonProperty.class).value();
        if (prop.isEmpty()) continue;
        out.add(f);
      }
    }
    return out;
  }

  private static JsonObject property(String prop, Type t) {
    if (t == String.class && isTimeField(prop)) {
      return ref(prop.equals("eventTime") || prop.equals("renewTime") || prop.equals("acquireTime")
          ? MICRO_TIME : TIME);
    }
    return typeSchema(t);
  }

  private static boolean isTimeField(String prop) {
    return prop.endsWith("Timestamp") || (prop.endsWith("Time") && !prop.equals("runtime"))
        || prop.equals("startedAt") || prop.equals("finishedAt") || prop.equals("time");
  }

  private static JsonObject typeSchema(Type t) {
    if (t instanceof WildcardType w) return typeSchema(w.getUpperBounds()[0]);
    if (t instanceof ParameterizedType p) {
      Class<?> raw = (Class<?>) p.getRawType();
      Type[] args = p.getActualTypeArguments();
      if (List.class.isAssignableFrom(raw) || Set.class.isAssignableFrom(raw)) {
        return type("array").put("items", typeSchema(args[0]));
      }
      if (Map.class.isAssignableFrom(raw)) {
        return type("object").put("additionalProperties", typeSchema(args[1]));
      }
      return typeSchema(raw);
    }
    if (!(t instanceof Class<?> c)) return anything();
    if (c == String.class) return type("string");
    if (c == Integer.class || c == int.class || c == Short.class) return type("integer").put("format", "int32");
    if (c == Long.class || c == long.class) return type("integer").put("format", "int64");
    if (c == Boolean.class || c == boolean.class) return type("boolean");
    if (c == Double.class || c == double.class || c == Float.class || c == float.class) {
      return type("number").put("format", "double");
    }
    if (c == byte[].class) return type("string").put("format", "byte");
    if (c.isEnum()) return type("string");
    if (c.isArray()) return type("array").put("items", typeSchema(c.getComponentType()));
    if (isModel(c)) return ref(name(c));
    return anything();
  }

  /** A concrete fabric8 model class (interfaces such as KubernetesResource mean "any object"). */
  private static boolean isModel(Class<?> c) {
    return c.getName().startsWith(FABRIC8) && !c.isInterface() && !Modifier.isAbstract(c.getModifiers());
  }

  private static List<Class<?>> references(Class<?> model) {
    if (FREE_FORM.contains(model.getSimpleName())) return List.of();
    List<Class<?>> out = new java.util.ArrayList<>();
    for (Field f : fields(model)) addModels(f.getGenericType(), out);
    return out;
  }

  private static void addModels(Type t, List<Class<?>> out) {
    if (t instanceof WildcardType w) {
      addModels(w.getUpperBounds()[0], out);
    } else if (t instanceof ParameterizedType p) {
      for (Type a : p.getActualTypeArguments()) addModels(a, out);
    } else if (t instanceof Class<?> c) {
      if (c.isArray()) addModels(c.getComponentType(), out);
      else if (isModel(c)) out.add(c);
    }
  }

  private static JsonObject timeSchema() {
    return type("string").put("format", "date-time");
  }

  private static JsonObject type(String type) {
    return new JsonObject().put("type", type);
  }

  private static JsonObject anything() {
    return new JsonObject().put("type", "object").put("x-kubernetes-preserve-unknown-fields", true);
  }
}
