package io.kvx.controller;

import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.client.ApiClient;
import io.kvx.client.Informer;
import io.kvx.store.WatchEvent;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A shared informer's lister: the current objects of one type by "namespace/name", kept by one
 * list+watch, with listeners that see every change (old and new) after the cache has applied it.
 */
public final class Cache {

  /** A change: {@code old} is null on add, {@code current} is null on delete. */
  public record Change(JsonObject old, JsonObject current) {
    public JsonObject object() {
      return current != null ? current : old;
    }
  }

  private final ResourceType type;
  private final Map<String, JsonObject> objects = new HashMap<>();
  /** Indexes, as client-go's indexers: by namespace, by controller uid (orphans by namespace), by node. */
  private final Map<String, Map<String, JsonObject>> byNamespace = new HashMap<>();
  private final Map<String, Map<String, JsonObject>> byController = new HashMap<>();
  private final Map<String, Map<String, JsonObject>> byNode = new HashMap<>();
  private final List<Handler<Change>> listeners = new CopyOnWriteArrayList<>();
  private Informer informer;

  public Cache(ResourceType type) {
    this.type = type;
  }

  public ResourceType type() {
    return type;
  }

  public Future<Cache> start(ApiClient client) {
    return client.watch(type, o -> true, this::onEvent).map(i -> {
      informer = i;
      return this;
    });
  }

  /** Whether the list+watch runs (the objects are current). */
  public boolean started() {
    return informer != null;
  }

  public void stop() {
    if (informer != null) informer.stop();
    informer = null;
  }

  public void listen(Handler<Change> listener) {
    listeners.add(listener);
  }

  /** Drops every listener (their controllers stopped); the cache goes on following the API. */
  public void clearListeners() {
    listeners.clear();
  }

  /** Tells the listeners of every object as an add, as the initial list of a new informer would. */
  public void replay() {
    for (JsonObject obj : all()) {
      Change change = new Change(null, obj);
      for (Handler<Change> l : listeners) l.handle(change);
    }
  }

  public static String key(JsonObject obj) {
    String ns = Meta.namespace(obj);
    return ns == null || ns.isEmpty() ? Meta.name(obj) : ns + "/" + Meta.name(obj);
  }

  public JsonObject get(String key) {
    return objects.get(key);
  }

  public JsonObject get(String namespace, String name) {
    return objects.get(namespace == null || namespace.isEmpty() ? name : namespace + "/" + name);
  }

  public List<JsonObject> list(String namespace) {
    if (namespace == null) return all();
    return values(byNamespace, namespace);
  }

  /** The objects whose controller ownerReference names this uid (the index the ReplicaSet controller keeps). */
  public List<JsonObject> controlledBy(String uid) {
    return values(byController, uid);
  }

  /** The objects of a namespace that have no controller ownerReference. */
  public List<JsonObject> orphans(String namespace) {
    return values(byController, orphanKey(namespace));
  }

  /** The objects (pods) whose spec.nodeName is this node. */
  public List<JsonObject> onNode(String node) {
    return values(byNode, node);
  }

  private static List<JsonObject> values(Map<String, Map<String, JsonObject>> index, String value) {
    Map<String, JsonObject> m = index.get(value);
    return m == null ? new ArrayList<>() : new ArrayList<>(m.values());
  }

  private static String orphanKey(String namespace) {
    return "\u0000orphan/" + namespace;
  }

  private static String controllerKey(JsonObject obj) {
    JsonObject ref = Workloads.controllerRef(obj);
    return ref == null ? orphanKey(Meta.namespace(obj)) : ref.getString("uid", "");
  }

  private static String nodeOf(JsonObject obj) {
    JsonObject spec = obj.getJsonObject("spec");
    return spec == null ? null : spec.getString("nodeName");
  }

  private static void index(Map<String, Map<String, JsonObject>> index, String value, String key, JsonObject obj) {
    index.computeIfAbsent(value, v -> new HashMap<>()).put(key, obj);
  }

  private static void unindex(Map<String, Map<String, JsonObject>> index, String value, String key) {
    Map<String, JsonObject> m = index.get(value);
    if (m == null) return;
    m.remove(key);
    if (m.isEmpty()) index.remove(value);
  }

  private void reindex(String key, JsonObject old, JsonObject current) {
    if (old != null) {
      unindex(byNamespace, Meta.namespace(old), key);
      unindex(byController, controllerKey(old), key);
      String n = nodeOf(old);
      if (n != null) unindex(byNode, n, key);
    }
    if (current != null) {
      index(byNamespace, Meta.namespace(current), key, current);
      index(byController, controllerKey(current), key, current);
      String n = nodeOf(current);
      if (n != null) index(byNode, n, key, current);
    }
  }

  public List<JsonObject> all() {
    return new ArrayList<>(objects.values());
  }

  /** Applies one informer event (package-private for tests). */
  void onEvent(WatchEvent ev) {
    String key = key(ev.object());
    JsonObject old;
    JsonObject current;
    if (ev.type().equals(WatchEvent.DELETED)) {
      old = objects.remove(key);
      current = null;
      reindex(key, old, null);
      if (old == null) old = ev.object();
    } else {
      current = ev.object();
      old = objects.put(key, current);
      reindex(key, old, current);
    }
    Change change = new Change(old == current ? null : old, current);
    for (Handler<Change> l : listeners) l.handle(change);
  }
}
