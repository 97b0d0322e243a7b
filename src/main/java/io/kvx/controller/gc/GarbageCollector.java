package io.kvx.controller.gc;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.client.ApiClient;
import io.kvx.controller.Cache;
import io.kvx.controller.Reconciler;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Garbage collection by ownerReferences, as kube-controller-manager's collector does it: a dependent
 * whose owners are all gone is deleted (background); an owner being deleted in the foreground
 * (finalizer foregroundDeletion) first loses its dependents; an owner deleted with orphan
 * propagation (finalizer orphan) first has its dependents' references to it removed.
 * Built-in kinds and every custom resource kind are followed.
 */
public final class GarbageCollector implements Reconciler {

  public static final String FOREGROUND = "foregroundDeletion";
  public static final String ORPHAN = "orphan";

  private final Map<String, Cache> caches = new HashMap<>();
  /** uid → "plural|key" of every object the collector watches. */
  private final Map<String, String> byUid = new HashMap<>();
  /** owner uid → dependents' "plural|key". */
  private final Map<String, Set<String>> dependents = new HashMap<>();
  private final Set<String> watchedKinds = new HashSet<>();
  private final ApiClient client;

  private final Consumer<String> enqueue;

  public GarbageCollector(List<Cache> watched, ApiClient client, Consumer<String> enqueue) {
    this.client = client;
    this.enqueue = enqueue;
    // Caches kept from the last term are replayed to the new controllers: no indexing here.
    watched.forEach(c -> register(c, false));
  }

  /**
   * Follows one more kind's objects as owners and dependents (a custom resource's, once its definition is seen).
   * Keys are "group/plural|namespace/name".
   */
  public void watch(Cache cache) {
    register(cache, true);
  }

  private void register(Cache cache, boolean indexNow) {
    String plural = cache.type().group() + "/" + cache.type().plural();
    if (caches.containsKey(plural)) return;
    caches.put(plural, cache);
    watchedKinds.add(cache.type().kind());
    io.vertx.core.Handler<Cache.Change> index = change -> {
      JsonObject obj = change.object();
      String key = plural + "|" + Cache.key(obj);
      String uid = Meta.uid(obj);
      if (change.old() != null) unindex(change.old(), key);
      if (change.current() == null) {
        byUid.remove(uid);
        // Dependents of a deleted owner need a look.
        Set<String> deps = dependents.get(uid);
        if (deps != null) deps.forEach(enqueue);
        return;
      }
      byUid.put(uid, key);
      for (JsonObject ref : refs(obj)) {
        dependents.computeIfAbsent(ref.getString("uid"), u -> new HashSet<>()).add(key);
        if (!byUid.containsKey(ref.getString("uid"))) enqueue.accept(key);
      }
      JsonArray finalizers = Meta.meta(obj).getJsonArray("finalizers", new JsonArray());
      if (Meta.meta(obj).containsKey("deletionTimestamp")
          && (finalizers.contains(FOREGROUND) || finalizers.contains(ORPHAN))) {
        enqueue.accept(key);
      }
      Set<String> deps = dependents.get(uid);
      if (deps != null && Meta.meta(obj).containsKey("deletionTimestamp")) deps.forEach(enqueue);
    };
    cache.listen(index);
    // A cache already following the API (kept from the last term) is indexed as it stands.
    if (indexNow && cache.started()) cache.all().forEach(o -> index.handle(new Cache.Change(null, o)));
    // A dependent that went away may let a foreground-deleting owner finish.
    cache.listen(change -> {
      if (change.current() != null) return;
      for (JsonObject ref : refs(change.old())) {
        String ownerKey = byUid.get(ref.getString("uid"));
        if (ownerKey != null) enqueue.accept(ownerKey);
      }
    });
  }

  private void unindex(JsonObject old, String key) {
    for (JsonObject ref : refs(old)) {
      Set<String> deps = dependents.get(ref.getString("uid"));
      if (deps != null) {
        deps.remove(key);
        if (deps.isEmpty()) dependents.remove(ref.getString("uid"));
      }
    }
  }

  private static List<JsonObject> refs(JsonObject obj) {
    List<JsonObject> out = new ArrayList<>();
    for (Object o : Meta.meta(obj).getJsonArray("ownerReferences", new JsonArray())) {
      if (o instanceof JsonObject r && r.getString("uid") != null) out.add(r);
    }
    return out;
  }

  @Override
  public String name() {
    return "garbagecollector";
  }

