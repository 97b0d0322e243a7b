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

  /** The generation an update of {@code old} to {@code next} gets: one more when the spec changed. */
  public static long nextGeneration(io.vertx.core.json.JsonObject old, io.vertx.core.json.JsonObject next) {
    long generation = io.kvx.api.Meta.meta(old).getLong("generation", 1L);
    return java.util.Objects.equals(old.getValue("spec"), next.getValue("spec")) ? generation : generation + 1;
  }
}
