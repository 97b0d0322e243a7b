package io.kvx.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The registry of resource types the API server serves. Adding a built-in kind is one line here. */
public final class Resources {

  private static final String M = "io.fabric8.kubernetes.api.model.";
  /** metrics.k8s.io: read-only views computed from the nodes' cgroup statistics, never stored. */
  public static final String METRICS_GROUP = "metrics.k8s.io";
  private static final Set<String> STATUS = Set.of("status");
  private static final Set<String> NONE = Set.of();
  private static final Set<String> SCALABLE = Set.of("status", "scale");

  // Others below pick entries by index (NODES, COLLECTED, ...): a new kind goes after the stored ones at the end.
  private static final List<ResourceType> BUILT_IN = List.of(
      t("", "v1", "Pod", "pods", true, "po", Set.of("status", "log", "binding", "eviction", "exec", "attach",
          "portforward", "proxy", "ephemeralcontainers", "resize"), "all", "Pod"),
      t("", "v1", "Node", "nodes", false, "no", Set.of("status", "proxy"), null, "Node"),
      t("", "v1", "Namespace", "namespaces", false, "ns", Set.of("status", "finalize"), null, "Namespace"),
      t("", "v1", "Service", "services", true, "svc", Set.of("status", "proxy"), "all", "Service"),
      t("", "v1", "Endpoints", "endpoints", true, "ep", NONE, null, "Endpoints"),
      t("", "v1", "ConfigMap", "configmaps", true, "cm", NONE, null, "ConfigMap"),
      t("", "v1", "Secret", "secrets", true, null, NONE, null, "Secret"),
      t("", "v1", "ServiceAccount", "serviceaccounts", true, "sa", Set.of("token"), null, "ServiceAccount"),
      t("", "v1", "Event", "events", true, "ev", NONE, null, "Event"),
      t("coordination.k8s.io", "v1", "Lease", "leases", true, null, NONE, null, "coordination.v1.Lease"),
      t("", "v1", "ResourceQuota", "resourcequotas", true, "quota", STATUS, null, "ResourceQuota"),
      t("", "v1", "LimitRange", "limitranges", true, "limits", NONE, null, "LimitRange"),
      t("", "v1", "PersistentVolume", "persistentvolumes", false, "pv", STATUS, null, "PersistentVolume"),
      t("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, "pvc", STATUS, null,
          "PersistentVolumeClaim"),
      t("", "v1", "ReplicationController", "replicationcontrollers", true, "rc", SCALABLE, "all",
          "ReplicationController"),
      t("", "v1", "PodTemplate", "podtemplates", true, null, NONE, null, "PodTemplate"),
      t("apps", "v1", "Deployment", "deployments", true, "deploy", SCALABLE, "all", "apps.Deployment"),
      t("apps", "v1", "ReplicaSet", "replicasets", true, "rs", SCALABLE, "all", "apps.ReplicaSet"),
      t("apps", "v1", "StatefulSet", "statefulsets", true, "sts", SCALABLE, "all", "apps.StatefulSet"),
      t("apps", "v1", "DaemonSet", "daemonsets", true, "ds", STATUS, "all", "apps.DaemonSet"),
      t("apps", "v1", "ControllerRevision", "controllerrevisions", true, null, NONE, null,
          "apps.ControllerRevision"),
      t("batch", "v1", "Job", "jobs", true, null, STATUS, "all", "batch.v1.Job"),
      t("batch", "v1", "CronJob", "cronjobs", true, "cj", STATUS, "all", "batch.v1.CronJob"),
      t("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, "hpa", STATUS, "all",
          "autoscaling.v2.HorizontalPodAutoscaler"),
      t("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, "hpa", STATUS, "all",
          "autoscaling.v1.HorizontalPodAutoscaler"),
      t("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, "pdb", STATUS, null,
          "policy.v1.PodDisruptionBudget"),
      t("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true, null, NONE, null,
          "discovery.v1.EndpointSlice"),
      t("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false, "pc", NONE, null,
          "scheduling.v1.PriorityClass"),
      t("rbac.authorization.k8s.io", "v1", "Role", "roles", true, null, NONE, null, "rbac.Role"),
      t("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, null, NONE, null,
          "rbac.RoleBinding"),
      t("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, null, NONE, null,
          "rbac.ClusterRole"),
      t("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false, null, NONE, null,
          "rbac.ClusterRoleBinding"),
      t("events.k8s.io", "v1", "Event", "events", true, "ev", NONE, null, "events.v1.Event"),
      t("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, "crd,crds",
          STATUS, null, "apiextensions.v1.CustomResourceDefinition"),
      t("networking.k8s.io", "v1", "Ingress", "ingresses", true, "ing", STATUS, null, "networking.v1.Ingress"),
      t("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false, null, NONE, null,
          "networking.v1.IngressClass"),
      t("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, "netpol", NONE, null,
          "networking.v1.NetworkPolicy"),
      t("storage.k8s.io", "v1", "StorageClass", "storageclasses", false, "sc", NONE, null, "storage.StorageClass"),
      t("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", false, "csr",
          Set.of("status", "approval"), null, "certificates.v1.CertificateSigningRequest"),
      // Admission's configuration: the API servers call the webhooks and evaluate the policies these name.
      t("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false,
          null, NONE, "api-extensions", "admissionregistration.v1.MutatingWebhookConfiguration"),
      t("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations",
          false, null, NONE, "api-extensions", "admissionregistration.v1.ValidatingWebhookConfiguration"),
      t("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", false, null,
          STATUS, "api-extensions", "admissionregistration.v1.ValidatingAdmissionPolicy"),
      t("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings",
          false, null, NONE, "api-extensions", "admissionregistration.v1.ValidatingAdmissionPolicyBinding"),
      // Read-only, computed on request (the API server's ComponentStatuses), never stored.
      t("", "v1", "ComponentStatus", "componentstatuses", false, "cs", NONE, null, "ComponentStatus"),
      // Create only: a Binding posted to the namespace binds the pod it names, as pods/NAME/binding (custom
      // schedulers' clients, e.g. client-java's createNamespacedBinding, post here).
      t("", "v1", "Binding", "bindings", true, null, NONE, null, "Binding"),
      new ResourceType(METRICS_GROUP, "v1beta1", "NodeMetrics", "nodes", false, List.of(), NONE, List.of(), null),
      new ResourceType(METRICS_GROUP, "v1beta1", "PodMetrics", "pods", true, List.of(), NONE, List.of(), null));


