package io.kvx.api;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The registry of resource types the API server serves. Adding a built-in kind is one line here. */
public final class Resources {

  private static final List<ResourceType> BUILT_IN = List.of(
      core("Pod", "pods", true, List.of("po"), Set.of("status", "log", "binding"), List.of("all"), Pod.class),
      core("Node", "nodes", false, List.of("no"), Set.of("status"), List.of(), Node.class),
      core("Namespace", "namespaces", false, List.of("ns"), Set.of("status"), List.of(), Namespace.class),
      core("Service", "services", true, List.of("svc"), Set.of("status"), List.of("all"), Service.class),
      core("Endpoints", "endpoints", true, List.of("ep"), Set.of(), List.of(), Endpoints.class),
      core("ConfigMap", "configmaps", true, List.of("cm"), Set.of(), List.of(), ConfigMap.class),
      core("Secret", "secrets", true, List.of(), Set.of(), List.of(), Secret.class),
      core("ServiceAccount", "serviceaccounts", true, List.of("sa"), Set.of(), List.of(), ServiceAccount.class),
      core("Event", "events", true, List.of("ev"), Set.of(), List.of(), Event.class),
      new ResourceType("coordination.k8s.io", "v1", "Lease", "leases", true, List.of(), Set.of(), List.of(),
          Lease.class));

  private final Map<String, ResourceType> byGroupPlural = new LinkedHashMap<>();

  public Resources() {
    BUILT_IN.forEach(this::add);
  }

  private static ResourceType core(String kind, String plural, boolean namespaced, List<String> shortNames,
                                   Set<String> subs, List<String> categories, Class<?> model) {
    return new ResourceType("", "v1", kind, plural, namespaced, shortNames, subs, categories, model);
  }

  public void add(ResourceType type) {
    byGroupPlural.put(type.group() + "/" + type.version() + "/" + type.plural(), type);
  }

  public Optional<ResourceType> find(String group, String version, String plural) {
    return Optional.ofNullable(byGroupPlural.get(group + "/" + version + "/" + plural));
  }

  public ResourceType require(String group, String version, String plural) {
    return find(group, version, plural).orElseThrow(() -> new ApiError(ApiError.Reason.NotFound,
        "the server could not find the requested resource"));
  }

  public List<ResourceType> all() {
    return new ArrayList<>(byGroupPlural.values());
  }

  /** Group name → versions served, in registration order; "" is the core group. */
  public Map<String, Set<String>> groups() {
    Map<String, Set<String>> out = new LinkedHashMap<>();
    for (ResourceType t : byGroupPlural.values()) {
      out.computeIfAbsent(t.group(), g -> new LinkedHashSet<>()).add(t.version());
    }
    return out;
  }

  public List<ResourceType> inGroupVersion(String group, String version) {
    return byGroupPlural.values().stream()
        .filter(t -> t.group().equals(group) && t.version().equals(version)).toList();
  }

  public static final ResourceType PODS = BUILT_IN.get(0);
  public static final ResourceType NODES = BUILT_IN.get(1);
  public static final ResourceType NAMESPACES = BUILT_IN.get(2);
  public static final ResourceType EVENTS = BUILT_IN.get(8);
  public static final ResourceType LEASES = BUILT_IN.get(9);
}