  @Override
  public Future<Result> reconcile(String key) {
    int bar = key.indexOf('|');
    Cache cache = caches.get(key.substring(0, bar));
    JsonObject obj = cache == null ? null : cache.get(key.substring(bar + 1));
    if (obj == null) return Future.succeededFuture(Result.DONE);
    ResourceType type = cache.type();
    JsonObject meta = Meta.meta(obj);
    JsonArray finalizers = meta.getJsonArray("finalizers", new JsonArray());
    if (meta.containsKey("deletionTimestamp") && finalizers.contains(ORPHAN)) return orphanDependents(type, obj);
    if (meta.containsKey("deletionTimestamp") && finalizers.contains(FOREGROUND)) {
      return deleteDependentsFirst(type, obj);
    }
    List<JsonObject> refs = refs(obj);
    if (refs.isEmpty()) return Future.succeededFuture(Result.DONE);
    List<JsonObject> alive = new ArrayList<>();
    boolean ownerDeletingForeground = false;
    for (JsonObject ref : refs) {
      String ownerKey = byUid.get(ref.getString("uid"));
      // Kinds the collector does not watch (yet) are assumed alive: never guess a delete.
      if (ownerKey != null || !watchedKinds.contains(ref.getString("kind"))) {
        alive.add(ref);
        if (ownerKey != null) {
          JsonObject owner = ownerObject(ownerKey);
          if (owner != null && Meta.meta(owner).getJsonArray("finalizers", new JsonArray()).contains(FOREGROUND)
              && Meta.meta(owner).containsKey("deletionTimestamp") && refs.size() == 1) {
            ownerDeletingForeground = true;
          }
        }
      }
    }
    if (ownerDeletingForeground && !meta.containsKey("deletionTimestamp")) {
      return delete(type, obj, "Foreground");
    }
    if (alive.size() == refs.size()) return Future.succeededFuture(Result.DONE);
    if (alive.isEmpty()) {
      if (meta.containsKey("deletionTimestamp")) return Future.succeededFuture(Result.DONE);
      return delete(type, obj, "Background");
    }
    return client.mergePatch(type, Meta.namespace(obj), Meta.name(obj), null, new JsonObject().put("metadata",
        new JsonObject().put("ownerReferences", new JsonArray(alive))
            .put("resourceVersion", meta.getString("resourceVersion")))).map(Result.DONE);
  }

  private JsonObject ownerObject(String ownerKey) {
    int bar = ownerKey.indexOf('|');
    Cache c = caches.get(ownerKey.substring(0, bar));
    return c == null ? null : c.get(ownerKey.substring(bar + 1));
  }

  private Future<Result> delete(ResourceType type, JsonObject obj, String propagation) {
    JsonObject opts = new JsonObject().put("kind", "DeleteOptions").put("apiVersion", "v1")
        .put("propagationPolicy", propagation)
        .put("preconditions", new JsonObject().put("uid", Meta.uid(obj)));
    return client.delete(type, Meta.namespace(obj), Meta.name(obj), opts).map(Result.DONE)
        .recover(e -> ApiError.is(e, ApiError.Reason.NotFound) ? Future.succeededFuture(Result.DONE)
            : Future.failedFuture(e));
  }

  private List<String> dependentKeys(JsonObject owner) {
    return new ArrayList<>(dependents.getOrDefault(Meta.uid(owner), Set.of()));
  }

  private Future<Result> deleteDependentsFirst(ResourceType type, JsonObject owner) {
    List<String> deps = dependentKeys(owner);
    if (deps.isEmpty()) return removeFinalizer(type, owner, FOREGROUND);
    List<Future<?>> work = new ArrayList<>();
    for (String dep : deps) {
      JsonObject d = ownerObject(dep);
      if (d != null && !Meta.meta(d).containsKey("deletionTimestamp")) {
        work.add(delete(caches.get(dep.substring(0, dep.indexOf('|'))).type(), d, "Foreground"));
      }
    }
    // Done when the last dependent's deletion is seen; a periodic look covers missed events.
    return Future.join(work).map(Result.after(2000));
  }

  private Future<Result> orphanDependents(ResourceType type, JsonObject owner) {
    List<Future<?>> work = new ArrayList<>();
    for (String dep : dependentKeys(owner)) {
      JsonObject d = ownerObject(dep);
      if (d == null) continue;
      JsonArray kept = new JsonArray();
      for (JsonObject ref : refs(d)) {
        if (!Meta.uid(owner).equals(ref.getString("uid"))) kept.add(ref);
      }
      work.add(client.mergePatch(caches.get(dep.substring(0, dep.indexOf('|'))).type(), Meta.namespace(d),
          Meta.name(d), null, new JsonObject().put("metadata", new JsonObject()
              .put("ownerReferences", kept.isEmpty() ? null : kept))));
    }
    return Future.all(work).compose(v -> removeFinalizer(type, owner, ORPHAN));
  }

  private Future<Result> removeFinalizer(ResourceType type, JsonObject obj, String finalizer) {
    JsonArray kept = new JsonArray();
    for (Object f : Meta.meta(obj).getJsonArray("finalizers", new JsonArray())) {
      if (!finalizer.equals(f)) kept.add(f);
    }
    return client.mergePatch(type, Meta.namespace(obj), Meta.name(obj), null, new JsonObject().put("metadata",
        new JsonObject().put("finalizers", kept.isEmpty() ? null : kept)
            .put("resourceVersion", Meta.meta(obj).getString("resourceVersion")))).map(Result.DONE)
        .recover(e -> ApiError.is(e, ApiError.Reason.NotFound) ? Future.succeededFuture(Result.DONE)
            : Future.failedFuture(e));
  }
}
