package io.kvx.store;

/** Splits store keys ({@code group/plural/namespace/name}) and says which keys keep a generation. Pure. */
public final class StoreKeys {

  private StoreKeys() {
  }

  public static String group(String key) {
    String g = key.substring(0, key.indexOf('/'));
    return g.equals("core") ? "" : g;
  }

  public static String resource(String key) {
    String[] p = key.split("/", 4);
    return p[1];
  }

  public static String name(String key) {
    return key.substring(key.lastIndexOf('/') + 1);
  }

  /**
   * The kinds whose metadata.generation kube-apiserver never sets (their registry strategies leave it
   * alone): plain data and bookkeeping objects without a spec a controller observes.
   */
  private static final java.util.Set<String> NO_GENERATION = java.util.Set.of("core/configmaps", "core/secrets",
      "core/serviceaccounts", "core/nodes", "core/namespaces", "core/services", "core/endpoints", "core/events",
      "core/persistentvolumes", "core/persistentvolumeclaims", "core/resourcequotas", "core/limitranges",
      "core/podtemplates", "coordination.k8s.io/leases", "rbac.authorization.k8s.io/roles",
      "rbac.authorization.k8s.io/rolebindings", "rbac.authorization.k8s.io/clusterroles",
      "rbac.authorization.k8s.io/clusterrolebindings", "storage.k8s.io/storageclasses",
      "certificates.k8s.io/certificatesigningrequests", "scheduling.k8s.io/priorityclasses",
      "apps/controllerrevisions");

  /** Whether writes to this key keep metadata.generation (1 at creation, +1 per spec change). */
  public static boolean tracksGeneration(String key) {
    int second = key.indexOf('/', key.indexOf('/') + 1);
    return second < 0 || !NO_GENERATION.contains(key.substring(0, second));
  }

  /**
   * The generation an update of {@code old} to {@code next} gets: one more when the spec changed. A pod's
   * binding to its node (spec.nodeName) is not a change of its spec here, as with kube-apiserver, whose
   * binding subresource writes the node without the pod's update strategy.
   */
  public static long nextGeneration(String key, io.vertx.core.json.JsonObject old, io.vertx.core.json.JsonObject next) {
    long generation = io.kvx.api.Meta.meta(old).getLong("generation", 1L);
    // Marked for deletion: the generation moves once, as kube's markAsDeleting (a controller sees a new generation).
    if (!io.kvx.api.Meta.meta(old).containsKey("deletionTimestamp")
        && io.kvx.api.Meta.meta(next).containsKey("deletionTimestamp")) {
      return generation + 1;
    }
    Object before = old.getValue("spec");
    Object after = next.getValue("spec");
    if (key.startsWith("core/pods/") && before instanceof io.vertx.core.json.JsonObject b
        && after instanceof io.vertx.core.json.JsonObject a && !java.util.Objects.equals(b.getValue("nodeName"), a.getValue("nodeName"))) {
      // Shallow copies without nodeName: the rest is compared in place, not copied.
      before = new io.vertx.core.json.JsonObject(new java.util.LinkedHashMap<>(b.getMap()));
      after = new io.vertx.core.json.JsonObject(new java.util.LinkedHashMap<>(a.getMap()));
      ((io.vertx.core.json.JsonObject) before).remove("nodeName");
      ((io.vertx.core.json.JsonObject) after).remove("nodeName");
    }
    return java.util.Objects.equals(before, after) ? generation : generation + 1;
  }
}