  private static ResourceType t(String group, String version, String kind, String plural, boolean namespaced,
                                String shortNames, Set<String> subs, String categories, String model) {
    try {
      return new ResourceType(group, version, kind, plural, namespaced,
          shortNames == null ? List.of() : List.of(shortNames.split(",")), subs,
          categories == null ? List.of() : List.of(categories.split(",")), Class.forName(M + model));
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("fabric8 model class missing: " + model, e);
    }
  }

  private final Map<String, ResourceType> byGroupPlural = java.util.Collections.synchronizedMap(new LinkedHashMap<>());

  public Resources() {
    BUILT_IN.forEach(this::add);
  }

  public void add(ResourceType type) {
    byGroupPlural.put(type.group() + "/" + type.version() + "/" + type.plural(), type);
  }

  /** Replaces the types a CustomResourceDefinition serves (none: it was deleted). */
  public synchronized void setCustom(String crdName, List<ResourceType> types) {
    byGroupPlural.values().removeIf(t -> t.isCustom() && crdName.equals(t.custom().getString("crdName")));
    types.forEach(this::add);
  }

  public Optional<ResourceType> find(String group, String version, String plural) {
    return Optional.ofNullable(byGroupPlural.get(group + "/" + version + "/" + plural));
  }

  public ResourceType require(String group, String version, String plural) {
    return find(group, version, plural).orElseThrow(() -> new ApiError(ApiError.Reason.NotFound,
        "the server could not find the requested resource"));
  }

  public List<ResourceType> all() {
    synchronized (byGroupPlural) {
      return new ArrayList<>(byGroupPlural.values());
    }
  }

  /** Group name → versions served, in registration order; "" is the core group. */
  public Map<String, Set<String>> groups() {
    Map<String, Set<String>> out = new LinkedHashMap<>();
    for (ResourceType t : all()) {
      out.computeIfAbsent(t.group(), g -> new LinkedHashSet<>()).add(t.version());
    }
    return out;
  }

  public List<ResourceType> inGroupVersion(String group, String version) {
    return all().stream()
        .filter(t -> t.group().equals(group) && t.version().equals(version)).toList();
  }

  public static final ResourceType PODS = BUILT_IN.get(0);
  public static final ResourceType NODES = BUILT_IN.get(1);
  public static final ResourceType NAMESPACES = BUILT_IN.get(2);
  public static final ResourceType EVENTS = BUILT_IN.get(8);
  public static final ResourceType LEASES = BUILT_IN.get(9);

  /**
   * The kinds the garbage collector watches: owners and dependents whose ownerReferences it follows.
   * Foreground and orphan deletion (which wait on the collector) are offered for these.
   */
  public static final List<ResourceType> COLLECTED = List.of(BUILT_IN.get(0), BUILT_IN.get(3), BUILT_IN.get(5),
      BUILT_IN.get(6), BUILT_IN.get(7), BUILT_IN.get(13), BUILT_IN.get(14), BUILT_IN.get(16), BUILT_IN.get(17),
      BUILT_IN.get(18), BUILT_IN.get(19), BUILT_IN.get(20), BUILT_IN.get(21), BUILT_IN.get(22), BUILT_IN.get(26));

  /** A built-in type by group and plural (its first registered version). */
  public static ResourceType builtIn(String group, String plural) {
    return BUILT_IN.stream().filter(t -> t.group().equals(group) && t.plural().equals(plural)).findFirst()
        .orElseThrow();
  }
}
